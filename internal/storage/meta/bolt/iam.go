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
		return fn(&iamTx{tx: w.tx, w: w, account: []byte(account)})
	})
}

func (st iamStore) View(ctx context.Context, account string, fn func(iam.Tx) error) error {
	return st.s.view(ctx, func(tx *bbolt.Tx) error {
		return fn(&iamTx{tx: tx, account: []byte(account)})
	})
}

// iamTx implements iam.Tx. w is nil in read-only transactions.
type iamTx struct {
	tx      *bbolt.Tx
	w       *wtx
	account []byte
}

// bucket returns the account's nested bucket name, or nil when it does
// not exist yet.
func (t *iamTx) bucket(name []byte) *bbolt.Bucket {
	root := t.tx.Bucket(bIAM)
	if root == nil {
		return nil
	}
	acct := root.Bucket(t.account)
	if acct == nil {
		return nil
	}
	return acct.Bucket(name)
}

// wbucket returns the account's nested bucket name, creating it (and its
// parents) if needed. Creating a bucket is a write: it marks the
// transaction dirty so that a later error rolls it back.
func (t *iamTx) wbucket(name []byte) (*bbolt.Bucket, error) {
	if t.w == nil {
		return nil, errIAMReadOnly
	}
	if b := t.bucket(name); b != nil {
		return b, nil
	}
	t.w.dirty = true
	root, err := t.tx.CreateBucketIfNotExists(bIAM)
	if err != nil {
		return nil, err
	}
	acct, err := root.CreateBucketIfNotExists(t.account)
	if err != nil {
		return nil, err
	}
	return acct.CreateBucketIfNotExists(name)
}

func nameKey(name string) []byte { return []byte(strings.ToLower(name)) }

func iamGet[T any](t *iamTx, bucket []byte, name string) (*T, error) {
	b := t.bucket(bucket)
	if b == nil {
		return nil, iam.ErrNotFound
	}
	data := b.Get(nameKey(name))
	if data == nil {
		return nil, iam.ErrNotFound
	}
	v := new(T)
	return v, decode(data, v)
}

func iamList[T any](t *iamTx, bucket []byte) ([]*T, error) {
	b := t.bucket(bucket)
	if b == nil {
		return nil, nil
	}
	var out []*T
	err := b.ForEach(func(_, data []byte) error {
		v := new(T)
		out = append(out, v)
		return decode(data, v)
	})
	return out, err
}

func (t *iamTx) put(bucket []byte, name string, v any) error {
	if name == "" {
		return errors.New("bolt: IAM record without a name")
	}
	b, err := t.wbucket(bucket)
	if err != nil {
		return err
	}
	data, err := encode(v)
	if err != nil {
		return err
	}
	return t.w.put(b, nameKey(name), data)
}

func (t *iamTx) del(bucket []byte, name string) error {
	if t.w == nil {
		return errIAMReadOnly
	}
	b := t.bucket(bucket)
	if b == nil || b.Get(nameKey(name)) == nil {
		return iam.ErrNotFound
	}
	return t.w.del(b, nameKey(name))
}

func (t *iamTx) User(name string) (*iam.User, error) { return iamGet[iam.User](t, bIAMUsers, name) }
func (t *iamTx) Users() ([]*iam.User, error)         { return iamList[iam.User](t, bIAMUsers) }
func (t *iamTx) PutUser(u *iam.User) error           { return t.put(bIAMUsers, u.UserName, u) }
func (t *iamTx) DeleteUser(name string) error        { return t.del(bIAMUsers, name) }

func (t *iamTx) Group(name string) (*iam.Group, error) { return iamGet[iam.Group](t, bIAMGroups, name) }
func (t *iamTx) Groups() ([]*iam.Group, error)         { return iamList[iam.Group](t, bIAMGroups) }
func (t *iamTx) PutGroup(g *iam.Group) error           { return t.put(bIAMGroups, g.GroupName, g) }
func (t *iamTx) DeleteGroup(name string) error         { return t.del(bIAMGroups, name) }

func (t *iamTx) Role(name string) (*iam.Role, error) { return iamGet[iam.Role](t, bIAMRoles, name) }
func (t *iamTx) Roles() ([]*iam.Role, error)         { return iamList[iam.Role](t, bIAMRoles) }
func (t *iamTx) PutRole(r *iam.Role) error           { return t.put(bIAMRoles, r.RoleName, r) }
func (t *iamTx) DeleteRole(name string) error        { return t.del(bIAMRoles, name) }

func (t *iamTx) Policy(name string) (*iam.Policy, error) {
	return iamGet[iam.Policy](t, bIAMPolicies, name)
}
func (t *iamTx) Policies() ([]*iam.Policy, error) { return iamList[iam.Policy](t, bIAMPolicies) }
func (t *iamTx) PutPolicy(p *iam.Policy) error    { return t.put(bIAMPolicies, p.PolicyName, p) }
func (t *iamTx) DeletePolicy(name string) error   { return t.del(bIAMPolicies, name) }

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
