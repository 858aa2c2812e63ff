package e2e

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/encrypt"

	"github.com/coffer-io/coffer/test/harness"
)

// sseMode is one way of encrypting an object, as a client asks for it.
type sseMode struct {
	name      string
	sse       types.ServerSideEncryption
	kmsKey    string
	context   map[string]string
	bucketKey bool
	ck        []byte // SSE-C key
}

func (m sseMode) ckB64() *string {
	if m.ck == nil {
		return nil
	}
	return aws.String(base64.StdEncoding.EncodeToString(m.ck))
}

func (m sseMode) ckMD5() *string {
	if m.ck == nil {
		return nil
	}
	s := md5.Sum(m.ck)
	return aws.String(base64.StdEncoding.EncodeToString(s[:]))
}

func (m sseMode) ckAlg() *string {
	if m.ck == nil {
		return nil
	}
	return aws.String("AES256")
}

func (m sseMode) ctxHeader() *string {
	if m.context == nil {
		return nil
	}
	b, _ := json.Marshal(m.context)
	return aws.String(base64.StdEncoding.EncodeToString(b))
}

func (m sseMode) put(in *s3.PutObjectInput) {
	in.ServerSideEncryption = m.sse
	if m.kmsKey != "" {
		in.SSEKMSKeyId = aws.String(m.kmsKey)
	}
	in.SSEKMSEncryptionContext = m.ctxHeader()
	if m.bucketKey {
		in.BucketKeyEnabled = aws.Bool(true)
	}
	in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = m.ckAlg(), m.ckB64(), m.ckMD5()
}

func (m sseMode) get(in *s3.GetObjectInput) {
	in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = m.ckAlg(), m.ckB64(), m.ckMD5()
}

// wantSSE checks the encryption headers of a response.
func (m sseMode) wantSSE(t *testing.T, op string, sse types.ServerSideEncryption, keyID *string, bk *bool, ckAlg, ckMD5 *string) {
	t.Helper()
	switch {
	case m.ck != nil:
		if sse != "" || aws.ToString(ckAlg) != "AES256" || aws.ToString(ckMD5) != aws.ToString(m.ckMD5()) {
			t.Fatalf("%s: SSE-C headers: sse %q, alg %q, md5 %q", op, sse, aws.ToString(ckAlg), aws.ToString(ckMD5))
		}
	case m.sse == types.ServerSideEncryptionAwsKms:
		if sse != types.ServerSideEncryptionAwsKms || !strings.HasPrefix(aws.ToString(keyID), "arn:aws:kms:us-east-1:") {
			t.Fatalf("%s: SSE-KMS headers: sse %q, key %q", op, sse, aws.ToString(keyID))
		}
		if m.bucketKey != aws.ToBool(bk) {
			t.Fatalf("%s: bucket key %v, want %v", op, aws.ToBool(bk), m.bucketKey)
		}
	default:
		if sse != types.ServerSideEncryptionAes256 || keyID != nil || ckAlg != nil {
			t.Fatalf("%s: SSE-S3 headers: sse %q, key %q, alg %q", op, sse, aws.ToString(keyID), aws.ToString(ckAlg))
		}
	}
}

var sseModes = []sseMode{
	{name: "sse-s3"},
	{name: "sse-s3-explicit", sse: types.ServerSideEncryptionAes256},
	{name: "sse-kms", sse: types.ServerSideEncryptionAwsKms},
	{name: "sse-kms-alias-context", sse: types.ServerSideEncryptionAwsKms, kmsKey: "alias/aws/s3", context: map[string]string{"project": "coffer"}},
	{name: "sse-kms-bucket-key", sse: types.ServerSideEncryptionAwsKms, bucketKey: true},
	{name: "sse-c", ck: bytes.Repeat([]byte{0xc1}, 32)},
	{name: "sse-c-other", ck: bytes.Repeat([]byte{0xc2}, 32)},
}

// allowSSEC lifts the SSE-C block new buckets have.
func (s *suite) allowSSEC(t *testing.T, bucket string) {
	t.Helper()
	_, err := s.s3.PutBucketEncryption(t.Context(), &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256},
			BlockedEncryptionTypes:             &types.BlockedEncryptionTypes{EncryptionType: []types.EncryptionType{types.EncryptionTypeNone}},
		}}}})
	mustOK(t, err)
}

