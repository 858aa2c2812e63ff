package iam

import (
	"errors"
	"fmt"
)

// Error classes. Every error the Service returns for a client mistake is
// an *Error whose Kind is one of these, so errors.Is(err, ErrNoSuchEntity)
// works; the front door maps each class to its wire code and HTTP status in
// one table. Anything else is an internal failure.
var (
	ErrNoSuchEntity            = errors.New("NoSuchEntity")
	ErrEntityAlreadyExists     = errors.New("EntityAlreadyExists")
	ErrLimitExceeded           = errors.New("LimitExceeded")
	ErrDeleteConflict          = errors.New("DeleteConflict")
	ErrMalformedPolicyDocument = errors.New("MalformedPolicyDocument")
	ErrValidation              = errors.New("ValidationError")
	ErrInvalidInput            = errors.New("InvalidInput")
)

// ErrNotFound is returned by Store transactions for a missing record. The
// Service turns it into ErrNoSuchEntity with AWS's message.
var ErrNotFound = errors.New("iam: record not found")

// Error is a client error with AWS's message.
type Error struct {
	Kind    error // one of the Err* classes above
	Message string
}

func (e *Error) Error() string { return e.Kind.Error() + ": " + e.Message }

// Unwrap returns the error class.
func (e *Error) Unwrap() error { return e.Kind }

// Errorf returns an *Error of the given class. Validators injected into
// the Service may use it to choose the class of their errors.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Message returns the client-facing message of err: the Message of an
// *Error, or "" for anything else (whose text must not reach a client).
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}

// validationf builds AWS's constraint-violation message:
// "1 validation error detected: Value 'x' at 'userName' failed to satisfy
// constraint: Member must ...".
func validationf(field, value, constraint string, args ...any) error {
	return &Error{Kind: ErrValidation, Message: fmt.Sprintf(
		"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must %s",
		value, field, fmt.Sprintf(constraint, args...))}
}

// missing is AWS's message for an absent required parameter.
func missing(field string) error {
	return &Error{Kind: ErrValidation, Message: fmt.Sprintf(
		"1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)}
}

func noSuch(kind Kind, name string) error {
	return Errorf(ErrNoSuchEntity, "The %s with name %s cannot be found.", kind, name)
}

func noSuchPolicy(arn string) error {
	return Errorf(ErrNoSuchEntity, "Policy %s does not exist or is not attachable.", arn)
}

// ErrInvalidAuthenticationCode is a one-time code that does not verify
// (wrong, outside its window, or already used). It is declared apart from
// the classes above because only the MFA operations and STS produce it.
var ErrInvalidAuthenticationCode = errors.New("InvalidAuthenticationCode")
