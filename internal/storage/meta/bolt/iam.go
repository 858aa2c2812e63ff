package bolt

// The IAM store (iam.Store) on the same database as the metadata.
//
// # Layout
//
//	iam                 top-level, created by the first IAM write
//	  <account id>      one nested bucket per account, holding
//	    users           lower(user name) → iam.User (JSON)
//	    groups          lower(group name) → iam.Group
//	    roles           lower(role name) → iam.Role
//	    policies        lower(policy name) → iam.Policy with its versions
//	    akeys           access key id → iamKey (owner, last use)
//
// Names are stored lower-cased as keys because IAM names are unique
// case-insensitively; the record keeps the name as given.
//
// An access key's secret, status and creation date live only in the
// top-level keys bucket as a meta.AccessKey (AccountID, UserName set),
// which is what SigV4 authentication reads; akeys adds what IAM alone
// needs. Both are written in the same transaction, so a key is never
// usable without being listed, nor listed without being usable. Root keys
// made with the account have no akeys entry until IAM touches them, so the
// root's keys are found by scanning keys.
//
// The buckets are created lazily, inside the first write transaction that
// needs them, so databases created before IAM existed need no migration.
// Reads treat a missing bucket as empty.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/bbolt"

	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

var (
	bIAM         = []byte("iam")
	bIAMUsers    = []byte("users")
	bIAMGroups   = []byte("groups")
	bIAMRoles    = []byte("roles")
	bIAMPolicies = []byte("policies")
	bIAMKeys     = []byte("akeys")
)

var errIAMReadOnly = errors.New("bolt: IAM write in a read-only transaction")

// IAM returns the IAM store kept in this database. Its writes share the
// metadata store's batched, fsynced commits.
func (s *Store) IAM() iam.Store { return iamStore{s} }

type iamStore struct{ s *Store }

func (st iamStore) Update(ctx context.Context, account string, fn func(iam.Tx) error) error {
	if account == "" || strings.IndexByte(account, sep) >= 0 {
		return fmt.Errorf("bolt: invalid IAM account id %q", account)
	}
	return st.s.update(ctx, func(w *wtx) error {
		return fn(newIAMTx(w.tx, w, account))
	})
}

func (st iamStore) View(ctx context.Context, account string, fn func(iam.Tx) error) error {
	return st.s.view(ctx, func(tx *bbolt.Tx) error {
		return fn(newIAMTx(tx, nil, account))
	})
}

// iamTx implements iam.Tx on the per-account record layer.
type iamTx struct{ accountTx }

func newIAMTx(tx *bbolt.Tx, w *wtx, account string) *iamTx {
	return &iamTx{accountTx{tx: tx, w: w, root: bIAM, account: []byte(account), what: "IAM",
		readOnly: errIAMReadOnly, notFound: iam.ErrNotFound, key: nameKey}}
}

func nameKey(name string) []byte { return []byte(strings.ToLower(name)) }

func (t *iamTx) User(name string) (*iam.User, error) {
	return getRecord[iam.User](&t.accountTx, bIAMUsers, name)
}
func (t *iamTx) Users() ([]*iam.User, error)  { return listRecords[iam.User](&t.accountTx, bIAMUsers) }
func (t *iamTx) PutUser(u *iam.User) error    { return t.put(bIAMUsers, u.UserName, u) }
func (t *iamTx) DeleteUser(name string) error { return t.del(bIAMUsers, name) }

func (t *iamTx) Group(name string) (*iam.Group, error) {
	return getRecord[iam.Group](&t.accountTx, bIAMGroups, name)
}
func (t *iamTx) Groups() ([]*iam.Group, error) {
	return listRecords[iam.Group](&t.accountTx, bIAMGroups)
}
func (t *iamTx) PutGroup(g *iam.Group) error   { return t.put(bIAMGroups, g.GroupName, g) }
func (t *iamTx) DeleteGroup(name string) error { return t.del(bIAMGroups, name) }

func (t *iamTx) Role(name string) (*iam.Role, error) {
	return getRecord[iam.Role](&t.accountTx, bIAMRoles, name)
}
func (t *iamTx) Roles() ([]*iam.Role, error)  { return listRecords[iam.Role](&t.accountTx, bIAMRoles) }
func (t *iamTx) PutRole(r *iam.Role) error    { return t.put(bIAMRoles, r.RoleName, r) }
func (t *iamTx) DeleteRole(name string) error { return t.del(bIAMRoles, name) }

func (t *iamTx) Policy(name string) (*iam.Policy, error) {
	return getRecord[iam.Policy](&t.accountTx, bIAMPolicies, name)
}
func (t *iamTx) Policies() ([]*iam.Policy, error) {
	return listRecords[iam.Policy](&t.accountTx, bIAMPolicies)
}
func (t *iamTx) PutPolicy(p *iam.Policy) error  { return t.put(bIAMPolicies, p.PolicyName, p) }
func (t *iamTx) DeletePolicy(name string) error { return t.del(bIAMPolicies, name) }

// Count implements iam.Tx.
func (t *iamTx) Count(kind iam.Kind) (int, error) {
	var name []byte
	switch kind {
	case iam.KindUser:
		name = bIAMUsers
	case iam.KindGroup:
		name = bIAMGroups
	case iam.KindRole:
		name = bIAMRoles
	case iam.KindPolicy:
		name = bIAMPolicies
	default:
		return 0, fmt.Errorf("bolt: no IAM records of kind %v", kind)
	}
	b := t.bucket(name)
	if b == nil {
		return 0, nil
	}
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n, nil
}