func TestSSEModes(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "sse-modes")
	s.allowSSEC(t, bkt)

	for _, m := range sseModes {
		t.Run(m.name, func(t *testing.T) {
			for _, size := range []int{100, 200 << 10} {
				key := m.name + "-" + itoa(size)
				body := data(size, uint64(size))
				out := s.put(t, bkt, key, body, m.put)
				m.wantSSE(t, "PutObject", out.ServerSideEncryption, out.SSEKMSKeyId, out.BucketKeyEnabled, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
				if m.sse == types.ServerSideEncryptionAwsKms {
					var c map[string]string
					raw, _ := base64.StdEncoding.DecodeString(aws.ToString(out.SSEKMSEncryptionContext))
					if err := json.Unmarshal(raw, &c); err != nil {
						t.Fatalf("context %q: %v", aws.ToString(out.SSEKMSEncryptionContext), err)
					}
					arn := "arn:aws:s3:::" + bkt + "/" + key
					if m.bucketKey {
						arn = "arn:aws:s3:::" + bkt
					}
					if c["aws:s3:arn"] != arn || (m.context != nil && c["project"] != "coffer") {
						t.Fatalf("context %v", c)
					}
				}
				// ETag is the MD5 only for SSE-S3.
				if md5ETag := aws.ToString(out.ETag) == quoted(md5Hex(body)); md5ETag != (m.ck == nil && m.sse != types.ServerSideEncryptionAwsKms) {
					t.Fatalf("ETag %s (MD5 %v)", aws.ToString(out.ETag), md5ETag)
				}
				got, gout := s.get(t, bkt, key, m.get)
				if !bytes.Equal(got, body) {
					t.Fatal("GetObject: wrong data")
				}
				m.wantSSE(t, "GetObject", gout.ServerSideEncryption, gout.SSEKMSKeyId, gout.BucketKeyEnabled, gout.SSECustomerAlgorithm, gout.SSECustomerKeyMD5)
				head, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String(key),
					SSECustomerAlgorithm: m.ckAlg(), SSECustomerKey: m.ckB64(), SSECustomerKeyMD5: m.ckMD5()})
				mustOK(t, err)
				m.wantSSE(t, "HeadObject", head.ServerSideEncryption, head.SSEKMSKeyId, head.BucketKeyEnabled, head.SSECustomerAlgorithm, head.SSECustomerKeyMD5)
				if aws.ToInt64(head.ContentLength) != int64(size) {
					t.Fatalf("HeadObject length %d", aws.ToInt64(head.ContentLength))
				}
				rg, _ := s.get(t, bkt, key, m.get, func(in *s3.GetObjectInput) { in.Range = aws.String("bytes=7-77") })
				if !bytes.Equal(rg, body[7:78]) {
					t.Fatal("range GET: wrong data")
				}
			}
		})
	}

	t.Run("sse-c errors", func(t *testing.T) {
		m := sseModes[5]
		s.put(t, bkt, "c", []byte("secret"), m.put)
		other := sseModes[6]
		_, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("c")})
		wantErr(t, err, "InvalidRequest", 400)
		_, err = s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("c")})
		wantErr(t, err, "BadRequest", 400)
		_, err = s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("c"),
			SSECustomerAlgorithm: other.ckAlg(), SSECustomerKey: other.ckB64(), SSECustomerKeyMD5: other.ckMD5()})
		wantErr(t, err, "AccessDenied", 403)
		_, err = s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("c"),
			SSECustomerAlgorithm: other.ckAlg(), SSECustomerKey: other.ckB64(), SSECustomerKeyMD5: other.ckMD5()})
		wantErr(t, err, "Forbidden", 403)
		// A key for an object that does not use SSE-C.
		s.put(t, bkt, "plain", []byte("x"))
		_, err = s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("plain"),
			SSECustomerAlgorithm: m.ckAlg(), SSECustomerKey: m.ckB64(), SSECustomerKeyMD5: m.ckMD5()})
		wantErr(t, err, "InvalidRequest", 400)
		// Bad MD5, bad algorithm, short key, SSE-C with another method.
		for _, tc := range []struct {
			name string
			fn   func(*s3.PutObjectInput)
			code string
		}{
			{"md5 mismatch", func(in *s3.PutObjectInput) { m.put(in); in.SSECustomerKeyMD5 = other.ckMD5() }, "InvalidArgument"},
			{"bad algorithm", func(in *s3.PutObjectInput) { m.put(in); in.SSECustomerAlgorithm = aws.String("AES128") }, "InvalidEncryptionAlgorithmError"},
			{"short key", func(in *s3.PutObjectInput) {
				m.put(in)
				in.SSECustomerKey = aws.String(b64([]byte("short")))
				sum := md5.Sum([]byte("short"))
				in.SSECustomerKeyMD5 = aws.String(b64(sum[:]))
			}, "InvalidArgument"},
			{"with aws:kms", func(in *s3.PutObjectInput) { m.put(in); in.ServerSideEncryption = types.ServerSideEncryptionAwsKms }, "InvalidArgument"},
		} {
			in := &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("bad"), Body: bytes.NewReader([]byte("x"))}
			tc.fn(in)
			_, err := s.s3.PutObject(ctx, in)
			if err == nil {
				t.Fatalf("%s: accepted", tc.name)
			}
			wantErr(t, err, tc.code, 400)
		}
	})

	t.Run("sse-kms errors", func(t *testing.T) {
		_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("k"), Body: bytes.NewReader([]byte("x")),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("alias/does-not-exist")})
		wantErr(t, err, "KMS.NotFoundException", 400)
		_, err = s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("k"), Body: bytes.NewReader([]byte("x")),
			ServerSideEncryption: types.ServerSideEncryptionAwsKmsDsse})
		wantErr(t, err, "NotImplemented", 501)
		// Reads do not name an encryption method.
		s.put(t, bkt, "k", []byte("x"), sseModes[2].put)
		_, err = s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("k")},
			s3.WithAPIOptions(smithyhttp.AddHeaderValue("X-Amz-Server-Side-Encryption", "aws:kms")))
		wantErr(t, err, "InvalidArgument", 400)
	})

	t.Run("ssec blocked by default on new buckets", func(t *testing.T) {
		b2 := s.mkBucket(t, "sse-blocked")
		_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b2), Key: aws.String("c"), Body: bytes.NewReader([]byte("x")),
			SSECustomerAlgorithm: sseModes[5].ckAlg(), SSECustomerKey: sseModes[5].ckB64(), SSECustomerKeyMD5: sseModes[5].ckMD5()})
		wantErr(t, err, "AccessDenied", 403)
		enc, err := s.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(b2)})
		mustOK(t, err)
		r := enc.ServerSideEncryptionConfiguration.Rules[0]
		if r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 || r.BlockedEncryptionTypes == nil ||
			len(r.BlockedEncryptionTypes.EncryptionType) != 1 || r.BlockedEncryptionTypes.EncryptionType[0] != types.EncryptionTypeSseC {
			t.Fatalf("fresh bucket encryption: %+v", r)
		}
		// Existing SSE-C objects stay readable when SSE-C is blocked
		// again.
		s.put(t, bkt, "before-block", []byte("old"), sseModes[5].put)
		_, err = s.s3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(bkt)})
		mustOK(t, err)
		if got, _ := s.get(t, bkt, "before-block", sseModes[5].get); string(got) != "old" {
			t.Fatal("SSE-C object unreadable after blocking SSE-C")
		}
		s.allowSSEC(t, bkt)
	})
}

