package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
)

// payloadVerifier hashes what passes through and checks the digest at EOF.
type payloadVerifier struct {
	r        io.Reader
	h        hash.Hash
	expected string
	err      error
}

// NewPayloadVerifier returns a reader that computes the SHA-256 of what it
// reads from body and, at EOF, fails with ErrXAmzContentSHA256Mismatch if it
// differs from expectedHex. Data is passed through as it is read; callers
// must discard it unless the reader reached io.EOF without error. A body cut
// short (io.ErrUnexpectedEOF) yields ErrIncompleteBody; other errors from body
// are returned as they are.
func NewPayloadVerifier(body io.Reader, expectedHex string) io.Reader {
	return &payloadVerifier{r: body, h: sha256.New(), expected: expectedHex}
}

func (p *payloadVerifier) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.r.Read(b)
	p.h.Write(b[:n])
	if err == io.ErrUnexpectedEOF {
		// net/http's body reader: the client sent less than Content-Length.
		err = fmt.Errorf("sigv4: body shorter than announced: %w", ErrIncompleteBody)
	}
	if err == io.EOF {
		var sum [sha256.Size]byte
		var got [2 * sha256.Size]byte
		hex.Encode(got[:], p.h.Sum(sum[:0]))
		if string(got[:]) != p.expected {
			err = ErrXAmzContentSHA256Mismatch.with("",
				Field{"ClientComputedContentSHA256", p.expected},
				Field{"S3ComputedContentSHA256", string(got[:])})
		}
	}
	if err != nil {
		p.err = err
	}
	return n, err
}

// supportedTrailers are the x-amz-trailer values S3 accepts: the checksum
// headers.
var supportedTrailers = map[string]bool{
	"x-amz-checksum-crc32":     true,
	"x-amz-checksum-crc32c":    true,
	"x-amz-checksum-crc64nvme": true,
	"x-amz-checksum-sha1":      true,
	"x-amz-checksum-sha256":    true,
}

// DeclaredTrailers parses the x-amz-trailer header(s): a comma-separated
// list of trailing header names, lowercased. Names other than the
// x-amz-checksum-* headers S3 supports yield ErrUnsupportedTrailer.
func DeclaredTrailers(header map[string][]string) ([]string, error) {
	var names []string
	for _, v := range headerValues(header, "X-Amz-Trailer") {
		for _, n := range strings.Split(v, ",") {
			n = strings.ToLower(strings.TrimSpace(n))
			if n == "" {
				continue
			}
			if !supportedTrailers[n] {
				return nil, ErrUnsupportedTrailer
			}
			names = append(names, n)
		}
	}
	return names, nil
}

// NewBodyReader wraps body according to a.PayloadHash, which is what the
// request's signature covers:
//
//   - "" or UnsignedPayload: body unchanged;
//   - a hex SHA-256: NewPayloadVerifier;
//   - a Streaming* mode: a *ChunkedReader (type-assert the result to read
//     its Trailers), with x-amz-decoded-content-length (required:
//     ErrMissingContentLength otherwise) and x-amz-trailer taken from header.
//
// v is the result of Verify; it may be nil only for anonymous requests,
// which cannot use the signed modes.
func NewBodyReader(body io.Reader, a *Auth, v *Verified, header map[string][]string) (io.Reader, error) {
	if a.PayloadHash == "" {
		return body, nil
	}
	kind, err := payloadMode(a.PayloadHash)
	if err != nil {
		return nil, err
	}
	switch kind {
	case payloadUnsigned:
		return body, nil
	case payloadHex:
		return NewPayloadVerifier(body, a.PayloadHash), nil
	}
	if kind.signedStreaming() && v == nil {
		if a.Kind == Anonymous {
			return nil, ErrAnonymousSignedStreaming
		}
		return nil, errors.New("sigv4: signed streaming payload needs the Verified request")
	}
	dl := headerGet(header, "X-Amz-Decoded-Content-Length")
	decodedLen, err := strconv.ParseInt(dl, 10, 64)
	if err != nil || decodedLen < 0 || !isDigits(dl) {
		return nil, ErrMissingContentLength
	}
	var trailers []string
	if kind != payloadStreaming {
		if trailers, err = DeclaredTrailers(header); err != nil {
			return nil, err
		}
	}
	return NewChunkedReader(body, a.PayloadHash, v, decodedLen, trailers), nil
}
