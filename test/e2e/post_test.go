package e2e

// Browser-based POST uploads: a policy and form built by hand (so every
// field is under the test's control) and one from minio-go's
// PresignedPostPolicy.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
)

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// postForm is one browser POST: form fields in order, then the file.
type postForm struct {
	fields   [][2]string
	filename string
	file     []byte
}

// signedPost builds the SigV4 POST fields for a policy with the given
// conditions (the algorithm, credential and date conditions are added
// here) and signs the policy with secret.
func signedPost(accessKey, secret, region string, now, expires time.Time, conditions []any) [][2]string {
	date := now.UTC().Format("20060102")
	amzDate := now.UTC().Format("20060102T150405Z")
	cred := accessKey + "/" + date + "/" + region + "/s3/aws4_request"
	conditions = append(conditions,
		map[string]string{"x-amz-algorithm": "AWS4-HMAC-SHA256"},
		map[string]string{"x-amz-credential": cred},
		map[string]string{"x-amz-date": amzDate})
	doc, err := json.Marshal(map[string]any{"expiration": expires.UTC().Format("2006-01-02T15:04:05.000Z"), "conditions": conditions})
	if err != nil {
		panic(err)
	}
	policy := base64.StdEncoding.EncodeToString(doc)
	key := hmacSHA256([]byte("AWS4"+secret), date)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, "s3")
	key = hmacSHA256(key, "aws4_request")
	return [][2]string{
		{"x-amz-algorithm", "AWS4-HMAC-SHA256"},
		{"x-amz-credential", cred},
		{"x-amz-date", amzDate},
		{"policy", policy},
		{"x-amz-signature", hex.EncodeToString(hmacSHA256(key, policy))},
	}
}

// send posts the form to url (the bucket's URL).
func (f *postForm) send(t *testing.T, ctx context.Context, s *suite, url string) (*http.Response, string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, kv := range f.fields {
		mustOK(t, mw.WriteField(kv[0], kv[1]))
	}
	fw, err := mw.CreateFormFile("file", f.filename)
	mustOK(t, err)
	fw.Write(f.file)
	mustOK(t, mw.Close())
	req := rawRequest(t, ctx, http.MethodPost, url, buf.Bytes())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return s.do(t, req)
}

