package sigv4

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"
)

// Parse (and Verify, for whatever parses) never panics on arbitrary
// Authorization headers, queries, paths and dates.
func FuzzParse(f *testing.F) {
	f.Add(goodHeader, "", "/k", "20130524T000000Z", EmptySHA256)
	f.Add("", presignQ, "/test.txt", "", "")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=;;,Signature=", "a=%zz&&=&b", "/%", "x", UnsignedPayload)
	f.Add("AWS AKID:sig", "AWSAccessKeyId=a&Signature=b", "", "", StreamingPayload)
	f.Add("", "X-Amz-Expires=99999999999999999999&X-Amz-Algorithm=AWS4-HMAC-SHA256", "/a/../b", "20130524T000000Z", "")
	f.Fuzz(func(t *testing.T, authz, rawQuery, path, date, sha string) {
		r := &Request{Method: "PUT", Host: "h", EscapedPath: path, RawQuery: rawQuery, Header: http.Header{}}
		if authz != "" {
			r.Header["Authorization"] = []string{authz}
		}
		if date != "" {
			r.Header["X-Amz-Date"] = []string{date}
		}
		if sha != "" {
			r.Header["X-Amz-Content-Sha256"] = []string{sha}
		}
		a, err := Parse(r)
		if err != nil {
			if errCode(err) == "?" {
				t.Fatalf("Parse returned a non-S3 error: %v", err)
			}
			return
		}
		_ = a.CheckScope("us-east-1", "s3")
		if a.Kind != Anonymous {
			if a.PayloadHash == "" {
				a.PayloadHash = EmptySHA256
			}
			if _, err := Verify(r, a, "secret", exampleTime); err == nil {
				t.Fatalf("random request verified: %+v", r)
			}
		}
	})
}

// The chunked reader never panics and never returns more than decodedLen
// bytes, whatever the body; it only fails with S3 errors.
func FuzzChunkedReader(f *testing.F) {
	v := testVerified(exampleSecret, exampleTime, "us-east-1", testSeed)
	// Small seeds: the fuzzer minimizes every new input, and large ones make
	// that dominate the run.
	data := testData(300)
	f.Add(newEncoder(v).encode(data, 8192, nil), byte(0), int64(300), uint16(4096))
	f.Add(newEncoder(v).encode(data, 8192, []string{"x-amz-checksum-crc32", "AAAAAA=="}), byte(1), int64(300), uint16(7))
	f.Add(newEncoder(nil).encode(data, 100, []string{"x-amz-checksum-crc32", "AAAAAA=="}), byte(2), int64(-1), uint16(1))
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"), byte(2), int64(5), uint16(3))
	f.Add([]byte("fffffffffffffff\r\n"), byte(2), int64(-1), uint16(100))
	f.Add([]byte("0;chunk-signature="+testSeed+"\r\n\r\n"), byte(0), int64(0), uint16(10))
	f.Fuzz(func(t *testing.T, body []byte, mode byte, decodedLen int64, readSize uint16) {
		modes := []string{StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedPayloadTrailer}
		m := modes[int(mode)%len(modes)]
		cr := NewChunkedReader(bytes.NewReader(body), m, v, decodedLen, []string{"x-amz-checksum-crc32"})
		buf := make([]byte, 1+int(readSize)%8192)
		var total int64
		var err error
		for {
			var n int
			n, err = cr.Read(buf)
			if n < 0 || n > len(buf) {
				t.Fatalf("Read returned %d", n)
			}
			total += int64(n)
			if decodedLen >= 0 && total > decodedLen {
				t.Fatalf("returned %d bytes, decodedLen is %d", total, decodedLen)
			}
			if err != nil {
				break
			}
		}
		if err == io.EOF {
			if decodedLen >= 0 && total != decodedLen {
				t.Fatalf("EOF after %d bytes, decodedLen is %d", total, decodedLen)
			}
			return
		}
		if errCode(err) == "?" {
			t.Fatalf("non-S3 error: %v", err)
		}
	})
}

// Verifying a chunk must not allocate: the reader's allocations do not
// depend on the number of chunks.
func TestChunkedReaderAllocations(t *testing.T) {
	v := testVerified(exampleSecret, exampleTime, "us-east-1", testSeed)
	allocs := func(chunks int) float64 {
		body := newEncoder(v).encode(testData(chunks*8192), 8192, []string{"x-amz-checksum-crc32", "AAAAAA=="})
		buf := make([]byte, 32<<10)
		rd := bytes.NewReader(body)
		return testing.AllocsPerRun(20, func() {
			rd.Reset(body)
			cr := NewChunkedReader(rd, StreamingPayloadTrailer, v, -1, []string{"x-amz-checksum-crc32"})
			if _, err := io.CopyBuffer(io.Discard, onlyReader{cr}, buf); err != nil {
				t.Fatal(err)
			}
		})
	}
	few, many := allocs(4), allocs(128)
	if many > few {
		t.Fatalf("%v allocations for 4 chunks, %v for 128: per-chunk allocations", few, many)
	}
	t.Logf("%v allocations per body", many)
}

// onlyReader hides WriterTo/ReaderFrom so io.CopyBuffer uses our buffer.
type onlyReader struct{ io.Reader }

func benchmarkChunked(b *testing.B, mode string, chunk int) {
	v := testVerified(exampleSecret, exampleTime, "us-east-1", testSeed)
	const size = 16 << 20
	var sv *Verified
	if mode != StreamingUnsignedPayloadTrailer {
		sv = v
	}
	body := newEncoder(sv).encode(testData(size), chunk, []string{"x-amz-checksum-crc32", "AAAAAA=="})
	buf := make([]byte, 32<<10)
	rd := bytes.NewReader(body)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		cr := NewChunkedReader(rd, mode, sv, size, []string{"x-amz-checksum-crc32"})
		n, err := io.CopyBuffer(io.Discard, onlyReader{cr}, buf)
		if err != nil || n != size {
			b.Fatal(n, err)
		}
	}
}

// 16 MiB in 64 KiB chunks, the PUT hot path.
func BenchmarkChunkedReaderSigned(b *testing.B) { benchmarkChunked(b, StreamingPayloadTrailer, 64<<10) }
func BenchmarkChunkedReaderUnsigned(b *testing.B) {
	benchmarkChunked(b, StreamingUnsignedPayloadTrailer, 64<<10)
}

// For comparison: hashing alone, the floor of the signed mode.
func BenchmarkPayloadVerifier(b *testing.B) {
	const size = 16 << 20
	data := testData(size)
	sum := HashHex(data)
	buf := make([]byte, 32<<10)
	rd := bytes.NewReader(data)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(data)
		if _, err := io.CopyBuffer(io.Discard, onlyReader{NewPayloadVerifier(rd, sum)}, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyHeader(b *testing.B) {
	r := rawRequest("PUT", "bucket.s3.example.com", "/some/key.bin?partNumber=3&uploadId=xyz",
		"Content-Type", "application/octet-stream", "X-Amz-Meta-A", "1")
	SignRequest(r, exampleAKID, exampleSecret, "us-east-1", "s3", UnsignedPayload, exampleTime)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseAndVerify(r, exampleSecret, exampleTime.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
}
