package rootkey

import (
	"context"
	"errors"
	"fmt"
	"github.com/coffer-io/coffer/internal/fsutil"
	"io/fs"
	"os"
)

// Env is the root key given in an environment variable (COFFER_ROOT_KEY).
type Env struct {
	Name  string // the variable's name, for messages
	Value string
}

// Describe implements Provider.
func (e *Env) Describe() string { return "the environment variable " + e.Name }

// Load implements Provider.
func (e *Env) Load(context.Context) ([]byte, error) { return Decode(e.Value, e.Name) }

// Store implements Provider: a process cannot set its operator's
// environment.
func (e *Env) Store(context.Context, []byte) error {
	return fmt.Errorf("%s: %w (unset it and give --root-key-file, or set it to the key yourself)", e.Describe(), ErrReadOnly)
}

// Generates implements Provider.
func (e *Env) Generates() bool { return false }

// File is the root key in a file, as base64 (--root-key-file, or
// DIR/keys/root.key by default).
type File struct {
	Path string
	// InDataDir marks the default file in the data directory, which a
	// server creates on first start.
	InDataDir bool
}

// Describe implements Provider.
func (f *File) Describe() string { return "the file " + f.Path }

// Load implements Provider.
func (f *File) Load(context.Context) ([]byte, error) {
	raw, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", f.Path, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the root key: %w", err)
	}
	if fi, err := os.Stat(f.Path); err == nil && fi.Mode().Perm()&0o077 != 0 && f.InDataDir {
		// The default file is Coffer's own: keep it private.
		_ = os.Chmod(f.Path, 0o600)
	}
	return Decode(string(raw), f.Path)
}

// Store implements Provider: the file is written atomically, 0600.
func (f *File) Store(_ context.Context, key []byte) error {
	if err := fsutil.WriteFileAtomic(f.Path, []byte(Encode(key)+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing the root key: %w", err)
	}
	return nil
}

// Generates implements Provider.
func (f *File) Generates() bool { return f.InDataDir }
