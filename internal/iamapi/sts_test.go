package iamapi

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/auth/session"
	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/mfa"
)

// svcIdentity gives the authorizer the policies of the handler's IAM.
type svcIdentity struct{ s *iam.Service }

func (i svcIdentity) UserPolicies(ctx context.Context, a, u string) ([][]byte, []byte, error) {
	return i.s.PrincipalPolicies(ctx, a, u)
}

func (i svcIdentity) RolePolicies(ctx context.Context, a, r string) ([][]byte, []byte, error) {
	return i.s.RolePolicies(ctx, a, r)
}

func stsHandler(t *testing.T) (*Handler, *session.Sealer) {
	h := newHandler()
	key := make([]byte, session.KeySize)
	rand.Read(key)
	s, err := session.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	h.Sessions, h.Now = s, func() time.Time { return fixedTime }
	h.Authorizer = &authz.Engine{Identity: svcIdentity{h.IAM}, Cache: &authz.PolicyCache{}}
	return h, s
}

// sts serves an STS call and checks its status and, for errors, that the
// body holds code and msg.
func callSTS(t *testing.T, h *Handler, caller *authn.Principal, want int, code, msg string, action string, kv ...string) []byte {
	t.Helper()
	status, body := h.ServeSTS(context.Background(), caller, stsForm(action, kv...), "req-1")
	if status != want || !strings.Contains(string(body), code) || !strings.Contains(string(body), msg) {
		t.Fatalf("%s: status %d, want %d %s %q; body %s", action, status, want, code, msg, body)
	}
	return body
}

type credsXML struct {
	ID      string `xml:"Credentials>AccessKeyId"`
	Secret  string `xml:"Credentials>SecretAccessKey"`
	Token   string `xml:"Credentials>SessionToken"`
	Expires string `xml:"Credentials>Expiration"`
	RoleID  string `xml:"AssumedRoleUser>AssumedRoleId"`
	RoleArn string `xml:"AssumedRoleUser>Arn"`
	Packed  int    `xml:"PackedPolicySize"`
}

func creds(t *testing.T, s *session.Sealer, _ string, body []byte) (credsXML, *session.Token) {
	t.Helper()
	var env struct {
		R    credsXML `xml:",any"`
		Meta struct{} `xml:"ResponseMetadata"`
	}
	decode(t, body, &env)
	r := env.R
	tok, err := s.Open(r.Token)
	if err != nil || tok.AccessKeyID != r.ID || tok.Secret != r.Secret || !strings.HasPrefix(r.ID, "ASIA") {
		t.Fatalf("credentials %+v: token %+v, %v", r, tok, err)
	}
	return r, tok
}

