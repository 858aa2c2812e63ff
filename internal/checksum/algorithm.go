package checksum

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"strconv"
	"strings"
)

// Algorithm names an S3 checksum algorithm. Values are the upper-case names
// S3 uses in x-amz-checksum-algorithm and in ChecksumAlgorithm XML elements.
type Algorithm string

// The checksum algorithms S3 supports.
const (
	CRC32     Algorithm = "CRC32"
	CRC32C    Algorithm = "CRC32C"
	CRC64NVME Algorithm = "CRC64NVME"
	SHA1      Algorithm = "SHA1"
	SHA256    Algorithm = "SHA256"
)

// numAlgorithms sizes the per-algorithm arrays; index() maps into them.
const numAlgorithms = 5

var allAlgorithms = [numAlgorithms]Algorithm{CRC32, CRC32C, CRC64NVME, SHA1, SHA256}

// Errors returned by this package. Callers map them to S3 error codes
// (typically InvalidRequest or BadDigest).
var (
	ErrUnknownAlgorithm = errors.New("checksum: unknown algorithm")
	ErrInvalidChecksum  = errors.New("checksum: invalid checksum value")
	ErrNotCombinable    = errors.New("checksum: algorithm cannot be combined")
	ErrUnknownType      = errors.New("checksum: unknown checksum type")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Algorithms returns every supported algorithm in a stable order.
func Algorithms() []Algorithm {
	out := make([]Algorithm, numAlgorithms)
	copy(out, allAlgorithms[:])
	return out
}

// ParseAlgorithm parses an algorithm name case-insensitively, as S3 does for
// x-amz-checksum-algorithm and x-amz-sdk-checksum-algorithm.
func ParseAlgorithm(s string) (Algorithm, error) {
	for _, a := range allAlgorithms {
		if strings.EqualFold(s, string(a)) {
			return a, nil
		}
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownAlgorithm, s)
}

const headerPrefix = "x-amz-checksum-"

// AlgorithmFromHeader reports which algorithm a header such as
// "X-Amz-Checksum-Crc32c" carries. Other x-amz-checksum-* headers
// (-algorithm, -type, -mode) and unrelated headers return false.
func AlgorithmFromHeader(name string) (Algorithm, bool) {
	if len(name) <= len(headerPrefix) || !strings.EqualFold(name[:len(headerPrefix)], headerPrefix) {
		return "", false
	}
	a, err := ParseAlgorithm(name[len(headerPrefix):])
	return a, err == nil
}

// index returns the algorithm's slot in per-algorithm arrays, or -1.
func (a Algorithm) index() int {
	switch a {
	case CRC32:
		return 0
	case CRC32C:
		return 1
	case CRC64NVME:
		return 2
	case SHA1:
		return 3
	case SHA256:
		return 4
	}
	return -1
}

// Valid reports whether a is one of the supported algorithm constants.
func (a Algorithm) Valid() bool { return a.index() >= 0 }

// String returns the canonical name.
func (a Algorithm) String() string { return string(a) }

// Size returns the digest length in bytes, or 0 for an unknown algorithm.
func (a Algorithm) Size() int {
	switch a {
	case CRC32, CRC32C:
		return 4
	case CRC64NVME:
		return 8
	case SHA1:
		return sha1.Size
	case SHA256:
		return sha256.Size
	}
	return 0
}

// IsCRC reports whether a is a CRC, i.e. supports Combine and FULL_OBJECT.
func (a Algorithm) IsCRC() bool { return a == CRC32 || a == CRC32C || a == CRC64NVME }

// HeaderName returns the lower-case header carrying this checksum, e.g.
// "x-amz-checksum-crc32c", or "" for an unknown algorithm.
func (a Algorithm) HeaderName() string {
	switch a {
	case CRC32:
		return "x-amz-checksum-crc32"
	case CRC32C:
		return "x-amz-checksum-crc32c"
	case CRC64NVME:
		return "x-amz-checksum-crc64nvme"
	case SHA1:
		return "x-amz-checksum-sha1"
	case SHA256:
		return "x-amz-checksum-sha256"
	}
	return ""
}

// HeaderName is a function form of Algorithm.HeaderName.
func HeaderName(alg Algorithm) string { return alg.HeaderName() }

// New returns a fresh hash for alg. Sum appends the big-endian digest, which
// is what S3 base64-encodes. It panics if alg is not Valid.
func New(alg Algorithm) hash.Hash {
	switch alg {
	case CRC32:
		return crc32.NewIEEE()
	case CRC32C:
		return crc32.New(castagnoli)
	case CRC64NVME:
		return newCRC64NVME()
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	}
	panic("checksum: New called with unknown algorithm " + strconv.Quote(string(alg)))
}

// Encode returns the S3 wire form of a digest: standard padded base64.
func Encode(digest []byte) string {
	return base64.StdEncoding.EncodeToString(digest)
}

// Decode parses the wire form of an alg digest. It rejects unknown
// algorithms, wrong lengths, and anything but canonical padded base64
// (including embedded newlines, which encoding/base64 would otherwise skip).
func Decode(alg Algorithm, s string) ([]byte, error) {
	size := alg.Size()
	if size == 0 {
		return nil, fmt.Errorf("%w: %q", ErrUnknownAlgorithm, alg)
	}
	if len(s) != base64.StdEncoding.EncodedLen(size) || strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("%w: %s value has wrong length", ErrInvalidChecksum, alg)
	}
	out := make([]byte, size)
	n, err := base64.StdEncoding.Strict().Decode(out, []byte(s))
	if err != nil || n != size {
		return nil, fmt.Errorf("%w: %s value is not valid base64", ErrInvalidChecksum, alg)
	}
	return out, nil
}

// Type is an S3 checksum type (x-amz-checksum-type).
type Type string

// The checksum types S3 supports for multipart uploads. Single-part objects
// are always FULL_OBJECT.
const (
	TypeComposite  Type = "COMPOSITE"
	TypeFullObject Type = "FULL_OBJECT"
)

// ParseType parses a checksum type case-insensitively.
func ParseType(s string) (Type, error) {
	switch {
	case strings.EqualFold(s, string(TypeComposite)):
		return TypeComposite, nil
	case strings.EqualFold(s, string(TypeFullObject)):
		return TypeFullObject, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownType, s)
}

// SupportsType reports whether S3 allows a multipart upload with alg and t:
// CRC64NVME is FULL_OBJECT only, SHA1/SHA256 are COMPOSITE only, and CRC32 and
// CRC32C allow both.
func SupportsType(alg Algorithm, t Type) bool {
	switch t {
	case TypeFullObject:
		return alg.IsCRC()
	case TypeComposite:
		return alg.Valid() && alg != CRC64NVME
	}
	return false
}

// DefaultType is the multipart checksum type S3 uses when the client names
// an algorithm but no type: FULL_OBJECT for CRC64NVME, COMPOSITE otherwise.
func DefaultType(alg Algorithm) Type {
	if alg == CRC64NVME {
		return TypeFullObject
	}
	return TypeComposite
}
