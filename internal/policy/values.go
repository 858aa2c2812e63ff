package policy

import (
	"net/netip"
	"strings"
	"time"
)

// decimal is an exact decimal number, so that Numeric* conditions compare
// "0.1" and "0.10", or 2^63 and 2^63+1, the way the digits say rather than
// the way float64 rounds them.
type decimal struct {
	neg  bool
	ip   string // integer digits without leading zeros ("" for zero)
	frac string // fraction digits without trailing zeros
}

// parseDecimal accepts [+-]?digits[.digits] (an integer or a decimal; no
// exponent, no hex, no NaN/Inf).
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	if s == "" {
		return d, false
	}
	switch s[0] {
	case '-':
		d.neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	ip, frac, dot := strings.Cut(s, ".")
	if ip == "" || !allDigits(ip) || dot && (frac == "" || !allDigits(frac)) {
		return decimal{}, false
	}
	d.ip = strings.TrimLeft(ip, "0")
	d.frac = strings.TrimRight(frac, "0")
	if d.ip == "" && d.frac == "" {
		d.neg = false // -0 is 0
	}
	return d, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

func cmpDecimal(a, b decimal) int {
	if a.neg != b.neg {
		if a.neg {
			return -1
		}
		return 1
	}
	c := cmpMagnitude(a, b)
	if a.neg {
		return -c
	}
	return c
}

func cmpMagnitude(a, b decimal) int {
	if len(a.ip) != len(b.ip) {
		if len(a.ip) < len(b.ip) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.ip, b.ip); c != 0 {
		return c
	}
	return strings.Compare(a.frac, b.frac) // no trailing zeros: lexical order is numeric order
}

// instant is a point in time with nanosecond precision and no range limit
// worth worrying about (time.Time.UnixNano overflows in 2262).
type instant struct {
	sec  int64
	nsec int32
}

func cmpInstant(a, b instant) int {
	switch {
	case a.sec < b.sec:
		return -1
	case a.sec > b.sec:
		return 1
	case a.nsec < b.nsec:
		return -1
	case a.nsec > b.nsec:
		return 1
	}
	return 0
}

// parseDate accepts the forms AWS documents for Date* conditions: epoch
// seconds (all digits) or the W3C profile of ISO 8601 — YYYY, YYYY-MM,
// YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.fff…]] followed by Z or ±hh:mm. A time
// without a zone designator is read as UTC. A value made only of digits is
// epoch seconds, so "2020" is 1970-01-01T00:33:40Z, not the year 2020
// (the rule IAM's own validator applies: a "-" or "T" makes it a date).
func parseDate(s string) (instant, bool) {
	if s == "" {
		return instant{}, false
	}
	if allDigits(s) {
		if len(s) > 18 {
			return instant{}, false
		}
		var n int64
		for i := 0; i < len(s); i++ {
			n = n*10 + int64(s[i]-'0')
		}
		return instant{sec: n}, true
	}
	// num reads exactly n digits at s[*i:] (no allocation: this runs for
	// every Date* condition evaluated).
	i := 0
	num := func(n int) (int, bool) {
		if len(s)-i < n {
			return 0, false
		}
		v := 0
		for j := 0; j < n; j++ {
			c := s[i+j]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		i += n
		return v, true
	}
	sep := func(c byte) bool {
		if i < len(s) && s[i] == c {
			i++
			return true
		}
		return false
	}
	year, ok := num(4)
	if !ok {
		return instant{}, false
	}
	month, day := 1, 1
	if sep('-') {
		if month, ok = num(2); !ok || month < 1 || month > 12 {
			return instant{}, false
		}
		if sep('-') {
			if day, ok = num(2); !ok || day < 1 || day > daysIn(year, month) {
				return instant{}, false
			}
			if i < len(s) && (s[i] == 'T' || s[i] == 't') {
				i++
				return parseClock(s, i, year, month, day)
			}
		}
	}
	if i != len(s) {
		return instant{}, false
	}
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	return instant{sec: t.Unix()}, true
}

// parseClock parses the hh:mm[:ss[.fff…]][Z|±hh:mm] after a date's T.
func parseClock(s string, i, year, month, day int) (instant, bool) {
	num := func(n int) (int, bool) {
		if len(s)-i < n {
			return 0, false
		}
		v := 0
		for j := 0; j < n; j++ {
			c := s[i+j]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		i += n
		return v, true
	}
	sep := func(c byte) bool {
		if i < len(s) && s[i] == c {
			i++
			return true
		}
		return false
	}
	hour, ok := num(2)
	if !ok || hour > 23 || !sep(':') {
		return instant{}, false
	}
	minute, ok := num(2)
	if !ok || minute > 59 {
		return instant{}, false
	}
	sec, nsec := 0, 0
	if sep(':') {
		if sec, ok = num(2); !ok || sec > 59 {
			return instant{}, false
		}
		if sep('.') {
			digits := 0
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				if digits == 9 {
					return instant{}, false
				}
				nsec = nsec*10 + int(s[i]-'0')
				digits++
				i++
			}
			if digits == 0 {
				return instant{}, false
			}
			for ; digits < 9; digits++ {
				nsec *= 10
			}
		}
	}
	offset := 0
	switch {
	case i == len(s):
		// No zone designator: UTC.
	case s[i] == 'Z' || s[i] == 'z':
		i++
	case s[i] == '+' || s[i] == '-':
		neg := s[i] == '-'
		i++
		zh, ok1 := num(2)
		if !ok1 || zh > 23 || !sep(':') {
			return instant{}, false
		}
		zm, ok2 := num(2)
		if !ok2 || zm > 59 {
			return instant{}, false
		}
		offset = zh*3600 + zm*60
		if neg {
			offset = -offset
		}
	}
	if i != len(s) {
		return instant{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return instant{sec: t.Unix() - int64(offset), nsec: int32(nsec)}, true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseBool accepts "true" and "false" in any letter case.
func parseBool(s string) (v, ok bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// parseCIDR accepts an IPv4 or IPv6 CIDR block, or a bare address (a /32
// or /128). Host bits are cleared: 203.0.113.5/24 is 203.0.113.0/24.
func parseCIDR(s string) (netip.Prefix, bool) {
	if strings.IndexByte(s, '%') >= 0 { // zones have no place in a policy
		return netip.Prefix{}, false
	}
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// parseIP parses a request's source address; IPv4-mapped IPv6 addresses
// are unmapped so that IPv4 blocks match them.
func parseIP(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
