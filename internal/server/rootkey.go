package server

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// rootKeySize is the size of the KMS root key (AES-256).
const rootKeySize = 32

// loadRootKey returns the KMS root key, which seals every KMS key's
// material and so, through the data keys, all object data. In order of
// preference it comes from file (--root-key-file), from env (the
// COFFER_ROOT_KEY value, base64), or from DIR/keys/root.key, created on
// first start. The last keeps the key next to the data it protects, which
// only guards against someone who gets the blob files alone; hence the
// warning, at every start, to keep the key elsewhere.
func loadRootKey(file, env, dir string, log *slog.Logger) ([]byte, error) {
	if file != "" && env != "" {
		return nil, errors.New("--root-key-file and COFFER_ROOT_KEY are exclusive; give one")
	}
	if env != "" {
		return decodeRootKey(env, "COFFER_ROOT_KEY")
	}
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading the root key: %w", err)
		}
		return decodeRootKey(string(raw), file)
	}
	path := filepath.Join(dir, "keys", "root.key")
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, rootKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		if err := writeFileAtomic(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("writing the root key: %w", err)
		}
		raw = []byte(base64.StdEncoding.EncodeToString(key))
	} else if err != nil {
		return nil, fmt.Errorf("reading the root key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		_ = os.Chmod(path, 0o600)
	}
	log.Warn("!!! the KMS root key is stored in the data directory, next to the data it encrypts: "+
		"encryption at rest then protects only against loss of the blob files alone. "+
		"Move it out (--root-key-file or COFFER_ROOT_KEY) and keep a backup: without it no object can be read.",
		"path", path)
	return decodeRootKey(string(raw), path)
}

func decodeRootKey(s, from string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("root key from %s: not base64: %w", from, err)
	}
	if len(key) != rootKeySize {
		return nil, fmt.Errorf("root key from %s: %d bytes, want %d", from, len(key), rootKeySize)
	}
	return key, nil
}
