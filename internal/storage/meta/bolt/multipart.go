package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// upload returns the upl index key and record of key's upload uploadID.
func (b *objBucket) upload(key, uploadID string) ([]byte, *meta.Upload, error) {
	uk := b.uid.Get([]byte(uploadID))
	if uk == nil || string(uplObjKey(uk)) != key {
		return nil, nil, meta.ErrUploadNotFound
	}
	data := b.upl.Get(uk)
	if data == nil {
		return nil, nil, fmt.Errorf("bolt: corrupt database: upload %s has no record", uploadID)
	}
	u, err := decodeUpload(b.name, key, data)
	if err != nil {
		return nil, nil, err
	}
	// uk may point into a page that later writes in this transaction reuse.
	return bytes.Clone(uk), u, nil
}

// dropUpload deletes an upload and its parts, returning the parts.
func (b *objBucket) dropUpload(w *wtx, uploadID string, uk []byte) ([]*meta.Part, error) {
	var parts []*meta.Part
	var keys [][]byte
	p := prtPrefix(uploadID)
	c := b.prt.Cursor()
	for k, data := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, data = c.Next() {
		part := new(meta.Part)
		if err := decode(data, part); err != nil {
			return nil, err
		}
		parts = append(parts, part)
		keys = append(keys, bytes.Clone(k))
	}
	// Deleting behind a live cursor can skip entries, hence two passes.
	for _, k := range keys {
		if err := w.del(b.prt, k); err != nil {
			return nil, err
		}
	}
	if err := w.del(b.upl, uk); err != nil {
		return nil, err
	}
	return parts, w.del(b.uid, []byte(uploadID))
}

// CreateUpload implements meta.Store.
func (s *Store) CreateUpload(ctx context.Context, u *meta.Upload) error {
	if u.UploadID == "" {
		return errors.New("bolt: upload id is required")
	}
	if err := checkName(u.Key); err != nil {
		return err
	}
	if err := checkName(u.UploadID); err != nil {
		return err
	}
	return s.update(ctx, func(w *wtx) error {
		b, err := openBucket(w.tx, u.Bucket)
		if err != nil {
			return err
		}
		if b.uid.Get([]byte(u.UploadID)) != nil {
			return fmt.Errorf("bolt: upload id %s already exists", u.UploadID)
		}
		data, err := encodeUpload(u)
		if err != nil {
			return err
		}
		uk := uplKey(u.Key, u.Initiated, u.UploadID)
		if err := w.put(b.upl, uk, data); err != nil {
			return err
		}
		return w.put(b.uid, []byte(u.UploadID), uk)
	})
}

