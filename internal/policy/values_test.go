package policy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseDate(t *testing.T) {
	utc := func(s string) instant {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return instant{sec: tm.Unix(), nsec: int32(tm.Nanosecond())}
	}
	good := map[string]instant{
		"0":                              {},
		"1704067200":                     utc("2024-01-01T00:00:00Z"),
		"2024":                           {sec: 2024}, // digits only: epoch seconds
		"2024-03":                        utc("2024-03-01T00:00:00Z"),
		"2024-03-05":                     utc("2024-03-05T00:00:00Z"),
		"2024-03-05T10:20Z":              utc("2024-03-05T10:20:00Z"),
		"2024-03-05T10:20:30Z":           utc("2024-03-05T10:20:30Z"),
		"2024-03-05t10:20:30z":           utc("2024-03-05T10:20:30Z"),
		"2024-03-05T10:20:30":            utc("2024-03-05T10:20:30Z"),
		"2024-03-05T10:20:30.5Z":         utc("2024-03-05T10:20:30.5Z"),
		"2024-03-05T10:20:30.123456789Z": utc("2024-03-05T10:20:30.123456789Z"),
		"2024-03-05T10:20:30+02:00":      utc("2024-03-05T08:20:30Z"),
		"2024-03-05T10:20:30-05:30":      utc("2024-03-05T15:50:30Z"),
		"2024-02-29":                     utc("2024-02-29T00:00:00Z"),
	}
	for in, want := range good {
		got, ok := parseDate(in)
		if !ok || got != want {
			t.Errorf("parseDate(%q) = %+v, %v; want %+v", in, got, ok, want)
		}
	}
	for _, in := range []string{
		"", "x", "-1", "2024-", "2024-1-05", "2024-13-01", "2024-00-01", "2023-02-29",
		"2024-03-05T", "2024-03-05T10", "2024-03-05T24:00:00Z", "2024-03-05T10:60Z",
		"2024-03-05T10:20:61Z", "2024-03-05T10:20:30.Z", "2024-03-05T10:20:30.1234567890Z",
		"2024-03-05T10:20:30+25:00", "2024-03-05T10:20:30Zjunk", "20240305T102030Z",
		"1234567890123456789", "２０２４",
	} {
		if got, ok := parseDate(in); ok {
			t.Errorf("parseDate(%q) = %+v, want failure", in, got)
		}
	}
}

