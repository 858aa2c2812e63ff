package mfa

import "errors"

// Error is a client-caused MFA failure with the AWS error code and message
// the API layer should send. Reason says why, for logs and audit only: AWS
// answers every bad code alike, and so must we, so that a caller cannot tell
// a reused code from a wrong one.
type Error struct {
	Code    string // AWS error code, e.g. "InvalidAuthenticationCode"
	Message string // AWS's client-facing message
	Reason  string // internal detail; never send it to a client
	parent  error  // the broader sentinel this one refines, for errors.Is
}

func (e *Error) Error() string {
	s := "mfa: " + e.Code + ": " + e.Message
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	return s
}

// Unwrap returns the broader error this one refines, if any.
func (e *Error) Unwrap() error { return e.parent }

// ErrInvalidAuthenticationCode is IAM's answer (HTTP 403) to codes that do
// not verify in EnableMFADevice and ResyncMFADevice. Every bad-code error of
// this package matches it with errors.Is.
var ErrInvalidAuthenticationCode = &Error{
	Code:    "InvalidAuthenticationCode",
	Message: "Authentication code for device is not valid.",
}

// ErrMalformedCode is a code that is not six ASCII digits. IAM's parameter
// validation rejects such AuthenticationCode values earlier with a
// ValidationError; callers that want that answer must check ValidCode first.
var ErrMalformedCode = &Error{
	Code:    ErrInvalidAuthenticationCode.Code,
	Message: ErrInvalidAuthenticationCode.Message,
	Reason:  "code is not six digits",
	parent:  ErrInvalidAuthenticationCode,
}

// ErrCodeReused is a code that is right for the device but belongs to a time
// step no later than one already accepted: a replay, or the same code used
// twice within its 30 seconds.
var ErrCodeReused = &Error{
	Code:    ErrInvalidAuthenticationCode.Code,
	Message: ErrInvalidAuthenticationCode.Message,
	Reason:  "code already used",
	parent:  ErrInvalidAuthenticationCode,
}

// ErrInvalidHeader is S3's answer (HTTP 400) to an x-amz-mfa header that is
// not "SERIAL CODE". S3 also names the header in ArgumentName.
var ErrInvalidHeader = &Error{
	Code:    "InvalidArgument",
	Message: "Mfa header is invalid -- the header should be formatted as {serialNumber}(space){tokenCode}",
}

// State errors. Which AWS error they become depends on the operation (for
// example EntityAlreadyExists in EnableMFADevice, or STS's "unable to
// validate MFA code"), so they carry no AWS code of their own.
var (
	ErrNotEnabled     = errors.New("mfa: device is not enabled")
	ErrAlreadyEnabled = errors.New("mfa: device is already enabled")
)
