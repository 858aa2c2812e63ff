package authz

import (
	"context"
	"errors"
	"testing"

	"github.com/coffer-io/coffer/internal/auth/authn"
)

// roles is an IdentitySource with one role and no users.
type roles struct{ identity, boundary []byte }

func (roles) UserPolicies(context.Context, string, string) ([][]byte, []byte, error) {
	return nil, nil, errors.New("no users")
}

func (r roles) RolePolicies(_ context.Context, _, role string) ([][]byte, []byte, error) {
	if role != "reader" {
		return nil, nil, errors.New("no such role")
	}
	return [][]byte{r.identity}, r.boundary, nil
}

const acct = "111122223333"

func allow(action, resource string) []byte {
	return []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}]}`)
}

func TestRoleSessions(t *testing.T) {
	session := func(policies ...[]byte) *authn.Principal {
		return &authn.Principal{Type: authn.TypeAssumedRole, AccountID: acct, ARN: "arn:aws:sts::" + acct + ":assumed-role/reader/s",
			UserID: "AROAEXAMPLE:s", Session: &authn.Session{RoleARN: "arn:aws:iam::" + acct + ":role/reader", RoleName: "reader",
				RoleID: "AROAEXAMPLE", SessionName: "s", Policies: policies}}
	}
	get := func(key string) *Request {
		return &Request{Actions: []string{"s3:GetObject"}, Resource: "arn:aws:s3:::data/" + key, ResourceOwner: acct}
	}
	e := &Engine{Identity: roles{identity: allow("s3:GetObject", "arn:aws:s3:::data/*")}, Cache: &PolicyCache{}}
	tests := []struct {
		name string
		p    *authn.Principal
		key  string
		want bool
	}{
		{"the role's policy allows", session(), "k", true},
		{"a session policy narrows", session(allow("s3:GetObject", "arn:aws:s3:::data/public/*")), "k", false},
		{"within the session policy", session(allow("s3:GetObject", "arn:aws:s3:::data/public/*")), "public/k", true},
		{"a broad session policy keeps the role's grants", session(allow("s3:*", "*")), "k", true},
	}
	for _, tc := range tests {
		r := get(tc.key)
		r.Principal = tc.p
		if d := e.Authorize(context.Background(), r); d.Allowed != tc.want {
			t.Errorf("%s: %+v", tc.name, d)
		}
	}
	r := &Request{Principal: session(allow("s3:*", "*")), Actions: []string{"s3:PutObject"}, Resource: "arn:aws:s3:::data/k", ResourceOwner: acct}
	if d := e.Authorize(context.Background(), r); d.Allowed {
		t.Errorf("session policy widened the role: %+v", d)
	}
	// The role's boundary caps it.
	e.Identity = roles{identity: allow("s3:GetObject", "arn:aws:s3:::data/*"), boundary: allow("s3:GetObject", "arn:aws:s3:::data/public/*")}
	r = get("k")
	r.Principal = session()
	if d := e.Authorize(context.Background(), r); d.Allowed {
		t.Errorf("boundary ignored: %+v", d)
	}
	// A session of a role that is gone, or an identity source without
	// roles, denies.
	gone := session()
	gone.Session.RoleName = "deleted"
	r.Principal = gone
	if d := e.Authorize(context.Background(), r); d.Allowed {
		t.Errorf("deleted role: %+v", d)
	}
	e.Identity = usersOnly{}
	r.Principal = session()
	if d := e.Authorize(context.Background(), r); d.Allowed {
		t.Errorf("no role source: %+v", d)
	}

	// AssumeRole: the trust policy is the resource policy.
	trust := []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/alice"},"Action":"sts:AssumeRole"}]}`)
	alice := &authn.Principal{Type: authn.TypeIAMUser, AccountID: acct, UserName: "alice", ARN: "arn:aws:iam::" + acct + ":user/alice"}
	e.Identity = aliceOnly{}
	ar := &Request{Principal: alice, Actions: []string{"sts:AssumeRole"}, Resource: "arn:aws:iam::" + acct + ":role/reader", ResourceOwner: acct, TrustPolicy: trust}
	if d := e.Authorize(context.Background(), ar); !d.Allowed {
		t.Errorf("trusted user: %+v", d)
	}
	ar.TrustPolicy = nil
	if d := e.Authorize(context.Background(), ar); d.Allowed {
		t.Errorf("AssumeRole without a trust policy: %+v", d)
	}
}

type usersOnly struct{}

func (usersOnly) UserPolicies(context.Context, string, string) ([][]byte, []byte, error) {
	return nil, nil, nil
}

type aliceOnly struct{}

func (aliceOnly) UserPolicies(_ context.Context, _, user string) ([][]byte, []byte, error) {
	if user != "alice" {
		return nil, nil, errors.New("no such user")
	}
	return nil, nil, nil
}