func TestPostUpload(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "browser")
	bucketURL := s.srv.Endpoint + "/" + bkt

	conditions := func() []any {
		return []any{
			map[string]string{"bucket": bkt},
			[]any{"starts-with", "$key", "uploads/"},
			[]any{"starts-with", "$Content-Type", "text/"},
			[]any{"content-length-range", 1, 1024},
			map[string]string{"x-amz-meta-origin": "browser"},
			[]any{"starts-with", "$success_action_status", ""},
		}
	}
	// form returns a valid form; change lets a case alter one field.
	form := func(change func(fields map[string]string), auth [][2]string) *postForm {
		fields := map[string]string{"key": "uploads/${filename}", "Content-Type": "text/plain",
			"x-amz-meta-origin": "browser", "success_action_status": "201"}
		if change != nil {
			change(fields)
		}
		f := &postForm{filename: "note.txt", file: []byte("uploaded from a browser form")}
		for _, k := range []string{"key", "Content-Type", "x-amz-meta-origin", "success_action_status", "x-amz-meta-extra"} {
			if v, ok := fields[k]; ok {
				f.fields = append(f.fields, [2]string{k, v})
			}
		}
		f.fields = append(f.fields, auth...)
		return f
	}
	now := time.Now()
	good := signedPost(s.srv.AccessKey, s.srv.SecretKey, s.srv.Region, now, now.Add(10*time.Minute), conditions())

	t.Run("success", func(t *testing.T) {
		f := form(nil, good)
		resp, code, body := f.send(t, ctx, s, bucketURL)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST: %d %s %s", resp.StatusCode, code, body)
		}
		var pr struct {
			Bucket, Key, ETag, Location string
		}
		mustOK(t, xml.Unmarshal(body, &pr))
		if pr.Bucket != bkt || pr.Key != "uploads/note.txt" || pr.ETag != quoted(md5Hex(f.file)) {
			t.Errorf("PostResponse %+v", pr)
		}
		got, g := s.get(t, bkt, "uploads/note.txt")
		if !bytes.Equal(got, f.file) || aws.ToString(g.ContentType) != "text/plain" || g.Metadata["origin"] != "browser" {
			t.Errorf("stored %q type %q meta %v", got, aws.ToString(g.ContentType), g.Metadata)
		}
	})

	t.Run("default status is 204", func(t *testing.T) {
		resp, code, _ := form(func(m map[string]string) { m["key"] = "uploads/plain"; delete(m, "success_action_status") }, good).send(t, ctx, s, bucketURL)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("POST: %d %s", resp.StatusCode, code)
		}
		if resp.Header.Get("ETag") == "" || resp.Header.Get("Location") == "" {
			t.Errorf("ETag %q Location %q", resp.Header.Get("ETag"), resp.Header.Get("Location"))
		}
	})

	expired := signedPost(s.srv.AccessKey, s.srv.SecretKey, s.srv.Region, now, now.Add(-time.Minute), conditions())
	wrongSecret := signedPost(s.srv.AccessKey, s.srv.SecretKey+"x", s.srv.Region, now, now.Add(10*time.Minute), conditions())
	for _, c := range []struct {
		name   string
		change func(map[string]string)
		auth   [][2]string
		file   []byte
		status int
		code   string
	}{
		{name: "key outside the allowed prefix", change: func(m map[string]string) { m["key"] = "elsewhere/x" },
			auth: good, status: http.StatusForbidden, code: "AccessDenied"},
		{name: "content type not allowed", change: func(m map[string]string) { m["Content-Type"] = "image/png" },
			auth: good, status: http.StatusForbidden, code: "AccessDenied"},
		{name: "metadata value differs", change: func(m map[string]string) { m["x-amz-meta-origin"] = "script" },
			auth: good, status: http.StatusForbidden, code: "AccessDenied"},
		{name: "field not covered by the policy", change: func(m map[string]string) { m["x-amz-meta-extra"] = "sneaky" },
			auth: good, status: http.StatusForbidden, code: "AccessDenied"},
		{name: "file too large", auth: good, file: make([]byte, 1025), status: http.StatusBadRequest, code: "EntityTooLarge"},
		{name: "file too small", auth: good, file: []byte{}, status: http.StatusBadRequest, code: "EntityTooSmall"},
		{name: "expired policy", auth: expired, status: http.StatusForbidden, code: "AccessDenied"},
		{name: "wrong secret", auth: wrongSecret, status: http.StatusForbidden, code: "SignatureDoesNotMatch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := form(func(m map[string]string) {
				m["key"] = "uploads/rejected"
				if c.change != nil {
					c.change(m)
				}
			}, c.auth)
			if c.file != nil {
				f.file = c.file
			}
			resp, code, body := f.send(t, ctx, s, bucketURL)
			if resp.StatusCode != c.status || code != c.code {
				t.Errorf("got %d %s (%s), want %d %s", resp.StatusCode, code, body, c.status, c.code)
			}
		})
	}
	t.Run("nothing stored by rejected posts", func(t *testing.T) {
		for _, k := range []string{"uploads/rejected", "elsewhere/x"} {
			_, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String(k)})
			wantErr(t, err, "NotFound", http.StatusNotFound)
		}
	})

	t.Run("minio-go PresignedPostPolicy", func(t *testing.T) {
		mc := s.minio(s.srv.AccessKey, s.srv.SecretKey)
		p := minio.NewPostPolicy()
		mustOK(t, p.SetBucket(bkt))
		mustOK(t, p.SetKey("minio/post.txt"))
		mustOK(t, p.SetExpires(time.Now().Add(10*time.Minute)))
		mustOK(t, p.SetContentType("text/plain"))
		mustOK(t, p.SetContentLengthRange(1, 1<<20))
		u, fields, err := mc.PresignedPostPolicy(ctx, p)
		mustOK(t, err)
		f := &postForm{filename: "post.txt", file: []byte("posted with minio-go's policy")}
		for k, v := range fields {
			f.fields = append(f.fields, [2]string{k, v})
		}
		resp, code, body := f.send(t, ctx, s, u.String())
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("POST: %d %s %s", resp.StatusCode, code, body)
		}
		got, g := s.get(t, bkt, "minio/post.txt")
		if !bytes.Equal(got, f.file) || aws.ToString(g.ContentType) != "text/plain" {
			t.Errorf("stored %q as %q", got, aws.ToString(g.ContentType))
		}
	})
}
