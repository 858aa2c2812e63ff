package bolt

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// CreateAccount implements meta.Store.
func (s *Store) CreateAccount(ctx context.Context, a *meta.Account, key *meta.AccessKey) error {
	if a.ID == "" || a.Name == "" {
		return errors.New("bolt: account id and name are required")
	}
	var k meta.AccessKey
	if key != nil {
		k = *key
		if k.ID == "" {
			return errors.New("bolt: access key id is required")
		}
		if k.AccountID == "" {
			k.AccountID = a.ID
		} else if k.AccountID != a.ID {
			return fmt.Errorf("bolt: access key %s belongs to account %s, not %s", k.ID, k.AccountID, a.ID)
		}
	}
	return s.update(ctx, func(w *wtx) error {
		accounts, names, keys := w.tx.Bucket(bAccounts), w.tx.Bucket(bAccNames), w.tx.Bucket(bKeys)
		if accounts.Get([]byte(a.ID)) != nil || names.Get([]byte(a.Name)) != nil {
			return meta.ErrAccountExists
		}
		if key != nil && keys.Get([]byte(k.ID)) != nil {
			return fmt.Errorf("bolt: access key %s already exists", k.ID)
		}
		data, err := encode(a)
		if err != nil {
			return err
		}
		if err := w.put(accounts, []byte(a.ID), data); err != nil {
			return err
		}
		if err := w.put(names, []byte(a.Name), []byte(a.ID)); err != nil {
			return err
		}
		if key == nil {
			return nil
		}
		if data, err = encode(&k); err != nil {
			return err
		}
		return w.put(keys, []byte(k.ID), data)
	})
}

// GetAccount implements meta.Store.
func (s *Store) GetAccount(ctx context.Context, id string) (*meta.Account, error) {
	var a *meta.Account
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		a, err = getAccount(tx, id)
		return err
	})
	return a, err
}

func getAccount(tx *bbolt.Tx, id string) (*meta.Account, error) {
	data := tx.Bucket(bAccounts).Get([]byte(id))
	if data == nil {
		return nil, meta.ErrNotFound
	}
	a := new(meta.Account)
	return a, decode(data, a)
}

// GetAccountByName implements meta.Store.
func (s *Store) GetAccountByName(ctx context.Context, name string) (*meta.Account, error) {
	var a *meta.Account
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		id := tx.Bucket(bAccNames).Get([]byte(name))
		if id == nil {
			return meta.ErrNotFound
		}
		a, err = getAccount(tx, string(id))
		return err
	})
	return a, err
}

// ListAccounts implements meta.Store.
func (s *Store) ListAccounts(ctx context.Context) ([]*meta.Account, error) {
	var list []*meta.Account
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bAccounts).ForEach(func(_, data []byte) error {
			a := new(meta.Account)
			list = append(list, a)
			return decode(data, a)
		})
	})
	return list, err
}

// PutAccessKey implements meta.Store.
func (s *Store) PutAccessKey(ctx context.Context, k *meta.AccessKey) error {
	if k.ID == "" {
		return errors.New("bolt: access key id is required")
	}
	return s.update(ctx, func(w *wtx) error {
		if w.tx.Bucket(bAccounts).Get([]byte(k.AccountID)) == nil {
			return fmt.Errorf("account %q: %w", k.AccountID, meta.ErrNotFound)
		}
		data, err := encode(k)
		if err != nil {
			return err
		}
		return w.put(w.tx.Bucket(bKeys), []byte(k.ID), data)
	})
}

// GetAccessKey implements meta.Store.
func (s *Store) GetAccessKey(ctx context.Context, id string) (*meta.AccessKey, error) {
	var k *meta.AccessKey
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		data := tx.Bucket(bKeys).Get([]byte(id))
		if data == nil {
			return meta.ErrAccessKeyNotFound
		}
		k = new(meta.AccessKey)
		return decode(data, k)
	})
	return k, err
}

// DeleteAccessKey implements meta.Store.
func (s *Store) DeleteAccessKey(ctx context.Context, id string) error {
	return s.update(ctx, func(w *wtx) error {
		keys := w.tx.Bucket(bKeys)
		if keys.Get([]byte(id)) == nil {
			return meta.ErrAccessKeyNotFound
		}
		return w.del(keys, []byte(id))
	})
}
