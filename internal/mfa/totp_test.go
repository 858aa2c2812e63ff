package mfa

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rfcSecret is the shared secret of the RFC 4226 and RFC 6238 (SHA-1) test
// vectors.
var rfcSecret = []byte("12345678901234567890")

// RFC 4226 appendix D: HOTP values for counters 0-9.
func TestHOTPVectors(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314",
		"254676", "287922", "162583", "399871", "520489"}
	for i, w := range want {
		if got := HOTP(rfcSecret, uint64(i)); got != w {
			t.Errorf("HOTP(counter %d) = %s, want %s", i, got, w)
		}
	}
}

// RFC 6238 appendix B, SHA-1 rows. The RFC prints 8 digits; a 6-digit code
// is the same truncated value modulo 10^6, i.e. its last 6 digits.
func TestTOTPVectors(t *testing.T) {
	tests := []struct {
		unix  int64
		step  int64
		eight string
	}{
		{59, 0x1, "94287082"},
		{1111111109, 0x23523EC, "07081804"},
		{1111111111, 0x23523ED, "14050471"},
		{1234567890, 0x273EF07, "89005924"},
		{2000000000, 0x3F940AA, "69279037"},
		{20000000000, 0x27BC86AA, "65353130"},
	}
	for _, tt := range tests {
		tm := time.Unix(tt.unix, 0).UTC()
		if got := Step(tm); got != tt.step {
			t.Errorf("Step(%d) = %#x, want %#x", tt.unix, got, tt.step)
		}
		if got, want := Code(rfcSecret, tm), tt.eight[2:]; got != want {
			t.Errorf("Code(%d) = %s, want %s", tt.unix, got, want)
		}
	}
}

func TestStepRoundsDown(t *testing.T) {
	tests := []struct{ unix, step int64 }{
		{0, 0}, {29, 0}, {30, 1}, {59, 1}, {60, 2},
		{-1, -1}, {-30, -1}, {-31, -2},
	}
	for _, tt := range tests {
		if got := Step(time.Unix(tt.unix, 0)); got != tt.step {
			t.Errorf("Step(%d) = %d, want %d", tt.unix, got, tt.step)
		}
	}
	// Sub-second parts and time zones do not matter.
	loc := time.FixedZone("X", 5*3600)
	if Step(time.Unix(29, 999999999).In(loc)) != 0 {
		t.Error("step of 29.999999999 s is not 0")
	}
}

func TestCodeFormat(t *testing.T) {
	// Every code is exactly six digits, leading zeros kept.
	sawLeadingZero := false
	for i := uint64(0); i < 2000; i++ {
		c := HOTP(rfcSecret, i)
		if !ValidCode(c) {
			t.Fatalf("HOTP(%d) = %q, not six digits", i, c)
		}
		sawLeadingZero = sawLeadingZero || c[0] == '0'
	}
	if !sawLeadingZero {
		t.Error("no code with a leading zero in 2000 counters; zero padding untested")
	}
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if len(a) != SecretSize || len(b) != SecretSize {
		t.Fatalf("lengths %d, %d; want %d", len(a), len(b), SecretSize)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two secrets are equal")
	}
	// AWS's seeds are 64 base32 characters with no padding.
	s := Base32(a)
	if len(s) != 64 || strings.ContainsAny(s, "=abcdefghijklmnopqrstuvwxyz01890") {
		t.Errorf("Base32 seed %q: want 64 characters of A-Z2-7", s)
	}
}

func TestBase32(t *testing.T) {
	tests := []struct {
		secret []byte
		b32    string
	}{
		{rfcSecret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
		{[]byte{0xff}, "74"}, // would be "74======" with padding
		{[]byte("f"), "MY"},
		{[]byte("foobar"), "MZXW6YTBOI"},
	}
	for _, tt := range tests {
		if got := Base32(tt.secret); got != tt.b32 {
			t.Errorf("Base32(%q) = %s, want %s", tt.secret, got, tt.b32)
		}
		for _, in := range []string{tt.b32, strings.ToLower(tt.b32), tt.b32 + "======", " " + tt.b32[:1] + " " + tt.b32[1:]} {
			got, err := ParseBase32(in)
			if err != nil || !bytes.Equal(got, tt.secret) {
				t.Errorf("ParseBase32(%q) = %q, %v; want %q", in, got, err, tt.secret)
			}
		}
	}
	// A seed as AWS shows it (from a public write-up) is 40 bytes.
	got, err := ParseBase32("V2NFI2CRKFCMZJD232ONV5OLVPN5H3ZO2553QHFPXJK4BJN4X3JBYEQ6DJSBXE7H")
	if err != nil || len(got) != 40 {
		t.Errorf("AWS-style seed: %d bytes, %v; want 40", len(got), err)
	}
	for _, bad := range []string{"1", "GEZDGNBVGY3TQOJ!", "A"} {
		if _, err := ParseBase32(bad); err == nil {
			t.Errorf("ParseBase32(%q) succeeded", bad)
		}
	}
}

func TestURI(t *testing.T) {
	tests := []struct {
		name, account, issuer, want string
	}{
		{"alice", "123456789012", AWSIssuer,
			"otpauth://totp/Amazon%20Web%20Services:alice@123456789012?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Amazon%20Web%20Services"},
		{"root-account-mfa-device", "123456789012", "",
			"otpauth://totp/root-account-mfa-device@123456789012?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
		// IAM names may hold _+=,.@- ; the URI's own separators get escaped.
		{"a+b=c,d.e@f-g_h", "my-alias", "Coffer",
			"otpauth://totp/Coffer:a%2Bb%3Dc%2Cd.e%40f-g_h@my-alias?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Coffer"},
		{"x", "y", "A&B?C:D",
			"otpauth://totp/A%26B%3FC%3AD:x@y?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=A%26B%3FC%3AD"},
	}
	for _, tt := range tests {
		got := URI(rfcSecret, tt.name, tt.account, tt.issuer)
		if got != tt.want {
			t.Errorf("URI(%q, %q, %q) =\n  %s\nwant\n  %s", tt.name, tt.account, tt.issuer, got, tt.want)
			continue
		}
		// A standard URI parser reads back what an authenticator app would.
		u, err := url.Parse(got)
		if err != nil {
			t.Fatal(err)
		}
		label := tt.name + "@" + tt.account
		if tt.issuer != "" {
			label = tt.issuer + ":" + label
		}
		q := u.Query()
		if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/"+label ||
			q.Get("secret") != Base32(rfcSecret) || q.Get("issuer") != tt.issuer {
			t.Errorf("%s parses as scheme %q host %q path %q query %v", got, u.Scheme, u.Host, u.Path, q)
		}
	}
}

func TestValidCode(t *testing.T) {
	for _, c := range []string{"000000", "123456", "999999"} {
		if !ValidCode(c) {
			t.Errorf("ValidCode(%q) = false", c)
		}
	}
	for _, c := range []string{"", "12345", "1234567", "12345a", " 12345", "12 456", "١٢٣٤٥٦", "+12345", "-12345"} {
		if ValidCode(c) {
			t.Errorf("ValidCode(%q) = true", c)
		}
	}
}
