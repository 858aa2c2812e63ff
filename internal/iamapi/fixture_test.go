package iamapi

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/iam/iamtest"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

const acct = iamtest.Account

var (
	fixedTime = time.Date(2025, 6, 1, 12, 30, 45, 0, time.UTC)
	root      = &authn.Principal{Type: authn.TypeRoot, AccountID: acct, ARN: "arn:aws:iam::" + acct + ":root", AccessKeyID: rootKeyID}
)

const (
	rootKeyID  = "AKIAROOTROOTROOTROOT"
	rootSecret = "rootsecretrootsecretrootsecretrootsecret"
)

// counter is a deterministic Rand: bytes 0, 1, 2, ...
type counter struct {
	mu sync.Mutex
	n  byte
}

func (c *counter) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}

type accounts struct{}

func (accounts) GetAccount(_ context.Context, id string) (*meta.Account, error) {
	return &meta.Account{ID: id, Name: "test", CreatedAt: fixedTime.Add(-24 * time.Hour)}, nil
}

func newHandler() *Handler {
	return &Handler{
		IAM:      &iam.Service{Store: iamtest.NewMemStore(), Now: func() time.Time { return fixedTime }, Rand: &counter{}},
		Accounts: accounts{},
	}
}

// form builds a Query form from name/value pairs, with the IAM version.
func form(action string, kv ...string) url.Values {
	f := url.Values{"Action": {action}, "Version": {IAMVersion}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

func stsForm(action string, kv ...string) url.Values {
	f := form(action, kv...)
	f.Set("Version", STSVersion)
	return f
}

// do serves an IAM request as caller and fails the test on a status
// other than want.
func do(t *testing.T, h *Handler, caller *authn.Principal, f url.Values, want int) []byte {
	t.Helper()
	status, body := h.ServeIAM(context.Background(), caller, f, "req-1")
	if status != want {
		t.Fatalf("%s: status %d, want %d; body %s", f.Get("Action"), status, want, body)
	}
	return body
}

// adapter is the smallest net/http front for the Handler, standing in
// for the request pipeline in tests: it reads the form, picks IAM or STS
// from the signature's credential scope and resolves the access key from
// a fixed table. It checks no signature.
type adapter struct {
	h    *Handler
	keys map[string]*authn.Principal
	// service records the service of the last request, for tests.
	mu       sync.Mutex
	services []string
}

var credentialRE = regexp.MustCompile(`Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/aws4_request`)

func (a *adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization"))
	caller := authn.Anonymous
	service := ServiceIAM
	if r.Form.Get("Version") == STSVersion {
		service = ServiceSTS // unsigned: no credential scope to go by
	}
	if m != nil {
		if p, ok := a.keys[m[1]]; ok {
			caller = p
		}
		service = m[2]
	}
	a.mu.Lock()
	a.services = append(a.services, service)
	a.mu.Unlock()
	var status int
	var body []byte
	if service == ServiceSTS {
		status, body = a.h.ServeSTS(r.Context(), caller, r.Form, "test-request-id")
	} else {
		status, body = a.h.ServeIAM(r.Context(), caller, r.Form, "test-request-id")
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", "test-request-id")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func trimXML(b []byte) string { return strings.TrimSpace(string(b)) }
