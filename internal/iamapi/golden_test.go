package iamapi

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-io/coffer/internal/auth/authn"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares body with testdata/name.xml byte for byte.
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".xml")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(bytes.Clone(body), '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if d := cmp.Diff(trimXML(want), trimXML(body)); d != "" {
		t.Errorf("%s differs from %s (-want +got):\n%s", name, path, d)
	}
}

// decode parses body into v, failing the test if it is not well-formed
// or v's XMLName (namespace and root element) does not match.
func decode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := xml.Unmarshal(body, v); err != nil {
		t.Fatalf("parsing %s: %v", body, err)
	}
}

type xmlTag struct{ Key, Value string }

type userShape struct {
	Path, UserName, UserId, Arn, CreateDate string
	PermissionsBoundary                     *struct{ PermissionsBoundaryType, PermissionsBoundaryArn string }
	Tags                                    []xmlTag `xml:"Tags>member"`
}

const (
	policyDoc = `{"Version":"2012-10-17","Statement":[{"Sid":"A1","Effect":"Allow","Action":["s3:GetObject"],` +
		`"Resource":"arn:aws:s3:::bucket/a b+c%20d/*","Condition":{"StringLike":{"s3:prefix":"café/*"}}}]}`
	trustDoc = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"arn:aws:iam::111122223333:root\"}, \"Action\": \"sts:AssumeRole\"}]\n}"
)

