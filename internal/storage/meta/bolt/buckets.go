package bolt

import (
	"bytes"
	"context"
	"errors"

	"go.etcd.io/bbolt"

	"github.com/coffer-io/coffer/internal/protect"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

func ownerKey(owner, name string) []byte {
	return append(keyPrefix(owner), name...)
}

// CreateBucket implements meta.Store.
func (s *Store) CreateBucket(ctx context.Context, b *meta.Bucket) error {
	if b.Name == "" {
		return errors.New("bolt: bucket name is required")
	}
	return s.update(ctx, func(w *wtx) error {
		buckets := w.tx.Bucket(bBuckets)
		if buckets.Get([]byte(b.Name)) != nil {
			return meta.ErrBucketExists
		}
		data, err := encode(b)
		if err != nil {
			return err
		}
		if err := w.put(buckets, []byte(b.Name), data); err != nil {
			return err
		}
		if err := w.put(w.tx.Bucket(bOwners), ownerKey(b.Owner, b.Name), nil); err != nil {
			return err
		}
		// Leftovers of a deleted bucket cannot exist (DeleteBucket
		// removes the whole nested bucket), so CreateBucket suffices.
		w.dirty = true
		nb, err := w.tx.Bucket(bData).CreateBucket([]byte(b.Name))
		if err != nil {
			return err
		}
		for _, name := range perBucket {
			if _, err := nb.CreateBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
}

func getBucket(tx *bbolt.Tx, name string) (*meta.Bucket, error) {
	data := tx.Bucket(bBuckets).Get([]byte(name))
	if data == nil {
		return nil, meta.ErrBucketNotFound
	}
	b := new(meta.Bucket)
	return b, decode(data, b)
}

// GetBucket implements meta.Store.
func (s *Store) GetBucket(ctx context.Context, name string) (*meta.Bucket, error) {
	var b *meta.Bucket
	err := s.view(ctx, func(tx *bbolt.Tx) (err error) {
		b, err = getBucket(tx, name)
		return err
	})
	return b, err
}

// UpdateBucket implements meta.Store.
func (s *Store) UpdateBucket(ctx context.Context, name string, fn func(b *meta.Bucket) error) error {
	return s.update(ctx, func(w *wtx) error {
		b, err := getBucket(w.tx, name)
		if err != nil {
			return err
		}
		old := *b
		oldOwner := b.Owner
		if err := fn(b); err != nil {
			return err
		}
		b.Name = name
		if err := protect.CheckBucketChange(&old, b); err != nil {
			return err
		}
		data, err := encode(b)
		if err != nil {
			return err
		}
		if b.Owner != oldOwner {
			owners := w.tx.Bucket(bOwners)
			if err := w.del(owners, ownerKey(oldOwner, name)); err != nil {
				return err
			}
			if err := w.put(owners, ownerKey(b.Owner, name), nil); err != nil {
				return err
			}
		}
		return w.put(w.tx.Bucket(bBuckets), []byte(name), data)
	})
}

// DeleteBucket implements meta.Store.
func (s *Store) DeleteBucket(ctx context.Context, name string, check func(b *meta.Bucket) error) error {
	return s.update(ctx, func(w *wtx) error {
		b, err := getBucket(w.tx, name)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(b); err != nil {
				return err
			}
		}
		data := w.tx.Bucket(bData)
		nb := data.Bucket([]byte(name))
		// Versions include delete markers; parts belong to uploads.
		if k, _ := nb.Bucket(bVer).Cursor().First(); k != nil {
			return meta.ErrBucketNotEmpty
		}
		if k, _ := nb.Bucket(bUpl).Cursor().First(); k != nil {
			return meta.ErrBucketNotEmpty
		}
		if err := w.del(w.tx.Bucket(bBuckets), []byte(name)); err != nil {
			return err
		}
		if err := w.del(w.tx.Bucket(bOwners), ownerKey(b.Owner, name)); err != nil {
			return err
		}
		return data.DeleteBucket([]byte(name))
	})
}

// ListBuckets implements meta.Store.
func (s *Store) ListBuckets(ctx context.Context, owner string) ([]*meta.Bucket, error) {
	var list []*meta.Bucket
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		if owner == "" {
			return tx.Bucket(bBuckets).ForEach(func(_, data []byte) error {
				b := new(meta.Bucket)
				list = append(list, b)
				return decode(data, b)
			})
		}
		p := keyPrefix(owner)
		c := tx.Bucket(bOwners).Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			b, err := getBucket(tx, string(k[len(p):]))
			if err != nil {
				return err
			}
			list = append(list, b)
		}
		return nil
	})
	return list, err
}

// objBucket holds one S3 bucket's record and index buckets within a
// transaction.
type objBucket struct {
	name                         string
	rec                          *meta.Bucket
	cur, ver, vid, upl, uid, prt *bbolt.Bucket
	dat                          *bbolt.Bucket // inline data of small versions, by key 0x00 version id
}

func openBucket(tx *bbolt.Tx, name string) (*objBucket, error) {
	rec, err := getBucket(tx, name)
	if err != nil {
		return nil, err
	}
	nb := tx.Bucket(bData).Bucket([]byte(name))
	if nb == nil {
		return nil, errors.New("bolt: corrupt database: bucket " + name + " has no data")
	}
	return &objBucket{
		name: name,
		rec:  rec,
		cur:  nb.Bucket(bCur),
		ver:  nb.Bucket(bVer),
		vid:  nb.Bucket(bVid),
		upl:  nb.Bucket(bUpl),
		uid:  nb.Bucket(bUid),
		prt:  nb.Bucket(bPrt),
		dat:  nb.Bucket(bDat),
	}, nil
}
