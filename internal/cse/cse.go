package cse

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// Sealed is an encrypted object ready to upload: its envelope and a
// stream of ciphertext ‖ tag of exactly Size bytes.
type Sealed struct {
	Envelope *Envelope
	Body     io.Reader
	Size     int64
}

// Encrypt prepares plain (exactly size bytes) for upload under a fresh
// data key from kr.
func Encrypt(ctx context.Context, kr Keyring, plain io.Reader, size int64) (*Sealed, error) {
	if size < 0 || size > MaxPlaintext {
		return nil, fmt.Errorf("cse: plaintext length %d outside 0..%d", size, int64(MaxPlaintext))
	}
	key, wrapped, wrapAlg, matDesc, err := kr.NewDataKey(ctx)
	if err != nil {
		return nil, err
	}
	iv := make([]byte, IVSize)
	rand.Read(iv)
	body, err := NewEncryptReader(&exactReader{r: plain, left: size}, key, iv)
	if err != nil {
		return nil, err
	}
	clear(key)
	return &Sealed{
		Envelope: &Envelope{
			WrappedKey: b64.EncodeToString(wrapped), IV: b64.EncodeToString(iv),
			MatDesc: matDesc, WrapAlg: wrapAlg, CEKAlg: CEKAESGCM, TagLen: tagLenBits,
			PlainLen: strconv.FormatInt(size, 10),
		},
		Body: body,
		Size: size + TagSize,
	}, nil
}

// exactReader fails unless its source holds exactly left bytes, so a file
// that changes length during an upload cannot yield a length that
// contradicts the recorded one.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left == 0 {
		var one [1]byte
		if n, _ := io.ReadFull(e.r, one[:]); n > 0 {
			return 0, errors.New("cse: the input grew while it was read")
		}
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		return n, errors.New("cse: the input shrank while it was read")
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// Decrypt unwraps the data key of e and decrypts body into dst, returning
// the plaintext length. On any error dst holds unauthenticated or partial
// data and must be discarded (see AtomicFile).
func Decrypt(ctx context.Context, u *Unwrapper, e *Envelope, body io.Reader, dst io.Writer) (int64, error) {
	key, err := u.DataKey(ctx, e)
	if err != nil {
		return 0, err
	}
	defer clear(key)
	iv, _ := e.iv()
	n, err := DecryptStream(dst, body, key, iv)
	if err != nil {
		return 0, err
	}
	if want, ok, _ := e.plainLen(); ok && want != n {
		return 0, fmt.Errorf("cse: decrypted %d bytes but %s says %d", n, MetaPlainLen, want)
	}
	return n, nil
}

// AtomicFile is a file that appears at its path only once committed:
// data goes to a private temporary file in the same directory, renamed
// into place by Commit, removed by Abort. Decrypted data is written here
// so that plaintext that fails authentication never reaches its
// destination.
type AtomicFile struct {
	f    *os.File
	path string
	done bool
}

// CreateAtomic starts an AtomicFile for path.
func CreateAtomic(path string) (*AtomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".cse-*")
	if err != nil {
		return nil, err
	}
	return &AtomicFile{f: f, path: path}, nil
}

func (a *AtomicFile) Write(p []byte) (int, error) { return a.f.Write(p) }

// File is the temporary file, for reading back before Commit.
func (a *AtomicFile) File() *os.File { return a.f }

// Commit makes the data durable and moves it to its path.
func (a *AtomicFile) Commit() error {
	if a.done {
		return errors.New("cse: file already committed or aborted")
	}
	a.done = true
	if err := a.f.Sync(); err != nil {
		a.f.Close()
		os.Remove(a.f.Name())
		return err
	}
	if err := a.f.Close(); err != nil {
		os.Remove(a.f.Name())
		return err
	}
	if err := os.Rename(a.f.Name(), a.path); err != nil {
		os.Remove(a.f.Name())
		return err
	}
	return nil
}

// Abort removes the temporary file; it is a no-op after Commit.
func (a *AtomicFile) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.f.Close()
	os.Remove(a.f.Name())
}
