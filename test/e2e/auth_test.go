package e2e

// Authentication: presigned URLs from both SDKs (valid, expired,
// tampered), and the failures of header-signed and anonymous requests.

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3Signer is a bare SigV4 signer configured as S3 signs: the path is
// encoded once, not twice as for other services.
func s3Signer() *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

func TestPresigned(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "presigned")
	body := []byte("presigned content")
	s.put(t, bkt, "dir/file name.txt", body)
	pc := s3.NewPresignClient(s.s3)
	mc := s.minio(s.srv.AccessKey, s.srv.SecretKey)

	// fetch sends a request to a presigned URL with no credentials of its
	// own, plus the headers the signature covers.
	fetch := func(t *testing.T, method, u string, hdr http.Header, payload []byte) (*http.Response, string, []byte) {
		t.Helper()
		req := rawRequest(t, ctx, method, u, payload)
		for k, vs := range hdr {
			if strings.EqualFold(k, "Host") {
				continue
			}
			req.Header[k] = vs
		}
		return s.do(t, req)
	}

	t.Run("aws-sdk GET", func(t *testing.T) {
		p, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("dir/file name.txt"),
			ResponseContentDisposition: aws.String("attachment")}, s3.WithPresignExpires(5*time.Minute))
		mustOK(t, err)
		resp, code, got := fetch(t, p.Method, p.URL, p.SignedHeader, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
			t.Fatalf("presigned GET: %d %s %q", resp.StatusCode, code, got)
		}
		if resp.Header.Get("Content-Disposition") != "attachment" {
			t.Errorf("response-content-disposition not applied: %q", resp.Header.Get("Content-Disposition"))
		}
	})

	t.Run("aws-sdk PUT", func(t *testing.T) {
		p, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("uploaded-via-url"),
			ContentType: aws.String("text/plain")}, s3.WithPresignExpires(5*time.Minute))
		mustOK(t, err)
		payload := []byte("put through a presigned URL")
		resp, code, _ := fetch(t, p.Method, p.URL, p.SignedHeader, payload)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("presigned PUT: %d %s", resp.StatusCode, code)
		}
		got, g := s.get(t, bkt, "uploaded-via-url")
		if !bytes.Equal(got, payload) || aws.ToString(g.ContentType) != "text/plain" {
			t.Errorf("stored %q as %q", got, aws.ToString(g.ContentType))
		}
	})

	t.Run("minio-go GET and PUT", func(t *testing.T) {
		u, err := mc.PresignedGetObject(ctx, bkt, "dir/file name.txt", time.Minute, url.Values{"response-content-type": {"text/x-minio"}})
		mustOK(t, err)
		resp, code, got := fetch(t, http.MethodGet, u.String(), nil, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) || resp.Header.Get("Content-Type") != "text/x-minio" {
			t.Fatalf("presigned GET: %d %s %q type %q", resp.StatusCode, code, got, resp.Header.Get("Content-Type"))
		}
		u, err = mc.PresignedPutObject(ctx, bkt, "minio-url", time.Minute)
		mustOK(t, err)
		resp, code, _ = fetch(t, http.MethodPut, u.String(), nil, []byte("via minio url"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("presigned PUT: %d %s", resp.StatusCode, code)
		}
		if got, _ := s.get(t, bkt, "minio-url"); string(got) != "via minio url" {
			t.Errorf("stored %q", got)
		}
	})

	t.Run("expired", func(t *testing.T) {
		// Sign an hour ago for one minute: expired without waiting.
		req := rawRequest(t, ctx, http.MethodGet, s.srv.Endpoint+"/"+bkt+"/dir/file%20name.txt?X-Amz-Expires=60", nil)
		signed, hdr, err := s3Signer().PresignHTTP(ctx, aws.Credentials{AccessKeyID: s.srv.AccessKey, SecretAccessKey: s.srv.SecretKey},
			req, "UNSIGNED-PAYLOAD", "s3", s.srv.Region, time.Now().Add(-time.Hour))
		mustOK(t, err)
		resp, code, _ := fetch(t, http.MethodGet, signed, hdr, nil)
		if resp.StatusCode != http.StatusForbidden || code != "AccessDenied" {
			t.Errorf("expired URL: %d %s, want 403 AccessDenied", resp.StatusCode, code)
		}
		// The same signing path with a fresh time works, so the failure
		// above is the expiry and nothing else.
		req = rawRequest(t, ctx, http.MethodGet, s.srv.Endpoint+"/"+bkt+"/dir/file%20name.txt?X-Amz-Expires=60", nil)
		signed, hdr, err = s3Signer().PresignHTTP(ctx, aws.Credentials{AccessKeyID: s.srv.AccessKey, SecretAccessKey: s.srv.SecretKey},
			req, "UNSIGNED-PAYLOAD", "s3", s.srv.Region, time.Now())
		mustOK(t, err)
		if resp, code, _ := fetch(t, http.MethodGet, signed, hdr, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("fresh URL: %d %s", resp.StatusCode, code)
		}
	})

	t.Run("expiry longer than seven days", func(t *testing.T) {
		req := rawRequest(t, ctx, http.MethodGet, s.srv.Endpoint+"/"+bkt+"/dir/file%20name.txt?X-Amz-Expires=604801", nil)
		signed, hdr, err := s3Signer().PresignHTTP(ctx, aws.Credentials{AccessKeyID: s.srv.AccessKey, SecretAccessKey: s.srv.SecretKey},
			req, "UNSIGNED-PAYLOAD", "s3", s.srv.Region, time.Now())
		mustOK(t, err)
		resp, code, _ := fetch(t, http.MethodGet, signed, hdr, nil)
		if resp.StatusCode != http.StatusBadRequest || code != "AuthorizationQueryParametersError" {
			t.Errorf("%d %s, want 400 AuthorizationQueryParametersError", resp.StatusCode, code)
		}
	})

	t.Run("tampered", func(t *testing.T) {
		s.put(t, bkt, "other", []byte("not yours"))
		p, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("dir/file name.txt")})
		mustOK(t, err)
		u, err := url.Parse(p.URL)
		mustOK(t, err)
		tamper := map[string]func(u *url.URL){
			"other key": func(u *url.URL) { u.Path = "/" + bkt + "/other"; u.RawPath = "" },
			"longer expiry": func(u *url.URL) {
				q := u.Query()
				q.Set("X-Amz-Expires", "604800")
				u.RawQuery = q.Encode()
			},
			"signature": func(u *url.URL) {
				q := u.Query()
				sig := []byte(q.Get("X-Amz-Signature"))
				sig[0] = map[bool]byte{true: 'b', false: 'a'}[sig[0] == 'a']
				q.Set("X-Amz-Signature", string(sig))
				u.RawQuery = q.Encode()
			},
			"added parameter": func(u *url.URL) { u.RawQuery += "&response-content-type=text%2Fevil" },
		}
		for name, f := range tamper {
			t.Run(name, func(t *testing.T) {
				c := *u
				f(&c)
				resp, code, _ := fetch(t, http.MethodGet, c.String(), p.SignedHeader, nil)
				if resp.StatusCode != http.StatusForbidden || code != "SignatureDoesNotMatch" {
					t.Errorf("%d %s, want 403 SignatureDoesNotMatch", resp.StatusCode, code)
				}
			})
		}
		// A presigned GET cannot be replayed as a PUT.
		resp, code, _ := fetch(t, http.MethodPut, p.URL, p.SignedHeader, []byte("overwrite"))
		if resp.StatusCode != http.StatusForbidden || code != "SignatureDoesNotMatch" {
			t.Errorf("GET URL used for PUT: %d %s", resp.StatusCode, code)
		}
	})
}

