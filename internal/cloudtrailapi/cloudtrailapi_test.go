package cloudtrailapi

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/trail"
)

func newHandler(t *testing.T) *Handler {
	t.Helper()
	dir := t.TempDir()
	j, err := trail.OpenJournal(filepath.Join(dir, "journal"), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	keys, err := trail.OpenKeys(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := trail.NewService(trail.Config{Journal: j, Keys: keys, StatePath: filepath.Join(dir, "trails.json"), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	sink := &trail.Sink{J: j}
	for _, op := range []string{"CreateBucket", "PutBucketPolicy", "CreateBucket"} {
		if err := sink.Record(t.Context(), &audit.Event{Time: time.Now(), Service: "s3", Operation: op, PrincipalType: "Root",
			AccountID: "111122223333", Bucket: "b", BucketOwner: "111122223333", Outcome: audit.OutcomeSuccess}); err != nil {
			t.Fatal(err)
		}
	}
	return &Handler{Trails: svc}
}

func TestServe(t *testing.T) {
	h := newHandler(t)
	caller := &authn.Principal{Type: authn.TypeRoot, AccountID: "111122223333"}
	other := &authn.Principal{Type: authn.TypeRoot, AccountID: "444455556666"}
	tests := []struct {
		name   string
		caller *authn.Principal
		op     string
		body   string
		code   string // exception, or "" for success
		check  func(t *testing.T, out map[string]any)
	}{
		{"unknown member", caller, "LookupEvents", `{"Bogus":1}`, "InvalidParameterException", nil},
		{"malformed", caller, "LookupEvents", `{`, "InvalidParameterException", nil},
		{"max results", caller, "LookupEvents", `{"MaxResults":51}`, "InvalidMaxResultsException", nil},
		{"time range", caller, "LookupEvents", `{"StartTime":2000,"EndTime":1000}`, "InvalidTimeRangeException", nil},
		{"bad attribute", caller, "LookupEvents", `{"LookupAttributes":[{"AttributeKey":"Bogus","AttributeValue":"x"}]}`, "InvalidLookupAttributesException", nil},
		{"bad token", caller, "LookupEvents", `{"NextToken":"x"}`, "InvalidNextTokenException", nil},
		{"unknown operation", caller, "UpdateTrail", `{}`, "UnknownOperationException", nil},
		{"missing trail", caller, "GetTrailStatus", `{"Name":"nope"}`, "TrailNotFoundException", nil},
		{"page", caller, "LookupEvents", `{"MaxResults":2,"LookupAttributes":[{"AttributeKey":"EventSource","AttributeValue":"s3.amazonaws.com"}]}`, "", func(t *testing.T, out map[string]any) {
			ev := out["Events"].([]any)
			if len(ev) != 2 || ev[0].(map[string]any)["EventName"] != "CreateBucket" || out["NextToken"] == nil {
				t.Errorf("page %v", out)
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(ev[1].(map[string]any)["CloudTrailEvent"].(string)), &rec); err != nil || rec["eventName"] != "PutBucketPolicy" {
				t.Errorf("CloudTrailEvent %v", rec)
			}
		}},
		{"other account sees nothing", other, "LookupEvents", `{}`, "", func(t *testing.T, out map[string]any) {
			if ev := out["Events"].([]any); len(ev) != 0 {
				t.Errorf("other account saw %v", ev)
			}
		}},
		{"public keys", caller, "ListPublicKeys", `{"StartTime":"2026-01-01T00:00:00Z"}`, "", func(t *testing.T, out map[string]any) {
			k := out["PublicKeyList"].([]any)[0].(map[string]any)
			der, err := base64.StdEncoding.DecodeString(k["Value"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := x509.ParsePKCS1PublicKey(der); err != nil || len(k["Fingerprint"].(string)) != 32 {
				t.Errorf("key %v: %v", k, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.serve(t.Context(), tt.caller, tt.op, []byte(tt.body), "req")
			if res.ErrorCode != tt.code {
				t.Fatalf("%s: error %q (%s), want %q", tt.op, res.ErrorCode, res.Body, tt.code)
			}
			if tt.code != "" {
				if res.Status != 400 || !strings.Contains(string(res.Body), `"__type":"`+tt.code+`"`) {
					t.Errorf("error response %d %s", res.Status, res.Body)
				}
				return
			}
			var out map[string]any
			if err := json.Unmarshal(res.Body, &out); err != nil {
				t.Fatal(err)
			}
			tt.check(t, out)
		})
	}
}
