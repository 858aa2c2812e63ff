package iam_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/iam/iamtest"
)

const (
	acct  = iamtest.Account
	other = iamtest.OtherAccount
	doc   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// newService returns a Service on a fresh memory store whose clock
// advances one second per reading.
func newService(q iam.Quotas) *iam.Service {
	now := t0
	return &iam.Service{Store: iamtest.NewMemStore(), Quotas: q, Now: func() time.Time {
		now = now.Add(time.Second)
		return now
	}}
}

func ok[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func nilErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr checks an error's class and that its message contains msg.
func wantErr(t *testing.T, err, class error, msg string) {
	t.Helper()
	if !errors.Is(err, class) {
		t.Fatalf("error %v, want class %v", err, class)
	}
	if !strings.Contains(iam.Message(err), msg) {
		t.Errorf("message %q does not contain %q", iam.Message(err), msg)
	}
}

func TestValidation(t *testing.T) {
	ctx := context.Background()
	long := func(n int) string { return strings.Repeat("a", n) }
	tags := func(n int) []iam.Tag {
		var out []iam.Tag
		for i := range n {
			out = append(out, iam.Tag{Key: fmt.Sprint("k", i), Value: "v"})
		}
		return out
	}
	bigDoc := `{"a":"` + strings.Repeat("x", 6200) + `"}`
	tests := []struct {
		name  string
		fn    func(s *iam.Service) error
		class error
		msg   string
	}{
		{"user name missing", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{})
			return err
		}, iam.ErrValidation, "Value null at 'userName' failed to satisfy constraint: Member must not be null"},
		{"user name too long", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: long(65)})
			return err
		}, iam.ErrValidation, "Member must have length less than or equal to 64"},
		{"user name 64 is fine", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: long(64)})
			return err
		}, nil, ""},
		{"user name with a space", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "a b"})
			return err
		}, iam.ErrValidation, `Value 'a b' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`},
		{"user name with all allowed punctuation", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "a+=,.@_-Z9"})
			return err
		}, nil, ""},
		{"path without slashes", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u", Path: "eng"})
			return err
		}, iam.ErrValidation, "at 'path'"},
		{"path without a trailing slash", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u", Path: "/eng"})
			return err
		}, iam.ErrValidation, "at 'path'"},
		{"path too long", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u", Path: "/" + long(511) + "/"})
			return err
		}, iam.ErrValidation, "length less than or equal to 512"},
		{"duplicate tag keys, differing in case", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u", Tags: []iam.Tag{{Key: "a"}, {Key: "A"}}})
			return err
		}, iam.ErrInvalidInput, "Duplicate tag keys found. Please note that Tag keys are case insensitive."},
		{"reserved tag key", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u", Tags: []iam.Tag{{Key: "AWS:x"}}})
			return err
		}, iam.ErrInvalidInput, "aws:"},
		{"tag key too long", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u", Tags: []iam.Tag{{Key: long(129)}}})
			return err
		}, iam.ErrValidation, "tags.1.member.key"},
		{"tag value with a bad character", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u", Tags: []iam.Tag{{Key: "k", Value: "a;b"}}})
			return err
		}, iam.ErrValidation, "tags.1.member.value"},
		{"51 tags", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u", Tags: tags(51)})
			return err
		}, iam.ErrLimitExceeded, "The number of tags has reached the maximum limit."},
		{"50 tags", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u", Tags: tags(50)})
			return err
		}, nil, ""},
		{"boundary that is not an ARN", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u", PermissionsBoundary: "nope"})
			return err
		}, iam.ErrInvalidInput, "ARN nope is not valid."},
		{"boundary that does not exist", func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u", PermissionsBoundary: "arn:aws:iam::111122223333:policy/none"})
			return err
		}, iam.ErrNoSuchEntity, "Policy arn:aws:iam::111122223333:policy/none does not exist or is not attachable."},
		{"group name too long", func(s *iam.Service) error {
			_, err := s.CreateGroup(ctx, acct, long(129), "")
			return err
		}, iam.ErrValidation, "at 'groupName'"},
		{"group name 128 is fine", func(s *iam.Service) error {
			_, err := s.CreateGroup(ctx, acct, long(128), "")
			return err
		}, nil, ""},
		{"role session duration too short", func(s *iam.Service) error {
			_, err := s.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: trust, MaxSessionDuration: 3599})
			return err
		}, iam.ErrValidation, "Value '3599' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"},
		{"role session duration too long", func(s *iam.Service) error {
			_, err := s.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: trust, MaxSessionDuration: 43201})
			return err
		}, iam.ErrValidation, "less than or equal to 43200"},
		{"role without a trust policy", func(s *iam.Service) error {
			_, err := s.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "r"})
			return err
		}, iam.ErrValidation, "Value null at 'assumeRolePolicyDocument'"},
		{"trust policy that is not JSON", func(s *iam.Service) error {
			_, err := s.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: "{"})
			return err
		}, iam.ErrMalformedPolicyDocument, "Syntax errors in policy."},
		{"trust policy over 2048", func(s *iam.Service) error {
			_, err := s.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: `{"a":"` + long(2050) + `"}`})
			return err
		}, iam.ErrLimitExceeded, "Cannot exceed quota for ACLSizePerRole: 2048"},
		{"role description with a control character", func(s *iam.Service) error {
			_, err := s.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: trust, Description: "a\x01"})
			return err
		}, iam.ErrValidation, "at 'description'"},
		{"policy document with a control character", func(s *iam.Service) error {
			_, err := s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "p", PolicyDocument: "{\"a\":\"\x01\"}"})
			return err
		}, iam.ErrValidation, "at 'policyDocument'"},
		{"policy document beyond U+00FF", func(s *iam.Service) error {
			_, err := s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "p", PolicyDocument: `{"a":"Ā"}`})
			return err
		}, iam.ErrValidation, "at 'policyDocument'"},
		{"policy document with Latin-1 is fine", func(s *iam.Service) error {
			_, err := s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "p", PolicyDocument: "{\t\"a\":\"éü\"}"})
			return err
		}, nil, ""},
		{"policy document too big", func(s *iam.Service) error {
			_, err := s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "p", PolicyDocument: bigDoc})
			return err
		}, iam.ErrLimitExceeded, "Cannot exceed quota for PolicySize: 6144"},
		{"white space does not count towards the size", func(s *iam.Service) error {
			d := `{"a":"` + long(6000) + `"` + strings.Repeat(" \n\t\r", 1000) + `}`
			_, err := s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "p", PolicyDocument: d})
			return err
		}, nil, ""},
		{"white space inside strings counts", func(s *iam.Service) error {
			d := `{"a":"` + long(3000) + strings.Repeat(" ", 3200) + `"}`
			_, err := s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "p", PolicyDocument: d})
			return err
		}, iam.ErrLimitExceeded, "PolicySize"},
		{"policy document that is a JSON array", func(s *iam.Service) error {
			_, err := s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "p", PolicyDocument: "[]"})
			return err
		}, iam.ErrMalformedPolicyDocument, "Syntax errors in policy."},
		{"policy description too long", func(s *iam.Service) error {
			_, err := s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "p", PolicyDocument: doc, Description: long(1001)})
			return err
		}, iam.ErrValidation, "at 'description'"},
		{"inline policy for a missing user", func(s *iam.Service) error {
			return s.PutInlinePolicy(ctx, acct, iam.KindUser, "ghost", "p", doc)
		}, iam.ErrNoSuchEntity, "The user with name ghost cannot be found."},
		{"inline policy name too long", func(s *iam.Service) error {
			return s.PutInlinePolicy(ctx, acct, iam.KindUser, "ghost", long(129), doc)
		}, iam.ErrValidation, "at 'policyName'"},
		{"attach a malformed ARN", func(s *iam.Service) error {
			return s.AttachPolicy(ctx, acct, iam.KindRole, "r", "arn:aws:iam::11112222333:policy/x")
		}, iam.ErrInvalidInput, "is not valid"},
		{"attach an AWS managed policy", func(s *iam.Service) error {
			ok[*iam.Role](t)(s.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: trust}))
			return s.AttachPolicy(ctx, acct, iam.KindRole, "r", "arn:aws:iam::aws:policy/ReadOnlyAccess")
		}, iam.ErrNoSuchEntity, "Policy arn:aws:iam::aws:policy/ReadOnlyAccess does not exist or is not attachable."},
		{"attach another account's policy", func(s *iam.Service) error {
			ok[*iam.Role](t)(s.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: trust}))
			p := ok[*iam.Policy](t)(s.CreatePolicy(ctx, other, iam.CreatePolicyInput{PolicyName: "p", PolicyDocument: doc}))
			return s.AttachPolicy(ctx, acct, iam.KindRole, "r", p.ARN(other))
		}, iam.ErrNoSuchEntity, "does not exist or is not attachable"},
		{"attach a policy under the wrong path", func(s *iam.Service) error {
			ok[*iam.Role](t)(s.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: trust}))
			ok[*iam.Policy](t)(s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "p", Path: "/a/", PolicyDocument: doc}))
			return s.AttachPolicy(ctx, acct, iam.KindRole, "r", "arn:aws:iam::111122223333:policy/b/p")
		}, iam.ErrNoSuchEntity, "does not exist"},
		{"malformed version id", func(s *iam.Service) error {
			_, err := s.GetPolicyVersion(ctx, acct, "arn:aws:iam::111122223333:policy/p", "1")
			return err
		}, iam.ErrValidation, "at 'versionId'"},
		{"bad access key status", func(s *iam.Service) error {
			return s.UpdateAccessKey(ctx, acct, "", "AKIAAAAAAAAAAAAAAAAA", "Enabled")
		}, iam.ErrValidation, "Member must satisfy enum value set: [Active, Inactive]"},
		{"short access key id", func(s *iam.Service) error {
			return s.DeleteAccessKey(ctx, acct, "", "AKIA")
		}, iam.ErrValidation, "at 'accessKeyId'"},
		{"missing access key", func(s *iam.Service) error {
			return s.DeleteAccessKey(ctx, acct, "", "AKIAAAAAAAAAAAAAAAAA")
		}, iam.ErrNoSuchEntity, "The Access Key with id AKIAAAAAAAAAAAAAAAAA cannot be found."},
		{"MaxItems over 1000", func(s *iam.Service) error {
			_, err := s.ListUsers(ctx, acct, iam.ListOptions{MaxItems: 1001})
			return err
		}, iam.ErrValidation, "at 'maxItems'"},
		{"bad marker", func(s *iam.Service) error {
			_, err := s.ListUsers(ctx, acct, iam.ListOptions{Marker: "!!!"})
			return err
		}, iam.ErrInvalidInput, "Marker"},
		{"bad path prefix", func(s *iam.Service) error {
			_, err := s.ListRoles(ctx, acct, iam.ListOptions{PathPrefix: "eng"})
			return err
		}, iam.ErrValidation, "at 'pathPrefix'"},
		{"bad policy scope", func(s *iam.Service) error {
			_, err := s.ListPolicies(ctx, acct, iam.ListPoliciesOptions{Scope: "Mine"})
			return err
		}, iam.ErrValidation, "at 'scope'"},
		{"untag without keys", func(s *iam.Service) error {
			return s.UntagUser(ctx, acct, "u", nil)
		}, iam.ErrValidation, "at 'tagKeys'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.fn(newService(iam.Quotas{}))
			if tc.class == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			wantErr(t, err, tc.class, tc.msg)
		})
	}
}

