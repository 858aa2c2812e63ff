package bolt

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.etcd.io/bbolt"

	"github.com/coffer-io/coffer/internal/storage/meta"
	"github.com/coffer-io/coffer/internal/storage/meta/metatest"
)

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestConformance(t *testing.T) {
	metatest.Run(t, func(t *testing.T) meta.Store {
		s, _ := openTemp(t)
		return s
	})
}

func TestLocked(t *testing.T) {
	_, path := openTemp(t)
	start := time.Now()
	s2, err := Open(path, Options{Timeout: 100 * time.Millisecond})
	if err == nil {
		s2.Close()
		t.Fatal("second Open of a database in use succeeded")
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Errorf("second Open: %v, want ErrLocked naming %s", err, path)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("second Open took %v to fail", d)
	}
	// Read-only openers (offline tools) are refused too.
	if s3, err := Open(path, Options{ReadOnly: true, Timeout: 100 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		if err == nil {
			s3.Close()
		}
		t.Errorf("read-only Open of a database in use: %v, want ErrLocked", err)
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.CreateBucket(ctx, &meta.Bucket{Name: "b", Owner: "1", Versioning: meta.VersioningEnabled}); err != nil {
		t.Fatal(err)
	}
	v := &meta.ObjectVersion{Bucket: "b", Key: "k", Size: 3, Blobs: []meta.BlobRef{{ID: "x", Size: 3}}}
	if _, err := s.PutObject(ctx, v, "v1", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetObject(ctx, "b", "k", "")
	if err != nil || got.VersionID != "v1" || got.Blobs[0].ID != "x" {
		t.Errorf("after reopening: %+v, %v", got, err)
	}
	// Sequences continue: a new version sorts first.
	if _, err := s.PutObject(ctx, v, "v2", nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetObject(ctx, "b", "k", ""); got == nil || got.VersionID != "v2" {
		t.Errorf("latest after reopening and writing: %+v", got)
	}
	s.Close()

	// Read-only: reads work, writes fail.
	s, err = Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetObject(ctx, "b", "k", "v1"); err != nil {
		t.Errorf("read-only GetObject: %v", err)
	}
	if _, err := s.PutObject(ctx, v, "v3", nil); err == nil {
		t.Error("read-only PutObject succeeded")
	}
}

func TestFormatVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newer.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bSys).Put(keyFormat, []byte(strconv.Itoa(FormatVersion+1)))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		s, err = Open(path, Options{ReadOnly: ro})
		if err == nil {
			s.Close()
			t.Fatal("Open of a newer format succeeded")
		}
		msg := err.Error()
		if !errors.Is(err, ErrFormat) || !strings.Contains(msg, strconv.Itoa(FormatVersion+1)) || !strings.Contains(msg, strconv.Itoa(FormatVersion)) {
			t.Errorf("Open of a newer format: %v, want ErrFormat naming both versions", err)
		}
	}
}

func TestForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte("something-else"))
		return err
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s, err := Open(path, Options{}); !errors.Is(err, ErrFormat) {
		if err == nil {
			s.Close()
		}
		t.Errorf("Open of a foreign bbolt file: %v, want ErrFormat", err)
	}
}

