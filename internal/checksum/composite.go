package checksum

import (
	"fmt"
	"strconv"
	"strings"
)

// Composite returns the S3 COMPOSITE checksum of a multipart upload:
// base64(H(d1‖d2‖…‖dN)) + "-" + N, where di are the raw part digests in part
// order (as returned by Sum or Decode). S3 uploads always have at least one
// part. It panics if alg is not Valid.
func Composite(alg Algorithm, partDigests [][]byte) string {
	h := New(alg)
	for _, d := range partDigests {
		h.Write(d)
	}
	return Encode(h.Sum(nil)) + "-" + strconv.Itoa(len(partDigests))
}

// ParseComposite splits a COMPOSITE checksum value "b64-N" into the decoded
// checksum-of-checksums and the part count N (>= 1).
func ParseComposite(alg Algorithm, s string) ([]byte, int, error) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		return nil, 0, fmt.Errorf("%w: composite %s value lacks part count", ErrInvalidChecksum, alg)
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil || n < 1 || s[i+1] == '+' {
		return nil, 0, fmt.Errorf("%w: composite %s value has bad part count", ErrInvalidChecksum, alg)
	}
	d, err := Decode(alg, s[:i])
	if err != nil {
		return nil, 0, err
	}
	return d, n, nil
}
