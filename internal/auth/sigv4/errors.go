package sigv4

import (
	"encoding/hex"
	"strconv"
	"strings"
)

// Error is an authentication failure as S3 reports it: the error code, the
// message and the HTTP status AWS answers with, plus the extra elements AWS
// puts in the <Error> body (for example <Region> or <HeadersNotSigned>).
//
// The exported Err* values are sentinels. Functions in this package return
// either a sentinel or a copy of it with a more specific Message and Fields;
// errors.Is(err, ErrX) matches both, and errors.As(err, &e) yields the
// *Error to render. Returned errors may be wrapped with fmt.Errorf("%w") to
// carry internal detail for logs; that text is never meant for clients.
// Sentinels must not be modified.
type Error struct {
	Code    string  // S3 error code, e.g. "SignatureDoesNotMatch"
	Message string  // S3 error message, client-visible
	Status  int     // HTTP status code
	Fields  []Field // extra <Error> child elements, in AWS's order

	kind *Error // the sentinel this error is an instance of; nil for sentinels
}

// Field is one extra element of an S3 error body, e.g. {"Region", "eu-west-1"}.
type Field struct {
	Name  string
	Value string
}

// Error implements error with the client-visible code and message.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is reports whether target is e itself or the sentinel e was derived from.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return e == t || (e.kind != nil && e.kind == t)
}