func TestGetSessionToken(t *testing.T) {
	h, s := stsHandler(t)
	ctx := context.Background()
	u, err := h.IAM.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	alice := &authn.Principal{Type: authn.TypeIAMUser, AccountID: acct, UserName: "alice", ARN: u.ARN(acct)}
	d, err := h.IAM.CreateVirtualMFADevice(ctx, acct, "", "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	serial := d.SerialNumber(acct)
	code := func(delta int64) string { return mfa.HOTP(d.Seed, uint64(mfa.Step(fixedTime)+delta)) }
	if err := h.IAM.EnableMFADevice(ctx, acct, "alice", serial, code(-1), code(0)); err != nil {
		t.Fatal(err)
	}

	// Without MFA: a plain session of the user, 12 hours by default.
	_, tok := creds(t, s, "GetSessionToken", callSTS(t, h, alice, 200, "", "", "GetSessionToken"))
	if tok.Kind != session.KindUser || tok.UserName != "alice" || tok.MFA || tok.Expiration() != fixedTime.Add(12*time.Hour) {
		t.Errorf("token %+v", tok)
	}
	// The code enabling used is spent; the next one works once.
	callSTS(t, h, alice, 403, "AccessDenied", "invalid MFA one time pass code", "GetSessionToken", "SerialNumber", serial, "TokenCode", code(0))
	_, tok = creds(t, s, "GetSessionToken", callSTS(t, h, alice, 200, "", "", "GetSessionToken", "SerialNumber", serial, "TokenCode", code(1), "DurationSeconds", "900"))
	if !tok.MFA || tok.MFATime != fixedTime.Unix() || tok.Expiration() != fixedTime.Add(900*time.Second) {
		t.Errorf("MFA token %+v", tok)
	}
	callSTS(t, h, alice, 403, "AccessDenied", "invalid MFA one time pass code", "GetSessionToken", "SerialNumber", serial, "TokenCode", code(1))
	// Someone else's device, or none: unable to validate.
	callSTS(t, h, root, 403, "AccessDenied", "unable to validate MFA code", "GetSessionToken", "SerialNumber", serial, "TokenCode", code(1))
	callSTS(t, h, alice, 403, "AccessDenied", "unable to validate MFA code", "GetSessionToken", "SerialNumber", serial)
	callSTS(t, h, alice, 400, "ValidationError", "greater than or equal to 900", "GetSessionToken", "DurationSeconds", "899")
	callSTS(t, h, alice, 400, "ValidationError", "less than or equal to 129600", "GetSessionToken", "DurationSeconds", "129601")
	// The root's sessions are cut to an hour.
	_, tok = creds(t, s, "GetSessionToken", callSTS(t, h, root, 200, "", "", "GetSessionToken", "DurationSeconds", "7200"))
	if tok.Kind != session.KindRoot || tok.Expiration() != fixedTime.Add(time.Hour) {
		t.Errorf("root token %+v", tok)
	}
	// Session credentials cannot get another session, nor use IAM
	// without MFA.
	sess := &authn.Principal{Type: authn.TypeIAMUser, AccountID: acct, UserName: "alice", ARN: u.ARN(acct), Session: &authn.Session{}}
	callSTS(t, h, sess, 403, "AccessDenied", "session credentials", "GetSessionToken")
	if status, body := h.ServeIAM(ctx, sess, form("ListUsers"), "r"); status != 403 || !strings.Contains(string(body), "InvalidClientTokenId") {
		t.Errorf("IAM without MFA: %d %s", status, body)
	}
	sess.Session.MFA = true
	if status, body := h.ServeIAM(ctx, sess, form("ListUsers"), "r"); status != 200 {
		t.Errorf("IAM with MFA: %d %s", status, body)
	}
}

func TestAssumeRole(t *testing.T) {
	h, s := stsHandler(t)
	ctx := context.Background()
	u, err := h.IAM.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	alice := &authn.Principal{Type: authn.TypeIAMUser, AccountID: acct, UserName: "alice", ARN: u.ARN(acct)}
	if _, err := h.IAM.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "bob"}); err != nil {
		t.Fatal(err)
	}
	bob := &authn.Principal{Type: authn.TypeIAMUser, AccountID: acct, UserName: "bob", ARN: "arn:aws:iam::" + acct + ":user/bob"}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + u.ARN(acct) + `"},"Action":["sts:AssumeRole","sts:SetSourceIdentity"],` +
		`"Condition":{"StringEquals":{"sts:ExternalId":"xyz"}}}]}`
	role, err := h.IAM.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "reader", Path: "/app/", AssumeRolePolicyDocument: trust})
	if err != nil {
		t.Fatal(err)
	}
	arn := role.ARN(acct)

	sess := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
	r, tok := creds(t, s, "AssumeRole", callSTS(t, h, alice, 200, "", "", "AssumeRole", "RoleArn", arn, "RoleSessionName", "s1",
		"ExternalId", "xyz", "Policy", sess, "SourceIdentity", "alice-laptop"))
	if r.RoleArn != "arn:aws:sts::"+acct+":assumed-role/reader/s1" || r.RoleID != role.RoleID+":s1" || r.Packed == 0 {
		t.Errorf("assumed role user %+v", r)
	}
	if tok.Kind != session.KindRole || tok.RoleName != "reader" || tok.RolePath != "/app/" || tok.SessionName != "s1" ||
		len(tok.Policies) != 1 || tok.SourceIdentity != "alice-laptop" || tok.Expiration() != fixedTime.Add(time.Hour) || tok.MFA {
		t.Errorf("role token %+v", tok)
	}

	deny := "User: " + u.ARN(acct) + " is not authorized to perform: sts:AssumeRole on resource: " + arn
	callSTS(t, h, alice, 403, "AccessDenied", deny, "AssumeRole", "RoleArn", arn, "RoleSessionName", "s1", "ExternalId", "abc")
	callSTS(t, h, alice, 403, "AccessDenied", deny, "AssumeRole", "RoleArn", arn, "RoleSessionName", "s1")
	// The trust policy does not name bob; a role that does not exist
	// looks the same.
	callSTS(t, h, bob, 403, "AccessDenied", "User: arn:aws:iam::"+acct+":user/bob is not authorized", "AssumeRole", "RoleArn", arn, "RoleSessionName", "s1", "ExternalId", "xyz")
	callSTS(t, h, alice, 403, "AccessDenied", "not authorized", "AssumeRole", "RoleArn", "arn:aws:iam::"+acct+":role/ghost", "RoleSessionName", "s1")
	// Roots cannot assume roles.
	callSTS(t, h, root, 403, "AccessDenied", "not authorized", "AssumeRole", "RoleArn", arn, "RoleSessionName", "s1", "ExternalId", "xyz")

	callSTS(t, h, alice, 400, "ValidationError", "exceeds the MaxSessionDuration", "AssumeRole", "RoleArn", arn, "RoleSessionName", "s1", "ExternalId", "xyz", "DurationSeconds", "7200")
	callSTS(t, h, alice, 400, "ValidationError", "roleSessionName", "AssumeRole", "RoleArn", arn, "RoleSessionName", "a b")
	callSTS(t, h, alice, 400, "ValidationError", "roleSessionName", "AssumeRole", "RoleArn", arn, "RoleSessionName", "a")
	callSTS(t, h, alice, 400, "MalformedPolicyDocument", "", "AssumeRole", "RoleArn", arn, "RoleSessionName", "s1", "ExternalId", "xyz", "Policy", `{"Statement":[]}`)

	// Role chaining: at most an hour, and the role session itself is
	// what the trust policy must name.
	chained := &authn.Principal{Type: authn.TypeAssumedRole, AccountID: acct, ARN: r.RoleArn, UserID: r.RoleID,
		Session: &authn.Session{RoleARN: arn, RoleName: "reader", RoleID: role.RoleID, SessionName: "s1"}}
	callSTS(t, h, chained, 400, "ValidationError", "role chaining", "AssumeRole", "RoleArn", arn, "RoleSessionName", "s2", "DurationSeconds", "3601")
	callSTS(t, h, chained, 403, "AccessDenied", "User: "+r.RoleArn+" is not authorized", "AssumeRole", "RoleArn", arn, "RoleSessionName", "s2", "ExternalId", "xyz")
	callSTS(t, h, chained, 403, "AccessDenied", "", "GetSessionToken")
	body := callSTS(t, h, chained, 200, "", "", "GetCallerIdentity")
	if !strings.Contains(string(body), r.RoleArn) || !strings.Contains(string(body), r.RoleID) {
		t.Errorf("caller identity of a role session: %s", body)
	}
	callSTS(t, h, alice, 501, "NotImplemented", "session tags", "AssumeRole", "RoleArn", arn, "RoleSessionName", "s1", "ExternalId", "xyz",
		"Tags.member.1.Key", "team", "Tags.member.1.Value", "x")
	if status, _ := h.ServeSTS(ctx, alice, stsForm("AssumeRole", "RoleArn", arn, "RoleSessionName", "s1", "ExternalId", "xyz",
		"PolicyArns.member.1.arn", "arn:aws:iam::"+acct+":policy/nope"), "r"); status != http.StatusBadRequest {
		t.Errorf("missing managed session policy: %d", status)
	}
}
