package e2e

// Virtual-hosted-style addressing: the bucket in the Host header
// (bucket.localhost:PORT, the server's default base domain).

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// loopbackTransport sends every connection to the server's loopback
// address whatever the host name: *.localhost names need not resolve on
// the test machine, but TLS still verifies them against the certificate
// (which covers *.localhost).
func (s *suite) loopbackTransport() *http.Transport {
	addr := s.srv.Addr
	var d net.Dialer
	return &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig:     &tls.Config{RootCAs: s.srv.CAPool(), MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 16,
	}
}

func TestVirtualHostedStyle(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	_, port, err := net.SplitHostPort(s.srv.Addr)
	mustOK(t, err)
	sdkHosts := &hostLog{rt: s.loopbackTransport()}
	vc := s.client(s.srv.AccessKey, s.srv.SecretKey, func(o *s3.Options) {
		o.UsePathStyle = false
		o.BaseEndpoint = aws.String("https://localhost:" + port)
		o.HTTPClient = &http.Client{Transport: sdkHosts}
	})
	const bkt = "vhosted"
	vhost := bkt + ".localhost:" + port

	t.Run("bucket and object operations", func(t *testing.T) {
		_, err := vc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bkt)})
		mustOK(t, err)
		_, err = vc.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bkt)})
		mustOK(t, err)
		body := []byte("addressed by host name")
		for _, key := range []string{"plain", "dir/with space+plus", "ünï/cödé"} {
			_, err = vc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String(key), Body: bytes.NewReader(body)})
			mustOK(t, err)
			out, err := vc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String(key)})
			mustOK(t, err)
			got, err := io.ReadAll(out.Body)
			out.Body.Close()
			mustOK(t, err)
			if !bytes.Equal(got, body) {
				t.Errorf("%s: got %q", key, got)
			}
		}
		l, err := vc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bkt)})
		mustOK(t, err)
		var keys []string
		for _, o := range l.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		if diff := cmp.Diff([]string{"dir/with space+plus", "plain", "ünï/cödé"}, keys); diff != "" {
			t.Errorf("listing (-want +got):\n%s", diff)
		}
		if hosts := sdkHosts.distinct(); !slices.Equal(hosts, []string{vhost}) {
			t.Errorf("requests went to %v, want only %s", hosts, vhost)
		}
		// The same objects are visible path-style.
		if got, _ := s.get(t, bkt, "dir/with space+plus"); !bytes.Equal(got, body) {
			t.Errorf("path-style read: %q", got)
		}
		_, err = vc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("missing-vhost"), Key: aws.String("k")})
		wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
	})

	t.Run("the bare base domain is the service endpoint", func(t *testing.T) {
		out, err := vc.ListBuckets(ctx, &s3.ListBucketsInput{})
		mustOK(t, err)
		if len(out.Buckets) != 1 || aws.ToString(out.Buckets[0].Name) != bkt {
			t.Errorf("ListBuckets %v", out.Buckets)
		}
	})

	t.Run("minio-go DNS bucket lookup", func(t *testing.T) {
		minioHosts := &hostLog{rt: s.loopbackTransport()}
		mc, err := minio.New("localhost:"+port, &minio.Options{
			Creds: miniocreds.NewStaticV4(s.srv.AccessKey, s.srv.SecretKey, ""), Secure: true,
			Transport: minioHosts, Region: s.srv.Region, BucketLookup: minio.BucketLookupDNS,
		})
		mustOK(t, err)
		_, err = mc.PutObject(ctx, bkt, "from-minio", strings.NewReader("dns style"), 9, minio.PutObjectOptions{})
		mustOK(t, err)
		obj, err := mc.GetObject(ctx, bkt, "from-minio", minio.GetObjectOptions{})
		mustOK(t, err)
		got, err := io.ReadAll(obj)
		obj.Close()
		mustOK(t, err)
		if string(got) != "dns style" {
			t.Errorf("got %q", got)
		}
		if hosts := minioHosts.distinct(); !slices.Equal(hosts, []string{vhost}) {
			t.Errorf("requests went to %v, want only %s", hosts, vhost)
		}
	})
}

// hostLog is a RoundTripper that records the Host of every request.
type hostLog struct {
	rt    http.RoundTripper
	mu    sync.Mutex
	hosts []string
}

func (h *hostLog) RoundTrip(r *http.Request) (*http.Response, error) {
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	h.mu.Lock()
	h.hosts = append(h.hosts, host)
	h.mu.Unlock()
	return h.rt.RoundTrip(r)
}

// distinct returns the hosts seen, sorted and without repeats.
func (h *hostLog) distinct() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	hs := slices.Clone(h.hosts)
	slices.Sort(hs)
	return slices.Compact(hs)
}
