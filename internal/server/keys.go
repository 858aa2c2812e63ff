package server

// Root-key escrow: `coffer admin keys export` writes the data directory's
// root key wrapped under an operator passphrase (rootkey.SealEscrow);
// `import` restores it where the configured provider keeps it. Both check
// the key against the data directory's recorded fingerprint, so an escrow
// file can only restore the key that directory needs, and both leave an
// audit event.

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/coffer-io/coffer/internal/fsutil"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/rootkey"
)

// Operations recorded by the escrow commands.
const (
	OpExportRootKey = "ExportRootKey"
	OpImportRootKey = "ImportRootKey"
)

// ErrRootKeyExists reports an import whose target already holds another
// root key.
var ErrRootKeyExists = errors.New("another root key is already in place")

// KeyEscrow exports and imports the root key of a data directory.
type KeyEscrow struct {
	Dir      string
	Provider rootkey.Provider
	// Params are the KDF costs of exported files (the defaults if zero).
	Params rootkey.EscrowParams
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

func (k *KeyEscrow) now() time.Time {
	if k.Now != nil {
		return k.Now().UTC()
	}
	return time.Now().UTC()
}

// dataDir checks that Dir is an existing data directory: the commands
// never create one.
func (k *KeyEscrow) dataDir() error {
	if _, err := os.Stat(filepath.Join(k.Dir, "format.json")); err != nil {
		return fmt.Errorf("%s is not a Coffer data directory", k.Dir)
	}
	return nil
}

// Export writes the root key, wrapped under passphrase, to out, which
// must not exist unless force. The key is checked against the data
// directory first. It returns the key's fingerprint.
func (k *KeyEscrow) Export(ctx context.Context, passphrase []byte, out string, force bool) (fp string, err error) {
	defer func() { err = k.audit(OpExportRootKey, fp, err) }()
	if err := rootkey.CheckPassphrase(passphrase); err != nil {
		return "", err
	}
	if err := k.dataDir(); err != nil {
		return "", err
	}
	key, err := k.Provider.Load(ctx)
	if errors.Is(err, rootkey.ErrNotFound) {
		return "", fmt.Errorf("%w: %v", ErrNoRootKey, err)
	} else if err != nil {
		return "", fmt.Errorf("loading the root key from %s: %w", k.Provider.Describe(), err)
	}
	defer clear(key)
	fp = rootkey.Fingerprint(key)
	if err := k.check(ctx, key); err != nil {
		return fp, err
	}
	params := k.Params
	if params == (rootkey.EscrowParams{}) {
		params = rootkey.DefaultEscrowParams
	}
	file, err := rootkey.SealEscrow(key, passphrase, k.now(), params)
	if err != nil {
		return fp, err
	}
	if _, err := os.Lstat(out); err == nil && !force {
		return fp, fmt.Errorf("%s exists; give --force to replace it", out)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fp, err
	}
	if err := fsutil.WriteFileAtomic(out, file, 0o600); err != nil {
		return fp, fmt.Errorf("writing %s: %w", out, err)
	}
	return fp, nil
}

// check verifies key against the data directory without holding it when
// a fingerprint is recorded (so export works beside a running server),
// else by opening it and its KMS material.
func (k *KeyEscrow) check(ctx context.Context, key []byte) error {
	if _, ok, err := readFingerprint(k.Dir); err != nil {
		return err
	} else if ok {
		return checkRootKey(ctx, k.Dir, nil, key, k.Provider.Describe())
	}
	st, err := OpenDataDir(k.Dir)
	if err != nil {
		return err
	}
	defer st.Close()
	return checkRootKey(ctx, k.Dir, st.Meta.KMS(), key, k.Provider.Describe())
}

// ImportResult says what an import did.
type ImportResult struct {
	Fingerprint string
	// Unchanged is true when the same key was already in place.
	Unchanged bool
	// Replaced is true when another key was overwritten (--force).
	Replaced bool
}

// Import unwraps the escrow file data with passphrase, checks the key
// against the data directory (refusing a key of another directory), and
// stores it through the provider. A different key already in place is
// replaced only with force. The data directory must not be in use.
func (k *KeyEscrow) Import(ctx context.Context, passphrase, data []byte, force bool) (res ImportResult, err error) {
	defer func() { err = k.audit(OpImportRootKey, res.Fingerprint, err) }()
	if err := k.dataDir(); err != nil {
		return res, err
	}
	e, err := rootkey.ParseEscrow(data)
	if err != nil {
		return res, err
	}
	res.Fingerprint = e.Fingerprint
	key, err := e.Open(passphrase)
	if err != nil {
		return res, err
	}
	defer clear(key)
	st, err := OpenDataDir(k.Dir)
	if err != nil {
		return res, err
	}
	defer st.Close()
	if err := checkRootKey(ctx, k.Dir, st.Meta.KMS(), key, "the escrow file"); err != nil {
		return res, err
	}
	old, err := k.Provider.Load(ctx)
	switch {
	case err == nil:
		same := subtle.ConstantTimeCompare(old, key) == 1
		oldFP := rootkey.Fingerprint(old)
		clear(old)
		if same {
			res.Unchanged = true
			return res, nil
		}
		if !force {
			return res, fmt.Errorf("%w in %s (fingerprint %s); give --force to replace it", ErrRootKeyExists, k.Provider.Describe(), oldFP)
		}
		res.Replaced = true
	case errors.Is(err, rootkey.ErrNotFound):
	default:
		if !force {
			return res, fmt.Errorf("%s holds a root key that cannot be read (%v); give --force to replace it", k.Provider.Describe(), err)
		}
		res.Replaced = true
	}
	if err := k.Provider.Store(ctx, key); err != nil {
		return res, err
	}
	return res, nil
}

func (k *KeyEscrow) audit(op, fp string, opErr error) error {
	var id [8]byte
	_, _ = rand.Read(id[:])
	e := &audit.Event{
		Time: k.now(), RequestID: strings.ToUpper(hex.EncodeToString(id[:])),
		Service: "admin", Operation: op, PrincipalType: "Operator",
		SourceIP: "local", Outcome: audit.OutcomeSuccess,
	}
	if fp != "" {
		e.Resource = "root-key/" + fp
	}
	if opErr != nil {
		e.Outcome = audit.OutcomeFailed
		e.ErrorCode = keyErrorCode(opErr)
	}
	if k.dataDir() != nil {
		return opErr // no data directory, no audit log to write to
	}
	return recordOperatorEvent(k.Dir, e, opErr)
}

// keyErrorCode names an escrow failure for the audit log.
func keyErrorCode(err error) string {
	switch {
	case errors.Is(err, rootkey.ErrEscrowPassphrase):
		return "InvalidPassphrase"
	case errors.Is(err, ErrWrongRootKey):
		return "WrongRootKey"
	case errors.Is(err, ErrNoRootKey):
		return "NoRootKey"
	case errors.Is(err, ErrRootKeyExists):
		return "RootKeyExists"
	case errors.Is(err, ErrInUse):
		return "DataDirectoryInUse"
	}
	return "Failed"
}
