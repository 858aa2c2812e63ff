package sigv4

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// Limits on what an aws-chunked body may make the reader hold.
const (
	// chunkBufSize is the read buffer; it also bounds every line read.
	chunkBufSize = 4096
	// maxChunkLine bounds a chunk header line: 16 hex digits,
	// ";chunk-signature=" and 64 hex digits fit with room to spare.
	maxChunkLine = 256
	// maxSizeDigits keeps chunk sizes far from int64 overflow.
	maxSizeDigits = 15
	// minChunkSize is S3's minimum for every signed chunk but the last.
	minChunkSize = 8192
	// maxTrailerLines bounds the trailer section, blank lines included.
	maxTrailerLines = 16
	// maxTrailingCRLF is how many stray CR/LF bytes may follow the end of
	// the body: some encoders terminate the trailer section twice.
	maxTrailingCRLF = 8
)

const (
	chunkSigPrefix    = "chunk-signature="
	trailerSigName    = "x-amz-trailer-signature"
	chunkAlgorithm    = "AWS4-HMAC-SHA256-PAYLOAD"
	trailerAlgorithm  = "AWS4-HMAC-SHA256-TRAILER"
	stateChunkHeader  = 0
	stateChunkData    = 1
	stateDone         = 2
	signatureHexBytes = 64
)

// ChunkedReader decodes an aws-chunked request body (spec §1.8) while
// reading it, in constant memory: chunk data is passed through to the
// caller as it arrives and hashed on the way.
//
// In the signed modes every chunk signature is checked when the chunk ends,
// before the chunk's last bytes are returned, so a Read error can follow
// data of a chunk that turned out to be forged: callers must discard what
// they read unless Read returned io.EOF. Errors are *Error values (wrapped
// with detail), except errors of the underlying body other than io.EOF and
// io.ErrUnexpectedEOF, which are returned as they are. They are sticky.
type ChunkedReader struct {
	br         *bufio.Reader
	signed     bool // chunk signatures present and checked
	trailer    bool // a trailer section follows the final chunk
	state      int
	err        error // sticky
	remaining  int64 // data bytes left in the current chunk
	decoded    int64 // data bytes returned so far
	decodedLen int64 // -1: not enforced
	chunks     int   // chunks seen, 1-based index of the current one
	prevSize   int64 // size of the previous data chunk, for the 8 KiB rule

	declared []string
	trailers map[string]string

	// Signature state; the hashes and buffers are reused for every chunk.
	accessKey string
	mac       hash.Hash // HMAC-SHA256 keyed with the signing key
	data      hash.Hash // SHA-256 of the current chunk or of the trailers
	stsPrefix []byte    // "AWS4-HMAC-SHA256-PAYLOAD\n<ts>\n<scope>\n"
	trlPrefix []byte    // "AWS4-HMAC-SHA256-TRAILER\n<ts>\n<scope>\n"
	prevSig   [signatureHexBytes]byte
	wantSig   [sha256.Size]byte
	sum       [sha256.Size]byte
	sumHex    [signatureHexBytes]byte
	macSum    [sha256.Size]byte
}

// Constant byte strings fed to the hashes without allocating.
var (
	newline   = []byte{'\n'}
	colon     = []byte{':'}
	emptyHash = []byte(EmptySHA256)
)

