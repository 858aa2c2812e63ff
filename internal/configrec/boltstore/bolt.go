// Package boltstore keeps the configuration recorder's and the rules'
// data in a bbolt file of its own (DIR/config.db), apart from the object
// metadata so that history never slows object writes.
package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer-io/coffer/internal/configrec"
)

// Store is a configrec.Store in bbolt.
type Store struct{ db *bolt.DB }

var (
	bItems = []byte("items")
	bDocs  = []byte("docs")
)

// Open opens (creating, mode 0600) the store at path.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("config store: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bItems, bDocs} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db}, nil
}

// resource prefix: account \x00 type \x00 id \x00; records follow keyed
// by the capture time (big-endian nanoseconds) and a sequence number.
func resPrefix(k configrec.ResourceKey) []byte {
	return []byte(k.Account + "\x00" + k.Type + "\x00" + k.ID + "\x00")
}

func timeKey(t time.Time) []byte {
	n := uint64(t.UnixNano())
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = byte(n)
		n >>= 8
	}
	return b[:]
}

// PutRecord implements configrec.Store.
func (s *Store) PutRecord(_ context.Context, r *configrec.Record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	k := configrec.ResourceKey{Account: r.Item.AccountID, Type: r.Item.ResourceType, ID: r.Item.ResourceID}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bItems)
		seq, _ := b.NextSequence()
		key := append(append(resPrefix(k), timeKey(r.CaptureTime)...), timeKey(time.Unix(0, int64(seq)))...)
		return b.Put(key, v)
	})
}

// Latest implements configrec.Store.
func (s *Store) Latest(_ context.Context, k configrec.ResourceKey) (*configrec.Record, error) {
	var out *configrec.Record
	p := resPrefix(k)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bItems).Cursor()
		end := append(append([]byte(nil), p[:len(p)-1]...), 1)
		var v []byte
		key, _ := c.Seek(end)
		if key == nil {
			key, v = c.Last()
		} else {
			key, v = c.Prev()
		}
		if key == nil || !bytes.HasPrefix(key, p) {
			return nil
		}
		out = new(configrec.Record)
		return json.Unmarshal(v, out)
	})
	return out, err
}

// History implements configrec.Store.
func (s *Store) History(_ context.Context, k configrec.ResourceKey, from, to time.Time) ([]configrec.Record, error) {
	var out []configrec.Record
	p := resPrefix(k)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bItems).Cursor()
		for key, v := c.Seek(p); key != nil && bytes.HasPrefix(key, p); key, v = c.Next() {
			var r configrec.Record
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if configrec.InRange(r.CaptureTime, from, to) {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

// Resources implements configrec.Store.
func (s *Store) Resources(_ context.Context, account, typ string) ([]configrec.ResourceKey, error) {
	var out []configrec.ResourceKey
	p := []byte(account + "\x00" + typ + "\x00")
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bItems).Cursor()
		for key, _ := c.Seek(p); key != nil && bytes.HasPrefix(key, p); {
			rest := key[len(p):]
			i := bytes.IndexByte(rest, 0)
			if i < 0 {
				return fmt.Errorf("config store: bad key")
			}
			out = append(out, configrec.ResourceKey{Account: account, Type: typ, ID: string(rest[:i])})
			// Skip the resource's other records.
			next := append(append([]byte(nil), key[:len(p)+i]...), 1)
			key, _ = c.Seek(next)
		}
		return nil
	})
	return out, err
}

func docKey(kind, key string) []byte { return []byte(kind + "\x00" + key) }

// PutDoc implements configrec.Store.
func (s *Store) PutDoc(_ context.Context, kind, key string, v []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bDocs).Put(docKey(kind, key), v) })
}

// GetDoc implements configrec.Store.
func (s *Store) GetDoc(_ context.Context, kind, key string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bDocs).Get(docKey(kind, key)); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}

// DeleteDoc implements configrec.Store.
func (s *Store) DeleteDoc(_ context.Context, kind, key string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bDocs).Delete(docKey(kind, key)) })
}

// ListDocs implements configrec.Store.
func (s *Store) ListDocs(_ context.Context, kind, prefix string) ([]configrec.Doc, error) {
	var out []configrec.Doc
	p := docKey(kind, prefix)
	head := len(kind) + 1
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bDocs).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			out = append(out, configrec.Doc{Key: string(k[head:]), Value: append([]byte(nil), v...)})
		}
		return nil
	})
	return out, err
}

// Close implements configrec.Store.
func (s *Store) Close() error { return s.db.Close() }