// TestGolden drives a representative session through ServeIAM and
// ServeSTS and checks each response byte for byte against testdata, and
// parsed back with encoding/xml.
func TestGolden(t *testing.T) {
	h := newHandler()

	t.Run("CreatePolicy", func(t *testing.T) {
		body := do(t, h, root, form("CreatePolicy", "PolicyName", "Cap", "Path", "/caps/", "PolicyDocument", policyDoc,
			"Description", "caps things"), http.StatusOK)
		golden(t, "create_policy", body)
		var r struct {
			XMLName xml.Name `xml:"https://iam.amazonaws.com/doc/2010-05-08/ CreatePolicyResponse"`
			Policy  struct {
				PolicyName, PolicyId, Arn, Path, DefaultVersionId, CreateDate, UpdateDate string
				AttachmentCount, PermissionsBoundaryUsageCount                            int
				IsAttachable                                                              bool
			} `xml:"CreatePolicyResult>Policy"`
		}
		decode(t, body, &r)
		p := r.Policy
		if p.Arn != "arn:aws:iam::111122223333:policy/caps/Cap" || p.DefaultVersionId != "v1" || !p.IsAttachable ||
			p.AttachmentCount != 0 || p.CreateDate != "2025-06-01T12:30:45Z" || p.PolicyId[:4] != "ANPA" {
			t.Errorf("policy %+v", p)
		}
	})

	t.Run("CreateUser", func(t *testing.T) {
		body := do(t, h, root, form("CreateUser", "UserName", "alice", "Path", "/eng/",
			"PermissionsBoundary", "arn:aws:iam::111122223333:policy/caps/Cap",
			"Tags.member.1.Key", "team", "Tags.member.1.Value", "storage",
			"Tags.member.2.Key", "Cost<Center>", "Tags.member.2.Value", ""), http.StatusBadRequest)
		golden(t, "error_validation", body) // '<' is not a tag key character
		body = do(t, h, root, form("CreateUser", "UserName", "alice", "Path", "/eng/",
			"PermissionsBoundary", "arn:aws:iam::111122223333:policy/caps/Cap",
			"Tags.member.1.Key", "team", "Tags.member.1.Value", "storage + more"), http.StatusOK)
		golden(t, "create_user", body)
		var r struct {
			XMLName   xml.Name  `xml:"https://iam.amazonaws.com/doc/2010-05-08/ CreateUserResponse"`
			User      userShape `xml:"CreateUserResult>User"`
			RequestID string    `xml:"ResponseMetadata>RequestId"`
		}
		decode(t, body, &r)
		want := userShape{Path: "/eng/", UserName: "alice", UserId: r.User.UserId, Arn: "arn:aws:iam::111122223333:user/eng/alice",
			CreateDate: "2025-06-01T12:30:45Z",
			PermissionsBoundary: &struct{ PermissionsBoundaryType, PermissionsBoundaryArn string }{
				"PermissionsBoundaryPolicy", "arn:aws:iam::111122223333:policy/caps/Cap"},
			Tags: []xmlTag{{"team", "storage + more"}}}
		if d := cmp.Diff(want, r.User); d != "" || r.RequestID != "req-1" {
			t.Errorf("user (-want +got):\n%s (request id %q)", d, r.RequestID)
		}
	})

	t.Run("GetUser", func(t *testing.T) {
		body := do(t, h, root, form("GetUser", "UserName", "ALICE"), http.StatusOK)
		golden(t, "get_user", body)
		alice := &authn.Principal{Type: authn.TypeIAMUser, AccountID: acct, UserName: "alice"}
		if self := do(t, h, alice, form("GetUser"), http.StatusOK); !bytes.Equal(self, body) {
			t.Errorf("GetUser without a name as alice:\n%s\nwant\n%s", self, body)
		}
		body = do(t, h, root, form("GetUser"), http.StatusOK)
		golden(t, "get_user_root", body)
		var r struct {
			User userShape `xml:"GetUserResult>User"`
		}
		decode(t, body, &r)
		if r.User.Arn != "arn:aws:iam::111122223333:root" || r.User.UserId != acct || r.User.UserName != "" {
			t.Errorf("root user %+v", r.User)
		}
	})

	t.Run("ListUsers", func(t *testing.T) {
		do(t, h, root, form("CreateUser", "UserName", "bob"), http.StatusOK)
		body := do(t, h, root, form("ListUsers", "MaxItems", "1"), http.StatusOK)
		golden(t, "list_users", body)
		var r struct {
			Users       []userShape `xml:"ListUsersResult>Users>member"`
			IsTruncated bool        `xml:"ListUsersResult>IsTruncated"`
			Marker      string      `xml:"ListUsersResult>Marker"`
		}
		decode(t, body, &r)
		if len(r.Users) != 1 || r.Users[0].UserName != "alice" || !r.IsTruncated || r.Marker == "" {
			t.Fatalf("first page %+v", r)
		}
		if r.Users[0].Tags != nil || r.Users[0].PermissionsBoundary != nil {
			t.Errorf("ListUsers reports tags or boundary: %+v", r.Users[0])
		}
		body = do(t, h, root, form("ListUsers", "Marker", r.Marker), http.StatusOK)
		r.Users, r.Marker = nil, ""
		decode(t, body, &r)
		if len(r.Users) != 1 || r.Users[0].UserName != "bob" || r.IsTruncated || r.Marker != "" {
			t.Errorf("second page %+v", r)
		}
	})

	t.Run("EmptyList", func(t *testing.T) {
		// Lists the output shape requires are present even when empty.
		body := do(t, h, root, form("ListGroups"), http.StatusOK)
		golden(t, "list_groups_empty", body)
	})

	var keyID string
	t.Run("CreateAccessKey", func(t *testing.T) {
		body := do(t, h, root, form("CreateAccessKey", "UserName", "alice"), http.StatusOK)
		golden(t, "create_access_key", body)
		var r struct {
			Key struct{ UserName, AccessKeyId, Status, SecretAccessKey, CreateDate string } `xml:"CreateAccessKeyResult>AccessKey"`
		}
		decode(t, body, &r)
		if r.Key.UserName != "alice" || r.Key.Status != "Active" || len(r.Key.SecretAccessKey) != 40 || len(r.Key.AccessKeyId) != 20 {
			t.Errorf("key %+v", r.Key)
		}
		keyID = r.Key.AccessKeyId
		body = do(t, h, root, form("ListAccessKeys", "UserName", "alice"), http.StatusOK)
		golden(t, "list_access_keys", body)
		if bytes.Contains(body, []byte("Secret")) {
			t.Errorf("ListAccessKeys shows a secret: %s", body)
		}
		body = do(t, h, root, form("GetAccessKeyLastUsed", "AccessKeyId", keyID), http.StatusOK)
		golden(t, "get_access_key_last_used", body)
	})

	t.Run("PolicyDocuments", func(t *testing.T) {
		body := do(t, h, root, form("PutUserPolicy", "UserName", "alice", "PolicyName", "inline", "PolicyDocument", policyDoc), http.StatusOK)
		golden(t, "put_user_policy", body)
		body = do(t, h, root, form("GetUserPolicy", "UserName", "alice", "PolicyName", "INLINE"), http.StatusOK)
		golden(t, "get_user_policy", body)
		var r struct {
			UserName, PolicyName, PolicyDocument string
		}
		var env struct {
			R *struct{ UserName, PolicyName, PolicyDocument string } `xml:"GetUserPolicyResult"`
		}
		env.R = &r
		decode(t, body, &env)
		// What botocore does: urllib.parse.unquote, then json.loads.
		doc, err := url.PathUnescape(r.PolicyDocument)
		if err != nil || doc != policyDoc || r.UserName != "alice" || r.PolicyName != "inline" {
			t.Errorf("GetUserPolicy: %+v; decoded %q, %v", r, doc, err)
		}
		for _, c := range []byte(r.PolicyDocument) {
			if c == '+' || c == ' ' || c == '"' || c >= 0x80 {
				t.Errorf("document not fully percent-encoded: %q", r.PolicyDocument)
				break
			}
		}
		body = do(t, h, root, form("GetPolicyVersion", "PolicyArn", "arn:aws:iam::111122223333:policy/caps/Cap", "VersionId", "v1"), http.StatusOK)
		golden(t, "get_policy_version", body)
	})

	t.Run("CreateRole", func(t *testing.T) {
		body := do(t, h, root, form("CreateRole", "RoleName", "reader", "AssumeRolePolicyDocument", trustDoc,
			"Description", "reads", "MaxSessionDuration", "7200"), http.StatusOK)
		golden(t, "create_role", body)
		var r struct {
			Role struct {
				RoleName, RoleId, Arn, AssumeRolePolicyDocument, Description string
				MaxSessionDuration                                           int
			} `xml:"CreateRoleResult>Role"`
		}
		decode(t, body, &r)
		doc, err := url.PathUnescape(r.Role.AssumeRolePolicyDocument)
		if err != nil || doc != trustDoc || r.Role.MaxSessionDuration != 7200 || r.Role.RoleId[:4] != "AROA" {
			t.Errorf("role %+v; trust %q", r.Role, doc)
		}
		body = do(t, h, root, form("GetRole", "RoleName", "reader"), http.StatusOK)
		golden(t, "get_role", body)
	})

	t.Run("Errors", func(t *testing.T) {
		cases := []struct {
			name   string
			f      url.Values
			status int
			code   string
		}{
			{"error_no_such_entity", form("GetUser", "UserName", "nobody"), 404, "NoSuchEntity"},
			{"error_entity_already_exists", form("CreateUser", "UserName", "Alice"), 409, "EntityAlreadyExists"},
			{"error_delete_conflict", form("DeleteUser", "UserName", "alice"), 409, "DeleteConflict"},
			{"error_limit_exceeded", form("CreatePolicyVersion", "PolicyArn", "arn:aws:iam::111122223333:policy/caps/Cap",
				"PolicyDocument", `{"a":"`+string(bytes.Repeat([]byte("x"), 7000))+`"}`), 409, "LimitExceeded"},
			{"error_malformed_policy", form("PutUserPolicy", "UserName", "alice", "PolicyName", "p", "PolicyDocument", "{nope"), 400, "MalformedPolicyDocument"},
			{"error_invalid_input", form("AttachUserPolicy", "UserName", "alice", "PolicyArn", "arn:aws:iam::111122223333:user/nope"), 400, "InvalidInput"},
			{"error_invalid_action", form("CreateLoginProfile", "UserName", "alice"), 400, "InvalidAction"},
			{"", form("GetUser", "Version", "2010-05-09"), 400, "InvalidAction"},
			{"", url.Values{"Version": {IAMVersion}}, 400, "MissingAction"},
			{"", form("ListUsers", "MaxItems", "0"), 400, "ValidationError"},
			{"", form("ListPolicies", "OnlyAttached", "yes"), 400, "ValidationError"},
			{"", form("CreateRole", "RoleName", "r", "AssumeRolePolicyDocument", trustDoc, "MaxSessionDuration", "0"), 400, "ValidationError"},
			{"", form("DeleteUser"), 400, "ValidationError"},
		}
		for _, c := range cases {
			if c.f.Get("Version") == "" {
				c.f.Set("Version", IAMVersion)
			}
			if len(c.f["Version"]) > 1 {
				c.f["Version"] = c.f["Version"][1:]
			}
			body := do(t, h, root, c.f, c.status)
			if c.name != "" {
				golden(t, c.name, body)
			}
			var r struct {
				XMLName xml.Name `xml:"https://iam.amazonaws.com/doc/2010-05-08/ ErrorResponse"`
				Error   struct{ Type, Code, Message string }
				ReqID   string `xml:"RequestId"`
			}
			decode(t, body, &r)
			if r.Error.Code != c.code || r.Error.Type != "Sender" || r.Error.Message == "" || r.ReqID != "req-1" {
				t.Errorf("%s: error %+v, want code %s", c.f.Get("Action"), r, c.code)
			}
		}
	})

	t.Run("STS", func(t *testing.T) {
		status, body := h.ServeSTS(context.Background(), root, stsForm("GetCallerIdentity"), "req-2")
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		golden(t, "sts_get_caller_identity_root", body)
		alice := &authn.Principal{Type: authn.TypeIAMUser, AccountID: acct, UserName: "alice"}
		status, body = h.ServeSTS(context.Background(), alice, stsForm("GetCallerIdentity"), "req-2")
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		golden(t, "sts_get_caller_identity_user", body)
		var r struct {
			XMLName           xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
			Arn, UserId, Acct string
		}
		var env struct {
			XMLName xml.Name                              `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
			R       struct{ Arn, UserId, Account string } `xml:"GetCallerIdentityResult"`
		}
		_ = r
		decode(t, body, &env)
		if env.R.Arn != "arn:aws:iam::111122223333:user/eng/alice" || env.R.UserId[:4] != "AIDA" || env.R.Account != acct {
			t.Errorf("caller identity %+v", env.R)
		}
		status, body = h.ServeSTS(context.Background(), root, stsForm("GetFederationToken", "Name", "s"), "req-2")
		if status != http.StatusNotImplemented {
			t.Fatalf("GetFederationToken: status %d", status)
		}
		golden(t, "sts_error_not_implemented", body)
		status, _ = h.ServeSTS(context.Background(), authn.Anonymous, stsForm("GetCallerIdentity"), "req-2")
		if status != http.StatusForbidden {
			t.Errorf("anonymous GetCallerIdentity: status %d, want 403", status)
		}
	})
}

// TestEncodeDocument pins the RFC 3986 encoding botocore's unquote undoes.
func TestEncodeDocument(t *testing.T) {
	for in, want := range map[string]string{
		`{"a": "b+c"}`: "%7B%22a%22%3A%20%22b%2Bc%22%7D",
		"x\ny\t~-._":   "x%0Ay%09~-._",
		"é%":           "%C3%A9%25",
		"":             "",
	} {
		if got := encodeDocument(in); got != want {
			t.Errorf("encodeDocument(%q) = %q, want %q", in, got, want)
		}
		if back, err := url.PathUnescape(encodeDocument(in)); err != nil || back != in {
			t.Errorf("round trip of %q: %q, %v", in, back, err)
		}
	}
}

// TestErrorResponse covers the table and the internal-failure fallback.
func TestErrorResponse(t *testing.T) {
	status, body := ErrorResponse(ServiceIAM, AccessDenied("arn:aws:iam::111122223333:user/bob", "iam:CreateUser",
		"arn:aws:iam::111122223333:user/x"), "r")
	golden(t, "error_access_denied", body)
	if status != http.StatusForbidden {
		t.Errorf("AccessDenied status %d", status)
	}
	status, body = ErrorResponse(ServiceSTS, context.DeadlineExceeded, "r")
	if status != 500 || !bytes.Contains(body, []byte("<Type>Receiver</Type><Code>InternalFailure</Code>")) ||
		bytes.Contains(body, []byte("deadline")) || !bytes.Contains(body, []byte(STSNamespace)) {
		t.Errorf("internal STS error: %d %s", status, body)
	}
	status, body = ErrorResponse(ServiceIAM, context.DeadlineExceeded, "r")
	if status != 500 || !bytes.Contains(body, []byte("<Code>ServiceFailure</Code>")) {
		t.Errorf("internal IAM error: %d %s", status, body)
	}
}
