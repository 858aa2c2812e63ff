package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"

	"github.com/coffer-io/coffer/internal/protect"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// latest returns key's newest version or delete marker and its seq, or nil.
func (b *objBucket) latest(key string) (*meta.ObjectVersion, uint64, error) {
	p := keyPrefix(key)
	k, data := b.ver.Cursor().Seek(p)
	if k == nil || !bytes.HasPrefix(k, p) {
		return nil, 0, nil
	}
	_, seq := verKeySplit(k)
	v, err := decodeVersion(b.name, key, data)
	if err != nil {
		return nil, 0, err
	}
	v.IsLatest = true
	return v, seq, nil
}

// version returns one version of key, with IsLatest set, and its seq.
func (b *objBucket) version(key, versionID string) (*meta.ObjectVersion, uint64, error) {
	sb := b.vid.Get(vidKey(key, versionID))
	if sb == nil {
		return nil, 0, meta.ErrVersionNotFound
	}
	seq := binary.BigEndian.Uint64(sb)
	vk := verKey(key, seq)
	data := b.ver.Get(vk)
	if data == nil {
		return nil, 0, fmt.Errorf("bolt: corrupt database: version %s of %q has no record", versionID, key)
	}
	v, err := decodeVersion(b.name, key, data)
	if err != nil {
		return nil, 0, err
	}
	first, _ := b.ver.Cursor().Seek(keyPrefix(key))
	v.IsLatest = bytes.Equal(first, vk)
	return v, seq, nil
}

// lookup returns versionID of key, or the latest if versionID is "".
func (b *objBucket) lookup(key, versionID string) (*meta.ObjectVersion, uint64, error) {
	if versionID != "" {
		return b.version(key, versionID)
	}
	v, seq, err := b.latest(key)
	if err == nil && v == nil {
		err = meta.ErrObjectNotFound
	}
	return v, seq, err
}

// checkNewVersionID vets an id for a new version of key.
func (b *objBucket) checkNewVersionID(key, id string) error {
	if id == "" || id == meta.NullVersion {
		return fmt.Errorf("bolt: bucket %s has versioning enabled and needs a new version id, got %q", b.name, id)
	}
	if b.vid.Get(vidKey(key, id)) != nil {
		return fmt.Errorf("bolt: version id %s of %q already exists", id, key)
	}
	return nil
}

// add stores v as key's newest version.
func (b *objBucket) add(w *wtx, v *meta.ObjectVersion) error {
	seq, err := w.nextSeq(b.ver)
	if err != nil {
		return err
	}
	data, err := encodeVersion(v)
	if err != nil {
		return err
	}
	if err := w.put(b.ver, verKey(v.Key, seq), data); err != nil {
		return err
	}
	if err := w.put(b.vid, vidKey(v.Key, v.VersionID), seqBytes(seq)); err != nil {
		return err
	}
	if len(v.Inline) > 0 {
		if err := w.put(b.dat, vidKey(v.Key, v.VersionID), v.Inline); err != nil {
			return err
		}
	}
	if v.DeleteMarker {
		return w.del(b.cur, []byte(v.Key))
	}
	return w.put(b.cur, []byte(v.Key), data)
}

// remove deletes version old (stored at seq) of key; if it was the
// newest, the next newest takes its place in cur. It is the only code that
// deletes a version record, and it asks package protect first: nothing
// removes a version that Object Lock protects.
func (b *objBucket) remove(w *wtx, old *meta.ObjectVersion, seq uint64) error {
	if err := protect.CheckRemoval(w.ctx, w.now, old); err != nil {
		return err
	}
	key, versionID, wasLatest := old.Key, old.VersionID, old.IsLatest
	if err := w.del(b.ver, verKey(key, seq)); err != nil {
		return err
	}
	if err := w.del(b.vid, vidKey(key, versionID)); err != nil {
		return err
	}
	if err := w.del(b.dat, vidKey(key, versionID)); err != nil {
		return err
	}
	if !wasLatest {
		return nil
	}
	p := keyPrefix(key)
	k, data := b.ver.Cursor().Seek(p)
	if k != nil && bytes.HasPrefix(k, p) {
		v, err := decodeVersion(b.name, key, data)
		if err != nil {
			return err
		}
		if !v.DeleteMarker {
			// data may point into a page the put below reuses.
			return w.put(b.cur, []byte(key), bytes.Clone(data))
		}
	}
	return w.del(b.cur, []byte(key))
}

