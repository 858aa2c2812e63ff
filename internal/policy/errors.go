package policy

// Error is a policy document that AWS would refuse, reported the way the
// service that received it reports it: S3 (PutBucketPolicy) answers
// MalformedPolicy, IAM and STS answer MalformedPolicyDocument. Both are
// HTTP 400. Message is the client-visible text; clients and test suites
// compare it, so the strings below are AWS's, not ours.
type Error struct {
	Code    string // CodeMalformedPolicy or CodeMalformedPolicyDocument
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Error codes.
const (
	CodeMalformedPolicy         = "MalformedPolicy"         // S3 bucket policies
	CodeMalformedPolicyDocument = "MalformedPolicyDocument" // IAM and STS policies
)

// S3 (bucket policy) messages.
const (
	msgS3FirstByte      = "Policies must be valid JSON and the first byte must be '{'"
	msgS3InvalidJSON    = "This policy contains invalid Json"
	msgS3Syntax         = "Invalid policy syntax."
	msgS3Version        = "The policy must contain a valid version string"
	msgS3NoStatement    = "Missing required field Statement"
	msgS3EmptyStatement = "Could not parse the policy: Statement is empty!"
	msgS3Principal      = "Invalid principal in policy"
	msgS3Action         = "Policy has invalid action"
	msgS3Resource       = "Policy has invalid resource"
	msgS3ConditionKey   = "Policy has an invalid condition key"
	msgS3ConditionIP    = "Invalid IP address in Conditions"
	msgS3ConditionType  = "Invalid Condition type : " // + operator
	msgS3UnknownField   = "Unknown field "            // + field name
	msgS3MissingField   = "Missing required field "   // + field name
	msgS3InvalidEffect  = "Invalid effect: "          // + effect
	msgS3DuplicateSid   = "Statement IDs (SID) in a single policy must be unique."
)

// IAM / STS messages.
const (
	msgIAMInvalidJSON    = "This policy contains invalid Json"
	msgIAMSyntax         = "Syntax errors in policy."
	msgIAMVersion        = "Policy document must be version 2012-10-17 or greater."
	msgIAMPrincipal      = "Policy document should not specify a principal."
	msgIAMNoPrincipal    = "Missing required field Principal"
	msgIAMBadPrincipal   = "Invalid principal in policy: " // + "KEY":"value"
	msgIAMProhibited     = "Has prohibited field "         // + field name
	msgIAMNoActions      = "Policy statement must contain actions."
	msgIAMNoResources    = "Policy statement must contain resources."
	msgIAMDuplicateSid   = "Statement IDs (SID) in a single policy must be unique."
	msgIAMSidChars       = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgIAMVendor         = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgIAMOneColon       = "Actions/Condition can contain only one colon."
	msgIAMVendorInvalid  = "Vendor %s is not valid"
	msgIAMResourceARN    = "Resource %s must be in ARN format or \"*\"."
	msgIAMResourceVendor = "Resource vendor must be fully qualified and cannot contain regexes."
	msgIAMLegacy         = "The policy failed legacy parsing"
	msgIAMTrustActions   = "AssumeRole policy may only specify STS AssumeRole actions."
	msgIAMInvalidChar    = "Syntax errors in policy."
	msgKMSNoPrincipal    = "Policy contains a statement with no principal."
)