// TestSSECopies copies between every pair of modes and reads the copy
// with the destination's keys.
func TestSSECopies(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "sse-copies")
	s.allowSSEC(t, bkt)
	modes := []sseMode{sseModes[0], sseModes[2], sseModes[4], sseModes[5], sseModes[6]}
	for i, src := range modes {
		body := data(70<<10, uint64(i))
		skey := "src-" + src.name
		s.put(t, bkt, skey, body, src.put)
		for _, dst := range modes {
			dkey := "copy-" + src.name + "-to-" + dst.name
			in := &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String(dkey), CopySource: aws.String(bkt + "/" + skey),
				ServerSideEncryption: dst.sse, SSECustomerAlgorithm: dst.ckAlg(), SSECustomerKey: dst.ckB64(), SSECustomerKeyMD5: dst.ckMD5(),
				CopySourceSSECustomerAlgorithm: src.ckAlg(), CopySourceSSECustomerKey: src.ckB64(), CopySourceSSECustomerKeyMD5: src.ckMD5()}
			if dst.bucketKey {
				in.BucketKeyEnabled = aws.Bool(true)
			}
			out, err := s.s3.CopyObject(ctx, in)
			if err != nil {
				t.Fatalf("%s: %v", dkey, err)
			}
			dst.wantSSE(t, "CopyObject "+dkey, out.ServerSideEncryption, out.SSEKMSKeyId, out.BucketKeyEnabled, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
			got, _ := s.get(t, bkt, dkey, dst.get)
			if !bytes.Equal(got, body) {
				t.Fatalf("%s: wrong data", dkey)
			}
		}
		if src.ck != nil {
			// Without, or with the wrong, source key.
			_, err := s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String("x"), CopySource: aws.String(bkt + "/" + skey)})
			wantErr(t, err, "InvalidRequest", 400)
			other := sseModes[5]
			if src.name == other.name {
				other = sseModes[6]
			}
			_, err = s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String("x"), CopySource: aws.String(bkt + "/" + skey),
				CopySourceSSECustomerAlgorithm: other.ckAlg(), CopySourceSSECustomerKey: other.ckB64(), CopySourceSSECustomerKeyMD5: other.ckMD5()})
			wantErr(t, err, "AccessDenied", 403)
		}
	}
	// Key rotation: copy an SSE-C object onto itself under a new key.
	old, nw := sseModes[5], sseModes[6]
	s.put(t, bkt, "rotate", []byte("rotating"), old.put)
	_, err := s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String("rotate"), CopySource: aws.String(bkt + "/rotate"),
		SSECustomerAlgorithm: nw.ckAlg(), SSECustomerKey: nw.ckB64(), SSECustomerKeyMD5: nw.ckMD5(),
		CopySourceSSECustomerAlgorithm: old.ckAlg(), CopySourceSSECustomerKey: old.ckB64(), CopySourceSSECustomerKeyMD5: old.ckMD5()})
	mustOK(t, err)
	if got, _ := s.get(t, bkt, "rotate", nw.get); string(got) != "rotating" {
		t.Fatal("rotated object")
	}
}

