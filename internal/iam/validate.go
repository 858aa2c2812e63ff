package iam

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/coffer-io/coffer/internal/policy"
)

// Input constraints, from the IAM API's shape definitions. Violations are
// ValidationError with AWS's "1 validation error detected" message.
var (
	nameRE        = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathRE        = regexp.MustCompile(`^(/|/[\x21-\x7E]+/)$`)
	pathPrefixRE  = regexp.MustCompile(`^/[\x21-\x7E]*$`)
	tagKeyRE      = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValueRE    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	versionIDRE   = regexp.MustCompile(`^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$`)
	accessKeyIDRE = regexp.MustCompile(`^[\w]+$`)
	roleDescRE    = regexp.MustCompile(`^[\t\n\r\x{20}-\x{7E}\x{A1}-\x{FF}]*$`)
)

// Length limits of names (characters).
const (
	maxUserName   = 64
	maxGroupName  = 128
	maxRoleName   = 64
	maxPolicyName = 128
	maxPath       = 512
	maxDesc       = 1000
	maxDocument   = 131072 // the API's bound on a document parameter
)

func checkName(field, v string, max int) error {
	switch {
	case v == "":
		return missing(field)
	case len(v) > max:
		return validationf(field, v, "have length less than or equal to %d", max)
	case !nameRE.MatchString(v):
		return validationf(field, v, `satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	return nil
}

// checkPath validates an entity path; "" means the default "/".
func checkPath(field, v string) (string, error) {
	if v == "" {
		return "/", nil
	}
	if len(v) > maxPath {
		return "", validationf(field, v, "have length less than or equal to %d", maxPath)
	}
	if !pathRE.MatchString(v) {
		return "", validationf(field, v, `satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
	}
	return v, nil
}

func checkPathPrefix(v string) error {
	if v == "" {
		return nil
	}
	if len(v) > maxPath {
		return validationf("pathPrefix", v, "have length less than or equal to %d", maxPath)
	}
	if !pathPrefixRE.MatchString(v) {
		return validationf("pathPrefix", v, `satisfy regular expression pattern: \u002F[\u0021-\u007E]*`)
	}
	return nil
}

func checkVersionID(v string) error {
	if v == "" {
		return missing("versionId")
	}
	if !versionIDRE.MatchString(v) {
		return validationf("versionId", v, `satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`)
	}
	return nil
}

func checkAccessKeyID(v string) error {
	switch {
	case v == "":
		return missing("accessKeyId")
	case len(v) < 16:
		return validationf("accessKeyId", v, "have length greater than or equal to 16")
	case len(v) > 128:
		return validationf("accessKeyId", v, "have length less than or equal to 128")
	case !accessKeyIDRE.MatchString(v):
		return validationf("accessKeyId", v, `satisfy regular expression pattern: [\w]+`)
	}
	return nil
}

func checkStatus(v string) error {
	switch v {
	case StatusActive, StatusInactive:
		return nil
	case "":
		return missing("status")
	}
	return validationf("status", v, "satisfy enum value set: [Active, Inactive]")
}

func checkDescription(field, v string, role bool) error {
	if utf8.RuneCountInString(v) > maxDesc {
		return validationf(field, v, "have length less than or equal to %d", maxDesc)
	}
	if role && !roleDescRE.MatchString(v) {
		return validationf(field, v, `satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`)
	}
	return nil
}

// checkTags validates tags given to a create or tag operation: AWS's key
// and value syntax, no reserved "aws:" keys, no key twice (compared
// case-insensitively).
func checkTags(tags []Tag) error {
	seen := make(map[string]bool, len(tags))
	for i, t := range tags {
		field := "tags." + strconv.Itoa(i+1) + ".member"
		switch {
		case t.Key == "":
			return missing(field + ".key")
		case utf8.RuneCountInString(t.Key) > 128:
			return validationf(field+".key", t.Key, "have length less than or equal to 128")
		case !tagKeyRE.MatchString(t.Key):
			return validationf(field+".key", t.Key, `satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
		case utf8.RuneCountInString(t.Value) > 256:
			return validationf(field+".value", t.Value, "have length less than or equal to 256")
		case !tagValueRE.MatchString(t.Value):
			return validationf(field+".value", t.Value, `satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
		case strings.HasPrefix(lower(t.Key), "aws:"):
			return Errorf(ErrInvalidInput, "User-defined tag keys can't start with 'aws:'. This prefix is reserved for AWS use.")
		}
		k := lower(t.Key)
		if seen[k] {
			return Errorf(ErrInvalidInput, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
	}
	return nil
}

// checkDocumentText applies the API's constraints on a policy document
// parameter: 1 to 131072 characters, only TAB, LF, CR and U+0020–U+00FF.
func checkDocumentText(field, doc string) error {
	if doc == "" {
		return missing(field)
	}
	if !utf8.ValidString(doc) {
		return validationf(field, doc, `satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)
	}
	if utf8.RuneCountInString(doc) > maxDocument {
		return validationf(field, doc, "have length less than or equal to %d", maxDocument)
	}
	for _, r := range doc {
		if r != '\t' && r != '\n' && r != '\r' && (r < 0x20 || r > 0xFF) {
			return validationf(field, doc, `satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)
		}
	}
	return nil
}

// policySize is a document's size as IAM counts it against quotas: in
// characters, not counting white space outside JSON strings. The policy
// language package owns the rule.
func policySize(doc string) int { return policy.Size([]byte(doc)) }

// wellFormed is the validator used when none is injected: the document
// must be a JSON object.
func wellFormed(doc []byte, _ PolicyKind) error {
	var v map[string]json.RawMessage
	if err := json.Unmarshal(doc, &v); err != nil {
		return Errorf(ErrMalformedPolicyDocument, "Syntax errors in policy.")
	}
	return nil
}
