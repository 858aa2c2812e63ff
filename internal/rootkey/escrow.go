package rootkey

// Escrow files keep a copy of the root key wrapped under an operator
// passphrase, for disaster recovery. Format, version 1 (UTF-8 text, LF
// line ends):
//
//	coffer-root-key-escrow: 1
//	fingerprint: <Fingerprint of the key, 32 hex digits>
//	created: <RFC 3339 UTC time>
//	kdf: argon2id t=<passes> m=<memory KiB> p=<threads>
//	salt: <base64 of 16 random bytes>
//	cipher: aes-256-gcm
//	nonce: <base64 of 12 random bytes>
//	<empty line>
//	<base64 of the sealed key: 32 bytes of ciphertext and the 16-byte tag>
//
// The wrapping key is argon2id(passphrase, salt, t, m, p) with 32 bytes of
// output; the header, every byte up to and including the empty line, is
// the AEAD's additional data, so no recorded parameter or the fingerprint
// can be changed without the passphrase noticing. Readers accept CRLF line
// ends (read as LF) and reject unknown versions, lines out of order and
// parameters beyond fixed bounds.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// EscrowParams are argon2id's cost parameters.
type EscrowParams struct {
	Time      uint32 // passes
	MemoryKiB uint32
	Threads   uint8
}

// DefaultEscrowParams follow RFC 9106's second recommended option
// (64 MiB, 3 passes, 4 lanes).
var DefaultEscrowParams = EscrowParams{Time: 3, MemoryKiB: 64 << 10, Threads: 4}

// Bounds on parameters read from a file, so that a crafted file cannot
// make an import allocate without limit.
const (
	maxEscrowTime      = 64
	maxEscrowMemoryKiB = 4 << 20 // 4 GiB
	maxEscrowThreads   = 64
)

// MinPassphraseLength is the shortest escrow passphrase accepted, in
// characters.
const MinPassphraseLength = 16

// ErrEscrowPassphrase reports a wrong passphrase or an altered file; the
// two cannot be told apart.
var ErrEscrowPassphrase = errors.New("the passphrase is wrong or the escrow file was altered")

const escrowMagic = "coffer-root-key-escrow: 1"

// CheckPassphrase enforces the minimum length.
func CheckPassphrase(p []byte) error {
	if !utf8.Valid(p) {
		return errors.New("the passphrase is not UTF-8")
	}
	if n := utf8.RuneCount(p); n < MinPassphraseLength {
		return fmt.Errorf("the passphrase has %d characters; at least %d are required", n, MinPassphraseLength)
	}
	return nil
}

// SealEscrow returns an escrow file holding key under passphrase.
func SealEscrow(key, passphrase []byte, created time.Time, p EscrowParams) ([]byte, error) {
	if len(key) != Size {
		return nil, fmt.Errorf("root key has %d bytes, want %d", len(key), Size)
	}
	if err := CheckPassphrase(passphrase); err != nil {
		return nil, err
	}
	salt := make([]byte, 16)
	nonce := make([]byte, 12)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	var h strings.Builder
	fmt.Fprintf(&h, "%s\nfingerprint: %s\ncreated: %s\nkdf: argon2id t=%d m=%d p=%d\nsalt: %s\ncipher: aes-256-gcm\nnonce: %s\n\n",
		escrowMagic, Fingerprint(key), created.UTC().Format(time.RFC3339), p.Time, p.MemoryKiB, p.Threads,
		base64.StdEncoding.EncodeToString(salt), base64.StdEncoding.EncodeToString(nonce))
	header := []byte(h.String())
	aead, err := escrowAEAD(passphrase, salt, p)
	if err != nil {
		return nil, err
	}
	sealed := aead.Seal(nil, nonce, key, header)
	return append(header, base64.StdEncoding.EncodeToString(sealed)+"\n"...), nil
}