// TestSSEMultipart uploads in every mode, with UploadPartCopy from an
// object in another mode, and reads ranges across parts.
func TestSSEMultipart(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "sse-mp")
	s.allowSSEC(t, bkt)
	src := sseModes[5]
	srcBody := data(300<<10, 99)
	s.put(t, bkt, "copy-src", srcBody, src.put)
	for _, m := range []sseMode{sseModes[0], sseModes[3], sseModes[4], sseModes[6]} {
		t.Run(m.name, func(t *testing.T) {
			key := "mp-" + m.name
			in := &s3.CreateMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String(key), ServerSideEncryption: m.sse,
				SSEKMSEncryptionContext: m.ctxHeader(), SSECustomerAlgorithm: m.ckAlg(), SSECustomerKey: m.ckB64(), SSECustomerKeyMD5: m.ckMD5()}
			if m.kmsKey != "" {
				in.SSEKMSKeyId = aws.String(m.kmsKey)
			}
			if m.bucketKey {
				in.BucketKeyEnabled = aws.Bool(true)
			}
			cr, err := s.s3.CreateMultipartUpload(ctx, in)
			mustOK(t, err)
			m.wantSSE(t, "CreateMultipartUpload", cr.ServerSideEncryption, cr.SSEKMSKeyId, cr.BucketKeyEnabled, cr.SSECustomerAlgorithm, cr.SSECustomerKeyMD5)
			p1 := data(5<<20+3, 1)
			up, err := s.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bkt), Key: aws.String(key), UploadId: cr.UploadId, PartNumber: aws.Int32(1),
				Body: bytes.NewReader(p1), SSECustomerAlgorithm: m.ckAlg(), SSECustomerKey: m.ckB64(), SSECustomerKeyMD5: m.ckMD5()})
			mustOK(t, err)
			m.wantSSE(t, "UploadPart", up.ServerSideEncryption, up.SSEKMSKeyId, up.BucketKeyEnabled, up.SSECustomerAlgorithm, up.SSECustomerKeyMD5)
			if m.ck != nil {
				// Every part repeats the upload's key.
				_, err := s.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bkt), Key: aws.String(key), UploadId: cr.UploadId, PartNumber: aws.Int32(3),
					Body: bytes.NewReader([]byte("x"))})
				wantErr(t, err, "InvalidRequest", 400)
				other := sseModes[5]
				_, err = s.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bkt), Key: aws.String(key), UploadId: cr.UploadId, PartNumber: aws.Int32(3),
					Body: bytes.NewReader([]byte("x")), SSECustomerAlgorithm: other.ckAlg(), SSECustomerKey: other.ckB64(), SSECustomerKeyMD5: other.ckMD5()})
				wantErr(t, err, "AccessDenied", 403)
			}
			pc, err := s.s3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(bkt), Key: aws.String(key), UploadId: cr.UploadId, PartNumber: aws.Int32(2),
				CopySource: aws.String(bkt + "/copy-src"), CopySourceRange: aws.String("bytes=1000-200999"),
				SSECustomerAlgorithm: m.ckAlg(), SSECustomerKey: m.ckB64(), SSECustomerKeyMD5: m.ckMD5(),
				CopySourceSSECustomerAlgorithm: src.ckAlg(), CopySourceSSECustomerKey: src.ckB64(), CopySourceSSECustomerKeyMD5: src.ckMD5()})
			mustOK(t, err)
			m.wantSSE(t, "UploadPartCopy", pc.ServerSideEncryption, pc.SSEKMSKeyId, pc.BucketKeyEnabled, pc.SSECustomerAlgorithm, pc.SSECustomerKeyMD5)
			done, err := s.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String(key), UploadId: cr.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
					{PartNumber: aws.Int32(1), ETag: up.ETag}, {PartNumber: aws.Int32(2), ETag: pc.CopyPartResult.ETag}}}})
			mustOK(t, err)
			if m.ck != nil {
				if done.ServerSideEncryption != "" || done.SSEKMSKeyId != nil {
					t.Fatalf("Complete of SSE-C upload reports %q", done.ServerSideEncryption)
				}
			} else {
				m.wantSSE(t, "CompleteMultipartUpload", done.ServerSideEncryption, done.SSEKMSKeyId, done.BucketKeyEnabled, nil, nil)
			}
			all := append(append([]byte(nil), p1...), srcBody[1000:201000]...)
			for _, rg := range [][2]int{{0, len(all) - 1}, {5<<20 - 5, 5<<20 + 70000}, {len(all) - 10, len(all) - 1}} {
				got, _ := s.get(t, bkt, key, m.get, func(in *s3.GetObjectInput) {
					in.Range = aws.String("bytes=" + itoa(rg[0]) + "-" + itoa(rg[1]))
				})
				if !bytes.Equal(got, all[rg[0]:rg[1]+1]) {
					t.Fatalf("range %v differs", rg)
				}
			}
		})
	}
}

