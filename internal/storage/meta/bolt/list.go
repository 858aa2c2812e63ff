package bolt

import (
	"bytes"
	"context"
	"encoding/binary"

	"go.etcd.io/bbolt"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// lister walks one index in key order for a listing with prefix, delimiter
// and marker. The index's entries for object key k are k itself (cur) or
// start with k 0x00 (ver, upl); since keys contain no NUL, entry order
// agrees with key order, so the same seeks work on every index.
type lister struct {
	c         *bbolt.Cursor
	prefix    []byte
	delimiter []byte
	// objKey extracts the object key from an index key. Prefix and
	// delimiter must only ever be matched against it: the rest of an
	// index key holds binary sequence numbers and times.
	objKey func(k []byte) []byte
}

func newLister(c *bbolt.Cursor, prefix, delimiter string, objKey func([]byte) []byte) *lister {
	return &lister{c: c, prefix: []byte(prefix), delimiter: []byte(delimiter), objKey: objKey}
}

func curObjKey(k []byte) []byte { return k }
func verObjKey(k []byte) []byte { return k[:len(k)-9] }
func uplObjKey(k []byte) []byte { return k[:bytes.IndexByte(k, sep)] }

// commonPrefix returns the common prefix object key rolls up into, or nil.
func (l *lister) commonPrefix(key []byte) []byte {
	if len(l.delimiter) == 0 || !bytes.HasPrefix(key, l.prefix) {
		return nil
	}
	i := bytes.Index(key[len(l.prefix):], l.delimiter)
	if i < 0 {
		return nil
	}
	return key[:len(l.prefix)+i+len(l.delimiter)]
}

// resumable reports whether a listing can continue inside marker's own
// entries (VersionIDMarker, UploadIDMarker): marker is a listed key and
// not rolled up into a common prefix.
func (l *lister) resumable(marker string) bool {
	m := []byte(marker)
	return marker != "" && bytes.HasPrefix(m, l.prefix) && l.commonPrefix(m) == nil
}

// seek positions the cursor at the first entry at or after from, but not
// before the prefix. A nil from means "past everything".
func (l *lister) seek(from []byte) ([]byte, []byte) {
	if from == nil {
		return nil, nil
	}
	if bytes.Compare(from, l.prefix) < 0 {
		from = l.prefix
	}
	return l.c.Seek(from)
}

// skipPrefix moves past every entry under the common prefix cp.
func (l *lister) skipPrefix(cp []byte) ([]byte, []byte) { return l.seek(prefixEnd(cp)) }

// start positions the cursor for a listing continuing after key marker
// (every entry of marker excluded), skipping marker's common prefix if it
// falls inside one.
func (l *lister) start(marker string) ([]byte, []byte) {
	if marker == "" {
		return l.seek(l.prefix)
	}
	m := []byte(marker)
	if cp := l.commonPrefix(m); cp != nil {
		return l.skipPrefix(cp)
	}
	// marker 0x01 sorts after marker itself and after marker 0x00...
	// (its versions), and before every greater key.
	return l.seek(append(m, 0x01))
}

// inPrefix reports whether the cursor is on an entry of the listing.
func (l *lister) inPrefix(k []byte) bool {
	return k != nil && bytes.HasPrefix(l.objKey(k), l.prefix)
}

// ListObjects implements meta.Store.
func (s *Store) ListObjects(ctx context.Context, bucket string, opts meta.ListOptions) (meta.ListResult, error) {
	var res meta.ListResult
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b, err := openBucket(tx, bucket)
		if err != nil || opts.MaxKeys <= 0 {
			return err
		}
		l := newLister(b.cur.Cursor(), opts.Prefix, opts.Delimiter, curObjKey)
		n := 0
		for k, data := l.start(opts.Marker); l.inPrefix(k); {
			if n == opts.MaxKeys {
				res.IsTruncated = true
				break
			}
			n++
			if cp := l.commonPrefix(l.objKey(k)); cp != nil {
				res.CommonPrefixes = append(res.CommonPrefixes, string(cp))
				res.NextMarker = string(cp)
				k, data = l.skipPrefix(cp)
				continue
			}
			v, err := decodeVersion(bucket, string(k), data)
			if err != nil {
				return err
			}
			v.IsLatest = true
			res.Objects = append(res.Objects, v)
			res.NextMarker = v.Key
			k, data = l.c.Next()
		}
		return nil
	})
	if err != nil {
		return meta.ListResult{}, err
	}
	if !res.IsTruncated {
		res.NextMarker = ""
	}
	return res, nil
}

