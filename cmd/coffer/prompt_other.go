//go:build !linux

package main

import (
	"errors"
	"os"
)

func isTerminal(*os.File) bool { return false }

func readSecret(*os.File, string) ([]byte, error) {
	return nil, errors.New("no passphrase prompt on this platform")
}
