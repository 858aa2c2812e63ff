package bolt

import (
	"context"

	"go.etcd.io/bbolt"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// bAccSettings holds account id → AccountSettings. It is created on first
// write rather than at format time, so databases made before it existed
// need no migration: a missing bbolt bucket just means no settings yet.
var bAccSettings = []byte("accsettings")

// GetAccountSettings implements meta.Store.
func (s *Store) GetAccountSettings(ctx context.Context, accountID string) (*meta.AccountSettings, error) {
	st := new(meta.AccountSettings)
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bAccounts).Get([]byte(accountID)) == nil {
			return meta.ErrNotFound
		}
		b := tx.Bucket(bAccSettings)
		if b == nil {
			return nil
		}
		if data := b.Get([]byte(accountID)); data != nil {
			return decode(data, st)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// UpdateAccountSettings implements meta.Store.
func (s *Store) UpdateAccountSettings(ctx context.Context, accountID string, fn func(*meta.AccountSettings) error) error {
	return s.update(ctx, func(w *wtx) error {
		if w.tx.Bucket(bAccounts).Get([]byte(accountID)) == nil {
			return meta.ErrNotFound
		}
		st := new(meta.AccountSettings)
		if b := w.tx.Bucket(bAccSettings); b != nil {
			if data := b.Get([]byte(accountID)); data != nil {
				if err := decode(data, st); err != nil {
					return err
				}
			}
		}
		if err := fn(st); err != nil {
			return err
		}
		data, err := encode(st)
		if err != nil {
			return err
		}
		w.dirty = true
		b, err := w.tx.CreateBucketIfNotExists(bAccSettings)
		if err != nil {
			return err
		}
		return w.put(b, []byte(accountID), data)
	})
}