// Field returns the value of the extra element name, or "".
func (e *Error) Field(name string) string {
	for _, f := range e.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// with derives an instance of sentinel e with a specific message (empty keeps
// the sentinel's) and extra fields.
func (e *Error) with(msg string, fields ...Field) *Error {
	k := e
	if e.kind != nil {
		k = e.kind
	}
	if msg == "" {
		msg = k.Message
	}
	return &Error{Code: k.Code, Message: msg, Status: k.Status, Fields: fields, kind: k}
}

// HTTP statuses, spelled out so that the package does not import net/http.
const (
	statusBadRequest     = 400
	statusForbidden      = 403
	statusLengthRequired = 411
	statusNotImplemented = 501
)

// Request classification (spec §1.1).
var (
	// ErrUnsupportedAuthorizationMechanism is returned for SigV2 requests
	// (Authorization: AWS AKID:sig, or AWSAccessKeyId/Signature query
	// parameters) and unknown signing algorithms.
	// S3: InvalidRequest, 400.
	ErrUnsupportedAuthorizationMechanism = &Error{Code: "InvalidRequest", Status: statusBadRequest,
		Message: "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."}

	// ErrMultipleAuthMechanisms is returned when a request carries both an
	// Authorization header and query-string authentication.
	// S3: InvalidArgument, 400, with ArgumentName and ArgumentValue.
	ErrMultipleAuthMechanisms = &Error{Code: "InvalidArgument", Status: statusBadRequest,
		Message: "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"}

	// ErrInvalidAuthorizationHeader is returned for an Authorization header
	// that is not "<algorithm> <parameters>".
	// S3: InvalidArgument, 400.
	ErrInvalidAuthorizationHeader = &Error{Code: "InvalidArgument", Status: statusBadRequest,
		Message: "Authorization header is invalid -- one and only one ' ' (space) required."}

	// ErrSigV4aNotImplemented is returned for SigV4a (AWS4-ECDSA-P256-SHA256)
	// signatures and STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD[-TRAILER]
	// payloads, which this server does not implement.
	// S3: NotImplemented, 501, with Header naming what implied it.
	ErrSigV4aNotImplemented = &Error{Code: "NotImplemented", Status: statusNotImplemented,
		Message: "A header you provided implies functionality that is not implemented"}
)

// Header and query parsing (spec §1.4, §1.7).
var (
	// ErrAuthorizationHeaderMalformed is returned for every Authorization
	// header parse failure and for a credential scope naming the wrong
	// region or service (see Auth.CheckScope). The message starts with "The
	// authorization header is malformed; "; the wrong-region variant carries a
	// Region field with the expected region (SDKs use it to redirect).
	// S3: AuthorizationHeaderMalformed, 400.
	ErrAuthorizationHeaderMalformed = &Error{Code: "AuthorizationHeaderMalformed", Status: statusBadRequest,
		Message: "The authorization header is malformed."}

	// ErrAuthorizationQueryParametersError is returned for every presigned
	// URL parse failure (missing parameters, bad X-Amz-Expires, bad
	// X-Amz-Date, bad credential, wrong region or service).
	// S3: AuthorizationQueryParametersError, 400.
	ErrAuthorizationQueryParametersError = &Error{Code: "AuthorizationQueryParametersError", Status: statusBadRequest,
		Message: "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."}

	// ErrMissingDateHeader is returned when a header-signed request has
	// neither a valid X-Amz-Date nor a valid Date header.
	// S3: AccessDenied, 403.
	ErrMissingDateHeader = &Error{Code: "AccessDenied", Status: statusForbidden,
		Message: "AWS authentication requires a valid Date or x-amz-date header."}

	// ErrMissingContentSHA256 is returned when a header-signed S3 request has
	// no x-amz-content-sha256 header.
	// S3: InvalidRequest, 400.
	ErrMissingContentSHA256 = &Error{Code: "InvalidRequest", Status: statusBadRequest,
		Message: "Missing required header for this request: x-amz-content-sha256"}

	// ErrInvalidContentSHA256 is returned when x-amz-content-sha256 is neither
	// a lowercase hex SHA-256 nor one of the literal payload modes.
	// S3: InvalidArgument, 400, with ArgumentName and ArgumentValue.
	ErrInvalidContentSHA256 = &Error{Code: "InvalidArgument", Status: statusBadRequest,
		Message: "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value."}

	// ErrAnonymousSignedStreaming is returned when an anonymous request uses a
	// signed streaming x-amz-content-sha256 value.
	// S3: InvalidRequest, 400.
	ErrAnonymousSignedStreaming = &Error{Code: "InvalidRequest", Status: statusBadRequest,
		Message: "Anonymous requests don't support this x-amz-content-sha256 value. Please use UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER."}
)

// Verification (spec §1.2, §1.5, §1.6, §1.7).
var (
	// ErrSignatureDoesNotMatch is returned when a request, chunk, trailer or
	// POST-policy signature is wrong. Request-level instances carry
	// AWSAccessKeyId, StringToSign, SignatureProvided, StringToSignBytes,
	// CanonicalRequest and CanonicalRequestBytes fields as AWS does.
	// S3: SignatureDoesNotMatch, 403.
	ErrSignatureDoesNotMatch = &Error{Code: "SignatureDoesNotMatch", Status: statusForbidden,
		Message: "The request signature we calculated does not match the signature you provided. Check your key and signing method."}

	// ErrUnsignedHeaders is returned when the host header or an x-amz-*
	// header present in the request is not in SignedHeaders. The
	// HeadersNotSigned field lists them ("h1, h2").
	// S3: AccessDenied, 403.
	ErrUnsignedHeaders = &Error{Code: "AccessDenied", Status: statusForbidden,
		Message: "There were headers present in the request which were not signed"}

	// ErrRequestTimeTooSkewed is returned when a header-signed request's time
	// is more than MaxClockSkew away from the server's. Fields: RequestTime,
	// ServerTime, MaxAllowedSkewMilliseconds.
	// S3: RequestTimeTooSkewed, 403.
	ErrRequestTimeTooSkewed = &Error{Code: "RequestTimeTooSkewed", Status: statusForbidden,
		Message: "The difference between the request time and the current time is too large."}

	// ErrExpiredPresignedRequest is returned when now is past X-Amz-Date +
	// X-Amz-Expires. Fields: X-Amz-Expires, Expires, ServerTime.
	// S3: AccessDenied, 403.
	ErrExpiredPresignedRequest = &Error{Code: "AccessDenied", Status: statusForbidden,
		Message: "Request has expired"}

	// ErrPresignedNotYetValid is returned when a presigned URL's X-Amz-Date is
	// more than MaxClockSkew in the future.
	// S3: AccessDenied, 403.
	ErrPresignedNotYetValid = &Error{Code: "AccessDenied", Status: statusForbidden,
		Message: "Request is not valid yet."}

	// ErrInvalidAccessKeyID is what the caller returns when the access key id
	// from Auth (or PostAuth) is unknown; use InvalidAccessKeyID(akid) to add
	// the AWSAccessKeyId field.
	// S3: InvalidAccessKeyId, 403.
	ErrInvalidAccessKeyID = &Error{Code: "InvalidAccessKeyId", Status: statusForbidden,
		Message: "The AWS Access Key Id you provided does not exist in our records."}

	// ErrInvalidToken is what the caller returns when a session token
	// (Auth.SecurityToken) is malformed, missing for a temporary key, or does
	// not belong to the access key.
	// S3: InvalidToken, 400.
	ErrInvalidToken = &Error{Code: "InvalidToken", Status: statusBadRequest,
		Message: "The provided token is malformed or otherwise invalid."}

	// ErrExpiredToken is what the caller returns when the temporary
	// credentials that signed the request have expired.
	// S3: ExpiredToken, 400.
	ErrExpiredToken = &Error{Code: "ExpiredToken", Status: statusBadRequest,
		Message: "The provided token has expired."}

	// ErrMissingSecurityHeader is AWS's error for a missing required header.
	// This package does not return it (the spec assigns more specific
	// errors to each missing signing header); it is here for callers, with a
	// MissingHeaderName field when they know the name.
	// S3: MissingSecurityHeader, 400.
	ErrMissingSecurityHeader = &Error{Code: "MissingSecurityHeader", Status: statusBadRequest,
		Message: "Your request was missing a required header."}
)

// Request bodies (spec §1.3, §1.8).
var (
	// ErrXAmzContentSHA256Mismatch is returned at EOF by the payload verifier
	// when the body's SHA-256 differs from x-amz-content-sha256. Fields:
	// ClientComputedContentSHA256, S3ComputedContentSHA256.
	// S3: XAmzContentSHA256Mismatch, 400.
	ErrXAmzContentSHA256Mismatch = &Error{Code: "XAmzContentSHA256Mismatch", Status: statusBadRequest,
		Message: "The provided 'x-amz-content-sha256' header does not match what was computed."}

	// ErrMissingContentLength is returned for an aws-chunked request without a
	// valid x-amz-decoded-content-length header.
	// S3: MissingContentLength, 411.
	ErrMissingContentLength = &Error{Code: "MissingContentLength", Status: statusLengthRequired,
		Message: "You must provide the Content-Length HTTP header."}

	// ErrIncompleteBody is returned when an aws-chunked body ends early or its
	// framing is malformed (bad chunk size, missing CRLF, over-long chunk
	// line, missing final chunk).
	// S3: IncompleteBody, 400.
	ErrIncompleteBody = &Error{Code: "IncompleteBody", Status: statusBadRequest,
		Message: "The request body terminated unexpectedly"}

	// ErrDecodedLengthMismatch is returned when the decoded aws-chunked body
	// is longer or shorter than x-amz-decoded-content-length.
	// S3: IncompleteBody, 400.
	ErrDecodedLengthMismatch = &Error{Code: "IncompleteBody", Status: statusBadRequest,
		Message: "You did not provide the number of bytes specified by the Content-Length HTTP header"}

	// ErrInvalidChunkSizeError is returned when a signed chunk other than the
	// last data chunk is smaller than 8 KiB. Fields: Chunk (1-based index),
	// BadChunkSize.
	// S3: InvalidChunkSizeError, 400.
	ErrInvalidChunkSizeError = &Error{Code: "InvalidChunkSizeError", Status: statusBadRequest,
		Message: "Only the last chunk is allowed to have a size less than 8192 bytes"}

	// ErrMalformedTrailer is returned when the trailer section of an
	// aws-chunked body is malformed, carries a trailer not declared in
	// x-amz-trailer, lacks a declared one, or lacks its signature.
	// S3: MalformedTrailerError, 400.
	ErrMalformedTrailer = &Error{Code: "MalformedTrailerError", Status: statusBadRequest,
		Message: "The request contained trailing data that was not well-formed or did not conform to our published schema."}

	// ErrUnsupportedTrailer is returned when x-amz-trailer names something
	// other than an x-amz-checksum-* header S3 supports.
	// S3: InvalidRequest, 400.
	ErrUnsupportedTrailer = &Error{Code: "InvalidRequest", Status: statusBadRequest,
		Message: "The value specified in the x-amz-trailer header is not supported"}
)

// Browser POST (spec §1.9).
var (
	// ErrPostInvalidArgument is returned for a malformed POST form
	// credential or date, or a missing authentication field.
	// S3: InvalidArgument, 400.
	ErrPostInvalidArgument = &Error{Code: "InvalidArgument", Status: statusBadRequest,
		Message: "Invalid POST form."}

	// ErrInvalidPolicyDocument is returned for a POST policy that is empty,
	// not base64, not JSON, or not a valid policy document.
	// S3: InvalidPolicyDocument, 400.
	ErrInvalidPolicyDocument = &Error{Code: "InvalidPolicyDocument", Status: statusBadRequest,
		Message: "Invalid Policy: Invalid JSON."}

	// ErrPostPolicyExpired is returned when the policy's expiration is past.
	// S3: AccessDenied, 403.
	ErrPostPolicyExpired = &Error{Code: "AccessDenied", Status: statusForbidden,
		Message: "Invalid according to Policy: Policy expired."}

	// ErrPostPolicyConditionFailed is returned when a policy condition does
	// not hold; the message quotes the condition.
	// S3: AccessDenied, 403.
	ErrPostPolicyConditionFailed = &Error{Code: "AccessDenied", Status: statusForbidden,
		Message: "Invalid according to Policy: Policy Condition failed"}

	// ErrPostPolicyExtraField is returned when a form field is not covered by
	// any policy condition; the message names it.
	// S3: AccessDenied, 403.
	ErrPostPolicyExtraField = &Error{Code: "AccessDenied", Status: statusForbidden,
		Message: "Invalid according to Policy: Extra input fields"}

	// ErrEntityTooLarge is returned by PostPolicy.CheckLength and its reader
	// when the file exceeds the content-length-range maximum.
	// S3: EntityTooLarge, 400.
	ErrEntityTooLarge = &Error{Code: "EntityTooLarge", Status: statusBadRequest,
		Message: "Your proposed upload exceeds the maximum allowed size"}

	// ErrEntityTooSmall is returned by PostPolicy.CheckLength and its reader
	// when the file is below the content-length-range minimum.
	// S3: EntityTooSmall, 400.
	ErrEntityTooSmall = &Error{Code: "EntityTooSmall", Status: statusBadRequest,
		Message: "Your proposed upload is smaller than the minimum allowed size"}

	// ErrMalformedPOSTRequest is for the caller's multipart/form-data parser;
	// this package does not parse bodies.
	// S3: MalformedPOSTRequest, 400.
	ErrMalformedPOSTRequest = &Error{Code: "MalformedPOSTRequest", Status: statusBadRequest,
		Message: "The body of your POST request is not well-formed multipart/form-data."}
)

// InvalidAccessKeyID returns ErrInvalidAccessKeyID with the AWSAccessKeyId
// field AWS includes.
func InvalidAccessKeyID(accessKeyID string) error {
	return ErrInvalidAccessKeyID.with("", Field{"AWSAccessKeyId", accessKeyID})
}

// Message prefixes and credential-problem suffixes shared by the header,
// query and POST variants (spec §1.4, §1.7).
const (
	headerMalformedPrefix = "The authorization header is malformed; "
	queryCredentialPrefix = "Error parsing the X-Amz-Credential parameter; "
)

func headerMalformed(suffix string, fields ...Field) *Error {
	return ErrAuthorizationHeaderMalformed.with(headerMalformedPrefix+suffix, fields...)
}

func queryError(msg string, fields ...Field) *Error {
	return ErrAuthorizationQueryParametersError.with(msg, fields...)
}

func msgMalformedCredential() string {
	return `the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`
}

func msgBadCredentialDate(d string) string {
	return "incorrect date format " + strconv.Quote(d) + `. This date in the credential must be in the format "yyyyMMdd".`
}

func msgBadTerminal(t string) string {
	return "incorrect terminal " + strconv.Quote(t) + `. This endpoint uses "aws4_request".`
}

// msgWrongRegion uses single quotes, as real S3 responses do (the spec's
// table shows double quotes, copied from a gateway that differs here).
func msgWrongRegion(got, want string) string {
	return "the region '" + got + "' is wrong; expecting '" + want + "'"
}

func msgWrongService(got, want string) string {
	return "incorrect service " + strconv.Quote(got) + ". This endpoint belongs to " + strconv.Quote(want) + "."
}

// hexBytes renders s as AWS's *Bytes error fields do: two-digit hex bytes
// separated by spaces.
func hexBytes(s string) string {
	var b strings.Builder
	b.Grow(len(s) * 3)
	var tmp [2]byte
	for i := 0; i < len(s); i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		hex.Encode(tmp[:], []byte{s[i]})
		b.Write(tmp[:])
	}
	return b.String()
}
