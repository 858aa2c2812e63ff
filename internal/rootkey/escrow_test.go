package rootkey_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/rootkey"
)

// Cheap parameters keep the tests fast; the format is the same.
var testParams = rootkey.EscrowParams{Time: 1, MemoryKiB: 64, Threads: 1}

const pass = "correct horse battery staple"

func TestEscrowRoundTrip(t *testing.T) {
	key, _ := rootkey.Generate()
	created := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	file, err := rootkey.SealEscrow(key, []byte(pass), created, testParams)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte(rootkey.Encode(key))) {
		t.Fatal("escrow file holds the key in clear")
	}
	e, err := rootkey.ParseEscrow(file)
	if err != nil {
		t.Fatal(err)
	}
	if e.Fingerprint != rootkey.Fingerprint(key) || !e.Created.Equal(created) || e.Params != testParams {
		t.Fatalf("header %+v", e)
	}
	got, err := e.Open([]byte(pass))
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Open: %v", err)
	}
	if _, err := e.Open([]byte(pass + "!")); !errors.Is(err, rootkey.ErrEscrowPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
}

func TestEscrowDefaultParams(t *testing.T) {
	key, _ := rootkey.Generate()
	file, err := rootkey.SealEscrow(key, []byte(pass), time.Now(), rootkey.DefaultEscrowParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(file), "kdf: argon2id t=3 m=65536 p=4\n") {
		t.Fatalf("file:\n%s", file)
	}
	e, err := rootkey.ParseEscrow(file)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.Open([]byte(pass)); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Open: %v", err)
	}
}

// Any change to the header (a parameter, the fingerprint) fails
// authentication even when the file still parses.
func TestEscrowTamper(t *testing.T) {
	key, _ := rootkey.Generate()
	other, _ := rootkey.Generate()
	file, _ := rootkey.SealEscrow(key, []byte(pass), time.Now(), testParams)
	for _, tc := range []struct{ name, old, new string }{
		{"time", "t=1 ", "t=2 "},
		{"memory", "m=64 ", "m=128 "},
		{"fingerprint", rootkey.Fingerprint(key), rootkey.Fingerprint(other)},
		{"created", "created: 20", "created: 19"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed := bytes.Replace(file, []byte(tc.old), []byte(tc.new), 1)
			e, err := rootkey.ParseEscrow(changed)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Open([]byte(pass)); !errors.Is(err, rootkey.ErrEscrowPassphrase) {
				t.Fatalf("Open of a tampered file: %v", err)
			}
		})
	}
}

func TestEscrowParse(t *testing.T) {
	key, _ := rootkey.Generate()
	file, _ := rootkey.SealEscrow(key, []byte(pass), time.Now(), testParams)
	s := string(file)
	for _, tc := range []struct{ name, data, want string }{
		{"empty", "", "not a Coffer"},
		{"version 2", strings.Replace(s, "escrow: 1", "escrow: 2", 1), "unknown version"},
		{"huge memory", strings.Replace(s, "m=64 ", "m=99999999 ", 1), "out of bounds"},
		{"zero time", strings.Replace(s, "t=1 ", "t=0 ", 1), "out of bounds"},
		{"other cipher", strings.Replace(s, "aes-256-gcm", "aes-128-gcm", 1), "header line"},
		{"extra line", strings.Replace(s, "cipher:", "x: y\ncipher:", 1), "header lines"},
		{"truncated", s[:len(s)-20], "sealed key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rootkey.ParseEscrow([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestEscrowCRLF(t *testing.T) {
	key, _ := rootkey.Generate()
	file, _ := rootkey.SealEscrow(key, []byte(pass), time.Now(), testParams)
	e, err := rootkey.ParseEscrow(bytes.ReplaceAll(file, []byte("\n"), []byte("\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.Open([]byte(pass)); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Open: %v", err)
	}
}

func TestPassphraseLength(t *testing.T) {
	key, _ := rootkey.Generate()
	if _, err := rootkey.SealEscrow(key, []byte("short pass"), time.Now(), testParams); err == nil {
		t.Fatal("short passphrase accepted")
	}
	if err := rootkey.CheckPassphrase([]byte("ééééééééééééééé")); err == nil {
		t.Fatal("15 characters accepted")
	}
	if err := rootkey.CheckPassphrase([]byte("éééééééééééééééé")); err != nil {
		t.Fatalf("16 characters: %v", err)
	}
}
