package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/coffer-io/coffer/internal/fsutil"
	"os"
	"path/filepath"

	"github.com/coffer-io/coffer/internal/storage/blob/localfs"
	"github.com/coffer-io/coffer/internal/storage/meta/bolt"
)

// FormatVersion is the newest data-directory format this build knows.
const FormatVersion = 1

// migration moves a data directory from format to-1 to format to. Each
// must be idempotent: a crash midway re-runs it at the next start.
type migration struct {
	to  int
	run func(dir string) error
}

// migrations are applied in order at start-up.
var migrations = []migration{
	{to: 1, run: func(dir string) error {
		for _, d := range []string{"blobs", "tls", "audit"} {
			if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
				return err
			}
		}
		return nil
	}},
}

type formatFile struct {
	Format int `json:"format"`
}

// Stores are the opened storage layers of a data directory.
type Stores struct {
	Dir   string
	Meta  *bolt.Store
	Blobs *localfs.Store
}

// Close closes the stores.
func (s *Stores) Close() error {
	err := s.Meta.Close()
	if err2 := s.Blobs.Close(); err == nil {
		err = err2
	}
	return err
}

// ErrInUse reports a data directory held by a running server.
var ErrInUse = errors.New("the data directory is in use by another Coffer process (stop the server first)")

// OpenDataDir prepares a data directory (creating it, running migrations)
// and opens its stores. It fails with ErrInUse while another process holds
// the directory.
func OpenDataDir(dir string) (*Stores, error) { return openDataDir(dir, localfs.Options{}) }

// openDataDir is OpenDataDir with blob-store options: fsck keeps temp
// files so that it can report them (and remove them only with --repair).
func openDataDir(dir string, blobOpts localfs.Options) (*Stores, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// The directory holds secrets (root key, CA key): keep it private even
	// when it existed before Coffer first ran in it.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	// Lock first: migrations must never run under a live server.
	m, err := bolt.Open(filepath.Join(dir, "meta.db"), bolt.Options{Clock: dataClock})
	if errors.Is(err, bolt.ErrLocked) {
		return nil, fmt.Errorf("%s: %w", dir, ErrInUse)
	}
	if err != nil {
		return nil, err
	}
	if err := migrate(dir); err != nil {
		m.Close()
		return nil, err
	}
	b, err := localfs.Open(filepath.Join(dir, "blobs"), blobOpts)
	if err != nil {
		m.Close()
		return nil, err
	}
	return &Stores{Dir: dir, Meta: m, Blobs: b}, nil
}

func migrate(dir string) error {
	path := filepath.Join(dir, "format.json")
	cur := 0
	if raw, err := os.ReadFile(path); err == nil {
		var f formatFile
		if err := json.Unmarshal(raw, &f); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		cur = f.Format
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if cur > FormatVersion {
		return fmt.Errorf("data directory %s has format %d, newer than this build knows (%d): upgrade Coffer", dir, cur, FormatVersion)
	}
	for _, m := range migrations {
		if m.to <= cur {
			continue
		}
		if err := m.run(dir); err != nil {
			return fmt.Errorf("migrating data directory to format %d: %w", m.to, err)
		}
		raw, _ := json.Marshal(formatFile{Format: m.to})
		if err := fsutil.WriteFileAtomic(path, raw, 0o600); err != nil {
			return err
		}
		cur = m.to
	}
	return nil
}
