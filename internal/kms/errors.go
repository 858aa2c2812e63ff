package kms

import (
	"errors"
	"fmt"
)

// AWS KMS error codes returned by this package. They are the "__type"
// values of AWS's JSON error bodies, which clients match on.
const (
	CodeAlreadyExists           = "AlreadyExistsException"
	CodeDisabled                = "DisabledException"
	CodeIncorrectKey            = "IncorrectKeyException"
	CodeInternal                = "KMSInternalException"
	CodeInvalidAliasName        = "InvalidAliasNameException"
	CodeInvalidArn              = "InvalidArnException"
	CodeInvalidCiphertext       = "InvalidCiphertextException"
	CodeInvalidGrantToken       = "InvalidGrantTokenException"
	CodeInvalidMarker           = "InvalidMarkerException"
	CodeInvalidState            = "KMSInvalidStateException"
	CodeLimitExceeded           = "LimitExceededException"
	CodeMalformedPolicyDocument = "MalformedPolicyDocumentException"
	CodeNotFound                = "NotFoundException"
	CodeUnsupportedOperation    = "UnsupportedOperationException"
	CodeValidation              = "ValidationException"
)

// Error is a KMS error with AWS's code and a human-readable message.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is lets errors.Is(err, &Error{Code: c}) match any error of code c.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// HTTPStatus is the status AWS sends with the error: 500 for internal
// errors, 400 for everything else (AWS KMS reports even NotFound as 400).
func (e *Error) HTTPStatus() int {
	if e.Code == CodeInternal {
		return 500
	}
	return 400
}

// ErrorCode returns the code of a *Error in err's chain, or "" if none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func newErr(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func validationErr(format string, args ...any) *Error {
	return newErr(CodeValidation, format, args...)
}

// internalErr hides internal details from clients (the message goes on the
// wire) while keeping the cause for logs; errors.As still finds the *Error.
type internalError struct {
	kerr  *Error
	cause error
}

func (e *internalError) Unwrap() []error { return []error{e.kerr, e.cause} }
func (e *internalError) Error() string   { return e.kerr.Error() + ": " + e.cause.Error() }

func internalErr(cause error) error {
	return &internalError{kerr: &Error{Code: CodeInternal, Message: "internal error"}, cause: cause}
}
