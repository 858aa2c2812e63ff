package iamapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/s3api"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

// The adapters fit the pipeline's interface.
var _ s3api.QueryService = (*QueryAPI)(nil)

// The operations this front door must answer.
var wantIAM = strings.Fields(`CreateUser GetUser ListUsers UpdateUser DeleteUser TagUser UntagUser ListUserTags
CreateAccessKey ListAccessKeys UpdateAccessKey DeleteAccessKey GetAccessKeyLastUsed CreateGroup GetGroup ListGroups
DeleteGroup AddUserToGroup RemoveUserFromGroup ListGroupsForUser PutUserPolicy GetUserPolicy ListUserPolicies
DeleteUserPolicy PutGroupPolicy GetGroupPolicy ListGroupPolicies DeleteGroupPolicy CreateRole GetRole ListRoles
DeleteRole UpdateAssumeRolePolicy PutRolePolicy GetRolePolicy ListRolePolicies DeleteRolePolicy CreatePolicy GetPolicy
ListPolicies DeletePolicy CreatePolicyVersion GetPolicyVersion ListPolicyVersions SetDefaultPolicyVersion
DeletePolicyVersion AttachUserPolicy DetachUserPolicy ListAttachedUserPolicies AttachGroupPolicy DetachGroupPolicy
ListAttachedGroupPolicies AttachRolePolicy DetachRolePolicy ListAttachedRolePolicies PutUserPermissionsBoundary
DeleteUserPermissionsBoundary PutRolePermissionsBoundary DeleteRolePermissionsBoundary CreateVirtualMFADevice
DeleteVirtualMFADevice ListVirtualMFADevices EnableMFADevice DeactivateMFADevice ResyncMFADevice ListMFADevices
GenerateServiceLastAccessedDetails GetServiceLastAccessedDetails`)

func TestOperationTable(t *testing.T) {
	var got []string
	for name, o := range iamOps {
		got = append(got, name)
		if o.handle == nil || o.action != "iam:"+name {
			t.Errorf("%s: handler %v, action %q", name, o.handle != nil, o.action)
		}
	}
	sort.Strings(got)
	want := append([]string(nil), wantIAM...)
	sort.Strings(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("IAM operations (-want +got):\n%s", d)
	}
	if o := stsOps["GetCallerIdentity"]; o == nil || o.action != "sts:GetCallerIdentity" {
		t.Errorf("STS GetCallerIdentity: %+v", o)
	}
}