func TestLimits(t *testing.T) {
	ctx := context.Background()
	quarter := strings.Repeat("x", 600)
	tests := []struct {
		name   string
		quotas iam.Quotas
		setup  func(s *iam.Service)
		fn     func(s *iam.Service, i int) error // called until it fails
		want   int                               // calls that succeed
		msg    string
	}{
		{"users per account", iam.Quotas{Users: 3}, nil, func(s *iam.Service, i int) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: fmt.Sprint("u", i)})
			return err
		}, 3, "Cannot exceed quota for UsersPerAccount: 3"},
		{"groups per account", iam.Quotas{Groups: 2}, nil, func(s *iam.Service, i int) error {
			_, err := s.CreateGroup(ctx, acct, fmt.Sprint("g", i), "")
			return err
		}, 2, "Cannot exceed quota for GroupsPerAccount: 2"},
		{"roles per account", iam.Quotas{Roles: 2}, nil, func(s *iam.Service, i int) error {
			_, err := s.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: fmt.Sprint("r", i), AssumeRolePolicyDocument: trust})
			return err
		}, 2, "Cannot exceed quota for RolesPerAccount: 2"},
		{"policies per account", iam.Quotas{Policies: 2}, nil, func(s *iam.Service, i int) error {
			_, err := s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: fmt.Sprint("p", i), PolicyDocument: doc})
			return err
		}, 2, "Cannot exceed quota for PoliciesPerAccount: 2"},
		{"two access keys per user", iam.Quotas{}, func(s *iam.Service) {
			ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u"}))
		}, func(s *iam.Service, i int) error {
			_, err := s.CreateAccessKey(ctx, acct, "u")
			return err
		}, 2, "Cannot exceed quota for AccessKeysPerUser: 2"},
		{"two access keys for the root", iam.Quotas{}, nil, func(s *iam.Service, i int) error {
			_, err := s.CreateAccessKey(ctx, acct, "")
			return err
		}, 2, "Cannot exceed quota for AccessKeysPerUser: 2"},
		{"ten managed policies per user", iam.Quotas{}, func(s *iam.Service) {
			ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u"}))
			for i := range 11 {
				ok[*iam.Policy](t)(s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: fmt.Sprint("p", i), PolicyDocument: doc}))
			}
		}, func(s *iam.Service, i int) error {
			return s.AttachPolicy(ctx, acct, iam.KindUser, "u", fmt.Sprint("arn:aws:iam::111122223333:policy/p", i))
		}, 10, "Cannot exceed quota for PoliciesPerUser: 10"},
		{"ten managed policies per group", iam.Quotas{}, func(s *iam.Service) {
			ok[*iam.Group](t)(s.CreateGroup(ctx, acct, "g", ""))
			for i := range 11 {
				ok[*iam.Policy](t)(s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: fmt.Sprint("p", i), PolicyDocument: doc}))
			}
		}, func(s *iam.Service, i int) error {
			return s.AttachPolicy(ctx, acct, iam.KindGroup, "g", fmt.Sprint("arn:aws:iam::111122223333:policy/p", i))
		}, 10, "Cannot exceed quota for PoliciesPerGroup: 10"},
		{"five policy versions", iam.Quotas{}, func(s *iam.Service) {
			ok[*iam.Policy](t)(s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "p", PolicyDocument: doc}))
		}, func(s *iam.Service, i int) error {
			_, err := s.CreatePolicyVersion(ctx, acct, "arn:aws:iam::111122223333:policy/p", doc, false)
			return err
		}, 4, "A managed policy can have up to 5 versions."},
		{"ten groups per user", iam.Quotas{}, func(s *iam.Service) {
			ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u"}))
			for i := range 11 {
				ok[*iam.Group](t)(s.CreateGroup(ctx, acct, fmt.Sprint("g", i), ""))
			}
		}, func(s *iam.Service, i int) error {
			return s.AddUserToGroup(ctx, acct, fmt.Sprint("g", i), "u")
		}, 10, "Cannot exceed quota for GroupsPerUser: 10"},
		{"aggregate inline size of a user", iam.Quotas{}, func(s *iam.Service) {
			ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u"}))
		}, func(s *iam.Service, i int) error {
			return s.PutInlinePolicy(ctx, acct, iam.KindUser, "u", fmt.Sprint("p", i), `{"a":"`+quarter+`"}`)
		}, 3, "Maximum policy size of 2048 bytes exceeded for user u."},
		{"aggregate inline size of a group", iam.Quotas{}, func(s *iam.Service) {
			ok[*iam.Group](t)(s.CreateGroup(ctx, acct, "g", ""))
		}, func(s *iam.Service, i int) error {
			return s.PutInlinePolicy(ctx, acct, iam.KindGroup, "g", fmt.Sprint("p", i), `{"a":"`+quarter+`"}`)
		}, 8, "Maximum policy size of 5120 bytes exceeded for group g."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newService(tc.quotas)
			if tc.setup != nil {
				tc.setup(s)
			}
			for i := 0; ; i++ {
				err := tc.fn(s, i)
				if err == nil {
					if i >= tc.want {
						t.Fatalf("call %d succeeded, want only %d", i+1, tc.want)
					}
					continue
				}
				if i != tc.want {
					t.Fatalf("call %d failed (%v), want %d to succeed", i+1, err, tc.want)
				}
				wantErr(t, err, iam.ErrLimitExceeded, tc.msg)
				return
			}
		})
	}
}

