package rules

import (
	"crypto/rand"
	"strings"
)

// randomID is six lower-case letters and digits, like AWS's rule ids.
func randomID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [6]byte
	_, _ = rand.Read(b[:])
	var s strings.Builder
	for _, x := range b {
		s.WriteByte(alphabet[int(x)%len(alphabet)])
	}
	return s.String()
}
