package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Version records use a compact binary encoding rather than JSON: listings
// decode one record per key, and JSON decoding dominated their cost. The
// first byte is the encoding's own version, so it can evolve record by
// record.
const versionCodecV1 = 1

// versionCodecV2 is V1 followed by the version's ACL (a length-prefixed
// byte string). Versions without an ACL are still written as V1, so the
// records of everyone not using ACLs stay byte-for-byte what they were.
const versionCodecV2 = 2

// versionCodecV3 is V2 (the ACL always present, possibly empty) followed by
// the encryption envelopes: the version's, then one per part, each an
// optional envelope (see enc.envelope). Only versions with an envelope are
// written as V3, so unencrypted records keep their older, smaller forms.
const versionCodecV3 = 3

// versionCodecV4 is V3 (ACL and envelopes always present) followed by the
// Object Lock state: a retention presence byte, then its mode and
// retain-until time (Unix nanoseconds), then a legal-hold byte. Only
// versions with a retention or a legal hold are written as V4.
const versionCodecV4 = 4

var errCorrupt = errors.New("bolt: corrupt version record")

type enc struct{ b []byte }

func (e *enc) uvarint(n uint64) { e.b = binary.AppendUvarint(e.b, n) }
func (e *enc) varint(n int64)   { e.b = binary.AppendVarint(e.b, n) }
func (e *enc) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }

func (e *enc) strMap(m map[string]string) {
	e.uvarint(uint64(len(m)))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic records
	for _, k := range keys {
		e.str(k)
		e.str(m[k])
	}
}

func (e *enc) checksum(c meta.Checksum) { e.str(c.Algorithm); e.str(c.Value); e.str(c.Type) }

// Envelope presence values: none, an SSE-S3-shaped envelope (algorithm,
// key, sealed key, identity), or that followed by the SSE-KMS and SSE-C
// fields (context, flags, local key). SSE-S3 envelopes keep the shorter
// form, so their records are what they were before the other modes.
const (
	envNone     = 0
	envBasic    = 1
	envExtended = 2
)

// envelope writes a presence byte, then the envelope's fields.
func (e *enc) envelope(x *meta.Encryption) {
	if x == nil {
		e.b = append(e.b, envNone)
		return
	}
	extended := x.Context != "" || x.BucketKey || len(x.LocalKey) > 0
	if extended {
		e.b = append(e.b, envExtended)
	} else {
		e.b = append(e.b, envBasic)
	}
	e.str(x.Algorithm)
	e.str(x.KeyID)
	e.str(string(x.SealedKey))
	e.str(string(x.Identity))
	if extended {
		e.str(x.Context)
		var flags byte
		if x.BucketKey {
			flags |= 1
		}
		e.b = append(e.b, flags)
		e.str(string(x.LocalKey))
	}
}

// hasEnvelope reports whether v needs the V3 encoding.
func hasEnvelope(v *meta.ObjectVersion) bool {
	if v.Encryption != nil {
		return true
	}
	for _, p := range v.Parts {
		if p.Encryption != nil {
			return true
		}
	}
	return false
}

type dec struct {
	b   []byte
	err error
}

func (d *dec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[k:]
	return n
}

func (d *dec) varint() int64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Varint(d.b)
	if k <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[k:]
	return n
}

func (d *dec) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = errCorrupt
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// count reads a collection length, bounded by the bytes left so a corrupt
// record cannot make us allocate wildly.
func (d *dec) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errCorrupt
		return 0
	}
	return int(n)
}

func (d *dec) strMap() map[string]string {
	n := d.count()
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		m[k] = d.str()
	}
	return m
}

func (d *dec) checksum() meta.Checksum {
	return meta.Checksum{Algorithm: d.str(), Value: d.str(), Type: d.str()}
}

func (d *dec) bytes() []byte {
	if s := d.str(); s != "" {
		return []byte(s)
	}
	return nil
}

func (d *dec) envelope() *meta.Encryption {
	if d.err != nil {
		return nil
	}
	if len(d.b) == 0 {
		d.err = errCorrupt
		return nil
	}
	present := d.b[0]
	d.b = d.b[1:]
	switch present {
	case envNone:
		return nil
	case envBasic:
		return &meta.Encryption{Algorithm: d.str(), KeyID: d.str(), SealedKey: d.bytes(), Identity: d.bytes()}
	case envExtended:
		x := &meta.Encryption{Algorithm: d.str(), KeyID: d.str(), SealedKey: d.bytes(), Identity: d.bytes(), Context: d.str()}
		if d.err == nil && len(d.b) == 0 {
			d.err = errCorrupt
			return nil
		}
		if d.err != nil {
			return nil
		}
		flags := d.b[0]
		d.b = d.b[1:]
		if flags&^1 != 0 {
			d.err = errCorrupt
			return nil
		}
		x.BucketKey = flags&1 != 0
		x.LocalKey = d.bytes()
		return x
	}
	d.err = errCorrupt
	return nil
}