// NewChunkedReader decodes an aws-chunked body for mode, one of
// StreamingPayload, StreamingPayloadTrailer (signed chunks, chained from
// v.Seed, and for -TRAILER a signed trailer) and
// StreamingUnsignedPayloadTrailer (framing only; v may be nil).
//
// decodedLen is x-amz-decoded-content-length, or -1 to not enforce it; the
// reader never returns more than decodedLen bytes. declaredTrailers are the
// lowercase names from x-amz-trailer: only those are accepted in the
// trailer section, and all of them must be present. An unknown mode, or a
// signed mode without v, yields a reader whose first Read fails.
func NewChunkedReader(body io.Reader, mode string, v *Verified, decodedLen int64, declaredTrailers []string) *ChunkedReader {
	c := &ChunkedReader{
		br:         bufio.NewReaderSize(body, chunkBufSize),
		decodedLen: decodedLen,
	}
	if decodedLen < 0 {
		c.decodedLen = -1
	}
	for _, n := range declaredTrailers {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			c.declared = append(c.declared, n)
		}
	}
	switch mode {
	case StreamingPayload:
		c.signed = true
	case StreamingPayloadTrailer:
		c.signed, c.trailer = true, true
	case StreamingUnsignedPayloadTrailer:
		c.trailer = true
	case StreamingECDSAPayload, StreamingECDSAPayloadTrailer:
		c.err = ErrSigV4aNotImplemented.with("", Field{"Header", "x-amz-content-sha256"})
		return c
	default:
		c.err = fmt.Errorf("sigv4: %q is not an aws-chunked payload mode", mode)
		return c
	}
	if c.signed {
		if v == nil || !isLowerHex(v.Seed, signatureHexBytes) {
			c.err = errors.New("sigv4: signed aws-chunked body needs the Verified request")
			return c
		}
		c.accessKey = v.AccessKeyID
		c.mac = hmac.New(sha256.New, v.SigningKey)
		c.stsPrefix = []byte(chunkAlgorithm + "\n" + v.Timestamp + "\n" + v.ScopeString + "\n")
		c.trlPrefix = []byte(trailerAlgorithm + "\n" + v.Timestamp + "\n" + v.ScopeString + "\n")
		c.data = sha256.New()
		copy(c.prevSig[:], v.Seed)
	}
	return c
}

// Trailers returns the trailing headers (lowercase name to value, e.g.
// "x-amz-checksum-crc32" to its base64 value) once Read has returned
// io.EOF; nil before.
func (c *ChunkedReader) Trailers() map[string]string {
	if c.state != stateDone {
		return nil
	}
	return c.trailers
}

// Read implements io.Reader.
func (c *ChunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		switch c.state {
		case stateChunkHeader:
			if err := c.readChunkHeader(); err != nil {
				return 0, c.fail(err)
			}
		case stateChunkData:
			if int64(len(p)) > c.remaining {
				p = p[:c.remaining]
			}
			n, err := c.br.Read(p)
			if n > 0 {
				if c.signed {
					c.data.Write(p[:n])
				}
				c.remaining -= int64(n)
				c.decoded += int64(n)
			}
			if c.remaining == 0 {
				if err := c.endChunk(); err != nil {
					return n, c.fail(err)
				}
				c.state = stateChunkHeader
				return n, nil
			}
			if err != nil {
				return n, c.fail(truncated(err, "inside chunk data"))
			}
			if n > 0 {
				return n, nil
			}
		case stateDone:
			return 0, io.EOF
		}
	}
}

func (c *ChunkedReader) fail(err error) error {
	c.err = err
	return err
}

// truncated maps an early end of the underlying body to IncompleteBody and
// keeps other (network) errors as they are.
func truncated(err error, where string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("sigv4: aws-chunked body ended %s: %w", where, ErrIncompleteBody)
	}
	return err
}

func malformed(what string) error {
	return fmt.Errorf("sigv4: aws-chunked framing: %s: %w", what, ErrIncompleteBody)
}

func malformedTrailer(what string) error {
	return fmt.Errorf("sigv4: aws-chunked trailer: %s: %w", what, ErrMalformedTrailer)
}

// readLine returns the next line without its LF, at most max bytes long.
// The slice is only valid until the next read. A clean EOF before any byte
// is returned as io.EOF.
func (c *ChunkedReader) readLine(max int) ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull || len(line) > max:
		return nil, errLineTooLong
	case err == io.EOF && len(line) == 0:
		return nil, io.EOF
	case err != nil:
		return nil, truncated(err, "inside a line")
	}
	return line[:len(line)-1], nil
}

var errLineTooLong = errors.New("line too long")

