package mfa

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// TOTP parameters. They are fixed because the otpauth URI AWS hands out
// names none of algorithm, digits or period, so authenticator apps fall back
// to the RFC 6238 defaults; a server that used anything else would disagree
// with every app.
const (
	Digits   = 6                // code length
	Period   = 30 * time.Second // length of one time step
	digitMod = 1_000_000        // 10^Digits
)

// SecretSize is the length of a seed in bytes. AWS's Base32StringSeed values
// are 64 base32 characters, i.e. 40 bytes (320 bits); RFC 4226 asks for at
// least 128 bits and recommends 160. 40 bytes also encodes to base32 without
// padding, so the seed never contains '=' (which some apps reject).
const SecretSize = 40

// AWSIssuer is the issuer AWS puts in its QR codes; authenticator apps show
// it as the entry's title. Pass it to URI to look exactly like AWS, or pass
// the deployment's own name.
const AWSIssuer = "Amazon Web Services"

// b32 is RFC 4648 (formerly RFC 3548) base32, the alphabet AWS documents for
// Base32StringSeed, without padding: a 40-byte seed needs none, and the
// otpauth Key URI format says padding should be omitted.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a fresh random seed of SecretSize bytes. It panics only
// if the system's random source fails, which crypto/rand treats as fatal.
func NewSecret() []byte {
	b := make([]byte, SecretSize)
	rand.Read(b) // never returns an error (Go 1.24+ crashes the program instead)
	return b
}

// Base32 returns the seed as CreateVirtualMFADevice's Base32StringSeed:
// upper-case RFC 4648 base32 without padding.
func Base32(secret []byte) string { return b32.EncodeToString(secret) }

// ParseBase32 is the inverse of Base32. Because people type seeds by hand it
// ignores case, spaces and trailing '=' padding.
func ParseBase32(s string) ([]byte, error) {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	s = strings.TrimRight(s, "=")
	// Unpadded base32 of whole bytes never leaves 1, 3 or 6 characters in
	// the last group; the decoder would silently drop them.
	switch len(s) % 8 {
	case 1, 3, 6:
		return nil, errors.New("mfa: base32 seed has an impossible length")
	}
	return b32.DecodeString(s)
}

// URI returns the otpauth URI that the QR code of CreateVirtualMFADevice
// encodes. AWS documents the label as $virtualMFADeviceName@$AccountName,
// where AccountName is the account alias if one is set and the account ID
// otherwise; its QR codes in fact read
//
//	otpauth://totp/Amazon%20Web%20Services:NAME@ACCOUNT?secret=SEED&issuer=Amazon%20Web%20Services
//
// (older ones had no issuer). With issuer == "" the issuer prefix and
// parameter are left out. Every part is percent-encoded with %20 for spaces,
// never '+', because apps disagree on what '+' means in a path.
func URI(secret []byte, deviceName, accountName, issuer string) string {
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	if issuer != "" {
		b.WriteString(escape(issuer))
		b.WriteByte(':')
	}
	b.WriteString(escape(deviceName))
	b.WriteByte('@')
	b.WriteString(escape(accountName))
	b.WriteString("?secret=")
	b.WriteString(Base32(secret))
	if issuer != "" {
		b.WriteString("&issuer=")
		b.WriteString(escape(issuer))
	}
	return b.String()
}

// escape percent-encodes everything but RFC 3986 unreserved characters. That
// is stricter than needed in places, but it keeps ':', '@', '&', '=' and '?'
// inside a name from being read as the URI's own separators.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// Step returns the RFC 6238 time step of t: whole 30-second periods since
// the Unix epoch, rounded down (also for times before 1970).
func Step(t time.Time) int64 {
	const p = int64(Period / time.Second)
	s := t.Unix()
	q := s / p
	if s%p < 0 {
		q--
	}
	return q
}

// HOTP returns the RFC 4226 one-time password for counter: HMAC-SHA1,
// dynamic truncation, Digits decimal digits with leading zeros kept.
func HOTP(secret []byte, counter uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	v %= digitMod
	var out [Digits]byte
	for i := Digits - 1; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	return string(out[:])
}

// Code returns the RFC 6238 TOTP code for time t. Times before 1970 give
// negative steps, which are used as two's-complement counters; they never
// verify (see Device).
func Code(secret []byte, t time.Time) string {
	return HOTP(secret, uint64(Step(t)))
}

// codeAt is Code for an explicit step.
func codeAt(secret []byte, step int64) string { return HOTP(secret, uint64(step)) }

// ValidCode reports whether code has the form AWS accepts for
// AuthenticationCode1/2 and TokenCode: exactly six ASCII digits.
func ValidCode(code string) bool {
	if len(code) != Digits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}
