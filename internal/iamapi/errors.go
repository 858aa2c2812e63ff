package iamapi

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/coffer-io/coffer/internal/iam"
)

// Error is a Query-protocol error as sent on the wire. Handlers and the
// pipeline may return one directly (AccessDenied, a signature failure);
// errors of package iam are mapped through errorTable.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// errorTable is the one place that decides which code and HTTP status a
// client sees for each class of IAM error.
var errorTable = []struct {
	class  error
	code   string
	status int
}{
	{iam.ErrNoSuchEntity, "NoSuchEntity", http.StatusNotFound},
	{iam.ErrEntityAlreadyExists, "EntityAlreadyExists", http.StatusConflict},
	{iam.ErrLimitExceeded, "LimitExceeded", http.StatusConflict},
	{iam.ErrDeleteConflict, "DeleteConflict", http.StatusConflict},
	{iam.ErrMalformedPolicyDocument, "MalformedPolicyDocument", http.StatusBadRequest},
	{iam.ErrValidation, "ValidationError", http.StatusBadRequest},
	{iam.ErrInvalidInput, "InvalidInput", http.StatusBadRequest},
	{iam.ErrInvalidAuthenticationCode, "InvalidAuthenticationCode", http.StatusForbidden},
}

// Protocol-level errors.

func invalidAction(action, version string) *Error {
	return &Error{Code: "InvalidAction", Status: http.StatusBadRequest,
		Message: "Could not find operation " + action + " for version " + version}
}

func notImplemented(action string) *Error {
	return &Error{Code: "NotImplemented", Status: http.StatusNotImplemented,
		Message: "The operation " + action + " is not implemented by this server."}
}

var (
	errMissingAction = &Error{Code: "MissingAction", Status: http.StatusBadRequest,
		Message: "The request must contain the parameter Action."}
	// ErrMissingAuthenticationToken answers unsigned requests; IAM and
	// STS never accept anonymous callers.
	ErrMissingAuthenticationToken = &Error{Code: "MissingAuthenticationToken", Status: http.StatusForbidden,
		Message: "Request is missing Authentication Token"}
	errNonUserCaller = &Error{Code: "ValidationError", Status: http.StatusBadRequest,
		Message: "Must specify userName when calling with non-User credentials"}
)

// AccessDenied is the authorizer's refusal, worded as IAM words it.
func AccessDenied(principalARN, action, resource string) *Error {
	return &Error{Code: "AccessDenied", Status: http.StatusForbidden,
		Message: "User: " + principalARN + " is not authorized to perform: " + action + " on resource: " + resource}
}

// toWire maps any error to what the client sees. Errors that are neither
// *Error nor an iam class are internal: the client gets a generic
// failure (ServiceFailure for IAM, InternalFailure for STS) and the
// cause stays in the log.
func toWire(service string, err error) (e *Error, internal bool) {
	if errors.As(err, &e) {
		return e, false
	}
	for _, row := range errorTable {
		if errors.Is(err, row.class) {
			return &Error{Code: row.code, Status: row.status, Message: iam.Message(err)}, false
		}
	}
	if service == ServiceSTS {
		return &Error{Code: "InternalFailure", Status: http.StatusInternalServerError,
			Message: "The request processing has failed because of an unknown error, exception or failure."}, true
	}
	return &Error{Code: "ServiceFailure", Status: http.StatusInternalServerError,
		Message: "The request processing has failed because of an unknown error, exception or failure."}, true
}

// ErrorResponse renders err as the Query protocol's error document of
// service ("iam" or "sts"):
//
//	<ErrorResponse xmlns="…">
//	  <Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>
//	  <RequestId>…</RequestId>
//	</ErrorResponse>
//
// The pipeline uses it for failures before a handler runs (authentication,
// authorization) so that every IAM and STS error has this shape.
func ErrorResponse(service string, err error, requestID string) (status int, body []byte) {
	e, _ := toWire(service, err)
	return e.Status, errorBody(namespace(service), e, requestID)
}

func errorBody(ns string, e *Error, requestID string) []byte {
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	var b bytes.Buffer
	b.WriteString(`<ErrorResponse xmlns="` + ns + `"><Error><Type>` + typ + `</Type><Code>`)
	xmlText(&b, e.Code)
	b.WriteString(`</Code><Message>`)
	xmlText(&b, e.Message)
	b.WriteString(`</Message></Error><RequestId>`)
	xmlText(&b, requestID)
	b.WriteString(`</RequestId></ErrorResponse>`)
	return b.Bytes()
}

func xmlText(b *bytes.Buffer, s string) { _ = xml.EscapeText(b, []byte(s)) }
