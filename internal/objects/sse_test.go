package objects

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/crypto/stream"
	"github.com/coffer-io/coffer/internal/kms"
	"github.com/coffer-io/coffer/internal/storage/blob/localfs"
	"github.com/coffer-io/coffer/internal/storage/meta"
	"github.com/coffer-io/coffer/internal/storage/meta/bolt"
)

func writeSSE(t *testing.T, s *Service, key string, data []byte, inline bool, sse *SSE) (*meta.ObjectVersion, *WriteResult, error) {
	t.Helper()
	wr, err := s.WriteBlob(t.Context(), WriteInput{
		Body: bytes.NewReader(data), Size: int64(len(data)), MaxSize: 1 << 30, AllowInline: inline,
		Account: testAccount, Bucket: "bkt", Key: key, SSE: sse,
	})
	if err != nil {
		return nil, nil, err
	}
	v := &meta.ObjectVersion{Bucket: "bkt", Key: key, Size: wr.Size(), Encryption: wr.Encryption}
	v.Blobs, v.Inline = wr.Data()
	return v, wr, nil
}

func readWith(s *Service, v *meta.ObjectVersion, keys ReadKeys, off, n int64) ([]byte, error) {
	r, err := s.OpenWith(context.Background(), v, keys)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.NewSectionReader(r, off, n))
}

func TestSSERoundTrips(t *testing.T) {
	s, _ := newEncService(t)
	k, err := s.enc.kms.CreateKey(t.Context(), testAccount, kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.enc.kms.CreateAlias(t.Context(), testAccount, "alias/mine", k.ID); err != nil {
		t.Fatal(err)
	}
	ck := bytes.Repeat([]byte{0x5c}, 32)
	for _, tc := range []struct {
		name    string
		sse     *SSE
		keys    ReadKeys
		mode    string
		wantARN string
	}{
		{"sse-s3", nil, ReadKeys{}, meta.SSES3, ""},
		{"kms default key", &SSE{Mode: meta.SSEKMS, Requester: testAccount}, ReadKeys{Requester: testAccount}, meta.SSEKMS, ""},
		{"kms key id", &SSE{Mode: meta.SSEKMS, KMSKeyID: k.ID, Requester: testAccount}, ReadKeys{Requester: testAccount}, meta.SSEKMS, k.ARN},
		{"kms alias + context", &SSE{Mode: meta.SSEKMS, KMSKeyID: "alias/mine", Context: map[string]string{"a": "b"}, Requester: testAccount}, ReadKeys{Requester: testAccount}, meta.SSEKMS, k.ARN},
		{"kms bucket key", &SSE{Mode: meta.SSEKMS, KMSKeyID: k.ARN, BucketKey: true, Requester: testAccount}, ReadKeys{Requester: testAccount}, meta.SSEKMS, k.ARN},
		{"sse-c", &SSE{Mode: meta.SSEC, CustomerKey: ck}, ReadKeys{CustomerKey: ck}, meta.SSEC, ""},
	} {
		for _, size := range []int{0, 100, 3*stream.PackageSize + 5} {
			data := randBytes(size, uint64(size))
			v, wr, err := writeSSE(t, s, "k", data, size < 1000, tc.sse)
			if err != nil {
				t.Fatalf("%s/%d: %v", tc.name, size, err)
			}
			if v.Encryption.Algorithm != tc.mode {
				t.Fatalf("%s: mode %s", tc.name, v.Encryption.Algorithm)
			}
			if tc.wantARN != "" && v.Encryption.KeyID != tc.wantARN {
				t.Fatalf("%s: key %s, want %s", tc.name, v.Encryption.KeyID, tc.wantARN)
			}
			md5ETag := wr.ETag() == `"`+hexMD5(data)+`"`
			if (tc.mode == meta.SSES3) != md5ETag {
				t.Fatalf("%s: ETag %s (MD5 %v)", tc.name, wr.ETag(), md5ETag)
			}
			if err := s.CheckReadKeys(t.Context(), v, tc.keys); err != nil {
				t.Fatalf("%s: CheckReadKeys: %v", tc.name, err)
			}
			got, err := readWith(s, v, tc.keys, 0, v.Size)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%s/%d: round trip: %v", tc.name, size, err)
			}
			if size > 10 {
				got, err := readWith(s, v, tc.keys, 3, 7)
				if err != nil || !bytes.Equal(got, data[3:10]) {
					t.Fatalf("%s/%d: range: %v", tc.name, size, err)
				}
				// Bound to the name, whatever the mode.
				w := *v
				w.Key = "other"
				if _, err := readWith(s, &w, tc.keys, 0, w.Size); !errors.Is(err, ErrDataCorrupt) {
					t.Fatalf("%s: read under another name: %v", tc.name, err)
				}
			}
		}
	}
}