// iamKey is an akeys record: what IAM knows about a key beyond its
// meta.AccessKey.
type iamKey struct {
	UserName string                 `json:"user,omitempty"`
	LastUsed *iam.AccessKeyLastUsed `json:"lastUsed,omitempty"`
}

// metaKey returns the key's authentication record if it belongs to this
// account, or nil.
func (t *iamTx) metaKey(id string) (*meta.AccessKey, error) {
	data := t.tx.Bucket(bKeys).Get([]byte(id))
	if data == nil {
		return nil, nil
	}
	k := new(meta.AccessKey)
	if err := decode(data, k); err != nil {
		return nil, err
	}
	return k, nil
}

// iamAccessKey joins a key's two records.
func (t *iamTx) iamAccessKey(k *meta.AccessKey) (*iam.AccessKey, error) {
	out := &iam.AccessKey{AccessKeyID: k.ID, SecretAccessKey: k.Secret, UserName: k.UserName,
		Status: k.Status, CreateDate: k.CreatedAt}
	if out.Status == "" {
		out.Status = iam.StatusActive // authentication treats an empty status as active
	}
	if b := t.bucket(bIAMKeys); b != nil {
		if data := b.Get([]byte(k.ID)); data != nil {
			var x iamKey
			if err := decode(data, &x); err != nil {
				return nil, err
			}
			out.LastUsed = x.LastUsed
		}
	}
	return out, nil
}

// AccessKey implements iam.Tx.
func (t *iamTx) AccessKey(id string) (*iam.AccessKey, error) {
	k, err := t.metaKey(id)
	if err != nil {
		return nil, err
	}
	if k == nil || k.AccountID != string(t.account) {
		return nil, iam.ErrNotFound
	}
	return t.iamAccessKey(k)
}

// AccessKeys implements iam.Tx. A user's keys are found through the
// account's akeys; the root's by scanning all keys, since the key made
// with the account was never registered there.
func (t *iamTx) AccessKeys(userName string) ([]*iam.AccessKey, error) {
	var out []*iam.AccessKey
	add := func(k *meta.AccessKey) error {
		if k.AccountID != string(t.account) || !strings.EqualFold(k.UserName, userName) {
			return nil
		}
		ak, err := t.iamAccessKey(k)
		if err == nil {
			out = append(out, ak)
		}
		return err
	}
	if userName == "" {
		err := t.tx.Bucket(bKeys).ForEach(func(_, data []byte) error {
			k := new(meta.AccessKey)
			if err := decode(data, k); err != nil {
				return err
			}
			return add(k)
		})
		return out, err
	}
	b := t.bucket(bIAMKeys)
	if b == nil {
		return nil, nil
	}
	err := b.ForEach(func(id, data []byte) error {
		var x iamKey
		if err := decode(data, &x); err != nil {
			return err
		}
		if !strings.EqualFold(x.UserName, userName) {
			return nil
		}
		k, err := t.metaKey(string(id))
		if err != nil || k == nil {
			return err
		}
		return add(k)
	})
	return out, err
}

// PutAccessKey implements iam.Tx: it writes the authentication record and
// the IAM record together.
func (t *iamTx) PutAccessKey(k *iam.AccessKey) error {
	if t.w == nil {
		return errIAMReadOnly
	}
	if k.AccessKeyID == "" || k.SecretAccessKey == "" {
		return errors.New("bolt: access key id and secret are required")
	}
	if bytes.IndexByte([]byte(k.AccessKeyID), sep) >= 0 {
		return errors.New("bolt: access key ids must not contain NUL")
	}
	if t.tx.Bucket(bAccounts).Get(t.account) == nil {
		return fmt.Errorf("account %q: %w", t.account, meta.ErrNotFound)
	}
	old, err := t.metaKey(k.AccessKeyID)
	if err != nil {
		return err
	}
	if old != nil && old.AccountID != string(t.account) {
		return fmt.Errorf("bolt: access key %s belongs to another account", k.AccessKeyID)
	}
	mk, err := encode(&meta.AccessKey{ID: k.AccessKeyID, Secret: k.SecretAccessKey, AccountID: string(t.account),
		UserName: k.UserName, Status: k.Status, CreatedAt: k.CreateDate})
	if err != nil {
		return err
	}
	ik, err := encode(&iamKey{UserName: k.UserName, LastUsed: k.LastUsed})
	if err != nil {
		return err
	}
	b, err := t.wbucket(bIAMKeys)
	if err != nil {
		return err
	}
	if err := t.w.put(t.tx.Bucket(bKeys), []byte(k.AccessKeyID), mk); err != nil {
		return err
	}
	return t.w.put(b, []byte(k.AccessKeyID), ik)
}

// DeleteAccessKey implements iam.Tx.
func (t *iamTx) DeleteAccessKey(id string) error {
	if t.w == nil {
		return errIAMReadOnly
	}
	k, err := t.metaKey(id)
	if err != nil {
		return err
	}
	if k == nil || k.AccountID != string(t.account) {
		return iam.ErrNotFound
	}
	if err := t.w.del(t.tx.Bucket(bKeys), []byte(id)); err != nil {
		return err
	}
	if b := t.bucket(bIAMKeys); b != nil {
		return t.w.del(b, []byte(id))
	}
	return nil
}
