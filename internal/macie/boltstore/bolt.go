// Package boltstore keeps Macie's records in a bbolt file of its own
// (DIR/discovery.db), apart from the object metadata so that scan
// results never slow object writes.
package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer-io/coffer/internal/macie"
)

// Store is a macie.Store in bbolt.
type Store struct{ db *bolt.DB }

var bRecords = []byte("records")

// Open opens (creating, mode 0600) the store at path.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("discovery store: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bRecords)
		return err
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db}, nil
}

// key: account \x01 kind \x01 id. \x01 cannot occur in an account id or a
// kind, so one account's or kind's records never run into another's.
func prefix(account string, kind macie.Kind) []byte {
	return []byte(account + "\x01" + string(kind) + "\x01")
}

// Put implements macie.Store.
func (s *Store) Put(_ context.Context, account string, kind macie.Kind, id string, doc []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bRecords).Put(append(prefix(account, kind), id...), doc)
	})
}

// Get implements macie.Store.
func (s *Store) Get(_ context.Context, account string, kind macie.Kind, id string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bRecords).Get(append(prefix(account, kind), id...))
		if v == nil {
			return macie.ErrNotFound
		}
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

// Delete implements macie.Store.
func (s *Store) Delete(_ context.Context, account string, kind macie.Kind, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bRecords).Delete(append(prefix(account, kind), id...))
	})
}

// List implements macie.Store.
func (s *Store) List(_ context.Context, account string, kind macie.Kind, idPrefix string, fn func(string, []byte) bool) error {
	p := prefix(account, kind)
	full := append(bytes.Clone(p), idPrefix...)
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bRecords).Cursor()
		for k, v := c.Seek(full); k != nil && bytes.HasPrefix(k, full); k, v = c.Next() {
			if !fn(string(k[len(p):]), bytes.Clone(v)) {
				return nil
			}
		}
		return nil
	})
}

// Close implements macie.Store.
func (s *Store) Close() error { return s.db.Close() }
