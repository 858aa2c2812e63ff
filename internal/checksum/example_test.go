package checksum_test

import (
	"fmt"
	"strings"

	"github.com/coffer-io/coffer/internal/checksum"
)

// A PutObject handler hashes the body once for the ETag and the requested
// checksum, then compares with the client's header value.
func ExampleMultiHasher() {
	alg, _ := checksum.ParseAlgorithm("crc32c") // x-amz-sdk-checksum-algorithm
	want, _ := checksum.Decode(alg, "yZRlqg==") // x-amz-checksum-crc32c

	m, _ := checksum.NewMultiHasher(alg)
	m.Write([]byte("hello world"))

	fmt.Printf("ETag %x\n", m.MD5())
	fmt.Println(alg.HeaderName(), m.Checksum(alg), string(m.Sum(alg)) == string(want))
	// Output:
	// ETag 5eb63bbbe01eeed093cb22bb8f5acdc3
	// x-amz-checksum-crc32c yZRlqg== true
}

// CompleteMultipartUpload derives the object checksum from the parts.
func ExampleCombineAll() {
	parts := []string{"hello", " ", "world"}
	var full []checksum.Part
	var digests [][]byte
	for _, p := range parts {
		h := checksum.New(checksum.CRC32)
		h.Write([]byte(p))
		full = append(full, checksum.Part{Checksum: h.Sum(nil), Size: int64(len(p))})
		digests = append(digests, h.Sum(nil))
	}
	whole, _ := checksum.CombineAll(checksum.CRC32, full)
	fmt.Println("FULL_OBJECT", checksum.Encode(whole))
	fmt.Println("COMPOSITE  ", strings.HasSuffix(checksum.Composite(checksum.CRC32, digests), "-3"))
	// Output:
	// FULL_OBJECT DUoRhQ==
	// COMPOSITE   true
}