// TestBucketDefaultEncryption: objects written without headers follow the
// bucket's default; headers win over it; Delete resets to SSE-S3.
func TestBucketDefaultEncryption(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "sse-default")
	put := func(alg types.ServerSideEncryption, key string, bk bool) error {
		_, err := s.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(bkt),
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: alg, KMSMasterKeyID: aws.String(key)},
				BucketKeyEnabled:                   aws.Bool(bk),
			}}}})
		return err
	}
	mustOK(t, put(types.ServerSideEncryptionAwsKms, "alias/aws/s3", true))
	enc, err := s.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bkt)})
	mustOK(t, err)
	r := enc.ServerSideEncryptionConfiguration.Rules[0]
	if r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAwsKms || aws.ToString(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != "alias/aws/s3" || !aws.ToBool(r.BucketKeyEnabled) {
		t.Fatalf("GetBucketEncryption: %+v", r)
	}
	out := s.put(t, bkt, "default", []byte("x"))
	if out.ServerSideEncryption != types.ServerSideEncryptionAwsKms || !aws.ToBool(out.BucketKeyEnabled) {
		t.Fatalf("default write: %q, bucket key %v", out.ServerSideEncryption, aws.ToBool(out.BucketKeyEnabled))
	}
	out = s.put(t, bkt, "explicit", []byte("x"), func(in *s3.PutObjectInput) { in.ServerSideEncryption = types.ServerSideEncryptionAes256 })
	if out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Fatalf("explicit SSE-S3: %q", out.ServerSideEncryption)
	}
	// A copy without headers follows the destination's default.
	s.put(t, bkt, "src", []byte("x"), func(in *s3.PutObjectInput) { in.ServerSideEncryption = types.ServerSideEncryptionAes256 })
	cp, err := s.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String("cp"), CopySource: aws.String(bkt + "/src")})
	if err != nil || cp.ServerSideEncryption != types.ServerSideEncryptionAwsKms {
		t.Fatalf("copy: %v %q", err, cp.ServerSideEncryption)
	}
	// A default naming a missing key is stored, and fails the next write.
	mustOK(t, put(types.ServerSideEncryptionAwsKms, "alias/missing", false))
	_, err = s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))})
	wantErr(t, err, "KMS.NotFoundException", 400)
	// KMSMasterKeyID only goes with aws:kms; DSSE is not implemented.
	wantErr(t, put(types.ServerSideEncryptionAes256, "alias/aws/s3", false), "InvalidArgument", 400)
	wantErr(t, put(types.ServerSideEncryptionAwsKmsDsse, "alias/aws/s3", false), "NotImplemented", 501)
	_, err = s.s3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(bkt)})
	mustOK(t, err)
	enc, err = s.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bkt)})
	mustOK(t, err)
	if alg := enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm; alg != types.ServerSideEncryptionAes256 {
		t.Fatalf("after delete: %q", alg)
	}
	if out := s.put(t, bkt, "after", []byte("x")); out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Fatalf("after delete: %q", out.ServerSideEncryption)
	}
}

