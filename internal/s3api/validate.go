package s3api

import (
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

// validBucketName applies AWS's general-purpose bucket naming rules. Every
// rule is checked for every request, so a name that could never have been
// created is rejected before any lookup.
func validBucketName(name string, creating bool) error {
	bad := s3err.InvalidBucketName.With("BucketName", name)
	if len(name) < 3 || len(name) > 63 {
		return bad
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return bad
	}
	if strings.Contains(name, "..") || strings.Contains(name, ".-") || strings.Contains(name, "-.") {
		return bad
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return bad
	}
	if creating {
		for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
			if strings.HasPrefix(name, p) {
				return bad
			}
		}
		for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
			if strings.HasSuffix(name, s) {
				return bad
			}
		}
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// maxKeyLen is S3's limit on object key length in bytes.
const maxKeyLen = 1024

// validKey checks an object key. Beyond S3's length limit, Coffer refuses
// keys that are not valid UTF-8, that contain NUL or other C0 control
// characters, and keys with "." or ".." path segments: such keys cannot be
// represented faithfully by common clients (they normalise or reject them)
// and are a classic source of path-traversal bugs in tools that mirror
// buckets to disk. This is a documented deviation from AWS.
func validKey(key string) error {
	if key == "" {
		return s3err.InvalidArgument.WithMessage("Object key must not be empty").With("ArgumentName", "key")
	}
	if len(key) > maxKeyLen {
		return s3err.KeyTooLong.With("MaxSizeAllowed", "1024").With("Size", itoa(len(key)))
	}
	if !utf8.ValidString(key) {
		return s3err.InvalidArgument.WithMessage("Object key is not valid UTF-8").With("ArgumentName", "key")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 && key[i] != '\t' && key[i] != '\n' && key[i] != '\r' {
			return s3err.InvalidArgument.WithMessage("Object key contains a control character").With("ArgumentName", "key")
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." {
			return s3err.InvalidArgument.WithMessage("Object key contains a '.' or '..' path segment").With("ArgumentName", "key")
		}
	}
	return nil
}
