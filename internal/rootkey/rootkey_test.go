package rootkey_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/internal/rootkey"
)

func TestFingerprint(t *testing.T) {
	a, _ := rootkey.Generate()
	b, _ := rootkey.Generate()
	fa := rootkey.Fingerprint(a)
	if len(fa) != 32 || fa != rootkey.Fingerprint(append([]byte(nil), a...)) || fa == rootkey.Fingerprint(b) {
		t.Fatalf("fingerprints %s %s", fa, rootkey.Fingerprint(b))
	}
	if strings.Contains(fa, rootkey.Encode(a)) {
		t.Fatal("fingerprint reveals the key")
	}
	// Pinned: a fingerprint is stored in data directories and escrow
	// files, so it must never change.
	if got := rootkey.Fingerprint(make([]byte, 32)); got != zeroKeyFingerprint {
		t.Fatalf("fingerprint of the zero key = %s", got)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		cfg  rootkey.Config
		want string // Describe contains, or error contains when err is set
		err  bool
	}{
		{"default", rootkey.Config{DataDir: dir}, filepath.Join(dir, "keys", "root.key"), false},
		{"file", rootkey.Config{DataDir: dir, File: "/k"}, "the file /k", false},
		{"env", rootkey.Config{DataDir: dir, Env: "x"}, "COFFER_ROOT_KEY", false},
		{"file and env", rootkey.Config{DataDir: dir, File: "/k", Env: "x"}, "exclusive", true},
		{"vault settings without vault", rootkey.Config{DataDir: dir, Vault: rootkey.VaultConfig{Address: "https://v"}}, "--root-key-provider", true},
		{"vault with file", rootkey.Config{Provider: "vault", DataDir: dir, File: "/k"}, "do not apply", true},
		{"vault two tokens", rootkey.Config{Provider: "vault", DataDir: dir, VaultTokenEnv: "a", VaultTokenFile: "/t"}, "once", true},
		{"vault", rootkey.Config{Provider: "vault", DataDir: dir, VaultTokenEnv: "a", Vault: rootkey.VaultConfig{Address: "https://v", Key: "k"}}, "root.key.vault", false},
		{"unknown", rootkey.Config{Provider: "hsm", DataDir: dir}, "want local or vault", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := rootkey.Open(tc.cfg)
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil || !strings.Contains(p.Describe(), tc.want) {
				t.Fatalf("%v, %v", p, err)
			}
		})
	}
}

func TestLocalProviders(t *testing.T) {
	ctx := context.Background()
	key, _ := rootkey.Generate()
	path := filepath.Join(t.TempDir(), "keys", "root.key")
	f := &rootkey.File{Path: path, InDataDir: true}
	if _, err := f.Load(ctx); !errors.Is(err, rootkey.ErrNotFound) {
		t.Fatalf("Load of a missing file: %v", err)
	}
	if err := f.Store(ctx, key); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	if got, err := f.Load(ctx); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Load: %v", err)
	}
	e := &rootkey.Env{Name: "COFFER_ROOT_KEY", Value: rootkey.Encode(key)}
	if got, err := e.Load(ctx); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Env Load: %v", err)
	}
	if err := e.Store(ctx, key); !errors.Is(err, rootkey.ErrReadOnly) {
		t.Fatalf("Env Store: %v", err)
	}
	for _, bad := range []string{"not base64!", rootkey.Encode(key[:16])} {
		if _, err := (&rootkey.Env{Name: "X", Value: bad}).Load(ctx); err == nil || strings.Contains(err.Error(), bad) {
			t.Errorf("bad key %q: %v", bad, err)
		}
	}
}

const zeroKeyFingerprint = "9f5561c9916a815fc2fa8d1f55f6798e"