// ListVersions implements meta.Store.
func (s *Store) ListVersions(ctx context.Context, bucket string, opts meta.ListOptions) (meta.ListResult, error) {
	var res meta.ListResult
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b, err := openBucket(tx, bucket)
		if err != nil || opts.MaxKeys <= 0 {
			return err
		}
		l := newLister(b.ver.Cursor(), opts.Prefix, opts.Delimiter, verObjKey)

		var k, data []byte
		// prevKey is the object key of the entry before the cursor, to
		// tell a key's newest entry (IsLatest) from older ones.
		var prevKey string
		havePrev := false
		k, data = l.start(opts.Marker)
		if opts.VersionIDMarker != "" && l.resumable(opts.Marker) {
			// Continue after that version of the marker key; if it is
			// gone, with all of the key's remaining versions.
			k, data = l.seek(keyPrefix(opts.Marker))
			if sb := b.vid.Get(vidKey(opts.Marker, opts.VersionIDMarker)); sb != nil {
				k, data = l.seek(verKey(opts.Marker, binary.BigEndian.Uint64(sb)))
				if k != nil {
					k, data = l.c.Next()
				}
				prevKey, havePrev = opts.Marker, true
			}
		}
		n := 0
		for l.inPrefix(k) {
			if n == opts.MaxKeys {
				res.IsTruncated = true
				break
			}
			n++
			if cp := l.commonPrefix(l.objKey(k)); cp != nil {
				res.CommonPrefixes = append(res.CommonPrefixes, string(cp))
				res.NextMarker, res.NextVersionIDMarker = string(cp), ""
				k, data = l.skipPrefix(cp)
				havePrev = false
				continue
			}
			key, _ := verKeySplit(k)
			v, err := decodeVersion(bucket, key, data)
			if err != nil {
				return err
			}
			v.IsLatest = !havePrev || prevKey != key
			prevKey, havePrev = key, true
			res.Objects = append(res.Objects, v)
			res.NextMarker, res.NextVersionIDMarker = key, v.VersionID
			k, data = l.c.Next()
		}
		return nil
	})
	if err != nil {
		return meta.ListResult{}, err
	}
	if !res.IsTruncated {
		res.NextMarker, res.NextVersionIDMarker = "", ""
	}
	return res, nil
}

// ListUploads implements meta.Store.
func (s *Store) ListUploads(ctx context.Context, bucket string, opts meta.UploadListOptions) (meta.UploadListResult, error) {
	var res meta.UploadListResult
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b, err := openBucket(tx, bucket)
		if err != nil || opts.MaxUploads <= 0 {
			return err
		}
		l := newLister(b.upl.Cursor(), opts.Prefix, opts.Delimiter, uplObjKey)
		k, data := l.start(opts.KeyMarker)
		if opts.UploadIDMarker != "" && l.resumable(opts.KeyMarker) {
			k, data = l.seek(keyPrefix(opts.KeyMarker))
			if uk := b.uid.Get([]byte(opts.UploadIDMarker)); uk != nil && string(uplObjKey(uk)) == opts.KeyMarker {
				if k, data = l.seek(uk); k != nil {
					k, data = l.c.Next()
				}
			}
		}
		n := 0
		for l.inPrefix(k) {
			if n == opts.MaxUploads {
				res.IsTruncated = true
				break
			}
			n++
			if cp := l.commonPrefix(l.objKey(k)); cp != nil {
				res.CommonPrefixes = append(res.CommonPrefixes, string(cp))
				res.NextKeyMarker, res.NextUploadIDMarker = string(cp), ""
				k, data = l.skipPrefix(cp)
				continue
			}
			u, err := decodeUpload(bucket, string(uplObjKey(k)), data)
			if err != nil {
				return err
			}
			res.Uploads = append(res.Uploads, u)
			res.NextKeyMarker, res.NextUploadIDMarker = u.Key, u.UploadID
			k, data = l.c.Next()
		}
		return nil
	})
	if err != nil {
		return meta.UploadListResult{}, err
	}
	if !res.IsTruncated {
		res.NextKeyMarker, res.NextUploadIDMarker = "", ""
	}
	return res, nil
}
