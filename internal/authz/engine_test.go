package authz

import (
	"context"
	"errors"
	"testing"

	"github.com/coffer-io/coffer/internal/auth/authn"
)

type fakeIdentity map[string][][]byte

func (f fakeIdentity) UserPolicies(_ context.Context, account, user string) ([][]byte, []byte, error) {
	if user == "broken" {
		return nil, nil, errors.New("store down")
	}
	return f[account+"/"+user], nil, nil
}

func TestEngine(t *testing.T) {
	e := &Engine{Identity: fakeIdentity{
		"111111111111/reader": {[]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`)},
		"111111111111/bad":    {[]byte(`{not json`)},
	}, Cache: &PolicyCache{}}
	root := &authn.Principal{Type: authn.TypeRoot, AccountID: "111111111111", ARN: "arn:aws:iam::111111111111:root"}
	other := &authn.Principal{Type: authn.TypeRoot, AccountID: "222222222222", ARN: "arn:aws:iam::222222222222:root"}
	user := func(name string) *authn.Principal {
		return &authn.Principal{Type: authn.TypeIAMUser, AccountID: "111111111111", UserName: name, ARN: "arn:aws:iam::111111111111:user/" + name}
	}
	denyGet := []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`)
	public := []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`)
	cases := []struct {
		name  string
		p     *authn.Principal
		acts  []string
		res   string
		owner string
		pol   []byte
		want  bool
	}{
		{"root on own bucket", root, []string{"s3:PutObject"}, "arn:aws:s3:::b/k", "111111111111", nil, true},
		{"root creating a bucket", root, []string{"s3:CreateBucket"}, "arn:aws:s3:::new", "", nil, true},
		{"other account's root", other, []string{"s3:GetObject"}, "arn:aws:s3:::b/k", "111111111111", nil, false},
		{"other account through a public policy", other, []string{"s3:GetObject"}, "arn:aws:s3:::b/k", "111111111111", public, true},
		{"anonymous without policy", authn.Anonymous, []string{"s3:GetObject"}, "arn:aws:s3:::b/k", "111111111111", nil, false},
		{"anonymous through a public policy", authn.Anonymous, []string{"s3:GetObject"}, "arn:aws:s3:::b/k", "111111111111", public, true},
		{"bucket policy deny binds the root", root, []string{"s3:GetObject"}, "arn:aws:s3:::b/k", "111111111111", denyGet, false},
		{"user allowed by identity", user("reader"), []string{"s3:GetObject"}, "arn:aws:s3:::b/k", "111111111111", nil, true},
		{"user outside its policy", user("reader"), []string{"s3:PutObject"}, "arn:aws:s3:::b/k", "111111111111", nil, false},
		{"every action must be allowed", user("reader"), []string{"s3:GetObject", "s3:GetObjectAttributes"}, "arn:aws:s3:::b/k", "111111111111", nil, false},
		{"user without policies", user("nobody"), []string{"s3:GetObject"}, "arn:aws:s3:::b/k", "111111111111", nil, false},
		{"identity store failure fails closed", user("broken"), []string{"s3:GetObject"}, "arn:aws:s3:::b/k", "111111111111", nil, false},
		{"unparsable stored policy fails closed", user("bad"), []string{"s3:GetObject"}, "arn:aws:s3:::b/k", "111111111111", nil, false},
		{"no action", root, nil, "arn:aws:s3:::b/k", "111111111111", nil, false},
	}
	for _, tc := range cases {
		d := e.Authorize(context.Background(), &Request{Principal: tc.p, Actions: tc.acts, Resource: tc.res, ResourceOwner: tc.owner, ResourcePolicy: tc.pol})
		if d.Allowed != tc.want {
			t.Errorf("%s: allowed=%v (%s), want %v", tc.name, d.Allowed, d.Reason, tc.want)
		}
	}
}

func TestPolicyCacheReusesParses(t *testing.T) {
	c := &PolicyCache{}
	doc := []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	p1, err := c.Parse(doc, 1)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := c.Parse(append([]byte(nil), doc...), 1)
	if p1 != p2 {
		t.Fatal("the same document was parsed twice")
	}
	if _, err := c.Parse([]byte(`{`), 1); err == nil {
		t.Fatal("invalid document accepted")
	}
}
