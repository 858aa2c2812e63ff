package mfa

import "strings"

// HeaderName is the S3 request header that carries MFA for MFA Delete.
const HeaderName = "x-amz-mfa"

// Serial number length limits of the IAM and STS APIs (SerialNumber).
const (
	minSerial = 9
	maxSerial = 256
)

// ParseHeader splits an x-amz-mfa header value, "SERIAL CODE", into the
// device serial number (a virtual device's ARN, or a hardware device's
// serial) and the six-digit code. Anything else is ErrInvalidHeader, which S3
// answers with 400 InvalidArgument.
//
// Surrounding spaces and tabs are ignored, as HTTP ignores them around any
// header value. Between the two parts exactly one space is accepted: that is
// the documented form and what the AWS CLI and SDKs send, so a value with
// more is not something a real client produces.
func ParseHeader(v string) (serial, code string, err error) {
	v = strings.Trim(v, " \t")
	serial, code, ok := strings.Cut(v, " ")
	if !ok || !ValidSerial(serial) || !ValidCode(code) {
		return "", "", ErrInvalidHeader
	}
	return serial, code, nil
}

// ValidSerial reports whether s satisfies IAM's SerialNumber constraint:
// 9 to 256 characters of [\w+=/:,.@-].
func ValidSerial(s string) bool {
	if len(s) < minSerial || len(s) > maxSerial {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i]) && s[i] != '/' && s[i] != ':' {
			return false
		}
	}
	return true
}

// nameChar reports whether c may appear in an IAM name: [\w+=,.@-].
func nameChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		strings.IndexByte("_+=,.@-", c) >= 0
}

// SerialARN returns the serial number (and ARN) of a virtual MFA device
// created with the default path: arn:aws:iam::ACCOUNT:mfa/NAME.
func SerialARN(accountID, name string) string {
	return SerialARNPath(accountID, "/", name)
}

// SerialARNPath returns the serial number of a virtual MFA device created
// with a path, arn:aws:iam::ACCOUNT:mfa{path}{name}, the form IAM uses for
// every entity with a path. path must begin and end with '/'; "" means "/".
func SerialARNPath(accountID, path, name string) string {
	if path == "" {
		path = "/"
	}
	return "arn:aws:iam::" + accountID + ":mfa" + path + name
}

// ParseSerialARN splits a virtual MFA device ARN into account ID, path and
// name. ok is false for anything else, including hardware serials, which the
// caller looks up by serial alone.
func ParseSerialARN(s string) (accountID, path, name string, ok bool) {
	rest, ok := strings.CutPrefix(s, "arn:aws:iam::")
	if !ok {
		return "", "", "", false
	}
	accountID, rest, ok = strings.Cut(rest, ":")
	if !ok || !isAccountID(accountID) {
		return "", "", "", false
	}
	rest, ok = strings.CutPrefix(rest, "mfa/")
	if !ok {
		return "", "", "", false
	}
	i := strings.LastIndexByte(rest, '/')
	path, name = "/"+rest[:i+1], rest[i+1:]
	// IAM's path pattern is (/)|(/[\x21-\x7E]+/), at most 512 characters.
	if name == "" || path == "//" || len(path) > 512 {
		return "", "", "", false
	}
	for j := 0; j < len(name); j++ {
		if !nameChar(name[j]) {
			return "", "", "", false
		}
	}
	for j := 0; j < len(path); j++ {
		if path[j] < 0x21 || path[j] > 0x7e {
			return "", "", "", false
		}
	}
	return accountID, path, name, true
}

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