func encodeVersionBinary(v *meta.ObjectVersion) []byte {
	e := enc{b: make([]byte, 0, 256)}
	codec := byte(versionCodecV1)
	switch {
	case v.Retention != nil || v.LegalHold:
		codec = versionCodecV4
	case hasEnvelope(v):
		codec = versionCodecV3
	case len(v.ACL) > 0:
		codec = versionCodecV2
	}
	e.b = append(e.b, codec)
	e.str(v.VersionID)
	var flags byte
	if v.DeleteMarker {
		flags |= 1
	}
	e.b = append(e.b, flags)
	e.str(v.Owner)
	e.varint(v.Size)
	e.str(v.ETag)
	e.varint(v.LastModified.UnixNano())
	e.str(v.StorageClass)
	e.strMap(v.Headers)
	e.strMap(v.UserMeta)
	e.strMap(v.Tags)
	e.checksum(v.Checksum)
	e.uvarint(uint64(len(v.Parts)))
	for _, p := range v.Parts {
		e.uvarint(uint64(p.Number))
		e.varint(p.Size)
		e.str(p.ETag)
		e.checksum(p.Checksum)
	}
	e.uvarint(uint64(len(v.Blobs)))
	for _, b := range v.Blobs {
		e.str(b.ID)
		e.varint(b.Size)
	}
	if codec >= versionCodecV2 {
		e.str(string(v.ACL))
	}
	if codec >= versionCodecV3 {
		e.envelope(v.Encryption)
		for _, p := range v.Parts {
			e.envelope(p.Encryption)
		}
	}
	if codec >= versionCodecV4 {
		if r := v.Retention; r != nil {
			e.b = append(e.b, 1)
			e.str(r.Mode)
			e.varint(r.Until.UnixNano())
		} else {
			e.b = append(e.b, 0)
		}
		var hold byte
		if v.LegalHold {
			hold = 1
		}
		e.b = append(e.b, hold)
	}
	return e.b
}

// flag reads a byte that must be 0 or 1.
func (d *dec) flag() bool {
	if d.err != nil {
		return false
	}
	if len(d.b) == 0 || d.b[0] > 1 {
		d.err = errCorrupt
		return false
	}
	f := d.b[0] == 1
	d.b = d.b[1:]
	return f
}

func decodeVersionBinary(data []byte, v *meta.ObjectVersion) error {
	if len(data) == 0 || data[0] < versionCodecV1 || data[0] > versionCodecV4 {
		return fmt.Errorf("%w: unknown encoding", errCorrupt)
	}
	d := dec{b: data[1:]}
	v.VersionID = d.str()
	if len(d.b) == 0 {
		return errCorrupt
	}
	flags := d.b[0]
	d.b = d.b[1:]
	v.DeleteMarker = flags&1 != 0
	v.Owner = d.str()
	v.Size = d.varint()
	v.ETag = d.str()
	v.LastModified = time.Unix(0, d.varint()).UTC()
	v.StorageClass = d.str()
	v.Headers = d.strMap()
	v.UserMeta = d.strMap()
	v.Tags = d.strMap()
	v.Checksum = d.checksum()
	if n := d.count(); n > 0 {
		v.Parts = make([]meta.PartInfo, n)
		for i := range v.Parts {
			p := &v.Parts[i]
			p.Number = int(d.uvarint())
			p.Size = d.varint()
			p.ETag = d.str()
			p.Checksum = d.checksum()
		}
	}
	if n := d.count(); n > 0 {
		v.Blobs = make([]meta.BlobRef, n)
		for i := range v.Blobs {
			v.Blobs[i] = meta.BlobRef{ID: d.str(), Size: d.varint()}
		}
	}
	if data[0] >= versionCodecV2 {
		v.ACL = d.bytes()
	}
	if data[0] >= versionCodecV3 {
		v.Encryption = d.envelope()
		for i := range v.Parts {
			v.Parts[i].Encryption = d.envelope()
		}
	}
	if data[0] >= versionCodecV4 {
		if d.flag() {
			v.Retention = &meta.Retention{Mode: d.str(), Until: time.Unix(0, d.varint()).UTC()}
		}
		v.LegalHold = d.flag()
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: trailing bytes", errCorrupt)
	}
	return nil
}