func (c *ChunkedReader) readChunkHeader() error {
	line, err := c.readLine(maxChunkLine)
	switch {
	case err == errLineTooLong:
		return malformed("chunk header line too long")
	case err != nil:
		return truncated(err, "before the final chunk")
	}
	if len(line) == 0 || line[len(line)-1] != '\r' {
		return malformed("chunk header not terminated by CRLF")
	}
	line = line[:len(line)-1]

	sizeHex, ext, hasExt := bytes.Cut(line, []byte{';'})
	size, ok := parseHexSize(sizeHex)
	if !ok {
		return malformed("bad chunk size")
	}
	if c.signed {
		if !hasExt || !bytes.HasPrefix(ext, []byte(chunkSigPrefix)) {
			return malformed("missing chunk-signature")
		}
		if !decodeLowerHex(c.wantSig[:], ext[len(chunkSigPrefix):]) {
			return malformed("bad chunk-signature")
		}
	}
	c.chunks++

	if size > 0 {
		if c.signed && c.prevSize > 0 && c.prevSize < minChunkSize {
			return ErrInvalidChunkSizeError.with("",
				Field{"Chunk", fmt.Sprint(c.chunks - 1)}, Field{"BadChunkSize", fmt.Sprint(c.prevSize)})
		}
		if c.decodedLen >= 0 && size > c.decodedLen-c.decoded {
			return fmt.Errorf("sigv4: chunk %d overruns x-amz-decoded-content-length %d: %w",
				c.chunks, c.decodedLen, ErrDecodedLengthMismatch)
		}
		c.prevSize = size
		c.remaining = size
		if c.signed {
			c.data.Reset()
		}
		c.state = stateChunkData
		return nil
	}

	// The final, zero-length chunk.
	if c.signed {
		if err := c.checkChunkSignature(emptyHash); err != nil {
			return err
		}
	}
	if c.decodedLen >= 0 && c.decoded != c.decodedLen {
		return fmt.Errorf("sigv4: decoded %d bytes, x-amz-decoded-content-length is %d: %w",
			c.decoded, c.decodedLen, ErrDecodedLengthMismatch)
	}
	if c.trailer {
		if err := c.readTrailers(); err != nil {
			return err
		}
	} else {
		line, err := c.readLine(maxChunkLine)
		switch {
		case err == io.EOF:
			// Some encoders stop right after the final chunk header.
		case err == errLineTooLong:
			return malformed("data after the final chunk")
		case err != nil:
			return err
		case len(line) != 1 || line[0] != '\r':
			return malformed("data after the final chunk")
		}
	}
	if err := c.expectEOF(); err != nil {
		return err
	}
	c.state = stateDone
	return nil
}

