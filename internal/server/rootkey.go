package server

import (
	"context"
	"errors"
	"fmt"
	"github.com/coffer-io/coffer/internal/fsutil"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/coffer-io/coffer/internal/kms"
	"github.com/coffer-io/coffer/internal/rootkey"
)

// fingerprintFile records, in the data directory, the fingerprint of the
// root key its KMS material is sealed with: a server given another key
// refuses to start, and an escrow import can tell whether it restores the
// right key. The fingerprint reveals nothing about the key.
const fingerprintFile = "root-key.fingerprint"

// ErrWrongRootKey reports a root key that is not the data directory's.
var ErrWrongRootKey = errors.New("wrong root key for this data directory")

// ErrNoRootKey reports a data directory whose root key is not where the
// configuration says.
var ErrNoRootKey = errors.New("the root key of this data directory is missing")

func readFingerprint(dir string) (string, bool, error) {
	raw, err := os.ReadFile(filepath.Join(dir, fingerprintFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	fp := strings.TrimSpace(string(raw))
	if len(fp) != 32 {
		return "", false, fmt.Errorf("%s: not a root-key fingerprint", filepath.Join(dir, fingerprintFile))
	}
	return fp, true, nil
}

func writeFingerprint(dir, fp string) error {
	return fsutil.WriteFileAtomic(filepath.Join(dir, fingerprintFile), []byte(fp+"\n"), 0o600)
}

// checkRootKey verifies that key is the data directory's root key: by the
// recorded fingerprint, or, for a directory that has none yet, by opening
// stored KMS material with it (then recording the fingerprint). store may
// be nil when the directory is not open; a directory without a recorded
// fingerprint then cannot be checked and is an error.
func checkRootKey(ctx context.Context, dir string, store kms.Store, key []byte, from string) error {
	fp := rootkey.Fingerprint(key)
	want, ok, err := readFingerprint(dir)
	if err != nil {
		return err
	}
	if ok {
		if want != fp {
			return fmt.Errorf("%w: the root key from %s has fingerprint %s, but data directory %s was set up with the key of fingerprint %s "+
				"(restore that key: coffer admin keys import, or point the root-key settings at it)", ErrWrongRootKey, from, fp, dir, want)
		}
		return nil
	}
	if store == nil {
		return fmt.Errorf("data directory %s records no root-key fingerprint yet; start the server on it once (or stop the server holding it)", dir)
	}
	sealer, err := kms.NewLocalSealer(key)
	if err != nil {
		return err
	}
	if _, err := kms.VerifySealer(ctx, store, sealer); errors.Is(err, kms.ErrWrongRootKey) {
		return fmt.Errorf("%w: the root key from %s (fingerprint %s) does not open the KMS key material in data directory %s", ErrWrongRootKey, from, fp, dir)
	} else if err != nil {
		return err
	}
	return writeFingerprint(dir, fp)
}

// hasKeyMaterial reports whether a data directory already depends on a
// root key: a recorded fingerprint, or stored KMS keys.
func hasKeyMaterial(ctx context.Context, dir string, store kms.Store) (bool, error) {
	if _, ok, err := readFingerprint(dir); ok || err != nil {
		return ok, err
	}
	accts, err := store.Accounts(ctx)
	return len(accts) > 0, err
}

// loadRootKey returns the KMS root key from p, which seals every KMS
// key's material and so, through the data keys, all object data. A key is
// created only for a data directory that has none yet, and only by a
// provider that may (the default file, Vault); a key that is missing for
// a directory holding data is an error, never replaced by a new one.
func loadRootKey(ctx context.Context, p rootkey.Provider, dir string, store kms.Store, log *slog.Logger) ([]byte, error) {
	key, err := p.Load(ctx)
	if errors.Is(err, rootkey.ErrNotFound) {
		used, uerr := hasKeyMaterial(ctx, dir, store)
		if uerr != nil {
			return nil, uerr
		}
		if used || !p.Generates() {
			if fp, ok, _ := readFingerprint(dir); ok {
				err = fmt.Errorf("%v (the data directory needs the key of fingerprint %s)", err, fp)
			}
			return nil, fmt.Errorf("%w: %v. Restore it (coffer admin keys import --data %s --in ESCROW-FILE) "+
				"or give the settings that find it (--root-key-provider, --root-key-file, COFFER_ROOT_KEY, --vault-*)", ErrNoRootKey, err, dir)
		}
		if key, err = rootkey.Generate(); err != nil {
			return nil, err
		}
		if err := p.Store(ctx, key); err != nil {
			clear(key)
			return nil, fmt.Errorf("storing the new root key in %s: %w", p.Describe(), err)
		}
		log.Info("created a new KMS root key; export an escrow copy (coffer admin keys export) and keep it safe",
			"source", p.Describe(), "fingerprint", rootkey.Fingerprint(key))
	} else if err != nil {
		return nil, fmt.Errorf("loading the root key from %s: %w", p.Describe(), err)
	}
	if err := checkRootKey(ctx, dir, store, key, p.Describe()); err != nil {
		clear(key)
		return nil, err
	}
	if f, ok := p.(*rootkey.File); ok && f.InDataDir {
		log.Warn("!!! the KMS root key is stored in the data directory, next to the data it encrypts: "+
			"encryption at rest then protects only against loss of the blob files alone. "+
			"Move it out (--root-key-file, COFFER_ROOT_KEY or --root-key-provider vault) and keep an escrow copy: without it no object can be read.",
			"path", f.Path)
	}
	return key, nil
}
