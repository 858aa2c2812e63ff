package serve

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/auth/sigv4"
	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/mfa"
	"github.com/coffer-io/coffer/internal/server"
	"github.com/coffer-io/coffer/test/harness"
)

// listBuckets sends a signed ListBuckets with the given key and returns
// the status and body.
func listBuckets(t *testing.T, s *harness.Server, ak, sk string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.Endpoint+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	sr := &sigv4.Request{Method: req.Method, Host: req.URL.Host, EscapedPath: "/", Header: req.Header}
	sigv4.SignRequest(sr, ak, sk, s.Region, "s3", sigv4.HashHex(nil), time.Now())
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// auditEvents returns the audit log's events of one operation.
func auditEvents(t *testing.T, dir, op string) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "audit", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var ev map[string]any
		if json.Unmarshal([]byte(line), &ev) == nil && ev["operation"] == op {
			out = append(out, ev)
		}
	}
	return out
}

func TestRootRotateKey(t *testing.T) {
	s := harness.Start(t)
	oldID, oldSecret := s.AccessKey, s.SecretKey
	if code, body := listBuckets(t, s, oldID, oldSecret); code != http.StatusOK {
		t.Fatalf("root key before rotation: %d %s", code, body)
	}
	// Refused while the server holds the directory, and nothing changes.
	_, stderr, err := coffer(t, os.Environ(), "admin", "root", "rotate-key", "--data", s.Dir)
	if err == nil || !strings.Contains(stderr, "in use") {
		t.Fatalf("rotate-key while serving: %v %s", err, stderr)
	}
	if code, _ := listBuckets(t, s, oldID, oldSecret); code != http.StatusOK {
		t.Fatalf("refused rotation changed the key")
	}

	s.Stop()
	out, stderr, err := coffer(t, os.Environ(), "admin", "root", "rotate-key", "--data", s.Dir)
	if err != nil {
		t.Fatalf("rotate-key: %v %s", err, stderr)
	}
	// stdout is exactly one [default] section, the same as the file.
	if !strings.HasPrefix(out, "[default]\naws_access_key_id = AKIA") || strings.Count(out, "\n") != 3 {
		t.Fatalf("rotate-key printed %q", out)
	}
	raw, err := os.ReadFile(s.CredFile)
	if err != nil || string(raw) != out {
		t.Fatalf("credentials file %q (%v), printed %q", raw, err, out)
	}
	if fi, _ := os.Stat(s.CredFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials mode %v", fi.Mode().Perm())
	}

	s.Restart() // re-reads the credentials file
	if s.AccessKey == oldID {
		t.Fatal("the key did not change")
	}
	code, body := listBuckets(t, s, oldID, oldSecret)
	if code != http.StatusForbidden || !strings.Contains(body, "<Code>InvalidAccessKeyId</Code>") {
		t.Fatalf("old key after rotation: %d %s", code, body)
	}
	if code, body := listBuckets(t, s, s.AccessKey, s.SecretKey); code != http.StatusOK {
		t.Fatalf("new key: %d %s", code, body)
	}
	if _, err := s.RunErr(context.Background(), "aws", "--endpoint-url", s.Endpoint, "s3", "ls"); err != nil {
		t.Logf("aws CLI check skipped: %v", err)
	}
	s.Stop()

	evs := auditEvents(t, s.Dir, "RotateRootAccessKey")
	if len(evs) != 1 {
		t.Fatalf("want one RotateRootAccessKey event, got %v", evs)
	}
	ev := evs[0]
	if ev["service"] != "admin" || ev["principalType"] != "Operator" || ev["outcome"] != "success" || ev["accessKeyId"] != s.AccessKey {
		t.Errorf("audit event %v", ev)
	}
}

func TestRootResetMFA(t *testing.T) {
	s := harness.Start(t)
	s.Stop()
	ctx := context.Background()

	// Enrol a device for the root, as the root would through IAM.
	st, err := server.OpenDataDir(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := st.Meta.GetAccountByName(ctx, server.DefaultAccountName)
	if err != nil {
		t.Fatal(err)
	}
	svc := &iam.Service{Store: st.Meta.IAM()}
	dev, err := svc.CreateVirtualMFADevice(ctx, acct.ID, "/", "root-phone", nil)
	if err != nil {
		t.Fatal(err)
	}
	serial := dev.SerialNumber(acct.ID)
	now := time.Now()
	c1, c2 := mfa.Code(dev.Seed, now.Add(-30*time.Second)), mfa.Code(dev.Seed, now)
	if err := svc.EnableMFADevice(ctx, acct.ID, iam.RootUserName, serial, c1, c2); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// Refused while serving.
	s.Restart()
	_, stderr, err := coffer(t, os.Environ(), "admin", "root", "reset-mfa", "--data", s.Dir)
	if err == nil || !strings.Contains(stderr, "in use") {
		t.Fatalf("reset-mfa while serving: %v %s", err, stderr)
	}
	s.Stop()

	out, stderr, err := coffer(t, os.Environ(), "admin", "root", "reset-mfa", "--data", s.Dir, "--account", acct.ID)
	if err != nil || !strings.Contains(out, serial) {
		t.Fatalf("reset-mfa: %v %q %s", err, out, stderr)
	}
	// A second run has nothing to remove and says so.
	if _, stderr, err := coffer(t, os.Environ(), "admin", "root", "reset-mfa", "--data", s.Dir); err == nil || !strings.Contains(stderr, "no MFA device") {
		t.Fatalf("second reset-mfa: %v %s", err, stderr)
	}

	st, err = server.OpenDataDir(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	svc = &iam.Service{Store: st.Meta.IAM()}
	if p, err := svc.ListMFADevices(ctx, acct.ID, iam.RootUserName, iam.ListOptions{}); err != nil || len(p.Items) != 0 {
		t.Errorf("root devices after reset: %v %v", p.Items, err)
	}
	if p, err := svc.ListVirtualMFADevices(ctx, acct.ID, "Any", iam.ListOptions{}); err != nil || len(p.Items) != 0 {
		t.Errorf("devices after reset: %v %v", p.Items, err)
	}
	st.Close()

	evs := auditEvents(t, s.Dir, "ResetRootMFADevice")
	if len(evs) != 2 || evs[0]["outcome"] != "success" || evs[1]["outcome"] != "failed" ||
		evs[0]["principalType"] != "Operator" || evs[0]["service"] != "admin" || evs[0]["accountId"] != acct.ID {
		t.Fatalf("audit events %v", evs)
	}
}
