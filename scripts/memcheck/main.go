// Command memcheck is the client half of scripts/memcheck.sh. It uploads
// a large object of deterministic pseudo-random bytes to an S3 endpoint
// and downloads it back, streaming both ways, so the script can watch the
// server's memory while a 1 GiB object goes through it. The client itself
// never holds more than a few buffers of the object.
//
// Usage:
//
//	memcheck upload   [flags] -size 1GiB [-mode put|multipart] [-part-size 64MiB] [-concurrency 4]
//	memcheck download [flags] -sha256 HEX
//	memcheck mkbucket [flags]
//	memcheck gen      -size 1GiB            (writes the object's bytes to stdout)
//	memcheck size     -size 1GiB            (prints the size in bytes)
//
// Common flags: -endpoint, -ca, -credentials, -profile, -region, -bucket,
// -key. upload creates the bucket if needed and prints the object's
// SHA-256 on stdout; download fails unless the body has that SHA-256.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/coffer-io/coffer/internal/awscreds"
)

// blockSize is the unit of the generated content: block i is ChaCha8
// output keyed by (seed, i), so any block-aligned range can be produced
// on its own, which lets parts be generated concurrently and
// independently of each other.
const blockSize = 1 << 20

// seed fixes the object's content; any value works, a fixed one makes
// runs comparable.
const seed = 0x636f66666572

// content reads n bytes of the object starting at off (block-aligned).
type content struct {
	pos, end int64
	blk      int64
	rng      *rand.ChaCha8
}

func newContent(off, n int64) *content {
	if off%blockSize != 0 {
		panic("content: unaligned offset")
	}
	return &content{pos: off, end: off + n, blk: -1}
}

func (c *content) Read(p []byte) (int, error) {
	if c.pos >= c.end {
		return 0, io.EOF
	}
	if b := c.pos / blockSize; b != c.blk {
		var key [32]byte
		binary.LittleEndian.PutUint64(key[0:], seed)
		binary.LittleEndian.PutUint64(key[8:], uint64(b))
		c.rng, c.blk = rand.NewChaCha8(key), b
	}
	n := min(int64(len(p)), (c.blk+1)*blockSize-c.pos, c.end-c.pos)
	c.rng.Read(p[:n])
	c.pos += n
	return int(n), nil
}

// onlyReader hides every method but Read (the SDK must not find a Seek
// and buffer or rewind the body: the point is to stream it).
type onlyReader struct{ io.Reader }

type options struct {
	endpoint, caFile, credFile, profile, region, bucket, key string
	size, partSize                                           int64
	mode, wantSum                                            string
	concurrency                                              int
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: memcheck upload|download|gen [flags]")
		os.Exit(2)
	}
	cmd := os.Args[1]
	var o options
	var size, partSize string
	fs := flag.NewFlagSet("memcheck "+cmd, flag.ExitOnError)
	fs.StringVar(&o.endpoint, "endpoint", "", "S3 endpoint URL (https://host:port)")
	fs.StringVar(&o.caFile, "ca", "", "CA bundle (PEM) trusted for the endpoint")
	fs.StringVar(&o.credFile, "credentials", "", "AWS shared credentials file")
	fs.StringVar(&o.profile, "profile", "default", "profile in the credentials file")
	fs.StringVar(&o.region, "region", "us-east-1", "region")
	fs.StringVar(&o.bucket, "bucket", "memcheck", "bucket")
	fs.StringVar(&o.key, "key", "big", "object key")
	fs.StringVar(&size, "size", "1GiB", "object size (bytes, or with KiB/MiB/GiB)")
	fs.StringVar(&o.mode, "mode", "put", "upload as one PUT (put) or as a multipart upload (multipart)")
	fs.StringVar(&partSize, "part-size", "64MiB", "multipart part size (a multiple of 1MiB, at least 5MiB)")
	fs.IntVar(&o.concurrency, "concurrency", 4, "multipart parts in flight")
	fs.StringVar(&o.wantSum, "sha256", "", "download: expected hex SHA-256")
	fs.Parse(os.Args[2:])
	var err error
	if o.size, err = parseSize(size); err == nil {
		o.partSize, err = parseSize(partSize)
	}
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	switch cmd {
	case "gen":
		_, err = io.Copy(os.Stdout, newContent(0, o.size))
	case "size":
		fmt.Println(o.size)
	case "mkbucket":
		var c *s3.Client
		if c, err = newClient(&o); err == nil {
			err = mkbucket(ctx, c, &o)
		}
	case "upload":
		err = upload(ctx, &o)
	case "download":
		err = download(ctx, &o)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "memcheck:", err)
	os.Exit(1)
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

