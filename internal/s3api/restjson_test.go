package s3api

import (
	"net/http"
	"testing"

	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

func TestRESTWireError(t *testing.T) {
	for _, c := range []struct {
		in   *s3err.Error
		code string
		st   int
	}{
		{&s3err.Error{Code: "ConflictException", Status: 409}, "ConflictException", 409},
		{&s3err.Error{Code: "ResourceNotFoundException", Status: 404}, "ResourceNotFoundException", 404},
		{&s3err.Error{Code: "SignatureDoesNotMatch", Status: 403}, "InvalidSignatureException", 403},
		{&s3err.Error{Code: "InvalidAccessKeyId", Status: 403}, "UnrecognizedClientException", 403},
		{&s3err.Error{Code: "AccessDenied", Status: 403}, "AccessDeniedException", 403},
		{&s3err.Error{Code: "MaxMessageLengthExceeded", Status: 400}, "ValidationException", 400},
		{&s3err.Error{Code: "InternalError", Status: 500, Message: "secret detail"}, "InternalServerException", 500},
	} {
		got := restWireError(c.in)
		if got.Code != c.code || got.Status != c.st {
			t.Errorf("%s → %s %d, want %s %d", c.in.Code, got.Code, got.Status, c.code, c.st)
		}
		if got.Status == http.StatusInternalServerError && got.Message == "secret detail" {
			t.Error("internal error text reached the client")
		}
	}
}