// TestSSECOverHTTPRefused: SSE-C keys must not travel in clear.
func TestSSECOverHTTPRefused(t *testing.T) {
	s := newSuite(t, harness.WithHTTP())
	bkt := s.mkBucket(t, "sse-http")
	s.allowSSEC(t, bkt)
	plain := s.client(s.srv.AccessKey, s.srv.SecretKey, func(o *s3.Options) {
		o.BaseEndpoint = aws.String("http://" + s.srv.HTTPAddr)
		o.HTTPClient = http.DefaultClient
	})
	m := sseModes[5]
	_, err := plain.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("c"), Body: bytes.NewReader([]byte("x")),
		SSECustomerAlgorithm: m.ckAlg(), SSECustomerKey: m.ckB64(), SSECustomerKeyMD5: m.ckMD5()})
	wantErr(t, err, "InvalidRequest", 400)
	s.put(t, bkt, "c", []byte("x"), m.put)
	_, err = plain.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("c"),
		SSECustomerAlgorithm: m.ckAlg(), SSECustomerKey: m.ckB64(), SSECustomerKeyMD5: m.ckMD5()})
	wantErr(t, err, "InvalidRequest", 400)
}

// TestSSETamper flips a stored byte and swaps stored files of SSE-KMS and
// SSE-C objects: what fails authentication is never served.
func TestSSETamper(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "sse-tamper")
	s.allowSSEC(t, bkt)
	for _, m := range []sseMode{sseModes[2], sseModes[4], sseModes[5]} {
		t.Run(m.name, func(t *testing.T) {
			put := func(key string, body []byte) string {
				before := blobFiles(t, s.srv.Dir)
				s.put(t, bkt, key, body, m.put)
				for p := range blobFiles(t, s.srv.Dir) {
					if !before[p] {
						return p
					}
				}
				t.Fatal("no blob file added")
				return ""
			}
			notServed := func(key string, want []byte) {
				t.Helper()
				in := &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String(key)}
				m.get(in)
				out, err := s.s3.GetObject(ctx, in)
				if err != nil {
					return
				}
				defer out.Body.Close()
				got, err := io.ReadAll(out.Body)
				if err == nil && bytes.Equal(got, want) {
					t.Fatalf("%s: tampered data served", key)
				} else if err == nil {
					t.Fatalf("%s: WRONG data served", key)
				}
			}
			a, b := data(200<<10, 1), data(200<<10, 2)
			pa, pb := put(m.name+"-a", a), put(m.name+"-b", b)
			ra, err := os.ReadFile(pa)
			mustOK(t, err)
			rb, err := os.ReadFile(pb)
			mustOK(t, err)
			writeFile(t, pa, rb)
			writeFile(t, pb, ra)
			notServed(m.name+"-a", a)
			notServed(m.name+"-b", b)
			flipped := bytes.Clone(ra)
			flipped[100] ^= 1
			writeFile(t, pa, flipped)
			notServed(m.name+"-a", a)
			_, err = s.s3.GetObject(ctx, func() *s3.GetObjectInput {
				in := &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String(m.name + "-a")}
				m.get(in)
				return in
			}())
			wantErr(t, err, "InternalError", 500)
		})
	}
}

