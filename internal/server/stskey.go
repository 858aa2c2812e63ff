package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/coffer-io/coffer/internal/fsutil"
	"io/fs"
	"os"

	"github.com/coffer-io/coffer/internal/auth/session"
)

// loadSessionKey returns the key that seals STS session tokens, creating
// it on first start. It lives in the data directory (mode 0600) so that
// temporary credentials survive a restart; deleting the file revokes
// every outstanding session at the next start.
func loadSessionKey(path string) (*session.Sealer, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, session.KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := fsutil.WriteFileAtomic(path, key, 0o600); err != nil {
			return nil, fmt.Errorf("writing the STS session key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("reading the STS session key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		_ = os.Chmod(path, 0o600)
	}
	s, err := session.NewSealer(key)
	if err != nil {
		return nil, fmt.Errorf("STS session key %s: %w", path, err)
	}
	return s, nil
}

// RolePolicies returns a role's identity policies and boundary, for the
// authorization of role sessions.
func (d iamDirectory) RolePolicies(ctx context.Context, account, role string) ([][]byte, []byte, error) {
	return d.svc.RolePolicies(ctx, account, role)
}
