package policy

import "strings"

// splitARN splits an ARN into its six colon-separated fields: "arn",
// partition, service, region, account and resource. The resource keeps any
// further colons (S3 keys may contain them). ok is false for a string with
// fewer than six fields or that does not start with "arn:".
func splitARN(s string) (f [6]string, ok bool) {
	for i := 0; i < 5; i++ {
		c := strings.IndexByte(s, ':')
		if c < 0 {
			return f, false
		}
		f[i], s = s[:c], s[c+1:]
	}
	f[5] = s
	return f, f[0] == "arn"
}

// arnPattern is a compiled Resource/NotResource entry or Arn* condition
// value: each of the six fields is globbed separately, so a wildcard never
// crosses a colon between fields, while inside the resource field "*" and
// "?" match anything, "/" and ":" included.
type arnPattern struct {
	any    bool       // "*": every resource, ARN or not
	fields [5]pattern // arn, partition, service, region, account
	res    pattern    // resource field; the only one where variables count
	// head is "arn:partition:service:region:account:" when those five
	// fields are plain text (the usual case), so that they are compared
	// in one go.
	head string
}

// match matches a request ARN, given pre-split and with its head (the
// text up to and including the fifth colon).
func (a *arnPattern) match(f *[6]string, head string, e *evalCtx) bool {
	if a.any {
		return true
	}
	if a.head != "" {
		if head != a.head {
			return false
		}
	} else {
		for i := 1; i < 5; i++ { // field 0 is always "arn" on both sides
			if !a.fields[i].match(f[i], e) {
				return false
			}
		}
	}
	return a.res.match(f[5], e)
}

// arnHead returns the text of an ARN up to and including its fifth colon.
func arnHead(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			if n++; n == 5 {
				return s[:i+1]
			}
		}
	}
	return ""
}

// compileARN compiles a Resource entry or an ARN condition value. vars
// allows variables in the resource field (2012-10-17 documents).
func compileARN(f [6]string, vars bool) arnPattern {
	var a arnPattern
	for i := 0; i < 5; i++ {
		a.fields[i] = compilePattern(f[i], true, false)
	}
	a.res = compilePattern(f[5], true, vars)
	plain := true
	for i := 0; i < 5; i++ {
		if a.fields[i].mode != pmExact {
			plain = false
		}
	}
	if plain {
		a.head = strings.Join(f[:5], ":") + ":"
	}
	return a
}

// isAccountID reports whether s is a 12-digit AWS account ID.
func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validPartition accepts the shape of an AWS partition name ("aws",
// "aws-cn", "aws-us-gov", "aws-iso-b", …).
func validPartition(s string) bool {
	if !strings.HasPrefix(s, "aws") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validServiceName accepts a service namespace ("s3", "iam", "sts",
// "execute-api").
func validServiceName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?") }