func TestDecimal(t *testing.T) {
	order := []string{"-100", "-9.5", "-9.25", "-1", "0", "0.000001", "0.1", "1", "9.999", "10", "10.0001", "9223372036854775807", "9223372036854775808"}
	for i := range order {
		for j := range order {
			a, ok1 := parseDecimal(order[i])
			b, ok2 := parseDecimal(order[j])
			if !ok1 || !ok2 {
				t.Fatalf("parse %q / %q", order[i], order[j])
			}
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := cmpDecimal(a, b); got != want {
				t.Errorf("cmp(%s, %s) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	for _, eq := range [][2]string{{"10", "10.000"}, {"-0", "0"}, {"+5", "5"}, {"007", "7"}, {"0.10", "0.1"}} {
		a, _ := parseDecimal(eq[0])
		b, _ := parseDecimal(eq[1])
		if cmpDecimal(a, b) != 0 {
			t.Errorf("%s != %s", eq[0], eq[1])
		}
	}
	for _, bad := range []string{"", "-", "+", ".5", "5.", "1e3", "0x10", "NaN", "Inf", "1_000", "1.2.3", " 1", "١"} {
		if _, ok := parseDecimal(bad); ok {
			t.Errorf("parseDecimal(%q) succeeded", bad)
		}
	}
}

func TestParseCIDR(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.0/8":          "10.0.0.0/8",
		"203.0.113.5/24":      "203.0.113.0/24",
		"192.0.2.1":           "192.0.2.1/32",
		"2001:db8::/32":       "2001:db8::/32",
		"2001:db8::1":         "2001:db8::1/128",
		"::ffff:10.0.0.0/104": "::ffff:10.0.0.0/104",
	} {
		p, ok := parseCIDR(in)
		if !ok || p.String() != want {
			t.Errorf("parseCIDR(%q) = %v, %v; want %s", in, p, ok, want)
		}
	}
	for _, bad := range []string{"", "10.0.0.0/33", "10.0.0/8", "fe80::1%eth0", "1.2.3.4/-1", "host", "2001:db8::/129"} {
		if _, ok := parseCIDR(bad); ok {
			t.Errorf("parseCIDR(%q) succeeded", bad)
		}
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		pattern, s string
		fold, want bool
	}{
		{"*", "", false, true},
		{"*", "anything/at:all", false, true},
		{"a*", "a", false, true},
		{"a*c", "abc", false, true},
		{"a*c", "ab", false, false},
		{"a*b*c", "axxbyyc", false, true},
		{"a*b*c", "axxbyy", false, false},
		{"*a*a*a*a*b", strings.Repeat("a", 200), false, false},
		{"?", "é", false, true},
		{"??", "é", false, false},
		{"a?c", "a/c", false, true},
		{"Get*", "getObject", true, true},
		{"Get*", "getObject", false, false},
		{"*Object", "GETOBJECT", true, true},
		{"x", "X", false, false},
		{"", "", false, true},
		{"", "a", false, false},
	}
	for _, c := range cases {
		p := compilePattern(c.pattern, true, false)
		if c.fold {
			p = compileFold(c.pattern)
		}
		if got := p.match(c.s, nil); got != c.want {
			t.Errorf("%q ~ %q (fold %v) = %v, want %v", c.pattern, c.s, c.fold, got, c.want)
		}
	}
}

func TestCouldMatch(t *testing.T) {
	cases := []struct {
		pattern, s  string
		whole, want bool
	}{
		{"bkt", "bkt", true, true},
		{"bkt/*", "bkt", true, false},
		{"bkt/*", "bkt/", false, true},
		{"b*", "bkt/", false, true},
		{"b?t/x", "bkt/", false, true},
		{"bkt2/*", "bkt/", false, false},
		{"${aws:username}/*", "bkt/", false, true},
		{"${aws:username}", "bkt", true, true},
		{"other", "bkt", true, false},
	}
	for _, c := range cases {
		p := compilePattern(c.pattern, true, true)
		if got := p.couldMatch(c.s, c.whole); got != c.want {
			t.Errorf("couldMatch(%q, %q, %v) = %v, want %v", c.pattern, c.s, c.whole, got, c.want)
		}
	}
}

func TestSize(t *testing.T) {
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\"Sid\": \"a b\\\" c\"}\n}"
	// Whitespace outside strings is free; inside it counts; escapes are
	// counted as written.
	want := len(`{"Version":"2012-10-17","Statement":{"Sid":"a b\" c"}}`)
	if got := Size([]byte(doc)); got != want {
		t.Errorf("Size = %d, want %d", got, want)
	}
	if got := Size([]byte(`{"a":"é"}`)); got != 9 {
		t.Errorf("Size counts runes: got %d, want 9", got)
	}
}

func TestAccessors(t *testing.T) {
	p, err := Parse([]byte(`{"Id":"doc1","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`), Resource)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{p.Kind().String(), p.Version(), p.ID()}
	if diff := cmp.Diff([]string{"Resource", "2008-10-17", "doc1"}, got); diff != "" {
		t.Errorf("accessors (-want +got):\n%s", diff)
	}
	if p.Len() != 2 {
		t.Errorf("Len = %d", p.Len())
	}
	if _, err := Parse([]byte(`{}`), Kind(0)); err == nil || errors.As(err, new(*Error)) {
		t.Errorf("Parse with an unknown kind: %v", err)
	}
	for _, s := range []interface{ String() string }{Reason(200), Source(200), Kind(200), PrincipalType(200)} {
		if !strings.Contains(s.String(), "?") {
			t.Errorf("out-of-range String() = %q", s.String())
		}
	}
}

// Every reason has a name, and Allowed decisions carry Allowed* reasons.
func TestReasonNames(t *testing.T) {
	for r := ImplicitDeny; r <= AllowedOwnerRootPolicyManagement; r++ {
		name := r.String()
		if strings.Contains(name, "?") {
			t.Errorf("reason %d has no name", r)
		}
	}
	if len(reasonNames) != int(AllowedOwnerRootPolicyManagement)+1 {
		t.Errorf("reasonNames has %d entries", len(reasonNames))
	}
}

func TestErrorString(t *testing.T) {
	_, err := Parse([]byte(`x`), Resource)
	want := &Error{Code: CodeMalformedPolicy, Message: "Policies must be valid JSON and the first byte must be '{'"}
	var got *Error
	if !errors.As(err, &got) {
		t.Fatalf("not an *Error: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err.Error() != "MalformedPolicy: Policies must be valid JSON and the first byte must be '{'" {
		t.Errorf("Error() = %q", err.Error())
	}
}
