package s3api

import (
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/coffer-io/coffer/internal/checksum"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

func itoa(n int) string { return strconv.Itoa(n) }

func isLetterOrDigit(c rune) bool { return unicode.IsLetter(c) || unicode.IsDigit(c) }

// systemHeaders are the standard HTTP headers S3 stores with an object and
// returns on GET/HEAD.
var systemHeaders = []string{
	"Content-Type", "Cache-Control", "Content-Disposition", "Content-Encoding",
	"Content-Language", "Expires", "X-Amz-Website-Redirect-Location",
}

// maxUserMeta is S3's limit on user-defined metadata (keys plus values, in
// UTF-8 bytes).
const maxUserMeta = 2 << 10

// objectMetadata extracts stored headers and user metadata from a PUT,
// POST or CopyObject (REPLACE) request.
func objectMetadata(hdr http.Header) (map[string]string, map[string]string, error) {
	sys := map[string]string{}
	for _, k := range systemHeaders {
		if v := hdr.Get(k); v != "" {
			sys[k] = v
		}
	}
	if ce, ok := sys["Content-Encoding"]; ok {
		// aws-chunked describes the transfer, not the object.
		var keep []string
		for _, p := range strings.Split(ce, ",") {
			if p = strings.TrimSpace(p); p != "" && !strings.EqualFold(p, "aws-chunked") {
				keep = append(keep, p)
			}
		}
		if len(keep) == 0 {
			delete(sys, "Content-Encoding")
		} else {
			sys["Content-Encoding"] = strings.Join(keep, ",")
		}
	}
	if _, ok := sys["Content-Type"]; !ok {
		sys["Content-Type"] = "binary/octet-stream"
	}
	var user map[string]string
	size := 0
	for k, vs := range hdr {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "x-amz-meta-") {
			continue
		}
		name := lk[len("x-amz-meta-"):]
		if name == "" {
			return nil, nil, s3err.InvalidArgument.WithMessage("User metadata key must not be empty")
		}
		v := strings.Join(vs, ",")
		size += len(name) + len(v)
		if user == nil {
			user = map[string]string{}
		}
		user[name] = v
	}
	if size > maxUserMeta {
		return nil, nil, s3err.MetadataTooLarge.With("Size", itoa(size)).With("MaxSizeAllowed", itoa(maxUserMeta))
	}
	return sys, user, nil
}

// unsupportedObjectHeaders refuses headers that ask for features later
// work adds. Refusing beats accepting and ignoring them: a client asking
// for retention must never get a silent no. Encryption headers are read
// by parseWriteSSE (sse.go).
func unsupportedObjectHeaders(hdr http.Header, b *meta.Bucket) error {
	for _, h := range []string{"X-Amz-Request-Payer", "X-Amz-Write-Offset-Bytes"} {
		if v := hdr.Get(h); v != "" {
			return s3err.NotImplemented.With("Header", strings.ToLower(h))
		}
	}
	for _, h := range []string{"X-Amz-Object-Lock-Mode", "X-Amz-Object-Lock-Retain-Until-Date", "X-Amz-Object-Lock-Legal-Hold"} {
		if hdr.Get(h) != "" && !b.ObjectLockEnabled {
			return s3err.InvalidRequest.WithMessage("Bucket is missing Object Lock Configuration")
		}
	}
	if sc := hdr.Get("X-Amz-Storage-Class"); sc != "" && sc != "STANDARD" {
		switch sc {
		case "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS", "SNOW", "EXPRESS_ONEZONE":
			return s3err.NotImplemented.WithMessage("Coffer has a single storage class, STANDARD").With("Header", "x-amz-storage-class")
		}
		return s3err.InvalidStorageClass.With("StorageClassRequested", sc)
	}
	return nil
}

// expectedBucketOwner checks x-amz-expected-bucket-owner.
func expectedBucketOwner(hdr http.Header, name string, b *meta.Bucket) error {
	if v := hdr.Get(name); v != "" && b != nil && v != b.Owner {
		return s3err.AccessDenied
	}
	return nil
}

