package policy

// Size limits. Parse does not enforce them: the caller knows which limit
// applies (an inline user policy counts against the user's aggregate, a
// managed policy alone) and which error the API answers with when it is
// exceeded (S3: MalformedPolicy / PolicyTooLarge-style 400s; IAM:
// LimitExceeded). IAM limits are in characters as counted by Size; the
// bucket policy limit is in bytes of the document as sent.
const (
	MaxBucketPolicySize      = 20 * 1024 // bytes, S3 bucket policy
	MaxManagedPolicySize     = 6144      // characters, customer-managed policy (also a permissions boundary)
	MaxUserInlinePolicySize  = 2048      // characters, all inline policies of one user together
	MaxRoleInlinePolicySize  = 10240     // characters, all inline policies of one role together
	MaxGroupInlinePolicySize = 5120      // characters, all inline policies of one group together
	MaxTrustPolicySize       = 2048      // characters, role trust policy (AWS default quota)
	MaxSessionPolicySize     = 2048      // characters, inline session policy passed to STS
)

// Size counts a policy document the way IAM does for its quotas: in
// characters (runes), not counting whitespace outside JSON strings.
// Whitespace inside string values counts.
func Size(doc []byte) int {
	n := 0
	inString, escaped := false, false
	for _, r := range string(doc) {
		switch {
		case inString:
			n++
			switch {
			case escaped:
				escaped = false
			case r == '\\':
				escaped = true
			case r == '"':
				inString = false
			}
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
		default:
			n++
			if r == '"' {
				inString = true
			}
		}
	}
	return n
}