// Replacing an inline policy counts the new document, not both.
func TestInlineReplaceWithinQuota(t *testing.T) {
	ctx := context.Background()
	s := newService(iam.Quotas{})
	ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u"}))
	big := `{"a":"` + strings.Repeat("x", 1500) + `"}`
	for range 3 {
		nilErr(t, s.PutInlinePolicy(ctx, acct, iam.KindUser, "u", "p", big))
	}
	nilErr(t, s.PutInlinePolicy(ctx, acct, iam.KindUser, "u", "P", doc)) // same name, other casing
	names := ok[iam.Page[string]](t)(s.ListInlinePolicies(ctx, acct, iam.KindUser, "u", iam.ListOptions{}))
	if d := cmp.Diff([]string{"P"}, names.Items); d != "" {
		t.Errorf("inline policies (-want +got):\n%s", d)
	}
	_, p, err := s.GetInlinePolicy(ctx, acct, iam.KindUser, "U", "p")
	if err != nil || p.Document != doc {
		t.Errorf("GetInlinePolicy = %+v, %v", p, err)
	}
}

func TestConflicts(t *testing.T) {
	ctx := context.Background()
	const polARN = "arn:aws:iam::111122223333:policy/p"
	setup := func(s *iam.Service) {
		ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u"}))
		ok[*iam.Group](t)(s.CreateGroup(ctx, acct, "g", ""))
		ok[*iam.Role](t)(s.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: trust}))
		ok[*iam.Policy](t)(s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "p", PolicyDocument: doc}))
	}
	tests := []struct {
		name    string
		arrange func(s *iam.Service)
		act     func(s *iam.Service) error
		class   error
		msg     string
	}{
		{"user exists, any casing", nil, func(s *iam.Service) error {
			_, err := s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "U"})
			return err
		}, iam.ErrEntityAlreadyExists, "User with name U already exists."},
		{"group exists", nil, func(s *iam.Service) error {
			_, err := s.CreateGroup(ctx, acct, "G", "/x/")
			return err
		}, iam.ErrEntityAlreadyExists, "Group with name G already exists."},
		{"role exists", nil, func(s *iam.Service) error {
			_, err := s.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "R", AssumeRolePolicyDocument: trust})
			return err
		}, iam.ErrEntityAlreadyExists, "Role with name R already exists."},
		{"policy name exists under another path", nil, func(s *iam.Service) error {
			_, err := s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "P", Path: "/other/", PolicyDocument: doc})
			return err
		}, iam.ErrEntityAlreadyExists, "A policy called P already exists. Duplicate names are not allowed."},
		{"rename onto another user", func(s *iam.Service) {
			ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "v"}))
		}, func(s *iam.Service) error {
			return s.UpdateUser(ctx, acct, "u", "V", "")
		}, iam.ErrEntityAlreadyExists, "User with name V already exists."},
		{"delete user with an access key", func(s *iam.Service) {
			ok[*iam.AccessKey](t)(s.CreateAccessKey(ctx, acct, "u"))
		}, func(s *iam.Service) error { return s.DeleteUser(ctx, acct, "u") },
			iam.ErrDeleteConflict, "Cannot delete entity, must delete access keys first."},
		{"delete user with an inline policy", func(s *iam.Service) {
			nilErr(t, s.PutInlinePolicy(ctx, acct, iam.KindUser, "u", "i", doc))
		}, func(s *iam.Service) error { return s.DeleteUser(ctx, acct, "u") },
			iam.ErrDeleteConflict, "Cannot delete entity, must delete policies first."},
		{"delete user with an attached policy", func(s *iam.Service) {
			nilErr(t, s.AttachPolicy(ctx, acct, iam.KindUser, "u", polARN))
		}, func(s *iam.Service) error { return s.DeleteUser(ctx, acct, "u") },
			iam.ErrDeleteConflict, "Cannot delete entity, must detach all policies first."},
		{"delete user in a group", func(s *iam.Service) {
			nilErr(t, s.AddUserToGroup(ctx, acct, "g", "u"))
		}, func(s *iam.Service) error { return s.DeleteUser(ctx, acct, "u") },
			iam.ErrDeleteConflict, "must remove user from all groups first"},
		{"delete group with a member", func(s *iam.Service) {
			nilErr(t, s.AddUserToGroup(ctx, acct, "g", "u"))
		}, func(s *iam.Service) error { return s.DeleteGroup(ctx, acct, "g") },
			iam.ErrDeleteConflict, "Cannot delete entity, must remove users from group first."},
		{"delete group with an inline policy", func(s *iam.Service) {
			nilErr(t, s.PutInlinePolicy(ctx, acct, iam.KindGroup, "g", "i", doc))
		}, func(s *iam.Service) error { return s.DeleteGroup(ctx, acct, "g") },
			iam.ErrDeleteConflict, "must delete policies first"},
		{"delete group with an attached policy", func(s *iam.Service) {
			nilErr(t, s.AttachPolicy(ctx, acct, iam.KindGroup, "g", polARN))
		}, func(s *iam.Service) error { return s.DeleteGroup(ctx, acct, "g") },
			iam.ErrDeleteConflict, "must detach all policies first"},
		{"delete role with an inline policy", func(s *iam.Service) {
			nilErr(t, s.PutInlinePolicy(ctx, acct, iam.KindRole, "r", "i", doc))
		}, func(s *iam.Service) error { return s.DeleteRole(ctx, acct, "r") },
			iam.ErrDeleteConflict, "must delete policies first"},
		{"delete role with an attached policy", func(s *iam.Service) {
			nilErr(t, s.AttachPolicy(ctx, acct, iam.KindRole, "r", polARN))
		}, func(s *iam.Service) error { return s.DeleteRole(ctx, acct, "r") },
			iam.ErrDeleteConflict, "must detach all policies first"},
		{"delete attached policy", func(s *iam.Service) {
			nilErr(t, s.AttachPolicy(ctx, acct, iam.KindRole, "r", polARN))
		}, func(s *iam.Service) error { return s.DeletePolicy(ctx, acct, polARN) },
			iam.ErrDeleteConflict, "Cannot delete a policy attached to entities."},
		{"delete policy used as a boundary", func(s *iam.Service) {
			nilErr(t, s.PutPermissionsBoundary(ctx, acct, iam.KindRole, "r", polARN))
		}, func(s *iam.Service) error { return s.DeletePolicy(ctx, acct, polARN) },
			iam.ErrDeleteConflict, "Cannot delete a policy attached to entities."},
		{"delete policy with several versions", func(s *iam.Service) {
			ok[*iam.PolicyVersion](t)(s.CreatePolicyVersion(ctx, acct, polARN, doc, false))
		}, func(s *iam.Service) error { return s.DeletePolicy(ctx, acct, polARN) },
			iam.ErrDeleteConflict, "This policy has more than one version."},
		{"delete the default version", nil, func(s *iam.Service) error {
			return s.DeletePolicyVersion(ctx, acct, polARN, "v1")
		}, iam.ErrDeleteConflict, "Cannot delete the default version of a policy."},
		{"delete a missing version", nil, func(s *iam.Service) error {
			return s.DeletePolicyVersion(ctx, acct, polARN, "v9")
		}, iam.ErrNoSuchEntity, "version v9"},
		{"detach a policy not attached", nil, func(s *iam.Service) error {
			return s.DetachPolicy(ctx, acct, iam.KindUser, "u", polARN)
		}, iam.ErrNoSuchEntity, "Policy arn:aws:iam::111122223333:policy/p was not found."},
		{"remove a non-member", nil, func(s *iam.Service) error {
			return s.RemoveUserFromGroup(ctx, acct, "g", "u")
		}, iam.ErrNoSuchEntity, ""},
		{"another user's key", func(s *iam.Service) {
			ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "v"}))
		}, func(s *iam.Service) error {
			k := ok[*iam.AccessKey](t)(s.CreateAccessKey(ctx, acct, "v"))
			return s.UpdateAccessKey(ctx, acct, "u", k.AccessKeyID, iam.StatusInactive)
		}, iam.ErrNoSuchEntity, "cannot be found"},
		{"a user's key addressed as the root's", nil, func(s *iam.Service) error {
			k := ok[*iam.AccessKey](t)(s.CreateAccessKey(ctx, acct, "u"))
			return s.DeleteAccessKey(ctx, acct, "", k.AccessKeyID)
		}, iam.ErrNoSuchEntity, "cannot be found"},
		{"another account's key", nil, func(s *iam.Service) error {
			k := ok[*iam.AccessKey](t)(s.CreateAccessKey(ctx, acct, "u"))
			_, err := s.GetAccessKeyLastUsed(ctx, other, k.AccessKeyID)
			return err
		}, iam.ErrNoSuchEntity, "cannot be found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newService(iam.Quotas{})
			setup(s)
			if tc.arrange != nil {
				tc.arrange(s)
			}
			wantErr(t, tc.act(s), tc.class, tc.msg)
		})
	}
}

