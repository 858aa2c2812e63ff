package sigv4

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

const testSeed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"

func testData(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func decodeAll(body []byte, mode string, v *Verified, decodedLen int64, declared []string) ([]byte, *ChunkedReader, error) {
	cr := NewChunkedReader(bytes.NewReader(body), mode, v, decodedLen, declared)
	out, err := io.ReadAll(cr)
	return out, cr, err
}

func TestChunkedValidBodies(t *testing.T) {
	v := testVerified(exampleSecret, exampleTime, "us-east-1", testSeed)
	crc := []string{"x-amz-checksum-crc32"}
	tests := []struct {
		name     string
		mode     string
		size     int // data length
		chunk    int // chunk size
		trailers []string
	}{
		{"signed empty", StreamingPayload, 0, 8192, nil},
		{"signed one byte", StreamingPayload, 1, 8192, nil},
		{"signed 8KiB chunks", StreamingPayload, 5*8192 + 17, 8192, nil},
		{"signed 64KiB chunks", StreamingPayload, 1 << 20, 64 << 10, nil},
		{"signed 5MiB chunk", StreamingPayload, 5<<20 + 3, 5 << 20, nil},
		{"signed trailer", StreamingPayloadTrailer, 100_000, 64 << 10, []string{"x-amz-checksum-crc32", "AAAAAA=="}},
		{"signed trailer, empty body", StreamingPayloadTrailer, 0, 64 << 10, []string{"x-amz-checksum-crc32", "AAAAAA=="}},
		{"unsigned 1-byte chunks", StreamingUnsignedPayloadTrailer, 2000, 1, []string{"x-amz-checksum-crc32", "AAAAAA=="}},
		{"unsigned 3MiB chunks", StreamingUnsignedPayloadTrailer, 7 << 20, 3 << 20, []string{"x-amz-checksum-crc32", "AAAAAA=="}},
		{"unsigned without trailer", StreamingUnsignedPayloadTrailer, 5000, 1000, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := testData(tt.size)
			var sv *Verified
			if tt.mode != StreamingUnsignedPayloadTrailer {
				sv = v
			}
			body := newEncoder(sv).encode(data, tt.chunk, tt.trailers)
			var declared []string
			if tt.trailers != nil {
				declared = crc[:len(tt.trailers)/2]
			}
			if tt.mode == StreamingUnsignedPayloadTrailer && tt.trailers == nil {
				body = newEncoder(nil).encode(data, tt.chunk, []string{})
			}

			got, cr, err := decodeAll(body, tt.mode, sv, int64(len(data)), declared)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("decoded %d bytes, want %d", len(got), len(data))
			}
			if tt.trailers != nil && cr.Trailers()[tt.trailers[0]] != tt.trailers[1] {
				t.Fatalf("trailers %v", cr.Trailers())
			}
			// Undefined length, and byte-at-a-time reads on both sides.
			if tt.size < 1<<20 {
				cr := NewChunkedReader(iotest.OneByteReader(bytes.NewReader(body)), tt.mode, sv, -1, declared)
				got, err := io.ReadAll(iotest.OneByteReader(cr))
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("one byte at a time: %d bytes, %v", len(got), err)
				}
				cr = NewChunkedReader(bytes.NewReader(body), tt.mode, sv, int64(len(data)), declared)
				if err := iotest.TestReader(cr, data); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// Encoders disagree on where blank lines go in the trailer section.
func TestChunkedTrailerLayouts(t *testing.T) {
	v := testVerified(exampleSecret, exampleTime, "us-east-1", testSeed)
	data := testData(9000)
	e := newEncoder(v)
	var head bytes.Buffer
	e.chunk(&head, data, false)
	e.chunk(&head, nil, true)
	var tr bytes.Buffer
	e.trailer(&tr, "x-amz-checksum-sha256", "ZmFrZQ==")
	sigLine := tr.String()[strings.Index(tr.String(), "x-amz-trailer-signature"):]
	sigLine = strings.TrimSuffix(sigLine, "\r\n\r\n")

	signed := map[string]string{
		"canonical":          "x-amz-checksum-sha256:ZmFrZQ==\r\n" + sigLine + "\r\n\r\n",
		"minio-go":           "x-amz-checksum-sha256:ZmFrZQ==\n\r\n" + sigLine + "\r\n\r\n",
		"blank line first":   "\r\nx-amz-checksum-sha256:ZmFrZQ==\n" + sigLine + "\r\n\r\n",
		"no final blank":     "x-amz-checksum-sha256:ZmFrZQ==\r\n" + sigLine + "\r\n",
		"spaces around ':'":  "x-amz-checksum-sha256 : ZmFrZQ==\r\n" + sigLine + "\r\n\r\n",
		"extra final CRLFs ": "x-amz-checksum-sha256:ZmFrZQ==\r\n" + sigLine + "\r\n\r\n\r\n",
	}
	for name, trailer := range signed {
		t.Run("signed "+name, func(t *testing.T) {
			body := append(bytes.Clone(head.Bytes()), trailer...)
			_, cr, err := decodeAll(body, StreamingPayloadTrailer, v, int64(len(data)), []string{"x-amz-checksum-sha256"})
			if err != nil {
				t.Fatal(err)
			}
			if cr.Trailers()["x-amz-checksum-sha256"] != "ZmFrZQ==" {
				t.Fatalf("trailers %v", cr.Trailers())
			}
		})
	}

	var uhead bytes.Buffer
	u := newEncoder(nil)
	u.chunk(&uhead, data, false)
	u.chunk(&uhead, nil, true)
	unsigned := map[string]string{
		"botocore":         "x-amz-checksum-crc32:AAAAAA==\r\n\r\n",
		"minio-go":         "x-amz-checksum-crc32:AAAAAA==\n\r\n\r\n",
		"blank line first": "\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
		"no final blank":   "x-amz-checksum-crc32:AAAAAA==\r\n",
		"uppercase name":   "X-Amz-Checksum-Crc32:AAAAAA==\r\n\r\n",
	}
	for name, trailer := range unsigned {
		t.Run("unsigned "+name, func(t *testing.T) {
			body := append(bytes.Clone(uhead.Bytes()), trailer...)
			_, cr, err := decodeAll(body, StreamingUnsignedPayloadTrailer, nil, int64(len(data)), []string{"x-amz-checksum-crc32"})
			if err != nil {
				t.Fatal(err)
			}
			if cr.Trailers()["x-amz-checksum-crc32"] != "AAAAAA==" {
				t.Fatalf("trailers %v", cr.Trailers())
			}
		})
	}
}

func TestChunkedMalformed(t *testing.T) {
	v := testVerified(exampleSecret, exampleTime, "us-east-1", testSeed)
	data := testData(3*8192 + 500)
	good := newEncoder(v).encode(data, 8192, nil)
	goodTrailer := newEncoder(v).encode(data, 8192, []string{"x-amz-checksum-crc32", "AAAAAA=="})
	unsigned := newEncoder(nil).encode(data, 8192, []string{"x-amz-checksum-crc32", "AAAAAA=="})
	firstSig := bytes.Index(good, []byte("chunk-signature=")) + len("chunk-signature=")
	secondHdr := 8192 + bytes.Index(good[8192:], []byte("\r\n2000;")) + 2
	finalHdr := bytes.LastIndex(good, []byte("0;chunk-signature="))
	trailerSig := bytes.Index(goodTrailer, []byte("x-amz-trailer-signature:")) + len("x-amz-trailer-signature:")

	replace := func(b []byte, at int, s string) []byte {
		c := bytes.Clone(b)
		copy(c[at:], s)
		return c
	}
	splice := func(b []byte, at, drop int, s string) []byte {
		return append(append(bytes.Clone(b[:at]), s...), b[at+drop:]...)
	}
	small := newEncoder(v)
	var smallBody bytes.Buffer
	small.chunk(&smallBody, data[:100], false)
	small.chunk(&smallBody, data[100:9000], false)
	small.chunk(&smallBody, nil, true)
	smallBody.WriteString("\r\n")
	const rawChunk = 4 + len(";chunk-signature=") + 64 + 2 + 8192 + 2
	swapped := append(append(bytes.Clone(good[rawChunk:2*rawChunk]), good[:rawChunk]...), good[2*rawChunk:]...)

	tests := []struct {
		name       string
		body       []byte
		mode       string
		decodedLen int64
		declared   []string
		code       string
		is         error
	}{
		{"bad chunk signature", replace(good, firstSig, "0000"), StreamingPayload, -1, nil, "SignatureDoesNotMatch", nil},
		{"bad data byte", replace(good, firstSig+70, "\x00\x01"), StreamingPayload, -1, nil, "SignatureDoesNotMatch", nil},
		{"chunks in the wrong order", swapped, StreamingPayload, -1, nil, "SignatureDoesNotMatch", nil},
		{"bad final signature", replace(good, finalHdr+len("0;chunk-signature="), "ff"), StreamingPayload, -1, nil, "SignatureDoesNotMatch", nil},
		{"uppercase signature", replace(good, firstSig, strings.ToUpper(string(good[firstSig:firstSig+64]))), StreamingPayload, -1, nil, "IncompleteBody", ErrIncompleteBody},
		{"bad hex size", replace(good, 0, "zzzz"), StreamingPayload, -1, nil, "IncompleteBody", ErrIncompleteBody},
		{"size with too many digits", append([]byte("0000000000000002000"), good[4:]...), StreamingPayload, -1, nil, "IncompleteBody", ErrIncompleteBody},
		{"empty size", good[4:], StreamingPayload, -1, nil, "IncompleteBody", ErrIncompleteBody},
		{"missing chunk-signature", splice(good, 4, 81, ""), StreamingPayload, -1, nil, "IncompleteBody", ErrIncompleteBody},
		{"bare LF after header", splice(good, 4+81, 1, ""), StreamingPayload, -1, nil, "IncompleteBody", ErrIncompleteBody},
		{"oversized chunk line", append([]byte("2000;"+strings.Repeat("x", 300)+"\r\n"), good...), StreamingPayload, -1, nil, "IncompleteBody", ErrIncompleteBody},
		{"endless chunk line", bytes.Repeat([]byte("1"), 10000), StreamingPayload, -1, nil, "IncompleteBody", ErrIncompleteBody},
		{"missing CRLF after data", splice(good, secondHdr-2, 2, ""), StreamingPayload, -1, nil, "IncompleteBody", ErrIncompleteBody},
		{"truncated in data", good[:5000], StreamingPayload, -1, nil, "IncompleteBody", ErrIncompleteBody},
		{"truncated in header", good[:secondHdr+10], StreamingPayload, -1, nil, "IncompleteBody", ErrIncompleteBody},
		{"missing final chunk", good[:finalHdr], StreamingPayload, -1, nil, "IncompleteBody", ErrIncompleteBody},
		{"empty body", nil, StreamingPayload, -1, nil, "IncompleteBody", ErrIncompleteBody},
		{"data after the end", append(bytes.Clone(good), "garbage"...), StreamingPayload, -1, nil, "IncompleteBody", ErrIncompleteBody},
		{"decoded length too small", good, StreamingPayload, int64(len(data)) - 1, nil, "IncompleteBody", ErrDecodedLengthMismatch},
		{"decoded length too large", good, StreamingPayload, int64(len(data)) + 1, nil, "IncompleteBody", ErrDecodedLengthMismatch},
		{"small chunk before the last", smallBody.Bytes(), StreamingPayload, -1, nil, "InvalidChunkSizeError", nil},
		{"trailer not declared", goodTrailer, StreamingPayloadTrailer, -1, []string{"x-amz-checksum-sha256"}, "MalformedTrailerError", nil},
		{"trailer declared, none sent", bytes.Replace(goodTrailer, []byte("x-amz-checksum-crc32:AAAAAA==\r\n"), nil, 1), StreamingPayloadTrailer, -1, []string{"x-amz-checksum-crc32"}, "MalformedTrailerError", nil},
		{"bad trailer signature", replace(goodTrailer, trailerSig, "00"), StreamingPayloadTrailer, -1, []string{"x-amz-checksum-crc32"}, "SignatureDoesNotMatch", nil},
		{"tampered trailer value", bytes.Replace(goodTrailer, []byte("AAAAAA=="), []byte("AAAAAB=="), 1), StreamingPayloadTrailer, -1, []string{"x-amz-checksum-crc32"}, "SignatureDoesNotMatch", nil},
		{"trailer signature missing", bytes.Replace(goodTrailer, goodTrailer[trailerSig-24:trailerSig+66], nil, 1), StreamingPayloadTrailer, -1, []string{"x-amz-checksum-crc32"}, "MalformedTrailerError", nil},
		{"trailer line without colon", bytes.Replace(goodTrailer, []byte("x-amz-checksum-crc32:"), []byte("x-amz-checksum-crc32 "), 1), StreamingPayloadTrailer, -1, []string{"x-amz-checksum-crc32"}, "MalformedTrailerError", nil},
		{"repeated trailer", bytes.Replace(unsigned, []byte("x-amz-checksum-crc32:AAAAAA==\r\n"), []byte("x-amz-checksum-crc32:AAAAAA==\r\nx-amz-checksum-crc32:AAAAAA==\r\n"), 1), StreamingUnsignedPayloadTrailer, -1, []string{"x-amz-checksum-crc32"}, "MalformedTrailerError", nil},
		{"unsigned: trailer not declared", unsigned, StreamingUnsignedPayloadTrailer, -1, nil, "MalformedTrailerError", nil},
		{"unsigned: signature in trailer", bytes.Replace(unsigned, []byte("AAAAAA==\r\n"), []byte("AAAAAA==\r\nx-amz-trailer-signature:"+testSeed+"\r\n"), 1), StreamingUnsignedPayloadTrailer, -1, []string{"x-amz-checksum-crc32"}, "MalformedTrailerError", nil},
		{"unsigned: truncated", unsigned[:len(unsigned)/2], StreamingUnsignedPayloadTrailer, -1, []string{"x-amz-checksum-crc32"}, "IncompleteBody", ErrIncompleteBody},
		{"unsigned: too many trailer lines", append(bytes.Clone(unsigned[:len(unsigned)-len("x-amz-checksum-crc32:AAAAAA==\r\n\r\n")]), strings.Repeat("\r\n", 40)...), StreamingUnsignedPayloadTrailer, -1, []string{"x-amz-checksum-crc32"}, "MalformedTrailerError", nil},
		{"SigV4a streaming", good, StreamingECDSAPayload, -1, nil, "NotImplemented", ErrSigV4aNotImplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sv *Verified
			if tt.mode != StreamingUnsignedPayloadTrailer {
				sv = v
			}
			out, _, err := decodeAll(tt.body, tt.mode, sv, tt.decodedLen, tt.declared)
			if got := errCode(err); got != tt.code {
				t.Fatalf("error %v (%s), want %s", err, got, tt.code)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %v is not %v", err, tt.is)
			}
			if tt.decodedLen >= 0 && int64(len(out)) > tt.decodedLen {
				t.Fatalf("returned %d bytes, more than %d", len(out), tt.decodedLen)
			}
			// Errors are sticky.
			cr := NewChunkedReader(bytes.NewReader(tt.body), tt.mode, sv, tt.decodedLen, tt.declared)
			io.Copy(io.Discard, cr)
			if _, err2 := cr.Read(make([]byte, 10)); errCode(err2) != tt.code {
				t.Fatalf("second read: %v", err2)
			}
			if cr.Trailers() != nil {
				t.Fatal("trailers after an error")
			}
		})
	}

	var e *Error
	_, _, err := decodeAll(smallBody.Bytes(), StreamingPayload, v, -1, nil)
	if !errors.As(err, &e) || e.Field("Chunk") != "1" || e.Field("BadChunkSize") != "100" {
		t.Fatalf("InvalidChunkSizeError fields: %+v", e)
	}
}

// Any single-byte change to a signed aws-chunked body must be rejected.
func TestChunkedEveryByteFlipFails(t *testing.T) {
	v := testVerified(exampleSecret, exampleTime, "us-east-1", testSeed)
	data := testData(2*8192 + 300)
	r := rand.New(rand.NewPCG(3, 4))
	for _, mode := range []string{StreamingPayload, StreamingPayloadTrailer} {
		var trailers []string
		var declared []string
		if mode == StreamingPayloadTrailer {
			trailers = []string{"x-amz-checksum-crc32c", "sOO8/Q=="}
			declared = []string{"x-amz-checksum-crc32c"}
		}
		body := newEncoder(v).encode(data, 8192, trailers)
		for i := range body {
			// Every framing byte, and a sample of data bytes.
			isData := i > 100 && i < 8192 || i > 8300 && i < 16384
			if isData && r.IntN(40) != 0 {
				continue
			}
			for _, x := range []byte{0x01, 0x20, byte(1 + r.IntN(255))} {
				if x == 0x20 && inChunkSize(body, i) {
					continue // "12C" is "12c": the same size, not a change
				}
				b := bytes.Clone(body)
				b[i] ^= x
				out, _, err := decodeAll(b, mode, v, int64(len(data)), declared)
				if err == nil {
					t.Fatalf("%s: flipping byte %d (%q) by %#x still decodes", mode, i, body[i], x)
				}
				if len(out) > len(data) {
					t.Fatalf("%s: returned %d bytes", mode, len(out))
				}
			}
		}
	}
}

// inChunkSize reports whether body[i] is a hex letter of a chunk size.
func inChunkSize(body []byte, i int) bool {
	if c := body[i] | 0x20; c < 'a' || c > 'f' {
		return false
	}
	start := bytes.LastIndexByte(body[:i], '\n') + 1
	end := i + bytes.IndexByte(body[i:], ';')
	if end < i {
		return false
	}
	_, ok := parseHexSize(body[start:end])
	return ok
}

func TestChunkedUnderlyingErrors(t *testing.T) {
	v := testVerified(exampleSecret, exampleTime, "us-east-1", testSeed)
	body := newEncoder(v).encode(testData(9000), 8192, nil)
	netErr := errors.New("connection reset")
	cr := NewChunkedReader(io.MultiReader(bytes.NewReader(body[:5000]), iotest.ErrReader(netErr)), StreamingPayload, v, -1, nil)
	if _, err := io.ReadAll(cr); err != netErr {
		t.Fatalf("network error: %v", err)
	}
	cr = NewChunkedReader(io.MultiReader(bytes.NewReader(body[:5000]), iotest.ErrReader(io.ErrUnexpectedEOF)), StreamingPayload, v, -1, nil)
	if _, err := io.ReadAll(cr); !errors.Is(err, ErrIncompleteBody) {
		t.Fatalf("unexpected EOF: %v", err)
	}
	pv := NewPayloadVerifier(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(io.ErrUnexpectedEOF)), HashHex([]byte("abcdef")))
	if _, err := io.ReadAll(pv); !errors.Is(err, ErrIncompleteBody) {
		t.Fatalf("payload verifier, unexpected EOF: %v", err)
	}
}

func TestNewBodyReader(t *testing.T) {
	v := testVerified(exampleSecret, exampleTime, "us-east-1", testSeed)
	data := testData(20000)
	signedBody := newEncoder(v).encode(data, 8192, nil)
	hdr := func(kv ...string) map[string][]string {
		h := map[string][]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			h[kv[i]] = append(h[kv[i]], kv[i+1])
		}
		return h
	}
	tests := []struct {
		name   string
		auth   *Auth
		v      *Verified
		header map[string][]string
		body   []byte
		code   string // from NewBodyReader or reading
	}{
		{"no payload hash", &Auth{Kind: Anonymous}, nil, nil, data, ""},
		{"unsigned payload", &Auth{Kind: HeaderAuth, PayloadHash: UnsignedPayload}, v, nil, data, ""},
		{"hex ok", &Auth{Kind: HeaderAuth, PayloadHash: HashHex(data)}, v, nil, data, ""},
		{"hex mismatch", &Auth{Kind: HeaderAuth, PayloadHash: HashHex(data[1:])}, v, nil, data, "XAmzContentSHA256Mismatch"},
		{"streaming", &Auth{Kind: HeaderAuth, PayloadHash: StreamingPayload}, v, hdr("X-Amz-Decoded-Content-Length", "20000"), signedBody, ""},
		{"streaming without decoded length", &Auth{Kind: HeaderAuth, PayloadHash: StreamingPayload}, v, nil, signedBody, "MissingContentLength"},
		{"streaming with bad decoded length", &Auth{Kind: HeaderAuth, PayloadHash: StreamingPayload}, v, hdr("X-Amz-Decoded-Content-Length", "-5"), signedBody, "MissingContentLength"},
		{"streaming with wrong decoded length", &Auth{Kind: HeaderAuth, PayloadHash: StreamingPayload}, v, hdr("X-Amz-Decoded-Content-Length", "19999"), signedBody, "IncompleteBody"},
		{"unsupported trailer", &Auth{Kind: HeaderAuth, PayloadHash: StreamingPayloadTrailer}, v, hdr("X-Amz-Decoded-Content-Length", "20000", "X-Amz-Trailer", "x-amz-meta-foo"), signedBody, "InvalidRequest"},
		{"anonymous signed streaming", &Auth{Kind: Anonymous, PayloadHash: StreamingPayload}, nil, hdr("X-Amz-Decoded-Content-Length", "20000"), signedBody, "InvalidRequest"},
		{"anonymous unsigned trailer", &Auth{Kind: Anonymous, PayloadHash: StreamingUnsignedPayloadTrailer}, nil,
			hdr("X-Amz-Decoded-Content-Length", "20000", "X-Amz-Trailer", "x-amz-checksum-crc32"),
			newEncoder(nil).encode(data, 3000, []string{"x-amz-checksum-crc32", "AAAAAA=="}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := NewBodyReader(bytes.NewReader(tt.body), tt.auth, tt.v, tt.header)
			if err == nil {
				var out []byte
				out, err = io.ReadAll(rd)
				if err == nil && !bytes.Equal(out, data) {
					t.Fatalf("decoded %d bytes", len(out))
				}
			}
			if got := errCode(err); got != tt.code {
				t.Fatalf("error %v, want code %q", err, tt.code)
			}
		})
	}
}
