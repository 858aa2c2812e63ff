package kms

import (
	"context"
	"errors"
)

// ErrWrongRootKey reports a Sealer (root key) that does not open the
// stored key material.
var ErrWrongRootKey = errors.New("kms: the root key does not open the stored key material")

// VerifySealer checks sealer against the material of the first stored
// key, so that a server given the wrong root key refuses to start instead
// of failing on every object. checked is false when no key is stored yet
// (nothing to check against).
func VerifySealer(ctx context.Context, store Store, sealer Sealer) (checked bool, err error) {
	accounts, err := store.Accounts(ctx)
	if err != nil {
		return false, err
	}
	for _, account := range accounts {
		var rec *KeyRecord
		err := store.View(ctx, account, func(tx Tx) error {
			keys, err := tx.Keys()
			if err != nil {
				return err
			}
			for _, r := range keys {
				if len(r.Materials) > 0 {
					rec = r
					return nil
				}
			}
			return nil
		})
		if err != nil {
			return false, err
		}
		if rec == nil {
			continue
		}
		m := rec.Materials[0]
		raw, err := sealer.Open(m.Sealed, materialAAD(rec.Key.AccountID, rec.Key.ID, m.Version))
		if err != nil {
			return true, ErrWrongRootKey
		}
		clear(raw)
		return true, nil
	}
	return false, nil
}