// removeNull deletes key's null version if there is one and returns it.
func (b *objBucket) removeNull(w *wtx, key string) (*meta.ObjectVersion, error) {
	old, seq, err := b.version(key, meta.NullVersion)
	if errors.Is(err, meta.ErrVersionNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return old, b.remove(w, old, seq)
}

// put stores v as the new latest version of its key following the
// bucket's versioning state (PutObject and CompleteUpload).
func (b *objBucket) put(w *wtx, v *meta.ObjectVersion, newVersionID string, pre meta.Precondition) (meta.PutResult, error) {
	var res meta.PutResult
	if pre != nil {
		cur, _, err := b.latest(v.Key)
		if err != nil {
			return res, err
		}
		if err := pre(cur); err != nil {
			return res, err
		}
	}
	rec := *v
	rec.Bucket = b.name
	if err := protect.ApplyDefault(b.rec, &rec, w.now); err != nil {
		return res, err
	}
	if b.rec.Versioning == meta.VersioningEnabled {
		if err := b.checkNewVersionID(v.Key, newVersionID); err != nil {
			return res, err
		}
		rec.VersionID = newVersionID
	} else {
		rec.VersionID = meta.NullVersion
		old, err := b.removeNull(w, v.Key)
		if err != nil {
			return res, err
		}
		// A caller may carry the replaced version's data over (a copy
		// onto itself that only changes metadata): never free what v uses.
		res.Freed = slices.DeleteFunc(blobsOf(old), func(r meta.BlobRef) bool {
			return slices.ContainsFunc(v.Blobs, func(u meta.BlobRef) bool { return u.ID == r.ID })
		})
	}
	res.VersionID = rec.VersionID
	return res, b.add(w, &rec)
}

// blobsOf returns v's blobs (nil for nil or a delete marker).
func blobsOf(v *meta.ObjectVersion) []meta.BlobRef {
	if v == nil {
		return nil
	}
	var refs []meta.BlobRef
	for _, r := range v.Blobs {
		if r.ID != "" {
			refs = append(refs, r)
		}
	}
	return refs
}

// PutObject implements meta.Store.
func (s *Store) PutObject(ctx context.Context, v *meta.ObjectVersion, newVersionID string, pre meta.Precondition) (meta.PutResult, error) {
	if err := checkName(v.Key); err != nil {
		return meta.PutResult{}, err
	}
	var res meta.PutResult
	err := s.update(ctx, func(w *wtx) error {
		res = meta.PutResult{}
		b, err := openBucket(w.tx, v.Bucket)
		if err != nil {
			return err
		}
		res, err = b.put(w, v, newVersionID, pre)
		return err
	})
	if err != nil {
		return meta.PutResult{}, err
	}
	return res, nil
}

// GetObject implements meta.Store.
func (s *Store) GetObject(ctx context.Context, bucket, key, versionID string) (*meta.ObjectVersion, error) {
	var v *meta.ObjectVersion
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b, err := openBucket(tx, bucket)
		if err != nil {
			return err
		}
		if versionID == "" {
			// The common case, a live latest version, is one lookup.
			if data := b.cur.Get([]byte(key)); data != nil {
				if v, err = decodeVersion(bucket, key, data); err == nil {
					v.IsLatest = true
					v.Inline = bytes.Clone(b.dat.Get(vidKey(key, v.VersionID)))
				}
				return err
			}
		}
		if v, _, err = b.lookup(key, versionID); err == nil {
			// bbolt's memory is only valid inside the transaction.
			v.Inline = bytes.Clone(b.dat.Get(vidKey(key, v.VersionID)))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// UpdateObject implements meta.Store.
func (s *Store) UpdateObject(ctx context.Context, bucket, key, versionID string, fn func(v *meta.ObjectVersion) error) error {
	return s.update(ctx, func(w *wtx) error {
		b, err := openBucket(w.tx, bucket)
		if err != nil {
			return err
		}
		v, seq, err := b.lookup(key, versionID)
		if err != nil {
			return err
		}
		id := *v
		if id.Retention != nil {
			r := *id.Retention // fn may change v's in place
			id.Retention = &r
		}
		if err := fn(v); err != nil {
			return err
		}
		// Identity and data never change in place: overwriting a
		// version's data would be a removal that bypasses protect.
		v.Bucket, v.Key, v.VersionID, v.DeleteMarker, v.IsLatest = id.Bucket, id.Key, id.VersionID, id.DeleteMarker, id.IsLatest
		v.Size, v.ETag, v.Checksum, v.Parts, v.Blobs, v.Encryption, v.LastModified = id.Size, id.ETag, id.Checksum, id.Parts, id.Blobs, id.Encryption, id.LastModified
		if err := protect.CheckChange(w.ctx, w.now, &id, v); err != nil {
			return err
		}
		if (v.Retention != nil || v.LegalHold) && (v.DeleteMarker || !b.rec.ObjectLockEnabled) {
			return fmt.Errorf("%w: %s@%s cannot be locked", meta.ErrObjectLocked, key, v.VersionID)
		}
		data, err := encodeVersion(v)
		if err != nil {
			return err
		}
		if err := w.put(b.ver, verKey(key, seq), data); err != nil {
			return err
		}
		if v.IsLatest && !v.DeleteMarker {
			return w.put(b.cur, []byte(key), data)
		}
		return nil
	})
}

// DeleteObject implements meta.Store.
func (s *Store) DeleteObject(ctx context.Context, bucket, key, versionID, newVersionID string, check meta.Precondition) (meta.DeleteResult, error) {
	now := s.clock.Now().UTC() // the marker's time, on the data clock; outside the transaction: Batch may re-run it
	var res meta.DeleteResult
	err := s.update(ctx, func(w *wtx) error {
		res = meta.DeleteResult{}
		b, err := openBucket(w.tx, bucket)
		if err != nil {
			return err
		}
		if versionID != "" {
			old, seq, err := b.version(key, versionID)
			if err != nil {
				return err
			}
			if check != nil {
				if err := check(old); err != nil {
					return err
				}
			}
			res = meta.DeleteResult{VersionID: versionID, DeleteMarker: old.DeleteMarker, Freed: blobsOf(old)}
			return b.remove(w, old, seq)
		}

		cur, _, err := b.latest(key)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		marker := &meta.ObjectVersion{
			Bucket:       bucket,
			Key:          key,
			DeleteMarker: true,
			Owner:        b.rec.Owner,
			LastModified: now,
		}
		switch b.rec.Versioning {
		case meta.VersioningEnabled:
			if err := b.checkNewVersionID(key, newVersionID); err != nil {
				return err
			}
			marker.VersionID = newVersionID
		case meta.VersioningSuspended:
			old, err := b.removeNull(w, key)
			if err != nil {
				return err
			}
			res.Freed = blobsOf(old)
			marker.VersionID = meta.NullVersion
		default:
			// Unversioned: remove the null version, leave no marker.
			old, err := b.removeNull(w, key)
			if err != nil || old == nil {
				return err
			}
			res = meta.DeleteResult{VersionID: meta.NullVersion, DeleteMarker: old.DeleteMarker, Freed: blobsOf(old)}
			return nil
		}
		res.VersionID, res.DeleteMarker = marker.VersionID, true
		return b.add(w, marker)
	})
	if err != nil {
		return meta.DeleteResult{}, err
	}
	return res, nil
}