var (
	userIDRE   = regexp.MustCompile(`^AIDA[A-Z2-7]{17}$`)
	groupIDRE  = regexp.MustCompile(`^AGPA[A-Z2-7]{17}$`)
	roleIDRE   = regexp.MustCompile(`^AROA[A-Z2-7]{17}$`)
	policyIDRE = regexp.MustCompile(`^ANPA[A-Z2-7]{17}$`)
	keyIDRE    = regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`)
	secretRE   = regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)
)

func TestIDsAndARNs(t *testing.T) {
	ctx := context.Background()
	s := newService(iam.Quotas{})
	u := ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "Alice", Path: "/division_abc/subdivision_xyz/"}))
	g := ok[*iam.Group](t)(s.CreateGroup(ctx, acct, "Admins", ""))
	r := ok[*iam.Role](t)(s.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "Reader", Path: "/app/", AssumeRolePolicyDocument: trust}))
	p := ok[*iam.Policy](t)(s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "Read", Path: "/team/", PolicyDocument: doc}))
	k := ok[*iam.AccessKey](t)(s.CreateAccessKey(ctx, acct, "alice"))
	for _, c := range []struct {
		what, got string
		re        *regexp.Regexp
	}{
		{"user id", u.UserID, userIDRE}, {"group id", g.GroupID, groupIDRE}, {"role id", r.RoleID, roleIDRE},
		{"policy id", p.PolicyID, policyIDRE}, {"key id", k.AccessKeyID, keyIDRE}, {"secret", k.SecretAccessKey, secretRE},
	} {
		if !c.re.MatchString(c.got) {
			t.Errorf("%s %q does not match %s", c.what, c.got, c.re)
		}
	}
	for got, want := range map[string]string{
		u.ARN(acct): "arn:aws:iam::111122223333:user/division_abc/subdivision_xyz/Alice",
		g.ARN(acct): "arn:aws:iam::111122223333:group/Admins",
		r.ARN(acct): "arn:aws:iam::111122223333:role/app/Reader",
		p.ARN(acct): "arn:aws:iam::111122223333:policy/team/Read",
	} {
		if got != want {
			t.Errorf("ARN %s, want %s", got, want)
		}
	}
	if k.UserName != "Alice" || k.Status != iam.StatusActive {
		t.Errorf("key %+v: want owner Alice as stored, Active", k)
	}
	if !u.CreateDate.Equal(u.CreateDate.Truncate(time.Second)) || u.CreateDate.Location() != time.UTC {
		t.Errorf("CreateDate %v is not whole UTC seconds", u.CreateDate)
	}
	pa, err := iam.ParsePolicyARN(p.ARN(acct))
	if err != nil || pa != (iam.PolicyARN{Account: acct, Path: "/team/", Name: "Read"}) || pa.String() != p.ARN(acct) {
		t.Errorf("ParsePolicyARN = %+v, %v", pa, err)
	}
	for _, bad := range []string{"", "arn:aws:iam::111122223333:user/x", "arn:aws:s3:::b", "arn:aws:iam::1111222233334:policy/x",
		"arn:aws:iam::111122223333:policy/", "arn:aws:iam::111122223333:policy/a b", "arn:aws:iam::111122223333:policy/p/"} {
		if _, err := iam.ParsePolicyARN(bad); !errors.Is(err, iam.ErrInvalidInput) {
			t.Errorf("ParsePolicyARN(%q) = %v, want InvalidInput", bad, err)
		}
	}
}

func TestPolicyVersions(t *testing.T) {
	ctx := context.Background()
	s := newService(iam.Quotas{})
	p := ok[*iam.Policy](t)(s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "p", PolicyDocument: `{"v":1}`}))
	arn := p.ARN(acct)
	if p.DefaultVersionID != "v1" || p.AttachmentCount != 0 || !p.CreateDate.Equal(p.UpdateDate) {
		t.Errorf("new policy %+v", p)
	}
	v2 := ok[*iam.PolicyVersion](t)(s.CreatePolicyVersion(ctx, acct, arn, `{"v":2}`, true))
	v3 := ok[*iam.PolicyVersion](t)(s.CreatePolicyVersion(ctx, acct, arn, `{"v":3}`, false))
	if v2.VersionID != "v2" || !v2.IsDefaultVersion || v3.VersionID != "v3" || v3.IsDefaultVersion {
		t.Errorf("versions %+v %+v", v2, v3)
	}
	got := ok[*iam.Policy](t)(s.GetPolicy(ctx, acct, arn))
	if got.DefaultVersionID != "v2" || !got.UpdateDate.Equal(v3.CreateDate) {
		t.Errorf("policy after two versions: default %s, updated %v (v3 at %v)", got.DefaultVersionID, got.UpdateDate, v3.CreateDate)
	}

	// Deleted version ids are never reused.
	nilErr(t, s.DeletePolicyVersion(ctx, acct, arn, "v3"))
	v4 := ok[*iam.PolicyVersion](t)(s.CreatePolicyVersion(ctx, acct, arn, `{"v":4}`, false))
	if v4.VersionID != "v4" {
		t.Errorf("version after deleting v3 is %s, want v4", v4.VersionID)
	}
	list := ok[iam.Page[iam.PolicyVersion]](t)(s.ListPolicyVersions(ctx, acct, arn, iam.ListOptions{}))
	var ids []string
	for _, v := range list.Items {
		ids = append(ids, fmt.Sprint(v.VersionID, v.IsDefaultVersion))
	}
	if d := cmp.Diff([]string{"v4false", "v2true", "v1false"}, ids); d != "" {
		t.Errorf("versions, newest first (-want +got):\n%s", d)
	}
	first := ok[iam.Page[iam.PolicyVersion]](t)(s.ListPolicyVersions(ctx, acct, arn, iam.ListOptions{MaxItems: 2}))
	rest := ok[iam.Page[iam.PolicyVersion]](t)(s.ListPolicyVersions(ctx, acct, arn, iam.ListOptions{Marker: first.Marker}))
	if !first.IsTruncated || len(first.Items) != 2 || rest.IsTruncated || len(rest.Items) != 1 || rest.Items[0].VersionID != "v1" {
		t.Errorf("paged versions: %+v then %+v", first, rest)
	}

	// The default version is what applies where the policy is attached.
	ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u"}))
	nilErr(t, s.AttachPolicy(ctx, acct, iam.KindUser, "u", arn))
	nilErr(t, s.SetDefaultPolicyVersion(ctx, acct, arn, "v4"))
	identity, _, err := s.PrincipalPolicies(ctx, acct, "u")
	nilErr(t, err)
	if len(identity) != 1 || string(identity[0]) != `{"v":4}` {
		t.Errorf("identity after SetDefault v4: %q", identity)
	}
	v := ok[*iam.PolicyVersion](t)(s.GetPolicyVersion(ctx, acct, arn, "v4"))
	if !v.IsDefaultVersion || v.Document != `{"v":4}` {
		t.Errorf("GetPolicyVersion v4 = %+v", v)
	}
	wantErr(t, s.SetDefaultPolicyVersion(ctx, acct, arn, "v3"), iam.ErrNoSuchEntity, "version v3")
}

func TestAttachmentCounts(t *testing.T) {
	ctx := context.Background()
	s := newService(iam.Quotas{})
	p := ok[*iam.Policy](t)(s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "p", PolicyDocument: doc}))
	arn := p.ARN(acct)
	ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u"}))
	ok[*iam.Group](t)(s.CreateGroup(ctx, acct, "g", ""))
	ok[*iam.Role](t)(s.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: trust, PermissionsBoundary: arn}))
	nilErr(t, s.AttachPolicy(ctx, acct, iam.KindUser, "u", arn))
	nilErr(t, s.AttachPolicy(ctx, acct, iam.KindUser, "u", arn)) // again: no change
	nilErr(t, s.AttachPolicy(ctx, acct, iam.KindGroup, "g", arn))
	nilErr(t, s.PutPermissionsBoundary(ctx, acct, iam.KindUser, "u", arn))
	counts := func() (int, int) {
		p := ok[*iam.Policy](t)(s.GetPolicy(ctx, acct, arn))
		return p.AttachmentCount, p.PermissionsBoundaryUsageCount
	}
	if a, b := counts(); a != 2 || b != 2 {
		t.Errorf("counts %d, %d; want 2 attachments, 2 boundary uses", a, b)
	}
	attached := iam.ListPoliciesOptions{OnlyAttached: true}
	if l := ok[iam.Page[*iam.Policy]](t)(s.ListPolicies(ctx, acct, attached)); len(l.Items) != 1 {
		t.Errorf("OnlyAttached lists %d policies", len(l.Items))
	}
	nilErr(t, s.DetachPolicy(ctx, acct, iam.KindUser, "u", arn))
	nilErr(t, s.DetachPolicy(ctx, acct, iam.KindGroup, "g", arn))
	nilErr(t, s.DeletePermissionsBoundary(ctx, acct, iam.KindUser, "u"))
	nilErr(t, s.DeletePermissionsBoundary(ctx, acct, iam.KindUser, "u")) // none left: no change
	if a, b := counts(); a != 0 || b != 1 {
		t.Errorf("counts %d, %d; want 0 attachments, 1 boundary use", a, b)
	}
	nilErr(t, s.DeleteRole(ctx, acct, "r")) // releases its boundary
	if a, b := counts(); a != 0 || b != 0 {
		t.Errorf("counts %d, %d after deleting the role; want 0, 0", a, b)
	}
	nilErr(t, s.DeletePolicy(ctx, acct, arn))
	_, err := s.GetPolicy(ctx, acct, arn)
	wantErr(t, err, iam.ErrNoSuchEntity, "")
}

func TestBoundaryReplace(t *testing.T) {
	ctx := context.Background()
	s := newService(iam.Quotas{})
	a := ok[*iam.Policy](t)(s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "a", PolicyDocument: `{"a":1}`}))
	b := ok[*iam.Policy](t)(s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "b", PolicyDocument: `{"b":1}`}))
	u := ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u", PermissionsBoundary: a.ARN(acct)}))
	if u.PermissionsBoundary != a.ARN(acct) {
		t.Errorf("boundary %q", u.PermissionsBoundary)
	}
	nilErr(t, s.PutPermissionsBoundary(ctx, acct, iam.KindUser, "u", b.ARN(acct)))
	if p := ok[*iam.Policy](t)(s.GetPolicy(ctx, acct, a.ARN(acct))); p.PermissionsBoundaryUsageCount != 0 {
		t.Errorf("old boundary still counted %d", p.PermissionsBoundaryUsageCount)
	}
	if p := ok[*iam.Policy](t)(s.GetPolicy(ctx, acct, b.ARN(acct))); p.PermissionsBoundaryUsageCount != 1 {
		t.Errorf("new boundary counted %d", p.PermissionsBoundaryUsageCount)
	}
	_, boundary, err := s.PrincipalPolicies(ctx, acct, "u")
	if err != nil || string(boundary) != `{"b":1}` {
		t.Errorf("boundary %s, %v", boundary, err)
	}
}

func TestPagination(t *testing.T) {
	ctx := context.Background()
	s := newService(iam.Quotas{})
	for _, n := range []string{"erin", "Alice", "dave", "carol", "Bob"} {
		path := "/"
		if n == "dave" || n == "Bob" {
			path = "/ops/"
		}
		ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: n, Path: path}))
	}
	var got []string
	opts := iam.ListOptions{MaxItems: 2}
	for pages := 0; ; pages++ {
		p := ok[iam.Page[*iam.User]](t)(s.ListUsers(ctx, acct, opts))
		for _, u := range p.Items {
			got = append(got, u.UserName)
		}
		if !p.IsTruncated {
			if p.Marker != "" {
				t.Errorf("last page has marker %q", p.Marker)
			}
			break
		}
		if pages > 5 || p.Marker == "" {
			t.Fatalf("pagination does not end: %+v", p)
		}
		opts.Marker = p.Marker
	}
	if d := cmp.Diff([]string{"Alice", "Bob", "carol", "dave", "erin"}, got); d != "" {
		t.Errorf("paged users (-want +got):\n%s", d)
	}
	ops := ok[iam.Page[*iam.User]](t)(s.ListUsers(ctx, acct, iam.ListOptions{PathPrefix: "/ops"}))
	if len(ops.Items) != 2 || ops.Items[0].UserName != "Bob" {
		t.Errorf("path prefix /ops: %v", ops.Items)
	}
	// A deleted user's marker still continues the listing.
	first := ok[iam.Page[*iam.User]](t)(s.ListUsers(ctx, acct, iam.ListOptions{MaxItems: 1}))
	nilErr(t, s.DeleteUser(ctx, acct, "alice"))
	next := ok[iam.Page[*iam.User]](t)(s.ListUsers(ctx, acct, iam.ListOptions{Marker: first.Marker, MaxItems: 1}))
	if len(next.Items) != 1 || next.Items[0].UserName != "Bob" {
		t.Errorf("after deleting the marker's user: %v", next.Items)
	}
}

func TestTags(t *testing.T) {
	ctx := context.Background()
	s := newService(iam.Quotas{Tags: 3})
	ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u", Tags: []iam.Tag{{Key: "team", Value: "a"}}}))
	nilErr(t, s.TagUser(ctx, acct, "u", []iam.Tag{{Key: "Team", Value: "b"}, {Key: "env", Value: "prod"}}))
	tags := ok[iam.Page[iam.Tag]](t)(s.ListUserTags(ctx, acct, "u", iam.ListOptions{}))
	if d := cmp.Diff([]iam.Tag{{Key: "env", Value: "prod"}, {Key: "Team", Value: "b"}}, tags.Items); d != "" {
		t.Errorf("tags (-want +got):\n%s", d)
	}
	wantErr(t, s.TagUser(ctx, acct, "u", []iam.Tag{{Key: "x"}, {Key: "y"}}), iam.ErrLimitExceeded, "maximum limit")
	nilErr(t, s.UntagUser(ctx, acct, "u", []string{"TEAM", "missing"}))
	tags = ok[iam.Page[iam.Tag]](t)(s.ListUserTags(ctx, acct, "u", iam.ListOptions{}))
	if d := cmp.Diff([]iam.Tag{{Key: "env", Value: "prod"}}, tags.Items); d != "" {
		t.Errorf("tags after untag (-want +got):\n%s", d)
	}
}

func TestValidator(t *testing.T) {
	ctx := context.Background()
	var kinds []string
	s := newService(iam.Quotas{})
	s.Validate = func(d []byte, kind iam.PolicyKind) error {
		kinds = append(kinds, kind.String())
		switch {
		case strings.Contains(string(d), "reject"):
			return errors.New("Policy document should not specify a principal.")
		case strings.Contains(string(d), "invalid"):
			return iam.Errorf(iam.ErrInvalidInput, "custom")
		}
		return nil
	}
	p := ok[*iam.Policy](t)(s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "p", PolicyDocument: doc}))
	ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u"}))
	nilErr(t, s.PutInlinePolicy(ctx, acct, iam.KindUser, "u", "i", doc))
	ok[*iam.Role](t)(s.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: trust}))
	nilErr(t, s.UpdateAssumeRolePolicy(ctx, acct, "r", trust))
	nilErr(t, s.PutPermissionsBoundary(ctx, acct, iam.KindRole, "r", p.ARN(acct)))
	ok[*iam.PolicyVersion](t)(s.CreatePolicyVersion(ctx, acct, p.ARN(acct), doc, false))
	if d := cmp.Diff([]string{"managed", "identity", "trust", "trust", "boundary", "managed"}, kinds); d != "" {
		t.Errorf("kinds validated (-want +got):\n%s", d)
	}
	err := s.PutInlinePolicy(ctx, acct, iam.KindUser, "u", "i", `{"reject":1}`)
	wantErr(t, err, iam.ErrMalformedPolicyDocument, "Policy document should not specify a principal.")
	// A validator's "Code: message" text does not repeat the code.
	s.Validate = func([]byte, iam.PolicyKind) error {
		return errors.New("MalformedPolicyDocument: Policy document should not specify a principal.")
	}
	err = s.PutInlinePolicy(ctx, acct, iam.KindUser, "u", "i", doc)
	if iam.Message(err) != "Policy document should not specify a principal." {
		t.Errorf("message %q", iam.Message(err))
	}
	s.Validate = func(d []byte, kind iam.PolicyKind) error { return iam.Errorf(iam.ErrInvalidInput, "custom") }
	err = s.PutInlinePolicy(ctx, acct, iam.KindUser, "u", "i", `{"invalid":1}`)
	wantErr(t, err, iam.ErrInvalidInput, "custom")
	wantErr(t, s.UpdateAssumeRolePolicy(ctx, acct, "r", ""), iam.ErrValidation, "at 'policyDocument'")
}

func TestRenameUser(t *testing.T) {
	ctx := context.Background()
	s := newService(iam.Quotas{})
	u := ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "alice", Tags: []iam.Tag{{Key: "k", Value: "v"}}}))
	k := ok[*iam.AccessKey](t)(s.CreateAccessKey(ctx, acct, "alice"))
	// A change of case only is a rename too.
	nilErr(t, s.UpdateUser(ctx, acct, "alice", "Alice", ""))
	nilErr(t, s.UpdateUser(ctx, acct, "ALICE", "", "/new/"))
	got := ok[*iam.User](t)(s.GetUser(ctx, acct, "alice"))
	if got.UserName != "Alice" || got.Path != "/new/" || got.UserID != u.UserID || len(got.Tags) != 1 {
		t.Errorf("after updates: %+v", got)
	}
	lu := ok[*iam.AccessKey](t)(s.GetAccessKeyLastUsed(ctx, acct, k.AccessKeyID))
	if lu.UserName != "Alice" || lu.SecretAccessKey != "" {
		t.Errorf("key after rename: %+v", lu)
	}
	if users := ok[iam.Page[*iam.User]](t)(s.ListUsers(ctx, acct, iam.ListOptions{})); len(users.Items) != 1 {
		t.Errorf("%d users after renames", len(users.Items))
	}
	_, err := s.GetUser(ctx, acct, "bob")
	wantErr(t, err, iam.ErrNoSuchEntity, "The user with name bob cannot be found.")
}

func TestAccessKeyLifecycle(t *testing.T) {
	ctx := context.Background()
	s := newService(iam.Quotas{})
	ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u"}))
	k1 := ok[*iam.AccessKey](t)(s.CreateAccessKey(ctx, acct, "u"))
	k2 := ok[*iam.AccessKey](t)(s.CreateAccessKey(ctx, acct, "U"))
	nilErr(t, s.UpdateAccessKey(ctx, acct, "u", k1.AccessKeyID, iam.StatusInactive))
	list := ok[iam.Page[*iam.AccessKey]](t)(s.ListAccessKeys(ctx, acct, "u", iam.ListOptions{}))
	var got []string
	for _, k := range list.Items {
		if k.SecretAccessKey != "" {
			t.Errorf("ListAccessKeys returned the secret of %s", k.AccessKeyID)
		}
		got = append(got, k.AccessKeyID+" "+k.Status)
	}
	if d := cmp.Diff([]string{k1.AccessKeyID + " Inactive", k2.AccessKeyID + " Active"}, got); d != "" {
		t.Errorf("keys, oldest first (-want +got):\n%s", d)
	}

	// Last use: recorded, not rewritten within the resolution unless the
	// service changes, and never moved backwards.
	at := t0.Add(time.Hour)
	nilErr(t, s.RecordAccessKeyUse(ctx, acct, k2.AccessKeyID, "s3", "us-east-1", at))
	nilErr(t, s.RecordAccessKeyUse(ctx, acct, k2.AccessKeyID, "s3", "us-east-1", at.Add(10*time.Second)))
	lu := ok[*iam.AccessKey](t)(s.GetAccessKeyLastUsed(ctx, acct, k2.AccessKeyID))
	if want := (&iam.AccessKeyLastUsed{Date: at, ServiceName: "s3", Region: "us-east-1"}); !cmp.Equal(want, lu.LastUsed) {
		t.Errorf("last used %+v, want %+v", lu.LastUsed, want)
	}
	nilErr(t, s.RecordAccessKeyUse(ctx, acct, k2.AccessKeyID, "iam", "us-east-1", at.Add(20*time.Second)))
	nilErr(t, s.RecordAccessKeyUse(ctx, acct, k2.AccessKeyID, "s3", "us-east-1", at.Add(-time.Hour)))
	lu = ok[*iam.AccessKey](t)(s.GetAccessKeyLastUsed(ctx, acct, k2.AccessKeyID))
	if lu.LastUsed.ServiceName != "iam" || !lu.LastUsed.Date.Equal(at.Add(20*time.Second)) {
		t.Errorf("last used %+v", lu.LastUsed)
	}
	nilErr(t, s.RecordAccessKeyUse(ctx, acct, "AKIADELETEDDELETED00", "s3", "us-east-1", at))

	nilErr(t, s.DeleteAccessKey(ctx, acct, "u", k1.AccessKeyID))
	_, err := s.GetAccessKeyLastUsed(ctx, acct, k1.AccessKeyID)
	wantErr(t, err, iam.ErrNoSuchEntity, "")
	_, err = s.ListAccessKeys(ctx, acct, "ghost", iam.ListOptions{})
	wantErr(t, err, iam.ErrNoSuchEntity, "The user with name ghost cannot be found.")
}

func TestGroupsAndMembership(t *testing.T) {
	ctx := context.Background()
	s := newService(iam.Quotas{})
	for _, n := range []string{"u1", "u2", "u3"} {
		ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: n}))
	}
	ok[*iam.Group](t)(s.CreateGroup(ctx, acct, "devs", "/eng/"))
	ok[*iam.Group](t)(s.CreateGroup(ctx, acct, "admins", ""))
	nilErr(t, s.AddUserToGroup(ctx, acct, "devs", "u1"))
	nilErr(t, s.AddUserToGroup(ctx, acct, "DEVS", "u1")) // again: no change
	nilErr(t, s.AddUserToGroup(ctx, acct, "devs", "u3"))
	nilErr(t, s.AddUserToGroup(ctx, acct, "admins", "u1"))
	g, members, err := s.GetGroup(ctx, acct, "devs", iam.ListOptions{})
	nilErr(t, err)
	var names []string
	for _, u := range members.Items {
		names = append(names, u.UserName)
	}
	if g.Path != "/eng/" || !cmp.Equal([]string{"u1", "u3"}, names) {
		t.Errorf("group %+v members %v", g, names)
	}
	groups := ok[iam.Page[*iam.Group]](t)(s.ListGroupsForUser(ctx, acct, "u1", iam.ListOptions{}))
	if len(groups.Items) != 2 || groups.Items[0].GroupName != "admins" {
		t.Errorf("groups of u1: %+v", groups.Items)
	}
	eng := ok[iam.Page[*iam.Group]](t)(s.ListGroups(ctx, acct, iam.ListOptions{PathPrefix: "/eng/"}))
	if len(eng.Items) != 1 || eng.Items[0].GroupName != "devs" {
		t.Errorf("groups under /eng/: %+v", eng.Items)
	}
	nilErr(t, s.RemoveUserFromGroup(ctx, acct, "devs", "U1"))
	nilErr(t, s.RemoveUserFromGroup(ctx, acct, "devs", "u3"))
	nilErr(t, s.DeleteGroup(ctx, acct, "devs"))
	_, _, err = s.GetGroup(ctx, acct, "devs", iam.ListOptions{})
	wantErr(t, err, iam.ErrNoSuchEntity, "The group with name devs cannot be found.")
}

func TestAccountsAreSeparate(t *testing.T) {
	ctx := context.Background()
	s := newService(iam.Quotas{})
	ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u"}))
	ok[*iam.User](t)(s.CreateUser(ctx, other, iam.CreateUserInput{UserName: "u"}))
	nilErr(t, s.DeleteUser(ctx, other, "u"))
	ok[*iam.User](t)(s.GetUser(ctx, acct, "u"))
	if _, err := s.GetUser(ctx, "not-an-account", "u"); err == nil || errors.Is(err, iam.ErrNoSuchEntity) {
		t.Errorf("malformed account id: %v, want an internal error", err)
	}
}

func TestListPolicies(t *testing.T) {
	ctx := context.Background()
	s := newService(iam.Quotas{})
	for _, n := range []string{"attached", "boundary", "idle"} {
		ok[*iam.Policy](t)(s.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: n, Path: "/" + n + "/", PolicyDocument: doc}))
	}
	ok[*iam.User](t)(s.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "u", PermissionsBoundary: "arn:aws:iam::111122223333:policy/boundary/boundary"}))
	nilErr(t, s.AttachPolicy(ctx, acct, iam.KindUser, "u", "arn:aws:iam::111122223333:policy/attached/attached"))
	names := func(o iam.ListPoliciesOptions) []string {
		t.Helper()
		var out []string
		for _, p := range ok[iam.Page[*iam.Policy]](t)(s.ListPolicies(ctx, acct, o)).Items {
			out = append(out, p.PolicyName)
		}
		return out
	}
	for _, c := range []struct {
		opts iam.ListPoliciesOptions
		want []string
	}{
		{iam.ListPoliciesOptions{}, []string{"attached", "boundary", "idle"}},
		{iam.ListPoliciesOptions{Scope: iam.ScopeLocal}, []string{"attached", "boundary", "idle"}},
		{iam.ListPoliciesOptions{Scope: iam.ScopeAWS}, nil},
		{iam.ListPoliciesOptions{OnlyAttached: true}, []string{"attached", "boundary"}},
		{iam.ListPoliciesOptions{PolicyUsageFilter: iam.UsagePermissionsPolicy}, []string{"attached"}},
		{iam.ListPoliciesOptions{PolicyUsageFilter: iam.UsagePermissionsBoundary}, []string{"boundary"}},
		{iam.ListPoliciesOptions{ListOptions: iam.ListOptions{PathPrefix: "/id"}}, []string{"idle"}},
	} {
		if d := cmp.Diff(c.want, names(c.opts)); d != "" {
			t.Errorf("%+v (-want +got):\n%s", c.opts, d)
		}
	}
	_, err := s.ListPolicies(ctx, acct, iam.ListPoliciesOptions{PolicyUsageFilter: "Both"})
	wantErr(t, err, iam.ErrValidation, "at 'policyUsageFilter'")
	_, _, err = s.GetInlinePolicy(ctx, acct, iam.KindUser, "u", "nope")
	wantErr(t, err, iam.ErrNoSuchEntity, "The user policy with name nope cannot be found.")
	wantErr(t, s.DeleteInlinePolicy(ctx, acct, iam.KindUser, "u", "nope"), iam.ErrNoSuchEntity, "user policy")
}