// TestSSEPolicyConditions: a bucket policy that requires SSE-KMS with one
// key is enforced on the key's ARN, however the request names the key.
func TestSSEPolicyConditions(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "sse-policy")
	s.allowSSEC(t, bkt)
	out := s.put(t, bkt, "probe", []byte("x"), sseModes[2].put)
	arn := aws.ToString(out.SSEKMSKeyId)
	keyID := arn[strings.LastIndex(arn, "/")+1:]
	s.putPolicy(t, bkt, `{"Version":"2012-10-17","Statement":[
		{"Sid":"OnlyThisKey","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::`+bkt+`/*",
		 "Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"`+arn+`"}}},
		{"Sid":"NoSSEC","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::`+bkt+`/*",
		 "Condition":{"Null":{"s3:x-amz-server-side-encryption-customer-algorithm":"false"}}}]}`)
	for _, tc := range []struct {
		name  string
		fn    func(*s3.PutObjectInput)
		allow bool
	}{
		{"no headers", func(*s3.PutObjectInput) {}, false},
		{"aws:kms without a key", func(in *s3.PutObjectInput) { in.ServerSideEncryption = types.ServerSideEncryptionAwsKms }, false},
		{"key by ARN", func(in *s3.PutObjectInput) {
			in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String(arn)
		}, true},
		{"key by id", func(in *s3.PutObjectInput) {
			in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String(keyID)
		}, true},
		{"key by alias", func(in *s3.PutObjectInput) {
			in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String("alias/aws/s3")
		}, true},
		{"sse-c", sseModes[5].put, false},
	} {
		in := &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))}
		tc.fn(in)
		_, err := s.s3.PutObject(ctx, in)
		if tc.allow {
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
		} else {
			wantErr(t, err, "AccessDenied", 403)
		}
	}
}

// TestSSEKMSAnonymousRead: reading an SSE-KMS object needs a principal
// the KMS can act for, even when a policy makes the object public.
func TestSSEKMSAnonymousRead(t *testing.T) {
	s := newSuite(t)
	bkt := s.mkBucket(t, "sse-public")
	s.allowPublic(t, bkt)
	s.putPolicy(t, bkt, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+bkt+`/*"}]}`)
	s.put(t, bkt, "kms", []byte("kms"), sseModes[2].put)
	s.put(t, bkt, "s3", []byte("s3"))
	resp, _, body := s.do(t, rawRequest(t, t.Context(), "GET", s.srv.Endpoint+"/"+bkt+"/s3", nil))
	if resp.StatusCode != 200 || string(body) != "s3" {
		t.Fatalf("public SSE-S3 object: %d %s", resp.StatusCode, body)
	}
	resp, code, _ := s.do(t, rawRequest(t, t.Context(), "GET", s.srv.Endpoint+"/"+bkt+"/kms", nil))
	if resp.StatusCode != 400 || code != "InvalidArgument" {
		t.Fatalf("public SSE-KMS object read anonymously: %d %s", resp.StatusCode, code)
	}
}