func hexMD5(b []byte) string { return md5Sum(b) }

func TestSSECKeys(t *testing.T) {
	s, _ := newEncService(t)
	ck, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	data := randBytes(100<<10, 3)
	v, _, err := writeSSE(t, s, "c", data, false, &SSE{Mode: meta.SSEC, CustomerKey: ck})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(v.Encryption.LocalKey, ck) || bytes.Contains(v.Encryption.SealedKey, ck) {
		t.Fatal("customer key stored")
	}
	for _, tc := range []struct {
		keys ReadKeys
		want error
	}{
		{ReadKeys{}, ErrCustomerKeyRequired},
		{ReadKeys{CustomerKey: other}, ErrCustomerKeyMismatch},
	} {
		if err := s.CheckReadKeys(t.Context(), v, tc.keys); !errors.Is(err, tc.want) {
			t.Fatalf("CheckReadKeys: %v, want %v", err, tc.want)
		}
		if got, err := readWith(s, v, tc.keys, 0, v.Size); !errors.Is(err, tc.want) || len(got) > 0 {
			t.Fatalf("read: %v (%d bytes), want %v", err, len(got), tc.want)
		}
	}
	// An SSE-C key for an SSE-S3 object is refused.
	plain, _, err := writeSSE(t, s, "p", data, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckReadKeys(t.Context(), plain, ReadKeys{CustomerKey: ck}); !errors.Is(err, ErrCustomerKeyNotApplicable) {
		t.Fatalf("key for SSE-S3 object: %v", err)
	}
}

func TestSSECMultipartParts(t *testing.T) {
	s, _ := newEncService(t)
	ck, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	sse, err := s.NewUploadSSE(t.Context(), testAccount, "bkt", "mp", &SSE{Mode: meta.SSEC, CustomerKey: ck})
	if err != nil {
		t.Fatal(err)
	}
	u := &meta.Upload{Bucket: "bkt", Key: "mp", SSE: sse}
	if _, err := s.PartSSE(t.Context(), u, testAccount, nil); !errors.Is(err, ErrCustomerKeyRequired) {
		t.Fatalf("part without key: %v", err)
	}
	if _, err := s.PartSSE(t.Context(), u, testAccount, other); !errors.Is(err, ErrCustomerKeyMismatch) {
		t.Fatalf("part with another key: %v", err)
	}
	v := &meta.ObjectVersion{Bucket: "bkt", Key: "mp"}
	var all []byte
	for i, n := range []int{stream.PackageSize + 3, 10} {
		psse, err := s.PartSSE(t.Context(), u, testAccount, ck)
		if err != nil {
			t.Fatal(err)
		}
		data := randBytes(n, uint64(i))
		_, wr, err := writeSSE(t, s, "mp", data, false, psse)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, data...)
		v.Blobs = append(v.Blobs, wr.Blob)
		v.Parts = append(v.Parts, meta.PartInfo{Number: i + 1, Size: wr.Size(), Encryption: wr.Encryption})
		v.Size += wr.Size()
	}
	if Mode(v) != meta.SSEC {
		t.Fatalf("mode %q", Mode(v))
	}
	got, err := readWith(s, v, ReadKeys{CustomerKey: ck}, stream.PackageSize-2, 10)
	if err != nil || !bytes.Equal(got, all[stream.PackageSize-2:stream.PackageSize+8]) {
		t.Fatalf("range across parts: %v", err)
	}
}

