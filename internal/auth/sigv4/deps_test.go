package sigv4

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The package stays pure (architecture rule): no net/http, no Coffer
// storage or server packages outside tests.
func TestNoForbiddenImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "net/http" || strings.HasPrefix(p, "net/http/") || strings.HasPrefix(p, "github.com/coffer-io/coffer/") {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}

func TestErrorIdentity(t *testing.T) {
	derived := ErrAuthorizationHeaderMalformed.with("specific", Field{"Region", "x"})
	wrapped := fmt.Errorf("context: %w", derived)
	if !errors.Is(wrapped, ErrAuthorizationHeaderMalformed) || errors.Is(wrapped, ErrAuthorizationQueryParametersError) {
		t.Fatal("errors.Is")
	}
	// A derived error keeps pointing at the sentinel, not at its parent.
	if !errors.Is(derived.with("again"), ErrAuthorizationHeaderMalformed) {
		t.Fatal("derived twice")
	}
	var e *Error
	if !errors.As(wrapped, &e) || e.Code != "AuthorizationHeaderMalformed" || e.Status != 400 || e.Message != "specific" || e.Field("Region") != "x" {
		t.Fatalf("errors.As: %+v", e)
	}
	if ErrAuthorizationHeaderMalformed.Message == "specific" || len(ErrAuthorizationHeaderMalformed.Fields) != 0 {
		t.Fatal("sentinel modified")
	}
	if err := InvalidAccessKeyID("AKID"); !errors.Is(err, ErrInvalidAccessKeyID) || err.(*Error).Field("AWSAccessKeyId") != "AKID" {
		t.Fatal(err)
	}
	for _, k := range []struct {
		k       Kind
		s, auth string
	}{{Anonymous, "anonymous", ""}, {HeaderAuth, "header", "REST-HEADER"}, {PresignedAuth, "presigned", "REST-QUERY-STRING"}, {Kind(9), "Kind(9)", ""}} {
		if k.k.String() != k.s || k.k.AuthType() != k.auth {
			t.Errorf("%d: %s %s", k.k, k.k.String(), k.k.AuthType())
		}
	}
}
