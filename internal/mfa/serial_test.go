package mfa

import (
	"errors"
	"strings"
	"testing"
)

const rootSerial = "arn:aws:iam::123456789012:mfa/root-account-mfa-device"

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name, in     string
		serial, code string // empty: want ErrInvalidHeader
	}{
		{"virtual device", rootSerial + " 123456", rootSerial, "123456"},
		{"hardware serial", "GAHT12345678 000001", "GAHT12345678", "000001"},
		{"device with path", "arn:aws:iam::123456789012:mfa/ops/team/alice 987654", "arn:aws:iam::123456789012:mfa/ops/team/alice", "987654"},
		{"surrounding spaces", "  " + rootSerial + " 123456  ", rootSerial, "123456"},
		{"surrounding tabs", "\t" + rootSerial + " 123456\t", rootSerial, "123456"},
		{"two spaces between", rootSerial + "  123456", "", ""},
		{"tab between", rootSerial + "\t123456", "", ""},
		{"missing code", rootSerial, "", ""},
		{"missing code, trailing space", rootSerial + " ", "", ""},
		{"missing serial", " 123456", "", ""},
		{"empty", "", "", ""},
		{"only a space", " ", "", ""},
		{"non-digit code", rootSerial + " 12345a", "", ""},
		{"non-ASCII digits", rootSerial + " ١٢٣٤٥٦", "", ""},
		{"short code", rootSerial + " 12345", "", ""},
		{"long code", rootSerial + " 1234567", "", ""},
		{"three parts", rootSerial + " 123456 654321", "", ""},
		{"code first", "123456 " + rootSerial, "", ""},
		{"serial too short", "abcdefgh 123456", "", ""},
		{"serial too long", strings.Repeat("a", 257) + " 123456", "", ""},
		{"serial longest", strings.Repeat("a", 256) + " 123456", strings.Repeat("a", 256), "123456"},
		{"serial bad character", "arn:aws:iam::123456789012:mfa/a*b 123456", "", ""},
		{"newline", rootSerial + "\n123456", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serial, code, err := ParseHeader(tt.in)
			if tt.serial == "" {
				if err != ErrInvalidHeader || serial != "" || code != "" {
					t.Errorf("ParseHeader(%q) = %q, %q, %v; want ErrInvalidHeader", tt.in, serial, code, err)
				}
				return
			}
			if err != nil || serial != tt.serial || code != tt.code {
				t.Errorf("ParseHeader(%q) = %q, %q, %v; want %q, %q", tt.in, serial, code, err, tt.serial, tt.code)
			}
		})
	}
}

func TestInvalidHeaderError(t *testing.T) {
	var e *Error
	if !errors.As(error(ErrInvalidHeader), &e) || e.Code != "InvalidArgument" ||
		e.Message != "Mfa header is invalid -- the header should be formatted as {serialNumber}(space){tokenCode}" {
		t.Errorf("ErrInvalidHeader = %#v", ErrInvalidHeader)
	}
	if errors.Is(ErrInvalidHeader, ErrInvalidAuthenticationCode) {
		t.Error("a bad header is not a bad code")
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{
		rootSerial + " 123456", "GAHT12345678 000001", " a b ", "", " ", "x 1",
		rootSerial + "  123456", rootSerial + "\t123456\t", "arn:aws:iam::123456789012:mfa/a/b 000000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		serial, code, err := ParseHeader(in)
		if err != nil {
			if err != ErrInvalidHeader || serial != "" || code != "" {
				t.Fatalf("ParseHeader(%q) = %q, %q, %v", in, serial, code, err)
			}
			return
		}
		if !ValidSerial(serial) || !ValidCode(code) {
			t.Fatalf("ParseHeader(%q) accepted serial %q code %q", in, serial, code)
		}
		if serial+" "+code != strings.Trim(in, " \t") {
			t.Fatalf("ParseHeader(%q) = %q, %q: not the header's two parts", in, serial, code)
		}
		s2, c2, err := ParseHeader(serial + " " + code)
		if err != nil || s2 != serial || c2 != code {
			t.Fatalf("round trip of %q: %q, %q, %v", in, s2, c2, err)
		}
	})
}

func TestSerialARN(t *testing.T) {
	if got := SerialARN("123456789012", "root-account-mfa-device"); got != rootSerial {
		t.Errorf("SerialARN = %s", got)
	}
	tests := []struct{ path, want string }{
		{"", "arn:aws:iam::123456789012:mfa/alice"},
		{"/", "arn:aws:iam::123456789012:mfa/alice"},
		{"/ops/", "arn:aws:iam::123456789012:mfa/ops/alice"},
		{"/ops/team/", "arn:aws:iam::123456789012:mfa/ops/team/alice"},
	}
	for _, tt := range tests {
		got := SerialARNPath("123456789012", tt.path, "alice")
		if got != tt.want {
			t.Errorf("SerialARNPath(%q) = %s, want %s", tt.path, got, tt.want)
		}
		if !ValidSerial(got) {
			t.Errorf("%s is not a valid serial", got)
		}
		acct, path, name, ok := ParseSerialARN(got)
		wantPath := tt.path
		if wantPath == "" {
			wantPath = "/"
		}
		if !ok || acct != "123456789012" || path != wantPath || name != "alice" {
			t.Errorf("ParseSerialARN(%s) = %q %q %q %v", got, acct, path, name, ok)
		}
	}
}

func TestParseSerialARNRejects(t *testing.T) {
	for _, s := range []string{
		"",
		"GAHT12345678",
		"arn:aws:iam::123456789012:user/alice",
		"arn:aws:iam::123456789012:mfa/",
		"arn:aws:iam::123456789012:mfa/ops/",
		"arn:aws:iam::123456789012:mfa//alice",
		"arn:aws:iam::12345678901:mfa/alice",
		"arn:aws:iam::1234567890123:mfa/alice",
		"arn:aws:iam::12345678901x:mfa/alice",
		"arn:aws:iam:us-east-1:123456789012:mfa/alice",
		"arn:aws:sts::123456789012:mfa/alice",
		"arn:aws:iam::123456789012:mfa/al ice",
		"arn:aws:iam::123456789012:mfa/a b/alice",
		"arn:aws:iam::123456789012:mfa/" + strings.Repeat("p", 511) + "/alice",
	} {
		if a, p, n, ok := ParseSerialARN(s); ok {
			t.Errorf("ParseSerialARN(%q) = %q %q %q, want failure", s, a, p, n)
		}
	}
}
