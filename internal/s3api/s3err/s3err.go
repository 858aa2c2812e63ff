// Package s3err holds the S3 error vocabulary: every error code Coffer
// returns, with its HTTP status and AWS's message, and the single table that
// turns domain errors from the rest of the server into S3 errors. Nothing
// else decides what a client sees when something fails, so internal error
// text never reaches a client.
package s3err

import (
	"errors"
	"net/http"
)

// Error is an S3 error as sent on the wire.
type Error struct {
	Code    string
	Message string
	Status  int
	// Extra elements added to the error XML (e.g. BucketName, Key,
	// ArgumentName), in order.
	Fields [][2]string
	// Header, if set, is added to the response (e.g. x-amz-delete-marker).
	Header http.Header
	// cause is the internal error, for logs only.
	cause error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Code + ": " + e.Message + ": " + e.cause.Error()
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.cause }

// With returns a copy of e with an extra XML field.
func (e *Error) With(name, value string) *Error {
	c := *e
	c.Fields = append(append([][2]string(nil), e.Fields...), [2]string{name, value})
	return &c
}

// WithMessage returns a copy of e with another message.
func (e *Error) WithMessage(msg string) *Error {
	c := *e
	c.Message = msg
	return &c
}

// WithHeader returns a copy of e that also sets a response header.
func (e *Error) WithHeader(k, v string) *Error {
	c := *e
	c.Header = e.Header.Clone()
	if c.Header == nil {
		c.Header = http.Header{}
	}
	c.Header.Set(k, v)
	return &c
}

// Wrap returns a copy of e that records an internal cause for the logs.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

func def(code string, status int, msg string) *Error {
	return &Error{Code: code, Status: status, Message: msg}
}

// The S3 errors Coffer uses, with AWS's statuses and messages.
var (
	AccessDenied                 = def("AccessDenied", 403, "Access Denied")
	AccountProblem               = def("AccountProblem", 403, "There is a problem with your AWS account that prevents the action from completing successfully.")
	AuthorizationHeaderMalformed = def("AuthorizationHeaderMalformed", 400, "The authorization header is malformed.")
	BadDigest                    = def("BadDigest", 400, "The Content-MD5 you specified did not match what we received.")
	BucketAlreadyExists          = def("BucketAlreadyExists", 409, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
	BucketAlreadyOwnedByYou      = def("BucketAlreadyOwnedByYou", 409, "Your previous request to create the named bucket succeeded and you already own it.")
	BucketNotEmpty               = def("BucketNotEmpty", 409, "The bucket you tried to delete is not empty")
	ConditionalRequestConflict   = def("ConditionalRequestConflict", 409, "The conditional request cannot succeed due to a conflicting operation against this resource.")
	EntityTooLarge               = def("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size")
	EntityTooSmall               = def("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size.")
	IllegalLocationConstraint    = def("IllegalLocationConstraintException", 400, "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	IllegalVersioningConfig      = def("IllegalVersioningConfigurationException", 400, "The Versioning element must be specified")
	IncompleteBody               = def("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	InternalError                = def("InternalError", 500, "We encountered an internal error. Please try again.")
	InvalidAccessKeyID           = def("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records.")
	InvalidArgument              = def("InvalidArgument", 400, "Invalid Argument")
	InvalidBucketName            = def("InvalidBucketName", 400, "The specified bucket is not valid.")
	InvalidBucketState           = def("InvalidBucketState", 409, "The request is not valid with the current state of the bucket.")
	InvalidDigest                = def("InvalidDigest", 400, "The Content-MD5 you specified is not valid.")
	InvalidEncryptionAlgorithm   = def("InvalidEncryptionAlgorithmError", 400, "The encryption request you specified is not valid. The valid value is AES256.")
	InvalidLocationConstraint    = def("InvalidLocationConstraint", 400, "The specified location-constraint is not valid")
	InvalidObjectState           = def("InvalidObjectState", 403, "The operation is not valid for the current state of the object.")
	InvalidPart                  = def("InvalidPart", 400, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
	InvalidPartOrder             = def("InvalidPartOrder", 400, "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
	InvalidRange                 = def("InvalidRange", 416, "The requested range is not satisfiable")
	InvalidRequest               = def("InvalidRequest", 400, "Invalid Request")
	InvalidStorageClass          = def("InvalidStorageClass", 400, "The storage class you specified is not valid")
	InvalidTag                   = def("InvalidTag", 400, "The TagValue you have provided is invalid")
	InvalidURI                   = def("InvalidURI", 400, "Couldn't parse the specified URI.")
	KeyTooLong                   = def("KeyTooLongError", 400, "Your key is too long")
	MalformedACLError            = def("MalformedACLError", 400, "The XML you provided was not well-formed or did not validate against our published schema.")
	MalformedPOSTRequest         = def("MalformedPOSTRequest", 400, "The body of your POST request is not well-formed multipart/form-data.")
	MalformedXML                 = def("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema")
	MaxMessageLengthExceeded     = def("MaxMessageLengthExceeded", 400, "Your request was too big.")
	MetadataTooLarge             = def("MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size.")
	MethodNotAllowed             = def("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")
	MissingContentLength         = def("MissingContentLength", 411, "You must provide the Content-Length HTTP header.")
	MissingRequestBodyError      = def("MissingRequestBodyError", 400, "Request Body is empty")
	MissingSecurityHeader        = def("MissingSecurityHeader", 400, "Your request was missing a required header")
	NoSuchBucket                 = def("NoSuchBucket", 404, "The specified bucket does not exist")
	NoSuchCORSConfiguration      = def("NoSuchCORSConfiguration", 404, "The CORS configuration does not exist")
	NoSuchKey                    = def("NoSuchKey", 404, "The specified key does not exist.")
	NoSuchTagSet                 = def("NoSuchTagSet", 404, "The TagSet does not exist")
	NoSuchUpload                 = def("NoSuchUpload", 404, "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
	NoSuchVersion                = def("NoSuchVersion", 404, "The specified version does not exist.")
	NotImplemented               = def("NotImplemented", 501, "A header you provided implies functionality that is not implemented")
	NotModified                  = def("NotModified", 304, "Not Modified")
	PreconditionFailed           = def("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold")
	RequestHeaderSectionTooLarge = def("RequestHeaderSectionTooLarge", 400, "Your request header section exceeds the maximum allowed size.")
	RequestTimeout               = def("RequestTimeout", 400, "Your socket connection to the server was not read from or written to within the timeout period.")
	ServiceUnavailable           = def("ServiceUnavailable", 503, "Please reduce your request rate.")
	SlowDown                     = def("SlowDown", 503, "Please reduce your request rate.")
	UnexpectedContent            = def("UnexpectedContent", 400, "This request does not support content")
	InvalidChecksum              = def("InvalidRequest", 400, "Value for x-amz-checksum-crc32 header is invalid.")
	XAmzContentChecksumMismatch  = def("BadDigest", 400, "The x-amz-checksum you specified did not match the calculated checksum.")
)

// mappers turn domain errors into S3 errors; see table.go.
var mappers []func(error) *Error

// From turns any error into the S3 error the client sees. Unknown errors
// become InternalError, keeping their text for the logs only.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	for _, m := range mappers {
		if e := m(err); e != nil {
			if e.cause == nil {
				e = e.Wrap(err)
			}
			return e
		}
	}
	return InternalError.Wrap(err)
}
