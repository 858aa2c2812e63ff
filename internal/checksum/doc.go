// Package checksum implements the S3 object-integrity checksum family for
// the Coffer server: CRC32, CRC32C, CRC64NVME, SHA1 and SHA256, in the wire
// forms S3 uses (base64 of the big-endian digest, carried in
// x-amz-checksum-<alg> headers and in XML bodies).
//
// The package is pure computation: it knows nothing about HTTP or storage.
//
// # Algorithms
//
//	type Algorithm string // CRC32, CRC32C, CRC64NVME, SHA1, SHA256
//	func ParseAlgorithm(s string) (Algorithm, error) // case-insensitive
//	func AlgorithmFromHeader(name string) (Algorithm, bool)
//	func Algorithms() []Algorithm
//	func HeaderName(alg Algorithm) string // == alg.HeaderName()
//	func (Algorithm) Valid() bool
//	func (Algorithm) Size() int           // digest bytes
//	func (Algorithm) IsCRC() bool         // combinable / FULL_OBJECT-capable
//	func (Algorithm) HeaderName() string // "x-amz-checksum-crc32", ...
//	func New(alg Algorithm) hash.Hash   // panics on an invalid Algorithm
//
// An Algorithm that did not come from ParseAlgorithm or the constants should
// be checked with Valid before it is passed to New or Composite; those panic
// on unknown algorithms because every other caller would have to handle an
// error that can only be a programming mistake.
//
// # Wire encoding
//
//	func Encode(digest []byte) string
//	func Decode(alg Algorithm, s string) ([]byte, error) // ErrInvalidChecksum
//
// Decode is strict: it accepts only the canonical padded base64 of a digest
// of exactly alg.Size() bytes, so a header value that decodes successfully
// can be compared byte-for-byte with a computed digest.
//
// # Multipart uploads
//
// S3 has two multipart checksum types (x-amz-checksum-type):
//
//	type Type string // COMPOSITE, FULL_OBJECT
//	func ParseType(s string) (Type, error)
//	func DefaultType(alg Algorithm) Type
//	func SupportsType(alg Algorithm, t Type) bool
//
// COMPOSITE is a checksum of the part checksums, suffixed with the part count:
//
//	func Composite(alg Algorithm, partDigests [][]byte) string // "b64-N"
//	func ParseComposite(alg Algorithm, s string) ([]byte, int, error)
//
// FULL_OBJECT (CRCs only) is the CRC of the whole object, derived from the part
// CRCs and lengths without rereading data:
//
//	type Part struct{ Checksum []byte; Size int64 }
//	func Combine(alg Algorithm, crcA, crcB []byte, lenB int64) ([]byte, error)
//	func CombineAll(alg Algorithm, parts []Part) ([]byte, error)
//
// Combining SHA digests is impossible and returns ErrNotCombinable.
//
// # Errors
//
// ErrUnknownAlgorithm, ErrInvalidChecksum, ErrNotCombinable and
// ErrUnknownType are sentinels (match with errors.Is); the server maps them
// to S3 error codes such as InvalidRequest.
//
// # Streaming
//
//	func NewMultiHasher(algs ...Algorithm) (*MultiHasher, error)
//	func (*MultiHasher) Write(p []byte) (int, error) // never fails, 0 allocs
//	func (*MultiHasher) MD5() []byte                 // for the ETag
//	func (*MultiHasher) Sum(alg Algorithm) []byte    // nil if not enabled
//	func (*MultiHasher) Checksum(alg Algorithm) string
//	func (*MultiHasher) Has(alg Algorithm) bool
//	func (*MultiHasher) Algorithms() []Algorithm
//	func (*MultiHasher) Size() int64
//	func (*MultiHasher) Reset()
//
// A MultiHasher computes MD5 plus any set of checksums in one pass. It is not
// safe for concurrent use; it does not retain the slices passed to Write, so
// a server that wants hashing off the disk-write path can hand filled buffers
// to a dedicated hashing goroutine and recycle each buffer once both the
// hasher and the disk writer have returned from Write.
package checksum
