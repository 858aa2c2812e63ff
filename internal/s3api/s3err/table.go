package s3err

import (
	"errors"
	"syscall"

	"github.com/coffer-io/coffer/internal/auth/sigv4"
	"github.com/coffer-io/coffer/internal/kms"
	"github.com/coffer-io/coffer/internal/objects"
	"github.com/coffer-io/coffer/internal/storage/blob"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// InvalidToken is returned for session tokens Coffer did not issue.
var InvalidToken = def("InvalidToken", 400, "The provided token is malformed or otherwise invalid.")

// ExpiredToken is returned for session credentials past their expiry.
var ExpiredToken = def("ExpiredToken", 400, "The provided token has expired.")

// InvalidPartNumber is returned for a partNumber GET beyond the parts.
var InvalidPartNumber = def("InvalidPartNumber", 416, "The requested partnumber is not satisfiable")

// table maps domain sentinels to S3 errors: the one place where the rest
// of the server's failures become what a client sees.
var table = []struct {
	err error
	s3  *Error
}{
	{meta.ErrBucketNotFound, NoSuchBucket},
	{meta.ErrBucketExists, BucketAlreadyExists},
	{meta.ErrBucketNotEmpty, BucketNotEmpty},
	{meta.ErrObjectNotFound, NoSuchKey},
	{meta.ErrVersionNotFound, NoSuchVersion},
	{meta.ErrUploadNotFound, NoSuchUpload},
	{meta.ErrAccessKeyNotFound, InvalidAccessKeyID},
	// Object Lock refusals are AWS's plain AccessDenied, whoever asks.
	{meta.ErrObjectLocked, AccessDenied},
	{blob.ErrNoSpace, SlowDown.WithMessage("The server is out of storage space; please retry later.")},
	// The metadata store reports a full disk as the raw errno.
	{syscall.ENOSPC, SlowDown.WithMessage("The server is out of storage space; please retry later.")},
	{syscall.EDQUOT, SlowDown.WithMessage("The server is out of storage space; please retry later.")},
	{objects.ErrTooLarge, EntityTooLarge},
	{objects.ErrIncomplete, IncompleteBody},
	{objects.ErrBadDigest, BadDigest},
	{objects.ErrBadChecksum, XAmzContentChecksumMismatch},
}

func init() {
	mappers = append(mappers, func(err error) *Error {
		var se *sigv4.Error
		if errors.As(err, &se) {
			e := &Error{Code: se.Code, Message: se.Message, Status: se.Status}
			for _, f := range se.Fields {
				e.Fields = append(e.Fields, [2]string{f.Name, f.Value})
			}
			return e
		}
		if e := fromKMS(err); e != nil {
			return e
		}
		for _, t := range table {
			if errors.Is(err, t.err) {
				return t.s3
			}
		}
		return nil
	})
}

// fromKMS reports KMS failures on the S3 data path as S3 does: the KMS
// error code prefixed with "KMS." and status 400 (KMS.NotFoundException,
// KMS.DisabledException, KMS.KMSInvalidStateException, ...), a refusal
// by a key policy as AccessDenied, indistinguishable from S3's own, and
// internal KMS failures as InternalError.
func fromKMS(err error) *Error {
	var ke *kms.Error
	if !errors.As(err, &ke) {
		return nil
	}
	switch ke.Code {
	case kms.CodeInternal:
		return InternalError
	case "AccessDeniedException":
		return AccessDenied
	}
	return &Error{Code: "KMS." + ke.Code, Status: 400, Message: ke.Message}
}
