package bolt

// The KMS store (kms.Store) on the same database as the metadata.
//
// # Layout
//
//	kms                 top-level, created by the first KMS write
//	  <account id>      one nested bucket per account, holding
//	    keys            key id → kms.KeyRecord (JSON; material is sealed)
//	    aliases         alias name → kms.Alias (JSON)
//
// Key IDs and alias names are case-sensitive in AWS KMS, so they are the
// bbolt keys as given. The buckets are created lazily inside the first
// write that needs them, so databases made before the KMS existed need no
// migration; reads treat a missing bucket as empty.
//
// Keeping the KMS here means its writes share the metadata store's
// batched, fsynced commits, and one backup of the database holds both the
// object records and the keys that seal their data keys.

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/coffer-io/coffer/internal/kms"
)

var (
	bKMS        = []byte("kms")
	bKMSKeys    = []byte("keys")
	bKMSAliases = []byte("aliases")
)

// KMS returns the KMS store kept in this database.
func (s *Store) KMS() kms.Store { return kmsStore{s} }

type kmsStore struct{ s *Store }

func (st kmsStore) Update(ctx context.Context, account string, fn func(kms.Tx) error) error {
	if account == "" {
		return errors.New("bolt: empty KMS account id")
	}
	return st.s.update(ctx, func(w *wtx) error {
		return fn(&kmsTx{tx: w.tx, w: w, account: []byte(account)})
	})
}

func (st kmsStore) View(ctx context.Context, account string, fn func(kms.Tx) error) error {
	return st.s.view(ctx, func(tx *bbolt.Tx) error {
		return fn(&kmsTx{tx: tx, account: []byte(account)})
	})
}

// Accounts implements kms.Store. An account whose records were all
// deleted keeps its (empty) buckets, so emptiness is checked here.
func (st kmsStore) Accounts(ctx context.Context) ([]string, error) {
	var out []string
	err := st.s.view(ctx, func(tx *bbolt.Tx) error {
		root := tx.Bucket(bKMS)
		if root == nil {
			return nil
		}
		// ForEach visits keys in byte order, which is the ascending
		// order the interface promises.
		return root.ForEach(func(name, _ []byte) error {
			acct := root.Bucket(name)
			if acct == nil {
				return nil
			}
			for _, sub := range [][]byte{bKMSKeys, bKMSAliases} {
				if b := acct.Bucket(sub); b != nil {
					if k, _ := b.Cursor().First(); k != nil {
						out = append(out, string(name))
						return nil
					}
				}
			}
			return nil
		})
	})
	return out, err
}

// kmsTx implements kms.Tx. w is nil in read-only transactions.
type kmsTx struct {
	tx      *bbolt.Tx
	w       *wtx
	account []byte
}

func (t *kmsTx) bucket(name []byte) *bbolt.Bucket {
	root := t.tx.Bucket(bKMS)
	if root == nil {
		return nil
	}
	acct := root.Bucket(t.account)
	if acct == nil {
		return nil
	}
	return acct.Bucket(name)
}

// wbucket returns the account's nested bucket, creating it and its
// parents; creating is a write, so the transaction is marked dirty and a
// later error rolls it back.
func (t *kmsTx) wbucket(name []byte) (*bbolt.Bucket, error) {
	if t.w == nil {
		return nil, kms.ErrReadOnly
	}
	if b := t.bucket(name); b != nil {
		return b, nil
	}
	t.w.dirty = true
	root, err := t.tx.CreateBucketIfNotExists(bKMS)
	if err != nil {
		return nil, err
	}
	acct, err := root.CreateBucketIfNotExists(t.account)
	if err != nil {
		return nil, err
	}
	return acct.CreateBucketIfNotExists(name)
}

func kmsGet[T any](t *kmsTx, bucket []byte, name string) (*T, error) {
	b := t.bucket(bucket)
	if b == nil {
		return nil, kms.ErrNotFound
	}
	data := b.Get([]byte(name))
	if data == nil {
		return nil, kms.ErrNotFound
	}
	v := new(T)
	return v, decode(data, v)
}

func kmsList[T any](t *kmsTx, bucket []byte) ([]*T, error) {
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

func (t *kmsTx) put(bucket []byte, name string, v any) error {
	if name == "" {
		return errors.New("bolt: KMS record without a name")
	}
	b, err := t.wbucket(bucket)
	if err != nil {
		return err
	}
	data, err := encode(v)
	if err != nil {
		return fmt.Errorf("bolt: encode KMS record: %w", err)
	}
	return t.w.put(b, []byte(name), data)
}

func (t *kmsTx) del(bucket []byte, name string) error {
	if t.w == nil {
		return kms.ErrReadOnly
	}
	b := t.bucket(bucket)
	if b == nil || b.Get([]byte(name)) == nil {
		return kms.ErrNotFound
	}
	return t.w.del(b, []byte(name))
}

func (t *kmsTx) Key(id string) (*kms.KeyRecord, error) { return kmsGet[kms.KeyRecord](t, bKMSKeys, id) }
func (t *kmsTx) Keys() ([]*kms.KeyRecord, error)       { return kmsList[kms.KeyRecord](t, bKMSKeys) }
func (t *kmsTx) PutKey(r *kms.KeyRecord) error         { return t.put(bKMSKeys, r.Key.ID, r) }
func (t *kmsTx) DeleteKey(id string) error             { return t.del(bKMSKeys, id) }

func (t *kmsTx) Alias(name string) (*kms.Alias, error) {
	return kmsGet[kms.Alias](t, bKMSAliases, name)
}
func (t *kmsTx) Aliases() ([]*kms.Alias, error) { return kmsList[kms.Alias](t, bKMSAliases) }
func (t *kmsTx) PutAlias(a *kms.Alias) error    { return t.put(bKMSAliases, a.Name, a) }
func (t *kmsTx) DeleteAlias(name string) error  { return t.del(bKMSAliases, name) }

var _ kms.Tx = (*kmsTx)(nil)