// parseTaggingHeader parses x-amz-tagging (URL query encoding).
func parseTaggingHeader(v string) (map[string]string, error) {
	if v == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(v)
	if err != nil {
		return nil, s3err.InvalidArgument.WithMessage("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
	}
	var tags []Tag
	for k, vs := range q {
		if len(vs) > 1 {
			return nil, s3err.InvalidTag.WithMessage("Cannot provide multiple Tags with the same key")
		}
		tags = append(tags, Tag{Key: k, Value: vs[0]})
	}
	return validateTags(tags, 10)
}

// contentMD5 parses Content-MD5 (nil if absent).
func contentMD5(hdr http.Header) ([]byte, error) {
	vs, ok := hdr["Content-Md5"]
	if !ok {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.Join(vs, ""))
	if err != nil || len(b) != md5.Size {
		return nil, s3err.InvalidDigest
	}
	return b, nil
}

// checksumRequest describes the additional checksum a write carries.
type checksumRequest struct {
	alg checksum.Algorithm
	// value is the expected digest from a header (nil if it comes in a
	// trailer or was not sent).
	value []byte
	// trailer is set when the value arrives in the aws-chunked trailer.
	trailer string
}

// parseChecksumRequest reads x-amz-checksum-*, x-amz-sdk-checksum-algorithm,
// x-amz-checksum-algorithm and x-amz-trailer.
func parseChecksumRequest(hdr http.Header) (*checksumRequest, error) {
	var cr checksumRequest
	n := 0
	for _, alg := range checksum.Algorithms() {
		v := hdr.Get(alg.HeaderName())
		if v == "" {
			continue
		}
		n++
		d, err := checksum.Decode(alg, v)
		if err != nil {
			return nil, s3err.InvalidRequest.WithMessage("Value for " + alg.HeaderName() + " header is invalid.")
		}
		cr.alg, cr.value = alg, d
	}
	if n > 1 {
		return nil, s3err.InvalidRequest.WithMessage("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	}
	if t := strings.TrimSpace(hdr.Get("X-Amz-Trailer")); t != "" {
		alg, ok := checksum.AlgorithmFromHeader(strings.ToLower(t))
		if !ok {
			return nil, s3err.InvalidRequest.WithMessage("The value specified in the x-amz-trailer header is not supported")
		}
		if n > 0 && alg != cr.alg {
			return nil, s3err.InvalidRequest.WithMessage("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		cr.alg, cr.trailer = alg, strings.ToLower(t)
	}
	for _, h := range []string{"X-Amz-Sdk-Checksum-Algorithm", "X-Amz-Checksum-Algorithm"} {
		v := hdr.Get(h)
		if v == "" {
			continue
		}
		alg, err := checksum.ParseAlgorithm(v)
		if err != nil {
			return nil, s3err.InvalidRequest.WithMessage("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
		if cr.alg != "" && cr.alg != alg {
			return nil, s3err.InvalidRequest.WithMessage("Value for x-amz-sdk-checksum-algorithm header is invalid.")
		}
		cr.alg = alg
	}
	if cr.alg == "" {
		return nil, nil
	}
	return &cr, nil
}

// verifyChecksums returns a WriteInput.Verify function that checks the
// Content-MD5 and the additional checksum (from a header or a trailer).
func verifyChecksums(md5want []byte, cr *checksumRequest, trailers func() map[string]string) func(h *checksum.MultiHasher) error {
	return func(h *checksum.MultiHasher) error {
		if md5want != nil && string(h.MD5()) != string(md5want) {
			return s3err.BadDigest.With("ExpectedDigest", base64.StdEncoding.EncodeToString(md5want)).
				With("CalculatedDigest", base64.StdEncoding.EncodeToString(h.MD5()))
		}
		if cr == nil {
			return nil
		}
		want := cr.value
		if cr.trailer != "" {
			if trailers == nil {
				return s3err.InvalidRequest.WithMessage("x-amz-trailer is only valid with an aws-chunked body")
			}
			v := trailers()[cr.trailer]
			if v == "" {
				return s3err.InvalidRequest.WithMessage("The trailer " + cr.trailer + " was declared but not sent")
			}
			d, err := checksum.Decode(cr.alg, v)
			if err != nil {
				return s3err.InvalidRequest.WithMessage("Value for " + cr.trailer + " trailing header is invalid.")
			}
			want = d
			cr.value = d
		}
		if want != nil && string(h.Sum(cr.alg)) != string(want) {
			return s3err.BadDigest.WithMessage("The " + string(cr.alg) + " you specified did not match the calculated checksum.")
		}
		return nil
	}
}

// httpTime formats a Last-Modified style time.
func httpTime(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// parseHTTPTime parses the date forms HTTP allows; ok is false for garbage,
// which S3 ignores in conditional headers.
func parseHTTPTime(s string) (time.Time, bool) {
	t, err := http.ParseTime(s)
	return t, err == nil
}
