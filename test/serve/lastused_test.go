package serve

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/server"
	"github.com/coffer-io/coffer/test/harness"
)

type lastUsed struct {
	UserName          string
	AccessKeyLastUsed struct {
		LastUsedDate string
		ServiceName  string
		Region       string
	}
}

func getLastUsed(t *testing.T, s *harness.Server, keyID string) lastUsed {
	t.Helper()
	out := s.Run(context.Background(), "aws", "--endpoint-url", s.Endpoint, "--output", "json",
		"iam", "get-access-key-last-used", "--access-key-id", keyID)
	var lu lastUsed
	if err := json.Unmarshal([]byte(out), &lu); err != nil {
		t.Fatalf("get-access-key-last-used: %v\n%s", err, out)
	}
	return lu
}

// TestAccessKeyLastUsed checks that authentication records a key's last
// use (in the background) and that shutdown writes what is pending.
func TestAccessKeyLastUsed(t *testing.T) {
	s := harness.Start(t)
	if _, err := s.RunErr(context.Background(), "aws", "--version"); err != nil {
		t.Skip("aws CLI unavailable")
	}
	if code, body := listBuckets(t, s, s.AccessKey, s.SecretKey); code != http.StatusOK {
		t.Fatalf("ListBuckets: %d %s", code, body)
	}
	var lu lastUsed
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		lu = getLastUsed(t, s, s.AccessKey)
		if lu.AccessKeyLastUsed.ServiceName == "s3" || time.Now().After(deadline) {
			break
		}
	}
	a := lu.AccessKeyLastUsed
	if a.ServiceName != "s3" || a.Region != s.Region || a.LastUsedDate == "" {
		t.Fatalf("last used after ListBuckets: %+v", lu)
	}
	if d, err := time.Parse(time.RFC3339, a.LastUsedDate); err != nil || time.Since(d) > time.Minute {
		t.Errorf("LastUsedDate %q: %v", a.LastUsedDate, err)
	}

	// The get-access-key-last-used calls used the key for IAM within the
	// write window: that use is kept in memory and written at shutdown.
	// Read the store offline, so no new use can race the check.
	s.Stop()
	st, err := server.OpenDataDir(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acct, err := st.Meta.GetAccountByName(context.Background(), server.DefaultAccountName)
	if err != nil {
		t.Fatal(err)
	}
	k, err := (&iam.Service{Store: st.Meta.IAM()}).GetAccessKeyLastUsed(context.Background(), acct.ID, s.AccessKey)
	if err != nil {
		t.Fatal(err)
	}
	if k.LastUsed == nil || k.LastUsed.ServiceName != "iam" {
		t.Errorf("last used after shutdown: %+v, want the IAM use written at shutdown", k.LastUsed)
	}
}