func TestRequirement(t *testing.T) {
	h := newHandler()
	ctx := context.Background()
	svc := h.IAM
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := svc.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "alice", Path: "/eng/", Tags: []iam.Tag{{Key: "team", Value: "storage"}}})
	must(err)
	_, err = svc.CreateGroup(ctx, acct, "devs", "/eng/")
	must(err)
	_, err = svc.CreateRole(ctx, acct, iam.CreateRoleInput{RoleName: "reader", Path: "/app/", AssumeRolePolicyDocument: trustDoc})
	must(err)
	_, err = svc.CreatePolicy(ctx, acct, iam.CreatePolicyInput{PolicyName: "p", PolicyDocument: policyDoc, Tags: []iam.Tag{{Key: "k", Value: "v"}}})
	must(err)
	key, err := svc.CreateAccessKey(ctx, acct, "alice")
	must(err)
	alice := &authn.Principal{Type: authn.TypeIAMUser, AccountID: acct, UserName: "alice"}
	const a = "arn:aws:iam::111122223333:"

	tests := []struct {
		name     string
		service  string
		caller   *authn.Principal
		f        url.Values
		want     Requirement
		pureRes  string // ActionFor's resource, when it differs
		pureSkip bool
	}{
		{"create user with tags and a boundary", ServiceIAM, root, form("CreateUser", "UserName", "bob", "Path", "/ops/",
			"PermissionsBoundary", a+"policy/p", "Tags.member.1.Key", "team", "Tags.member.1.Value", "x"),
			Requirement{Actions: []string{"iam:CreateUser", "iam:PutUserPermissionsBoundary", "iam:TagUser"}, Resource: a + "user/ops/bob",
				Conditions: map[string][]string{"iam:PermissionsBoundary": {a + "policy/p"}, "aws:RequestTag/team": {"x"}, "aws:TagKeys": {"team"}}}, "", false},
		{"existing user: its path and tags", ServiceIAM, root, form("GetUser", "UserName", "alice"),
			Requirement{Actions: []string{"iam:GetUser"}, Resource: a + "user/eng/alice",
				Conditions: map[string][]string{"aws:ResourceTag/team": {"storage"}}}, a + "user/alice", false},
		{"missing user: path /", ServiceIAM, root, form("DeleteUser", "UserName", "ghost"),
			Requirement{Actions: []string{"iam:DeleteUser"}, Resource: a + "user/ghost"}, "", false},
		{"the caller's own user", ServiceIAM, alice, form("ListAccessKeys"),
			Requirement{Actions: []string{"iam:ListAccessKeys"}, Resource: a + "user/eng/alice",
				Conditions: map[string][]string{"aws:ResourceTag/team": {"storage"}}}, "*", false},
		{"the root's own keys", ServiceIAM, root, form("CreateAccessKey"),
			Requirement{Actions: []string{"iam:CreateAccessKey"}, Resource: a + "root"}, "*", false},
		{"account-wide listing", ServiceIAM, root, form("ListUsers"),
			Requirement{Actions: []string{"iam:ListUsers"}, Resource: "*"}, "", false},
		{"group", ServiceIAM, root, form("AddUserToGroup", "GroupName", "devs", "UserName", "alice"),
			Requirement{Actions: []string{"iam:AddUserToGroup"}, Resource: a + "group/eng/devs"}, a + "group/devs", false},
		{"attach: the policy ARN condition", ServiceIAM, root, form("AttachRolePolicy", "RoleName", "reader", "PolicyArn", a+"policy/p"),
			Requirement{Actions: []string{"iam:AttachRolePolicy"}, Resource: a + "role/app/reader",
				Conditions: map[string][]string{"iam:PolicyARN": {a + "policy/p"}}}, a + "role/reader", false},
		{"create policy", ServiceIAM, root, form("CreatePolicy", "PolicyName", "q", "Path", "/x/", "PolicyDocument", policyDoc),
			Requirement{Actions: []string{"iam:CreatePolicy"}, Resource: a + "policy/x/q"}, "", false},
		{"existing policy: its tags", ServiceIAM, root, form("GetPolicy", "PolicyArn", a+"policy/p"),
			Requirement{Actions: []string{"iam:GetPolicy"}, Resource: a + "policy/p",
				Conditions: map[string][]string{"aws:ResourceTag/k": {"v"}}}, "", false},
		{"a key's owner", ServiceIAM, root, form("GetAccessKeyLastUsed", "AccessKeyId", key.AccessKeyID),
			Requirement{Actions: []string{"iam:GetAccessKeyLastUsed"}, Resource: a + "user/eng/alice",
				Conditions: map[string][]string{"aws:ResourceTag/team": {"storage"}}}, "*", false},
		{"untag: the keys removed", ServiceIAM, root, form("UntagUser", "UserName", "ghost", "TagKeys.member.1", "a", "TagKeys.member.2", "b"),
			Requirement{Actions: []string{"iam:UntagUser"}, Resource: a + "user/ghost", Conditions: map[string][]string{"aws:TagKeys": {"a", "b"}}}, "", false},
		{"create an MFA device", ServiceIAM, alice, form("CreateVirtualMFADevice", "VirtualMFADeviceName", "phone", "Path", "/d/"),
			Requirement{Actions: []string{"iam:CreateVirtualMFADevice"}, Resource: a + "mfa/d/phone"}, "", false},
		{"delete an MFA device", ServiceIAM, alice, form("DeleteVirtualMFADevice", "SerialNumber", a+"mfa/phone"),
			Requirement{Actions: []string{"iam:DeleteVirtualMFADevice"}, Resource: a + "mfa/phone"}, "", false},
		{"enable the root's MFA device", ServiceIAM, root, form("EnableMFADevice", "UserName", "root", "SerialNumber", a+"mfa/phone"),
			Requirement{Actions: []string{"iam:EnableMFADevice"}, Resource: a + "root"}, "", false},
		{"caller identity", ServiceSTS, alice, stsForm("GetCallerIdentity"),
			Requirement{Actions: []string{"sts:GetCallerIdentity"}, Resource: "*"}, "", false},
		{"assume role", ServiceSTS, alice, stsForm("AssumeRole", "RoleArn", a+"role/app/reader", "RoleSessionName", "s"),
			Requirement{Actions: []string{"sts:AssumeRole"}, Resource: a + "role/app/reader"}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.Requirement(ctx, tc.service, tc.caller, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&tc.want, got); d != "" {
				t.Errorf("Requirement (-want +got):\n%s", d)
			}
			action, res, err := ActionFor(tc.service, tc.f, acct)
			want := tc.want.Resource
			if tc.pureRes != "" {
				want = tc.pureRes
			}
			if err != nil || action != tc.want.Actions[0] || res != want {
				t.Errorf("ActionFor = %s, %s, %v; want %s, %s", action, res, err, tc.want.Actions[0], want)
			}
		})
	}

	var e *Error
	if _, _, err := ActionFor(ServiceIAM, form("CreateLoginProfile"), acct); !errors.As(err, &e) || e.Code != "InvalidAction" {
		t.Errorf("unknown action: %v", err)
	}
	if _, err := h.Requirement(ctx, ServiceIAM, authn.Anonymous, form("ListUsers")); !errors.As(err, &e) || e.Code != "MissingAuthenticationToken" {
		t.Errorf("anonymous: %v", err)
	}
	// Through the pipeline's interface, errors are S3-vocabulary errors
	// carrying the Query code.
	var se *s3err.Error
	if _, err := h.IAMAPI().Requirement(context.Background(), form("Nope"), root); !errors.As(err, &se) || se.Code != "InvalidAction" || se.Status != http.StatusBadRequest {
		t.Errorf("QueryAPI.Requirement of an unknown action: %v", err)
	}
	if req, err := h.STSAPI().Requirement(context.Background(), stsForm("GetCallerIdentity"), alice); err != nil || req.Actions[0] != "sts:GetCallerIdentity" || req.Resource != "*" || !req.Unauthorized {
		t.Errorf("STSAPI.Requirement = %+v, %v", req, err)
	}
	if h.IAMAPI().Namespace() != IAMNamespace || h.STSAPI().Namespace() != STSNamespace {
		t.Error("namespaces")
	}
	status, body := h.STSAPI().Serve(ctx, alice, stsForm("GetCallerIdentity"), "r")
	if status != 200 || !strings.Contains(string(body), a+"user/eng/alice") {
		t.Errorf("STSAPI.Serve: %d %s", status, body)
	}
}