func TestAuthFailures(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "auth")
	s.put(t, bkt, "obj", []byte("x"))

	t.Run("unknown access key", func(t *testing.T) {
		c := s.client("AKIAUNKNOWNKEY000000", s.srv.SecretKey)
		_, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
		wantErr(t, err, "InvalidAccessKeyId", http.StatusForbidden)
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("k"), Body: strings.NewReader("x")})
		wantErr(t, err, "InvalidAccessKeyId", http.StatusForbidden)
	})

	t.Run("wrong secret", func(t *testing.T) {
		c := s.client(s.srv.AccessKey, s.srv.SecretKey+"x")
		_, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
		wantErr(t, err, "SignatureDoesNotMatch", http.StatusForbidden)
		// A streaming (aws-chunked) upload fails on its seed signature
		// before any data is stored.
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("k"), Body: strings.NewReader("x")})
		wantErr(t, err, "SignatureDoesNotMatch", http.StatusForbidden)
		_, err = s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("k")})
		wantErr(t, err, "NotFound", http.StatusNotFound)
	})

	t.Run("wrong region", func(t *testing.T) {
		c := s.client(s.srv.AccessKey, s.srv.SecretKey, func(o *s3.Options) { o.Region = "eu-central-1" })
		_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bkt)})
		wantErr(t, err, "AuthorizationHeaderMalformed", http.StatusBadRequest)
	})

	t.Run("clock skew", func(t *testing.T) {
		req := rawRequest(t, ctx, http.MethodGet, s.srv.Endpoint+"/"+bkt+"/obj", nil)
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		err := s3Signer().SignHTTP(ctx, aws.Credentials{AccessKeyID: s.srv.AccessKey, SecretAccessKey: s.srv.SecretKey},
			req, "UNSIGNED-PAYLOAD", "s3", s.srv.Region, time.Now().Add(-time.Hour))
		mustOK(t, err)
		resp, code, _ := s.do(t, req)
		if resp.StatusCode != http.StatusForbidden || code != "RequestTimeTooSkewed" {
			t.Errorf("%d %s, want 403 RequestTimeTooSkewed", resp.StatusCode, code)
		}
	})

	t.Run("anonymous", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{http.MethodGet, "/"},
			{http.MethodGet, "/" + bkt},
			{http.MethodGet, "/" + bkt + "/obj"},
			{http.MethodPut, "/" + bkt + "/anon"},
			{http.MethodDelete, "/" + bkt + "/obj"},
		} {
			t.Run(c.method+" "+c.path, func(t *testing.T) {
				var payload []byte
				if c.method == http.MethodPut {
					payload = []byte("anonymous data")
				}
				resp, code, _ := s.do(t, rawRequest(t, ctx, c.method, s.srv.Endpoint+c.path, payload))
				if resp.StatusCode != http.StatusForbidden || code != "AccessDenied" {
					t.Errorf("%d %s, want 403 AccessDenied", resp.StatusCode, code)
				}
			})
		}
		// A bucket that does not exist is NoSuchBucket even anonymously,
		// as in S3: there is no bucket policy to deny the request.
		for _, path := range []string{"/no-such-bucket", "/no-such-bucket/obj"} {
			resp, code, _ := s.do(t, rawRequest(t, ctx, http.MethodGet, s.srv.Endpoint+path, nil))
			if resp.StatusCode != http.StatusNotFound || code != "NoSuchBucket" {
				t.Errorf("anonymous GET %s: %d %s, want 404 NoSuchBucket", path, resp.StatusCode, code)
			}
		}
		// Creating a bucket anonymously is still denied.
		resp, code, _ := s.do(t, rawRequest(t, ctx, http.MethodPut, s.srv.Endpoint+"/anonymous-bucket", nil))
		if resp.StatusCode != http.StatusForbidden || code != "AccessDenied" {
			t.Errorf("anonymous CreateBucket: %d %s, want 403 AccessDenied", resp.StatusCode, code)
		}
		// The SDK's anonymous mode sends unsigned requests too.
		c := s.client("", "", func(o *s3.Options) { o.Credentials = aws.AnonymousCredentials{} })
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("obj")})
		if err == nil {
			io.Copy(io.Discard, out.Body)
			out.Body.Close()
		}
		wantErr(t, err, "AccessDenied", http.StatusForbidden)
		if got, _ := s.get(t, bkt, "obj"); string(got) != "x" {
			t.Errorf("object changed: %q", got)
		}
	})
}