// GetUpload implements meta.Store.
func (s *Store) GetUpload(ctx context.Context, bucket, key, uploadID string) (*meta.Upload, error) {
	var u *meta.Upload
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b, err := openBucket(tx, bucket)
		if err != nil {
			return err
		}
		_, u, err = b.upload(key, uploadID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// PutPart implements meta.Store.
func (s *Store) PutPart(ctx context.Context, bucket, key, uploadID string, p *meta.Part) ([]meta.BlobRef, error) {
	if p.Number < 1 {
		return nil, fmt.Errorf("bolt: invalid part number %d", p.Number)
	}
	var freed []meta.BlobRef
	err := s.update(ctx, func(w *wtx) error {
		freed = nil
		b, err := openBucket(w.tx, bucket)
		if err != nil {
			return err
		}
		if _, _, err := b.upload(key, uploadID); err != nil {
			return err
		}
		pk := prtKey(uploadID, p.Number)
		if data := b.prt.Get(pk); data != nil {
			var old meta.Part
			if err := decode(data, &old); err != nil {
				return err
			}
			if old.Blob.ID != "" && old.Blob.ID != p.Blob.ID {
				freed = []meta.BlobRef{old.Blob}
			}
		}
		data, err := encode(p)
		if err != nil {
			return err
		}
		return w.put(b.prt, pk, data)
	})
	if err != nil {
		return nil, err
	}
	return freed, nil
}

// ListParts implements meta.Store.
func (s *Store) ListParts(ctx context.Context, bucket, key, uploadID string, marker, max int) ([]*meta.Part, bool, error) {
	var parts []*meta.Part
	truncated := false
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b, err := openBucket(tx, bucket)
		if err != nil {
			return err
		}
		if _, _, err := b.upload(key, uploadID); err != nil || max <= 0 {
			return err
		}
		p := prtPrefix(uploadID)
		c := b.prt.Cursor()
		for k, data := c.Seek(prtKey(uploadID, marker+1)); k != nil && bytes.HasPrefix(k, p); k, data = c.Next() {
			if len(parts) == max {
				truncated = true
				break
			}
			part := new(meta.Part)
			if err := decode(data, part); err != nil {
				return err
			}
			parts = append(parts, part)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return parts, truncated, nil
}

// CompleteUpload implements meta.Store.
func (s *Store) CompleteUpload(ctx context.Context, uploadID string, v *meta.ObjectVersion, newVersionID string, pre meta.Precondition) (meta.PutResult, error) {
	if err := checkName(v.Key); err != nil {
		return meta.PutResult{}, err
	}
	used := make(map[string]bool, len(v.Blobs))
	for _, r := range v.Blobs {
		used[r.ID] = true
	}
	var res meta.PutResult
	err := s.update(ctx, func(w *wtx) error {
		res = meta.PutResult{}
		b, err := openBucket(w.tx, v.Bucket)
		if err != nil {
			return err
		}
		uk, _, err := b.upload(v.Key, uploadID)
		if err != nil {
			return err
		}
		if res, err = b.put(w, v, newVersionID, pre); err != nil {
			return err
		}
		parts, err := b.dropUpload(w, uploadID, uk)
		for _, p := range parts {
			if p.Blob.ID != "" && !used[p.Blob.ID] {
				res.Freed = append(res.Freed, p.Blob)
			}
		}
		return err
	})
	if err != nil {
		return meta.PutResult{}, err
	}
	return res, nil
}

// AbortUpload implements meta.Store.
func (s *Store) AbortUpload(ctx context.Context, bucket, key, uploadID string) ([]meta.BlobRef, error) {
	var freed []meta.BlobRef
	err := s.update(ctx, func(w *wtx) error {
		freed = nil
		b, err := openBucket(w.tx, bucket)
		if err != nil {
			return err
		}
		uk, _, err := b.upload(key, uploadID)
		if err != nil {
			return err
		}
		parts, err := b.dropUpload(w, uploadID, uk)
		for _, p := range parts {
			if p.Blob.ID != "" {
				freed = append(freed, p.Blob)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return freed, nil
}

// ForEachBlobRef implements meta.Store. It runs in one read transaction,
// so the references come from a single snapshot; a slow fn keeps that
// snapshot open, which delays reuse of freed pages (the file may grow).
func (s *Store) ForEachBlobRef(ctx context.Context, fn func(id string) error) error {
	return s.view(ctx, func(tx *bbolt.Tx) error {
		n := 0
		emit := func(id string) error {
			if id == "" {
				return nil
			}
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			return fn(id)
		}
		return tx.Bucket(bData).ForEachBucket(func(name []byte) error {
			nb := tx.Bucket(bData).Bucket(name)
			// ver holds every version; cur only duplicates some of them.
			err := nb.Bucket(bVer).ForEach(func(_, data []byte) error {
				var v meta.ObjectVersion
				if err := decodeVersionBinary(data, &v); err != nil {
					return err
				}
				for _, r := range v.Blobs {
					if err := emit(r.ID); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			return nb.Bucket(bPrt).ForEach(func(_, data []byte) error {
				var p meta.Part
				if err := decode(data, &p); err != nil {
					return err
				}
				return emit(p.Blob.ID)
			})
		})
	})
}
