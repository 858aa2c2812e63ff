package kmsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/kms"
	"github.com/coffer-io/coffer/internal/s3api"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

const (
	acct   = "111122223333"
	other  = "444455556666"
	region = "us-east-1"
)

var fixedTime = time.Date(2025, 6, 1, 12, 30, 45, 0, time.UTC)

func rootOf(account string) *authn.Principal {
	return &authn.Principal{Type: authn.TypeRoot, AccountID: account, ARN: "arn:aws:iam::" + account + ":root"}
}

func userOf(account, name string) *authn.Principal {
	return &authn.Principal{Type: authn.TypeIAMUser, AccountID: account, UserName: name,
		ARN: "arn:aws:iam::" + account + ":user/" + name, UserID: "AIDA" + strings.ToUpper(name)}
}

// identities is a fixed table of IAM users' identity policies.
type identities map[string][]string // "account/user" → policies

func (i identities) UserPolicies(_ context.Context, account, user string) ([][]byte, []byte, error) {
	var out [][]byte
	for _, p := range i[account+"/"+user] {
		out = append(out, []byte(p))
	}
	return out, nil, nil
}

// fixture is a KMS front door over an in-memory KMS whose key policies
// are decided by the real policy engine.
type fixture struct {
	h     *Handler
	authz *authz.Engine
	ids   identities
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	sealer, err := kms.NewLocalSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ids: identities{}}
	f.authz = &authz.Engine{Identity: f.ids, Cache: &authz.PolicyCache{}}
	svc, err := kms.New(kms.Config{Store: kms.NewMemStore(), Sealer: sealer, Region: region,
		Now: func() time.Time { return fixedTime }, Authorize: KeyPolicyHook(f.authz)})
	if err != nil {
		t.Fatal(err)
	}
	f.h = &Handler{KMS: svc, Region: region}
	return f
}

// call runs one operation as the pipeline does: Requirement authorized by
// the engine, then Serve with the caller in the context.
func (f *fixture) call(caller *authn.Principal, op, body string) s3api.JSONResult {
	ctx := context.Background()
	api := f.h.API()
	req, err := api.Requirement(ctx, op, []byte(body), caller)
	if err != nil {
		var se *s3err.Error
		if !errors.As(err, &se) {
			panic(err)
		}
		return s3api.JSONResult{Status: se.Status, Body: errorBody(se.Code, se.Message), ErrorCode: se.Code}
	}
	cond := map[string][]string{"aws:SecureTransport": {"true"}}
	if req != nil {
		all := map[string][]string{}
		for k, v := range cond {
			all[k] = v
		}
		for k, v := range req.Conditions {
			all[k] = v
		}
		d := f.authz.Authorize(ctx, &authz.Request{Principal: caller, Actions: req.Actions, Resource: req.Resource, ResourceOwner: caller.AccountID, Conditions: all})
		if !d.Allowed {
			return s3api.JSONResult{Status: 400, Body: errorBody(CodeAccessDenied, "denied by identity policies"), ErrorCode: CodeAccessDenied, Denied: true}
		}
	}
	ctx = authz.WithCaller(ctx, &authz.Caller{Principal: caller, Conditions: cond})
	return api.Serve(ctx, caller, op, []byte(body), "req-1")
}

// ok runs op and decodes its success response into v (if not nil).
func (f *fixture) ok(t *testing.T, caller *authn.Principal, op, body string, v any) {
	t.Helper()
	res := f.call(caller, op, body)
	if res.Status != 200 {
		t.Fatalf("%s %s: status %d %s", op, body, res.Status, res.Body)
	}
	if v != nil {
		if err := json.Unmarshal(res.Body, v); err != nil {
			t.Fatalf("%s: %v: %s", op, err, res.Body)
		}
	}
}

func (f *fixture) createKey(t *testing.T, caller *authn.Principal, body string) string {
	t.Helper()
	var out struct{ KeyMetadata struct{ KeyId string } }
	f.ok(t, caller, "CreateKey", body, &out)
	return out.KeyMetadata.KeyId
}

// adapter is the smallest net/http front for the fixture, standing in for
// the request pipeline in SDK tests: it resolves the access key of the
// Authorization header from a fixed table and checks no signature.
type adapter struct {
	f    *fixture
	keys map[string]*authn.Principal
}

var credentialRE = regexp.MustCompile(`Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/aws4_request`)

func (a *adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || m[2] != "kms" || a.keys[m[1]] == nil {
		http.Error(w, "bad credentials", http.StatusForbidden)
		return
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(r.Body)
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	res := a.f.call(a.keys[m[1]], op, body.String())
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(res.Status)
	_, _ = w.Write(res.Body)
}