// parseHexSize parses a chunk size: 1 to maxSizeDigits hex digits.
func parseHexSize(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > maxSizeDigits {
		return 0, false
	}
	var n int64
	for _, ch := range b {
		var d byte
		switch {
		case '0' <= ch && ch <= '9':
			d = ch - '0'
		case 'a' <= ch && ch <= 'f':
			d = ch - 'a' + 10
		case 'A' <= ch && ch <= 'F':
			d = ch - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

// endChunk consumes the CRLF after a chunk's data and checks its signature.
func (c *ChunkedReader) endChunk() error {
	for _, want := range [...]byte{'\r', '\n'} {
		b, err := c.br.ReadByte()
		if err != nil {
			return truncated(err, "after chunk data")
		}
		if b != want {
			return malformed("chunk data not followed by CRLF")
		}
	}
	if !c.signed {
		return nil
	}
	hex.Encode(c.sumHex[:], c.data.Sum(c.sum[:0]))
	return c.checkChunkSignature(c.sumHex[:])
}

// checkChunkSignature computes the chunk signature over the string to sign
//
//	AWS4-HMAC-SHA256-PAYLOAD \n timestamp \n scope \n previous-signature \n
//	hex(SHA256("")) \n hex(SHA256(chunk-data))
//
// compares it in constant time with the one from the chunk header, and
// makes it the previous signature of the next chunk.
func (c *ChunkedReader) checkChunkSignature(dataHashHex []byte) error {
	c.mac.Reset()
	c.mac.Write(c.stsPrefix)
	c.mac.Write(c.prevSig[:])
	c.mac.Write(newline)
	c.mac.Write(emptyHash)
	c.mac.Write(newline)
	c.mac.Write(dataHashHex)
	got := c.mac.Sum(c.macSum[:0])
	if !hmac.Equal(got, c.wantSig[:]) {
		return c.signatureMismatch(fmt.Sprintf("chunk %d", c.chunks))
	}
	hex.Encode(c.prevSig[:], got)
	return nil
}

func (c *ChunkedReader) signatureMismatch(what string) error {
	return fmt.Errorf("sigv4: %s signature: %w", what, ErrSignatureDoesNotMatch.with("",
		Field{"AWSAccessKeyId", c.accessKey},
		Field{"SignatureProvided", hex.EncodeToString(c.wantSig[:])}))
}

// readTrailers reads the trailer section after the final chunk:
//
//	name:value CRLF ... [x-amz-trailer-signature:sig CRLF] CRLF
//
// Lines may end in a bare LF (minio-go's encoder does this), and blank lines
// before the signature or before all declared trailers arrived are skipped,
// because encoders disagree on where they put them.
func (c *ChunkedReader) readTrailers() error {
	if c.signed {
		c.data.Reset()
	}
	c.trailers = make(map[string]string, len(c.declared))
	var haveSig bool
	for lines := 0; ; lines++ {
		if lines >= maxTrailerLines {
			return malformedTrailer("too many lines")
		}
		line, err := c.readLine(chunkBufSize)
		if err == io.EOF {
			break // tolerate a missing final blank line
		}
		if err == errLineTooLong {
			return malformedTrailer("line too long")
		}
		if err != nil {
			return err
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			if (c.signed && !haveSig) || len(c.trailers) < len(c.declared) {
				continue
			}
			break
		}
		if haveSig {
			return malformedTrailer("data after the trailer signature")
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return malformedTrailer("line without ':'")
		}
		// Optional whitespace around the value, as in HTTP header fields.
		name = bytes.Trim(name, " \t")
		n := strings.ToLower(string(name))
		value = bytes.Trim(value, " \t")
		if string(name) == trailerSigName { // exactly, as every encoder writes it
			if !c.signed {
				return malformedTrailer("signature in an unsigned body")
			}
			if !decodeLowerHex(c.wantSig[:], value) {
				return malformedTrailer("bad trailer signature")
			}
			haveSig = true
			continue
		}
		if !c.isDeclared(n) {
			return malformedTrailer(fmt.Sprintf("%q not declared in x-amz-trailer", n))
		}
		if _, dup := c.trailers[n]; dup {
			return malformedTrailer(fmt.Sprintf("%q repeated", n))
		}
		c.trailers[n] = string(value)
		if c.signed {
			// The trailer signature covers "name:value\n" lines, not the wire
			// form; the name as the client wrote it.
			c.data.Write(name)
			c.data.Write(colon)
			c.data.Write(value)
			c.data.Write(newline)
		}
	}
	if len(c.trailers) != len(c.declared) {
		return malformedTrailer("declared trailer missing")
	}
	if !c.signed {
		return nil
	}
	if !haveSig {
		return malformedTrailer("trailer signature missing")
	}
	hex.Encode(c.sumHex[:], c.data.Sum(c.sum[:0]))
	// SDKs and the documentation's text label the string to sign
	// AWS4-HMAC-SHA256-TRAILER, but the documentation's worked example is
	// signed with AWS4-HMAC-SHA256-PAYLOAD; encoders written from it exist,
	// so both are accepted. Neither can collide with a chunk's string to
	// sign, which has one more line.
	if c.trailerSignatureIs(c.trlPrefix) || c.trailerSignatureIs(c.stsPrefix) {
		return nil
	}
	return c.signatureMismatch("trailer")
}

func (c *ChunkedReader) trailerSignatureIs(prefix []byte) bool {
	c.mac.Reset()
	c.mac.Write(prefix)
	c.mac.Write(c.prevSig[:])
	c.mac.Write(newline)
	c.mac.Write(c.sumHex[:])
	return hmac.Equal(c.mac.Sum(c.macSum[:0]), c.wantSig[:])
}

func (c *ChunkedReader) isDeclared(name string) bool {
	for _, d := range c.declared {
		if d == name {
			return true
		}
	}
	return false
}

// expectEOF checks that nothing but a few stray CR/LF bytes follows the end
// of the aws-chunked body.
func (c *ChunkedReader) expectEOF() error {
	for i := 0; ; i++ {
		b, err := c.br.ReadByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return truncated(err, "after the final chunk")
		}
		if (b != '\r' && b != '\n') || i >= maxTrailingCRLF {
			return malformed("data after the end of the body")
		}
	}
}
