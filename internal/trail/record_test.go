package trail

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
)

func TestFromEvent(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		ev    audit.Event
		check func(t *testing.T, rs []*Record)
	}{
		{"iam user data event", audit.Event{
			Time: at, Service: "s3", Operation: "PutObject", PrincipalType: "IAMUser", AccountID: "111122223333",
			PrincipalARN: "arn:aws:iam::111122223333:user/alice", PrincipalID: "AIDAX", UserName: "alice", AccessKeyID: "AKIAX",
			Bucket: "b1", Key: "k", BucketOwner: "111122223333", Data: true, TLS: true, TLSVersion: "TLS 1.3",
			CipherSuite: "TLS_AES_128_GCM_SHA256", Host: "b1.example", UserAgent: "aws-cli/2", Region: "us-east-1",
			Outcome: audit.OutcomeSuccess,
		}, func(t *testing.T, rs []*Record) {
			r := one(t, rs)
			if r.EventSource != "s3.amazonaws.com" || r.EventCategory != "Data" || r.ManagementEvent || r.UserAgent != "[aws-cli/2]" {
				t.Errorf("record %+v", r)
			}
			if r.UserIdentity.Type != "IAMUser" || r.UserIdentity.UserName != "alice" || r.UserIdentity.PrincipalID != "AIDAX" {
				t.Errorf("identity %+v", r.UserIdentity)
			}
			if len(r.Resources) != 2 || r.Resources[0].ARN != "arn:aws:s3:::b1/k" || r.Resources[1].AccountID != "111122223333" {
				t.Errorf("resources %+v", r.Resources)
			}
			if r.TLSDetails == nil || r.TLSDetails.TLSVersion != "TLSv1.3" || r.RecipientAccountID != "111122223333" {
				t.Errorf("tls %+v recipient %q", r.TLSDetails, r.RecipientAccountID)
			}
			if r.EventTime != "2026-11-27T10:00:00Z" {
				t.Errorf("eventTime %q", r.EventTime)
			}
		}},
		{"anonymous denied", audit.Event{
			Time: at, Service: "s3", Operation: "ListObjectsV2", PrincipalType: "AWSAccount", Bucket: "b1",
			BucketOwner: "111122223333", Data: true, Outcome: audit.OutcomeDenied, ErrorCode: "AccessDenied",
			RequestParameters: map[string]any{"prefix": "p/"},
		}, func(t *testing.T, rs []*Record) {
			r := one(t, rs)
			if r.UserIdentity.Type != "AWSAccount" || r.UserIdentity.AccountID != "anonymous" {
				t.Errorf("identity %+v", r.UserIdentity)
			}
			if r.EventName != "ListObjects" || r.ErrorCode != "AccessDenied" || r.RecipientAccountID != "111122223333" {
				t.Errorf("record %+v", r)
			}
			if r.Resources[0].ARNPrefix != "arn:aws:s3:::b1/p/" {
				t.Errorf("resources %+v", r.Resources)
			}
		}},
		{"unauthenticated failure", audit.Event{
			Time: at, Service: "s3", Operation: "ListBuckets", Outcome: audit.OutcomeFailed, ErrorCode: "InvalidAccessKeyId",
		}, func(t *testing.T, rs []*Record) {
			if r := one(t, rs); r.UserIdentity.Type != "Unknown" || !r.ManagementEvent || r.EventCategory != "Management" {
				t.Errorf("record %+v", r)
			}
		}},
		{"assumed role", audit.Event{
			Time: at, Service: "kms", Operation: "CreateKey", PrincipalType: "AssumedRole", AccountID: "111122223333",
			PrincipalARN: "arn:aws:sts::111122223333:assumed-role/r/s", PrincipalID: "AROAX:s",
			Session: &audit.Session{CreationDate: at, MFAAuthenticated: true, IssuerType: "Role", IssuerARN: "arn:aws:iam::111122223333:role/r", IssuerUserName: "r", IssuerAccountID: "111122223333", IssuerPrincipalID: "AROAX"},
			Outcome: audit.OutcomeSuccess,
		}, func(t *testing.T, rs []*Record) {
			r := one(t, rs)
			sc := r.UserIdentity.SessionContext
			if sc == nil || sc.Attributes["mfaAuthenticated"] != "true" || sc.SessionIssuer == nil || sc.SessionIssuer.UserName != "r" {
				t.Errorf("session %+v", sc)
			}
			if r.EventSource != "kms.amazonaws.com" {
				t.Errorf("source %q", r.EventSource)
			}
		}},
		{"cross account", audit.Event{
			Time: at, Service: "s3", Operation: "GetObject", PrincipalType: "IAMUser", AccountID: "111111111111",
			Bucket: "b", Key: "k", BucketOwner: "222222222222", Data: true, Outcome: audit.OutcomeSuccess,
		}, func(t *testing.T, rs []*Record) {
			if len(rs) != 2 || rs[0].RecipientAccountID != "111111111111" || rs[1].RecipientAccountID != "222222222222" ||
				rs[0].SharedEventID == "" || rs[0].SharedEventID != rs[1].SharedEventID || rs[0].EventID == rs[1].EventID {
				t.Fatalf("records %+v %+v", rs[0], rs[1])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := FromEvent(&tt.ev)
			for _, r := range rs {
				if _, err := json.Marshal(r); err != nil {
					t.Fatal(err)
				}
				if r.EventVersion != EventVersion || r.EventType != "AwsApiCall" || len(r.EventID) != 36 {
					t.Errorf("fixed fields %+v", r)
				}
			}
			tt.check(t, rs)
		})
	}
}

func one(t *testing.T, rs []*Record) *Record {
	t.Helper()
	if len(rs) != 1 {
		t.Fatalf("got %d records, want 1", len(rs))
	}
	return rs[0]
}