func TestNUL(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	if err := s.CreateBucket(ctx, &meta.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObject(ctx, &meta.ObjectVersion{Bucket: "b", Key: "a\x00b"}, "", nil); err == nil {
		t.Error("PutObject accepted a key with NUL")
	}
	if err := s.CreateUpload(ctx, &meta.Upload{Bucket: "b", Key: "k", UploadID: "u\x00"}); err == nil {
		t.Error("CreateUpload accepted an upload id with NUL")
	}
}

// TestUpdateRollsBack checks the batching wrapper: an error after a write
// undoes it, and an error before any write does not disturb the batch.
func TestUpdateRollsBack(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	boom := errors.New("boom")
	err := s.update(ctx, func(w *wtx) error {
		if err := w.put(w.tx.Bucket(bSys), []byte("junk"), []byte("x")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update: %v, want boom", err)
	}
	err = s.update(ctx, func(w *wtx) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("refused update: %v, want boom", err)
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bSys).Get([]byte("junk")) != nil {
			return errors.New("write before a failure was committed")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func TestVersionCodecRoundTrip(t *testing.T) {
	v := &meta.ObjectVersion{
		VersionID: "abc", DeleteMarker: false, Owner: "123456789012", Size: 1 << 40, ETag: `"x-2"`,
		LastModified: time.Date(2026, 1, 2, 3, 4, 5, 6000000, time.UTC), StorageClass: "STANDARD",
		Headers: map[string]string{"Content-Type": "a/b"}, UserMeta: map[string]string{"k": "v", "z": ""},
		Tags: map[string]string{"t": "1"}, Checksum: meta.Checksum{Algorithm: "CRC32", Value: "AAAAAA==-2", Type: "COMPOSITE"},
		Parts: []meta.PartInfo{{Number: 1, Size: 5 << 20, ETag: `"p1"`, Checksum: meta.Checksum{Algorithm: "CRC32", Value: "AQIDBA=="}}, {Number: 3, Size: 1, ETag: `"p3"`}},
		Blobs: []meta.BlobRef{{ID: "b1", Size: 5 << 20}, {ID: "b3", Size: 1}},
	}
	var got meta.ObjectVersion
	if err := decodeVersionBinary(encodeVersionBinary(v), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v, &got); diff != "" {
		t.Fatal(diff)
	}
	// Every truncation of a record is refused, never a panic.
	data := encodeVersionBinary(v)
	for i := 0; i < len(data); i++ {
		if err := decodeVersionBinary(data[:i], new(meta.ObjectVersion)); err == nil {
			t.Fatalf("truncated record of %d bytes decoded", i)
		}
	}
}

func TestVersionCodecEncryption(t *testing.T) {
	env := func(b byte) *meta.Encryption {
		return &meta.Encryption{Algorithm: "AES256", KeyID: "arn:aws:kms:r:1:key/k", SealedKey: []byte{b, 0, 1}, Identity: []byte{b, 2, 3}}
	}
	for _, v := range []*meta.ObjectVersion{
		{VersionID: "a", Size: 3, Blobs: []meta.BlobRef{{ID: "b", Size: 20}}, Encryption: env(1)},
		{VersionID: "b", Size: 3, Encryption: env(2), ACL: []byte("acl")},
		{VersionID: "c", Size: 2, Parts: []meta.PartInfo{{Number: 1, Size: 1, Encryption: env(3)}, {Number: 2, Size: 1}},
			Blobs: []meta.BlobRef{{ID: "p1", Size: 18}, {ID: "p2", Size: 1}}},
	} {
		v.LastModified = time.Unix(1, 0).UTC()
		data := encodeVersionBinary(v)
		if data[0] != versionCodecV3 {
			t.Fatalf("%s: codec %d, want %d", v.VersionID, data[0], versionCodecV3)
		}
		var got meta.ObjectVersion
		if err := decodeVersionBinary(data, &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(v, &got); diff != "" {
			t.Fatal(diff)
		}
		for i := 0; i < len(data); i++ {
			if err := decodeVersionBinary(data[:i], new(meta.ObjectVersion)); err == nil {
				t.Fatalf("truncated record of %d bytes decoded", i)
			}
		}
	}
	// Records without envelopes keep their older encodings.
	if c := encodeVersionBinary(&meta.ObjectVersion{VersionID: "d"})[0]; c != versionCodecV1 {
		t.Fatalf("plain record written with codec %d", c)
	}
}

func FuzzVersionCodec(f *testing.F) {
	f.Add(encodeVersionBinary(&meta.ObjectVersion{VersionID: "v", Blobs: []meta.BlobRef{{ID: "b"}}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v meta.ObjectVersion
		if decodeVersionBinary(data, &v) == nil {
			// What decodes re-encodes to something that decodes the same.
			var w meta.ObjectVersion
			if err := decodeVersionBinary(encodeVersionBinary(&v), &w); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestVersionCodecExtendedEnvelopes(t *testing.T) {
	kms := &meta.Encryption{Algorithm: meta.SSEKMS, KeyID: "arn:aws:kms:r:1:key/k", SealedKey: []byte{1, 2}, Identity: []byte{3, 4},
		Context: `{"a":"b"}`}
	bk := &meta.Encryption{Algorithm: meta.SSEKMS, KeyID: "arn:aws:kms:r:1:key/k", SealedKey: []byte{5}, Identity: []byte{6},
		BucketKey: true, LocalKey: []byte{7, 8}}
	ssec := &meta.Encryption{Algorithm: meta.SSEC, KeyID: "arn:aws:kms:r:1:key/s3", SealedKey: []byte{9}, Identity: []byte{10},
		LocalKey: []byte{11, 12, 13}}
	for _, v := range []*meta.ObjectVersion{
		{VersionID: "kms", Size: 3, Blobs: []meta.BlobRef{{ID: "b", Size: 20}}, Encryption: kms},
		{VersionID: "bk", Size: 3, Encryption: bk},
		{VersionID: "ssec-mp", Size: 2, Parts: []meta.PartInfo{{Number: 1, Size: 1, Encryption: ssec}, {Number: 2, Size: 1, Encryption: bk}},
			Blobs: []meta.BlobRef{{ID: "p1", Size: 18}, {ID: "p2", Size: 19}}},
	} {
		v.LastModified = time.Unix(1, 0).UTC()
		data := encodeVersionBinary(v)
		var got meta.ObjectVersion
		if err := decodeVersionBinary(data, &got); err != nil {
			t.Fatalf("%s: %v", v.VersionID, err)
		}
		if diff := cmp.Diff(v, &got); diff != "" {
			t.Fatal(diff)
		}
		for i := 0; i < len(data); i++ {
			if err := decodeVersionBinary(data[:i], new(meta.ObjectVersion)); err == nil {
				t.Fatalf("%s: truncated record of %d bytes decoded", v.VersionID, i)
			}
		}
	}
}

// TestVersionCodecOldSSES3Record decodes a V3 record as written before
// SSE-KMS and SSE-C existed: stored records must keep reading, and an
// SSE-S3 envelope must still encode to the same bytes.
func TestVersionCodecOldSSES3Record(t *testing.T) {
	old := []byte{
		3, 1, 'v', 0, 1, 'o', 6, 0, 2, 0, 0, 0, 0, 0, 0, 0, // header up to checksum
		0, 1, 1, 'b', 40, 0, // no parts, one blob of 20 bytes, empty ACL
		1, 6, 'A', 'E', 'S', '2', '5', '6', 1, 'k', 2, 0xaa, 0xbb, 1, 0xcc, // envelope
	}
	want := &meta.ObjectVersion{VersionID: "v", Owner: "o", Size: 3, LastModified: time.Unix(0, 1).UTC(),
		Blobs:      []meta.BlobRef{{ID: "b", Size: 20}},
		Encryption: &meta.Encryption{Algorithm: "AES256", KeyID: "k", SealedKey: []byte{0xaa, 0xbb}, Identity: []byte{0xcc}}}
	var got meta.ObjectVersion
	if err := decodeVersionBinary(old, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, &got); diff != "" {
		t.Fatal(diff)
	}
	if re := encodeVersionBinary(&got); string(re) != string(old) {
		t.Fatalf("re-encoded SSE-S3 record changed:\n got %v\nwant %v", re, old)
	}
}