// TestSSEPostObject: browser POST uploads carry the encryption settings
// as form fields, covered by the policy like any other.
func TestSSEPostObject(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "sse-post")
	s.allowSSEC(t, bkt)
	ck := sseModes[5]
	for _, tc := range []struct {
		name   string
		fields [][2]string
		mode   sseMode
	}{
		{"sse-kms", [][2]string{{"x-amz-server-side-encryption", "aws:kms"}, {"x-amz-server-side-encryption-aws-kms-key-id", "alias/aws/s3"}}, sseModes[2]},
		{"sse-c", [][2]string{{"x-amz-server-side-encryption-customer-algorithm", "AES256"},
			{"x-amz-server-side-encryption-customer-key", aws.ToString(ck.ckB64())},
			{"x-amz-server-side-encryption-customer-key-MD5", aws.ToString(ck.ckMD5())}}, ck},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "post-" + tc.name
			conds := []any{map[string]string{"bucket": bkt}, map[string]string{"key": key}}
			for _, f := range tc.fields {
				conds = append(conds, map[string]string{f[0]: f[1]})
			}
			now := time.Now()
			form := &postForm{filename: "f.txt", file: []byte("posted " + tc.name)}
			form.fields = append([][2]string{{"key", key}}, tc.fields...)
			form.fields = append(form.fields, signedPost(s.srv.AccessKey, s.srv.SecretKey, s.srv.Region, now, now.Add(10*time.Minute), conds)...)
			resp, code, body := form.send(t, ctx, s, s.srv.Endpoint+"/"+bkt)
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("POST: %d %s %s", resp.StatusCode, code, body)
			}
			switch tc.mode.ck {
			case nil:
				if resp.Header.Get("X-Amz-Server-Side-Encryption") != "aws:kms" {
					t.Fatalf("POST response SSE %q", resp.Header.Get("X-Amz-Server-Side-Encryption"))
				}
			default:
				if resp.Header.Get("X-Amz-Server-Side-Encryption-Customer-Key-Md5") != aws.ToString(ck.ckMD5()) {
					t.Fatalf("POST response key MD5 %q", resp.Header.Get("X-Amz-Server-Side-Encryption-Customer-Key-Md5"))
				}
			}
			got, out := s.get(t, bkt, key, tc.mode.get)
			if string(got) != "posted "+tc.name {
				t.Fatalf("read back %q", got)
			}
			tc.mode.wantSSE(t, "GetObject", out.ServerSideEncryption, out.SSEKMSKeyId, out.BucketKeyEnabled, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
		})
	}
}

// TestSSEMinio: minio-go's SSE-C and SSE-KMS options (single and
// multipart uploads, server-side copy with a key change).
func TestSSEMinio(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "sse-minio")
	s.allowSSEC(t, bkt)
	mc := s.minio(s.srv.AccessKey, s.srv.SecretKey)
	ssec, err := encrypt.NewSSEC(bytes.Repeat([]byte{0x6d}, 32))
	mustOK(t, err)
	kms, err := encrypt.NewSSEKMS("alias/aws/s3", map[string]string{"app": "minio"})
	mustOK(t, err)
	for _, tc := range []struct {
		name string
		enc  encrypt.ServerSide
		get  encrypt.ServerSide
		size int
	}{
		{"sse-c", ssec, ssec, 100 << 10},
		{"sse-c-multipart", ssec, ssec, 17 << 20},
		{"sse-kms", kms, nil, 100 << 10},
		{"sse-s3", encrypt.NewSSE(), nil, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := data(tc.size, uint64(tc.size))
			_, err := mc.PutObject(ctx, bkt, tc.name, bytes.NewReader(body), int64(len(body)),
				minio.PutObjectOptions{ServerSideEncryption: tc.enc, PartSize: 5 << 20})
			mustOK(t, err)
			obj, err := mc.GetObject(ctx, bkt, tc.name, minio.GetObjectOptions{ServerSideEncryption: tc.get})
			mustOK(t, err)
			got, err := io.ReadAll(obj)
			mustOK(t, err)
			if !bytes.Equal(got, body) {
				t.Fatal("wrong data")
			}
		})
	}
	// Key rotation through ComposeObject/CopyObject with both keys.
	nw, err := encrypt.NewSSEC(bytes.Repeat([]byte{0x6e}, 32))
	mustOK(t, err)
	_, err = mc.CopyObject(ctx, minio.CopyDestOptions{Bucket: bkt, Object: "rotated", Encryption: nw},
		minio.CopySrcOptions{Bucket: bkt, Object: "sse-c", Encryption: ssec})
	mustOK(t, err)
	obj, err := mc.GetObject(ctx, bkt, "rotated", minio.GetObjectOptions{ServerSideEncryption: nw})
	mustOK(t, err)
	if got, err := io.ReadAll(obj); err != nil || !bytes.Equal(got, data(100<<10, 100<<10)) {
		t.Fatalf("rotated copy: %v", err)
	}
}