func newClient(o *options) (*s3.Client, error) {
	if o.endpoint == "" || o.credFile == "" {
		return nil, errors.New("-endpoint and -credentials are required")
	}
	id, secret, _, err := awscreds.Load(o.credFile, o.profile)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificates", o.caFile)
		}
	}
	tr := &http.Transport{TLSClientConfig: tc, MaxIdleConnsPerHost: o.concurrency,
		WriteBufferSize: 64 << 10, ReadBufferSize: 64 << 10}
	return s3.New(s3.Options{
		Region:       o.region,
		BaseEndpoint: aws.String(o.endpoint),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, nil
		}),
		HTTPClient: &http.Client{Transport: tr},
		// Streamed bodies cannot be rewound, so a retry could not resend
		// them; a failure should surface anyway.
		Retryer: aws.NopRetryer{},
	}), nil
}

// mkbucket creates the bucket unless this account already has it.
func mkbucket(ctx context.Context, c *s3.Client, o *options) error {
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(o.bucket)}); err != nil {
		var owned *types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) {
			return fmt.Errorf("create bucket: %w", err)
		}
	}
	return nil
}

func upload(ctx context.Context, o *options) error {
	c, err := newClient(o)
	if err != nil {
		return err
	}
	if err := mkbucket(ctx, c, o); err != nil {
		return err
	}
	// The expected digest comes from a separate pass over the generator,
	// before the upload, so that hashing never competes with the
	// measured transfer and concurrent parts need no ordering.
	h := sha256.New()
	if _, err := io.Copy(h, newContent(0, o.size)); err != nil {
		return err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	start := time.Now()
	switch o.mode {
	case "put":
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key),
			Body: onlyReader{newContent(0, o.size)}, ContentLength: aws.Int64(o.size)})
	case "multipart":
		err = multipart(ctx, c, o)
	default:
		err = fmt.Errorf("unknown mode %q", o.mode)
	}
	if err != nil {
		return fmt.Errorf("upload (%s): %w", o.mode, err)
	}
	report("upload "+o.mode, o.size, time.Since(start))
	fmt.Println(sum)
	return nil
}

func multipart(ctx context.Context, c *s3.Client, o *options) error {
	if o.partSize < 5<<20 || o.partSize%blockSize != 0 {
		return fmt.Errorf("part size %d: want a multiple of 1MiB, at least 5MiB", o.partSize)
	}
	cu, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key)})
	if err != nil {
		return err
	}
	id := cu.UploadId
	nparts := int((o.size + o.partSize - 1) / o.partSize)
	if nparts == 0 {
		nparts = 1 // an empty object is one empty part
	}
	var (
		mu    sync.Mutex
		done  []types.CompletedPart
		first error
		next  = make(chan int)
		wg    sync.WaitGroup
	)
	for range max(1, o.concurrency) {
		wg.Go(func() {
			for i := range next {
				off := int64(i) * o.partSize
				n := min(o.partSize, o.size-off)
				out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key),
					UploadId: id, PartNumber: aws.Int32(int32(i + 1)), Body: onlyReader{newContent(off, n)}, ContentLength: aws.Int64(n)})
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("part %d: %w", i+1, err)
				} else if err == nil {
					done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag,
						ChecksumCRC32: out.ChecksumCRC32, ChecksumCRC32C: out.ChecksumCRC32C, ChecksumCRC64NVME: out.ChecksumCRC64NVME})
				}
				mu.Unlock()
			}
		})
	}
	for i := range nparts {
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		c.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key), UploadId: id})
		return first
	}
	sort.Slice(done, func(a, b int) bool { return *done[a].PartNumber < *done[b].PartNumber })
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key),
		UploadId: id, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	return err
}

func download(ctx context.Context, o *options) error {
	c, err := newClient(o)
	if err != nil {
		return err
	}
	start := time.Now()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key)})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, out.Body, make([]byte, 256<<10))
	if err != nil {
		return fmt.Errorf("download: after %d bytes: %w", n, err)
	}
	report("download", n, time.Since(start))
	sum := hex.EncodeToString(h.Sum(nil))
	fmt.Println(sum)
	if o.wantSum != "" && sum != o.wantSum {
		return fmt.Errorf("SHA-256 mismatch: downloaded %s, uploaded %s", sum, o.wantSum)
	}
	return nil
}

func report(what string, n int64, d time.Duration) {
	fmt.Fprintf(os.Stderr, "memcheck: %s: %d bytes in %v (%.0f MiB/s)\n", what, n, d.Round(time.Millisecond), float64(n)/(1<<20)/d.Seconds())
}
