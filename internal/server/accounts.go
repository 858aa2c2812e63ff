package server

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/coffer-io/coffer/internal/fsutil"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/s3api"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// DefaultAccountName is the account created on first start; its root may
// administer the server.
const DefaultAccountName = "default"

var accountNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$`)

// Accounts creates accounts and their root credentials.
type Accounts struct {
	Meta meta.Store
	now  func() time.Time
}

func randomDigits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			panic(err)
		}
		if i == 0 && d.Int64() == 0 {
			d = big.NewInt(1 + d.Int64()%9)
		}
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

// NewAccessKey returns a random long-term access key in AWS's format:
// an AKIA id of 20 characters and a 40-character secret.
func NewAccessKey(accountID, userName string, now time.Time) *meta.AccessKey {
	var idb [10]byte
	var sb [30]byte
	if _, err := rand.Read(idb[:]); err != nil {
		panic(err)
	}
	if _, err := rand.Read(sb[:]); err != nil {
		panic(err)
	}
	return &meta.AccessKey{
		ID:        "AKIA" + base32.StdEncoding.EncodeToString(idb[:]),
		Secret:    base64.StdEncoding.EncodeToString(sb[:]),
		AccountID: accountID, UserName: userName, Status: "Active", CreatedAt: now,
	}
}

// Create makes a new account with a random 12-digit id, canonical id and
// root access key.
func (a *Accounts) Create(ctx context.Context, name string) (*meta.Account, *meta.AccessKey, error) {
	if !accountNameRE.MatchString(name) {
		return nil, nil, fmt.Errorf("%w: account names are 1-63 letters, digits, '.', '_' or '-'", ErrInvalidName)
	}
	for tries := 0; ; tries++ {
		acct, key := newAccount(name, a.clock())
		err := a.Meta.CreateAccount(ctx, acct, key)
		if errors.Is(err, meta.ErrAccountExists) {
			if _, gerr := a.Meta.GetAccountByName(ctx, name); gerr == nil {
				return nil, nil, fmt.Errorf("%w: %s", ErrAccountExists, name)
			}
			if tries < 5 {
				continue // an id collision: draw again
			}
		}
		if err != nil {
			return nil, nil, err
		}
		if err := a.Meta.UpdateAccountSettings(ctx, acct.ID, s3api.BlockPublicAccess); err != nil {
			return nil, nil, err
		}
		return acct, key, nil
	}
}

func (a *Accounts) clock() time.Time {
	if a.now != nil {
		return a.now().UTC()
	}
	return time.Now().UTC()
}

// newAccount draws a new account's identifiers and root key.
func newAccount(name string, now time.Time) (*meta.Account, *meta.AccessKey) {
	var canon [32]byte
	if _, err := rand.Read(canon[:]); err != nil {
		panic(err)
	}
	acct := &meta.Account{ID: randomDigits(12), Name: name, CanonicalID: hex.EncodeToString(canon[:]), CreatedAt: now}
	return acct, NewAccessKey(acct.ID, "", now)
}

// Errors of account administration.
var (
	ErrInvalidName   = errors.New("invalid account name")
	ErrAccountExists = errors.New("an account with this name already exists")
)

// CredentialsSection renders a profile in the AWS shared-credentials format.
func CredentialsSection(profile string, k *meta.AccessKey) string {
	return fmt.Sprintf("[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", profile, k.ID, k.Secret)
}

// bootstrap creates the default account and DIR/credentials on first
// start. Later starts find the account and leave the file alone.
func bootstrap(ctx context.Context, st *Stores, credPath string) (*meta.Account, bool, error) {
	a, err := st.Meta.GetAccountByName(ctx, DefaultAccountName)
	if err == nil {
		return a, false, nil
	}
	if !errors.Is(err, meta.ErrNotFound) {
		return nil, false, err
	}
	// Write the credentials before the account commits: a crash in
	// between leaves a file the next start overwrites, never an account
	// whose root key nobody knows.
	acct, key := newAccount(DefaultAccountName, time.Now().UTC())
	if err := fsutil.WriteFileAtomic(credPath, []byte(CredentialsSection("default", key)), 0o600); err != nil {
		return nil, false, fmt.Errorf("writing %s: %w", credPath, err)
	}
	if err := st.Meta.CreateAccount(ctx, acct, key); err != nil {
		return nil, false, err
	}
	// New accounts block public access, as in AWS.
	if err := st.Meta.UpdateAccountSettings(ctx, acct.ID, s3api.BlockPublicAccess); err != nil {
		return nil, false, err
	}
	return acct, true, nil
}