func escrowAEAD(passphrase, salt []byte, p EscrowParams) (cipher.AEAD, error) {
	wk := argon2.IDKey(passphrase, salt, p.Time, p.MemoryKiB, p.Threads, 32)
	defer clear(wk)
	block, err := aes.NewCipher(wk)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Escrow is a parsed escrow file.
type Escrow struct {
	Fingerprint string
	Created     time.Time
	Params      EscrowParams
	header      []byte
	salt, nonce []byte
	sealed      []byte
}

var (
	reFingerprint = regexp.MustCompile(`^fingerprint: ([0-9a-f]{32})$`)
	reCreated     = regexp.MustCompile(`^created: (\S+)$`)
	reKDF         = regexp.MustCompile(`^kdf: argon2id t=([0-9]{1,10}) m=([0-9]{1,10}) p=([0-9]{1,3})$`)
	reSalt        = regexp.MustCompile(`^salt: ([A-Za-z0-9+/=]+)$`)
	reCipher      = regexp.MustCompile(`^cipher: aes-256-gcm$`)
	reNonce       = regexp.MustCompile(`^nonce: ([A-Za-z0-9+/=]+)$`)
)

// ParseEscrow reads an escrow file's header and sealed key without the
// passphrase.
func ParseEscrow(data []byte) (*Escrow, error) {
	// A file that went through a Windows editor keeps working.
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	bad := func(why string) error { return fmt.Errorf("not a Coffer root-key escrow file (version 1): %s", why) }
	end := bytes.Index(data, []byte("\n\n"))
	if end < 0 || !bytes.HasPrefix(data, []byte(escrowMagic+"\n")) {
		if bytes.HasPrefix(data, []byte("coffer-root-key-escrow: ")) {
			return nil, errors.New("escrow file of an unknown version: upgrade Coffer")
		}
		return nil, bad("no header")
	}
	e := &Escrow{header: data[:end+2]}
	lines := strings.Split(string(data[:end]), "\n")[1:]
	res := []*regexp.Regexp{reFingerprint, reCreated, reKDF, reSalt, reCipher, reNonce}
	if len(lines) != len(res) {
		return nil, bad("unexpected header lines")
	}
	var m [][]string
	for i, re := range res {
		sub := re.FindStringSubmatch(lines[i])
		if sub == nil {
			return nil, bad(fmt.Sprintf("header line %d", i+2))
		}
		m = append(m, sub)
	}
	e.Fingerprint = m[0][1]
	var err error
	if e.Created, err = time.Parse(time.RFC3339, m[1][1]); err != nil {
		return nil, bad("created")
	}
	t, _ := strconv.ParseUint(m[2][1], 10, 32)
	mem, _ := strconv.ParseUint(m[2][2], 10, 32)
	th, _ := strconv.ParseUint(m[2][3], 10, 8)
	if t < 1 || t > maxEscrowTime || mem < 8 || mem > maxEscrowMemoryKiB || th < 1 || th > maxEscrowThreads || mem < 8*th {
		return nil, bad("kdf parameters out of bounds")
	}
	e.Params = EscrowParams{Time: uint32(t), MemoryKiB: uint32(mem), Threads: uint8(th)}
	if e.salt, err = base64.StdEncoding.DecodeString(m[3][1]); err != nil || len(e.salt) < 16 {
		return nil, bad("salt")
	}
	if e.nonce, err = base64.StdEncoding.DecodeString(m[5][1]); err != nil || len(e.nonce) != 12 {
		return nil, bad("nonce")
	}
	body := strings.TrimSuffix(string(data[end+2:]), "\n")
	if e.sealed, err = base64.StdEncoding.DecodeString(body); err != nil || len(e.sealed) != Size+16 {
		return nil, bad("sealed key")
	}
	return e, nil
}

// Open unwraps the key with passphrase and checks it against the
// recorded fingerprint.
func (e *Escrow) Open(passphrase []byte) ([]byte, error) {
	aead, err := escrowAEAD(passphrase, e.salt, e.Params)
	if err != nil {
		return nil, err
	}
	key, err := aead.Open(nil, e.nonce, e.sealed, e.header)
	if err != nil {
		return nil, ErrEscrowPassphrase
	}
	if Fingerprint(key) != e.Fingerprint {
		clear(key)
		return nil, ErrEscrowPassphrase
	}
	return key, nil
}
