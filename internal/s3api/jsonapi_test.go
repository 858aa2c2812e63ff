package s3api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/internal/auth/sigv4"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

// TestJSONWireError checks how pipeline errors read in the JSON protocol:
// AWS's exception names, 400 for client errors, nothing internal leaked.
func TestJSONWireError(t *testing.T) {
	for _, tc := range []struct {
		in         error
		code, body string
		status     int
	}{
		{s3err.InvalidAccessKeyID, "UnrecognizedClientException", `{"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."}`, 400},
		{sigv4.ErrSignatureDoesNotMatch, "InvalidSignatureException", "", 400},
		{sigv4.ErrRequestTimeTooSkewed, "InvalidSignatureException", "", 400},
		{sigv4.ErrAuthorizationHeaderMalformed, "IncompleteSignatureException", "", 400},
		{s3err.AccessDenied, "AccessDeniedException", "", 400},
		{s3err.MaxMessageLengthExceeded, "ValidationException", "", 400},
		{jsonError("DisabledException", 400, "x"), "DisabledException", `{"__type":"DisabledException","message":"x"}`, 400},
		{errors.New("disk on fire"), "KMSInternalException", `{"__type":"KMSInternalException","message":"We encountered an internal error. Please try again."}`, 500},
	} {
		e := jsonWireError(s3err.From(tc.in))
		if e.Code != tc.code || e.Status != tc.status {
			t.Errorf("%v: got %s %d, want %s %d", tc.in, e.Code, e.Status, tc.code, tc.status)
		}
		if tc.body != "" && string(encodeJSONError(e)) != tc.body {
			t.Errorf("%v: body %s, want %s", tc.in, encodeJSONError(e), tc.body)
		}
	}
}

func TestServiceOp(t *testing.T) {
	for svc, want := range map[string]Op{"iam": OpIAM, "sts": OpSTS, "kms": OpKMS} {
		if got := serviceOp(svc); got != want || got.service() != svc {
			t.Errorf("serviceOp(%q) = %v (service %q)", svc, got, got.service())
		}
	}
	if !OpKMS.isJSON() || OpKMS.isQuery() || OpIAM.isJSON() {
		t.Error("OpKMS must be the JSON op and only it")
	}
}

func TestUnsignedKMSCall(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
	r.Header.Set("X-Amz-Target", "TrentService.ListKeys")
	if got := queryServiceOf(r); got != "kms" {
		t.Errorf("unsigned KMS call classified as %q", got)
	}
	r.Header.Del("X-Amz-Target")
	if got := queryServiceOf(r); got != "" {
		t.Errorf("unsigned POST / classified as %q", got)
	}
}
