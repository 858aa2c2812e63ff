package iam

import (
	"encoding/base64"
	"io"
	"strings"
)

// Unique-id prefixes, as AWS assigns them.
const (
	PrefixUser      = "AIDA"
	PrefixGroup     = "AGPA"
	PrefixRole      = "AROA"
	PrefixPolicy    = "ANPA"
	PrefixAccessKey = "AKIA"
)

// ARN returns the ARN of an IAM entity: arn:aws:iam::ACCOUNT:kind{path}{name}.
func ARN(account string, kind Kind, path, name string) string {
	return "arn:aws:iam::" + account + ":" + kind.String() + path + name
}

// RootARN returns the ARN of an account's root user.
func RootARN(account string) string { return "arn:aws:iam::" + account + ":root" }

// PolicyARN is a parsed managed-policy ARN.
type PolicyARN struct {
	Account string // 12 digits, or "aws" for AWS managed policies
	Path    string
	Name    string
}

// ParsePolicyARN parses arn:aws:iam::ACCOUNT:policy{path}{name}. A string
// that is not such an ARN is InvalidInput, as in IAM.
func ParsePolicyARN(s string) (PolicyARN, error) {
	bad := Errorf(ErrInvalidInput, "ARN %s is not valid.", s)
	rest, ok := strings.CutPrefix(s, "arn:aws:iam::")
	if !ok {
		return PolicyARN{}, bad
	}
	account, res, ok := strings.Cut(rest, ":")
	if !ok || !(account == "aws" || isAccountID(account)) {
		return PolicyARN{}, bad
	}
	res, ok = strings.CutPrefix(res, "policy/")
	if !ok {
		return PolicyARN{}, bad
	}
	i := strings.LastIndexByte(res, '/')
	p := PolicyARN{Account: account, Path: "/" + res[:i+1], Name: res[i+1:]}
	if !nameRE.MatchString(p.Name) || len(p.Name) > maxPolicyName || !pathRE.MatchString(p.Path) {
		return PolicyARN{}, bad
	}
	return p, nil
}

// String returns the ARN.
func (p PolicyARN) String() string { return ARN(p.Account, KindPolicy, p.Path, p.Name) }

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

// idAlphabet is the alphabet of the random part of AWS unique ids and
// access key ids (upper-case base32).
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// newID returns prefix followed by n random characters of idAlphabet.
// Unique ids are 21 characters (n = 17), access key ids 20 (n = 16).
func newID(r io.Reader, prefix string, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = idAlphabet[b[i]&31]
	}
	return prefix + string(b), nil
}

// newSecret returns a 40-character secret access key.
func newSecret(r io.Reader) (string, error) {
	var b [30]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}
