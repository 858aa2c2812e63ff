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
		return fn(newKMSTx(w.tx, w, account))
	})
}

func (st kmsStore) View(ctx context.Context, account string, fn func(kms.Tx) error) error {
	return st.s.view(ctx, func(tx *bbolt.Tx) error {
		return fn(newKMSTx(tx, nil, account))
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

// kmsTx implements kms.Tx on the per-account record layer.
type kmsTx struct{ accountTx }

func newKMSTx(tx *bbolt.Tx, w *wtx, account string) *kmsTx {
	return &kmsTx{accountTx{tx: tx, w: w, root: bKMS, account: []byte(account), what: "KMS",
		readOnly: kms.ErrReadOnly, notFound: kms.ErrNotFound, key: exactKey}}
}

func (t *kmsTx) Key(id string) (*kms.KeyRecord, error) {
	return getRecord[kms.KeyRecord](&t.accountTx, bKMSKeys, id)
}
func (t *kmsTx) Keys() ([]*kms.KeyRecord, error) {
	return listRecords[kms.KeyRecord](&t.accountTx, bKMSKeys)
}
func (t *kmsTx) PutKey(r *kms.KeyRecord) error { return t.put(bKMSKeys, r.Key.ID, r) }
func (t *kmsTx) DeleteKey(id string) error     { return t.del(bKMSKeys, id) }

func (t *kmsTx) Alias(name string) (*kms.Alias, error) {
	return getRecord[kms.Alias](&t.accountTx, bKMSAliases, name)
}
func (t *kmsTx) Aliases() ([]*kms.Alias, error) {
	return listRecords[kms.Alias](&t.accountTx, bKMSAliases)
}
func (t *kmsTx) PutAlias(a *kms.Alias) error   { return t.put(bKMSAliases, a.Name, a) }
func (t *kmsTx) DeleteAlias(name string) error { return t.del(bKMSAliases, name) }

var _ kms.Tx = (*kmsTx)(nil)
