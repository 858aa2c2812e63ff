package s3api

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-io/coffer/internal/auth/authn"
)

// Temporary credentials carry aws:MultiFactorAuthPresent (true or false),
// aws:MultiFactorAuthAge with MFA, and aws:TokenIssueTime; long-term keys
// carry none of them.
func TestSessionKeys(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	issued := now.Add(-10 * time.Minute)
	for _, tc := range []struct {
		name string
		p    *authn.Principal
		want map[string][]string
	}{
		{"long-term key", &authn.Principal{Type: authn.TypeIAMUser, AccountID: "111122223333"}, map[string][]string{}},
		{"session without MFA", &authn.Principal{Type: authn.TypeIAMUser, AccountID: "111122223333",
			Session: &authn.Session{IssuedAt: issued}},
			map[string][]string{"aws:MultiFactorAuthPresent": {"false"}, "aws:TokenIssueTime": {"2025-06-01T11:50:00Z"}}},
		{"session with MFA", &authn.Principal{Type: authn.TypeAssumedRole, AccountID: "111122223333",
			Session: &authn.Session{IssuedAt: issued, MFA: true, MFATime: issued, SourceIdentity: "me"}},
			map[string][]string{"aws:MultiFactorAuthPresent": {"true"}, "aws:MultiFactorAuthAge": {"600"},
				"aws:TokenIssueTime": {"2025-06-01T11:50:00Z"}, "aws:SourceIdentity": {"me"}}},
	} {
		c := map[string][]string{}
		sessionKeys(c, tc.p, now)
		if d := cmp.Diff(tc.want, c); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
	}
	c := map[string][]string{}
	principalKeys(c, &authn.Principal{Type: authn.TypeAssumedRole, AccountID: "111122223333", UserID: "AROAX:s",
		ARN: "arn:aws:sts::111122223333:assumed-role/r/s", Session: &authn.Session{RoleARN: "arn:aws:iam::111122223333:role/r"}})
	if c["aws:PrincipalArn"][0] != "arn:aws:iam::111122223333:role/r" || c["aws:PrincipalType"][0] != "AssumedRole" || c["aws:userid"][0] != "AROAX:s" {
		t.Errorf("role session principal keys %v", c)
	}
}
