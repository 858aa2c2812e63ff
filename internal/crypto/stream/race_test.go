//go:build race

package stream

// sync.Pool drops items at random under the race detector.
const raceEnabled = true