func TestSSEKMSBucketKeyIsShared(t *testing.T) {
	s, _ := newEncService(t)
	sse := &SSE{Mode: meta.SSEKMS, BucketKey: true, Requester: testAccount}
	v1, _, err := writeSSE(t, s, "a", []byte("one"), true, sse)
	if err != nil {
		t.Fatal(err)
	}
	v2, _, err := writeSSE(t, s, "b", []byte("two"), true, sse)
	if err != nil {
		t.Fatal(err)
	}
	if !v1.Encryption.BucketKey || !bytes.Equal(v1.Encryption.SealedKey, v2.Encryption.SealedKey) {
		t.Fatal("writes within the bucket key's lifetime do not share it")
	}
	if bytes.Equal(v1.Encryption.LocalKey, v2.Encryption.LocalKey) {
		t.Fatal("objects share a data key")
	}
	// A fresh cache (another server process) reads through the KMS.
	clear(s.enc.bk.read)
	clear(s.enc.bk.write)
	got, err := readWith(s, v2, ReadKeys{Requester: testAccount}, 0, v2.Size)
	if err != nil || string(got) != "two" {
		t.Fatalf("read: %q, %v", got, err)
	}
}

func TestSSEKMSKeyStates(t *testing.T) {
	s, _ := newEncService(t)
	ctx := t.Context()
	k, err := s.enc.kms.CreateKey(ctx, testAccount, kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	sse := &SSE{Mode: meta.SSEKMS, KMSKeyID: k.ID, Requester: testAccount}
	v, _, err := writeSSE(t, s, "a", []byte("data"), true, sse)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.enc.kms.DisableKey(ctx, testAccount, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := writeSSE(t, s, "b", []byte("x"), true, sse); kms.ErrorCode(err) != kms.CodeDisabled {
		t.Fatalf("write under a disabled key: %v", err)
	}
	if _, err := readWith(s, v, ReadKeys{Requester: testAccount}, 0, v.Size); kms.ErrorCode(err) != kms.CodeDisabled {
		t.Fatalf("read under a disabled key: %v", err)
	}
	if _, err := s.enc.kms.ScheduleKeyDeletion(ctx, testAccount, k.ID, 7); err != nil {
		t.Fatal(err)
	}
	if _, _, err := writeSSE(t, s, "b", []byte("x"), true, sse); kms.ErrorCode(err) != kms.CodeInvalidState {
		t.Fatalf("write under a key pending deletion: %v", err)
	}
	if _, _, err := writeSSE(t, s, "b", []byte("x"), true, &SSE{Mode: meta.SSEKMS, KMSKeyID: "alias/none", Requester: testAccount}); kms.ErrorCode(err) != kms.CodeNotFound {
		t.Fatalf("write under an unknown alias: %v", err)
	}
}

func md5Sum(b []byte) string {
	h := md5.Sum(b)
	return hex.EncodeToString(h[:])
}

// TestSSEKMSCrossAccountKey: a key of another account is named by ARN
// (whether the key policy allows it is the KMS's Authorize hook's call);
// its bare ID names nothing in the requester's account.
func TestSSEKMSCrossAccountKey(t *testing.T) {
	s, _ := newEncService(t)
	const other = "444455556666"
	k, err := s.enc.kms.CreateKey(t.Context(), other, kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := writeSSE(t, s, "x", []byte("cross"), true, &SSE{Mode: meta.SSEKMS, KMSKeyID: k.ARN, Requester: testAccount})
	if err != nil {
		t.Fatal(err)
	}
	if v.Encryption.KeyID != k.ARN {
		t.Fatalf("key %s", v.Encryption.KeyID)
	}
	if got, err := readWith(s, v, ReadKeys{Requester: testAccount}, 0, v.Size); err != nil || string(got) != "cross" {
		t.Fatalf("read: %q %v", got, err)
	}
	if _, _, err := writeSSE(t, s, "y", []byte("x"), true, &SSE{Mode: meta.SSEKMS, KMSKeyID: k.ID, Requester: testAccount}); kms.ErrorCode(err) != kms.CodeNotFound {
		t.Fatalf("bare id of another account's key: %v", err)
	}
}

// TestKMSCallerContract: SSE-KMS calls reach the KMS with the requester
// (authz.Caller) so key policies apply to them; SSE-S3's and SSE-C's
// calls under aws/s3 are the service's own and carry none.
func TestKMSCallerContract(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]*authz.Caller{} // op → callers
	dir := t.TempDir()
	m, err := bolt.Open(filepath.Join(dir, "meta.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := localfs.Open(filepath.Join(dir, "blobs"), localfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); b.Close() })
	sealer, err := kms.NewLocalSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	k, err := kms.New(kms.Config{Store: m.KMS(), Sealer: sealer, Region: "us-east-1",
		Authorize: func(ctx context.Context, r *kms.AuthzRequest) error {
			mu.Lock()
			defer mu.Unlock()
			seen[r.Op] = append(seen[r.Op], authz.CallerFrom(ctx))
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	s := New(m, b, nil, nil)
	s.EnableEncryption(k)
	caller := &authz.Caller{Principal: &authn.Principal{AccountID: testAccount, ARN: "arn:aws:iam::" + testAccount + ":user/u"}, ViaService: "s3.us-east-1.amazonaws.com"}
	ctx := authz.WithCaller(t.Context(), caller)
	check := func(what string, want *authz.Caller) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(seen) == 0 {
			t.Fatalf("%s: no KMS call", what)
		}
		for op, cs := range seen {
			for _, c := range cs {
				if c != want {
					t.Fatalf("%s: %s with caller %+v, want %+v", what, op, c, want)
				}
			}
		}
		clear(seen)
	}
	write := func(sse *SSE) *meta.ObjectVersion {
		t.Helper()
		wr, err := s.WriteBlob(ctx, WriteInput{Body: bytes.NewReader([]byte("d")), Size: 1, MaxSize: 10, AllowInline: true,
			Account: testAccount, Bucket: "bkt", Key: "k", SSE: sse})
		if err != nil {
			t.Fatal(err)
		}
		v := &meta.ObjectVersion{Bucket: "bkt", Key: "k", Size: 1, Encryption: wr.Encryption}
		v.Blobs, v.Inline = wr.Data()
		return v
	}
	read := func(v *meta.ObjectVersion, keys ReadKeys) {
		t.Helper()
		r, err := s.OpenWith(ctx, v, keys)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := io.ReadAll(io.NewSectionReader(r, 0, 1)); err != nil {
			t.Fatal(err)
		}
	}
	v := write(nil)
	check("SSE-S3 write", nil)
	read(v, ReadKeys{})
	check("SSE-S3 read", nil)
	ck := bytes.Repeat([]byte{3}, 32)
	v = write(&SSE{Mode: meta.SSEC, CustomerKey: ck})
	check("SSE-C write", nil)
	read(v, ReadKeys{CustomerKey: ck})
	check("SSE-C read", nil)
	v = write(&SSE{Mode: meta.SSEKMS, Requester: testAccount})
	// Creating the aws/s3 key on first use is the service's own call.
	mu.Lock()
	delete(seen, "DescribeKey")
	mu.Unlock()
	check("SSE-KMS write", caller)
	read(v, ReadKeys{Requester: testAccount})
	check("SSE-KMS read", caller)
}
