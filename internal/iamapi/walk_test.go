package iamapi

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/mfa"
)

// TestEveryAction walks a user, group, role and policy through their
// whole life with every IAM action, checking each response's status and
// envelope (root element, namespace, Result element present exactly when
// the operation has output, request id).
func TestEveryAction(t *testing.T) {
	h := newHandler()
	const pol = "arn:aws:iam::111122223333:policy/team/P"
	alice := &authn.Principal{Type: authn.TypeIAMUser, AccountID: acct, UserName: "u"}
	var keyID, jobID string
	serial := "arn:aws:iam::" + acct + ":mfa/d/m"
	var seed []byte
	// code returns the device's code d steps from the fixture's time.
	code := func(d int64) string { return mfa.HOTP(seed, uint64(mfa.Step(fixedTime)+d)) }
	steps := []struct {
		caller *authn.Principal
		f      func() url.Values
		status int
		result bool // the response has an <ActionResult>
	}{
		{root, func() url.Values {
			return form("CreatePolicy", "PolicyName", "P", "Path", "/team/", "PolicyDocument", policyDoc,
				"Tags.member.1.Key", "k", "Tags.member.1.Value", "v")
		}, 200, true},
		{root, func() url.Values { return form("GetPolicy", "PolicyArn", pol) }, 200, true},
		{root, func() url.Values { return form("ListPolicies", "Scope", "Local", "OnlyAttached", "false") }, 200, true},
		{root, func() url.Values {
			return form("CreatePolicyVersion", "PolicyArn", pol, "PolicyDocument", policyDoc, "SetAsDefault", "true")
		}, 200, true},
		{root, func() url.Values { return form("ListPolicyVersions", "PolicyArn", pol) }, 200, true},
		{root, func() url.Values { return form("GetPolicyVersion", "PolicyArn", pol, "VersionId", "v2") }, 200, true},
		{root, func() url.Values { return form("SetDefaultPolicyVersion", "PolicyArn", pol, "VersionId", "v1") }, 200, false},
		{root, func() url.Values { return form("DeletePolicyVersion", "PolicyArn", pol, "VersionId", "v2") }, 200, false},

		{root, func() url.Values { return form("CreateUser", "UserName", "u") }, 200, true},
		{root, func() url.Values { return form("UpdateUser", "UserName", "u", "NewPath", "/people/") }, 200, false},
		{root, func() url.Values {
			return form("TagUser", "UserName", "u", "Tags.member.1.Key", "a", "Tags.member.1.Value", "1")
		}, 200, false},
		{root, func() url.Values { return form("ListUserTags", "UserName", "u") }, 200, true},
		{root, func() url.Values { return form("UntagUser", "UserName", "u", "TagKeys.member.1", "a") }, 200, false},
		{alice, func() url.Values { return form("GetUser") }, 200, true},
		{root, func() url.Values { return form("ListUsers", "PathPrefix", "/people/") }, 200, true},
		{alice, func() url.Values { return form("CreateAccessKey") }, 200, true},
		{alice, func() url.Values { return form("ListAccessKeys") }, 200, true},
		{root, func() url.Values {
			return form("UpdateAccessKey", "UserName", "u", "AccessKeyId", keyID, "Status", "Inactive")
		}, 200, false},
		{root, func() url.Values { return form("GetAccessKeyLastUsed", "AccessKeyId", keyID) }, 200, true},
		{root, func() url.Values {
			return form("GenerateServiceLastAccessedDetails", "Arn", "arn:aws:iam::"+acct+":user/people/u")
		}, 200, true},
		{root, func() url.Values { return form("GetServiceLastAccessedDetails", "JobId", jobID) }, 200, true},
		{root, func() url.Values {
			return form("PutUserPolicy", "UserName", "u", "PolicyName", "i", "PolicyDocument", policyDoc)
		}, 200, false},
		{root, func() url.Values { return form("GetUserPolicy", "UserName", "u", "PolicyName", "i") }, 200, true},
		{root, func() url.Values { return form("ListUserPolicies", "UserName", "u") }, 200, true},
		{root, func() url.Values { return form("AttachUserPolicy", "UserName", "u", "PolicyArn", pol) }, 200, false},
		{root, func() url.Values { return form("ListAttachedUserPolicies", "UserName", "u", "PathPrefix", "/team/") }, 200, true},
		{root, func() url.Values {
			return form("PutUserPermissionsBoundary", "UserName", "u", "PermissionsBoundary", pol)
		}, 200, false},

		{root, func() url.Values { return form("CreateVirtualMFADevice", "VirtualMFADeviceName", "m", "Path", "/d/") }, 200, true},
		{root, func() url.Values {
			return form("EnableMFADevice", "UserName", "u", "SerialNumber", serial, "AuthenticationCode1", code(-1), "AuthenticationCode2", code(0))
		}, 200, false},
		{alice, func() url.Values { return form("ListMFADevices") }, 200, true},
		{root, func() url.Values { return form("ListVirtualMFADevices", "AssignmentStatus", "Assigned") }, 200, true},
		{root, func() url.Values {
			return form("ResyncMFADevice", "UserName", "u", "SerialNumber", serial, "AuthenticationCode1", code(1), "AuthenticationCode2", code(2))
		}, 200, false},

		{root, func() url.Values { return form("CreateGroup", "GroupName", "g", "Path", "/x/") }, 200, true},
		{root, func() url.Values { return form("AddUserToGroup", "GroupName", "g", "UserName", "u") }, 200, false},
		{root, func() url.Values { return form("GetGroup", "GroupName", "g") }, 200, true},
		{root, func() url.Values { return form("ListGroups") }, 200, true},
		{root, func() url.Values { return form("ListGroupsForUser", "UserName", "u") }, 200, true},
		{root, func() url.Values {
			return form("PutGroupPolicy", "GroupName", "g", "PolicyName", "i", "PolicyDocument", policyDoc)
		}, 200, false},
		{root, func() url.Values { return form("GetGroupPolicy", "GroupName", "g", "PolicyName", "i") }, 200, true},
		{root, func() url.Values { return form("ListGroupPolicies", "GroupName", "g") }, 200, true},
		{root, func() url.Values { return form("AttachGroupPolicy", "GroupName", "g", "PolicyArn", pol) }, 200, false},
		{root, func() url.Values { return form("ListAttachedGroupPolicies", "GroupName", "g") }, 200, true},

		{root, func() url.Values {
			return form("CreateRole", "RoleName", "r", "AssumeRolePolicyDocument", trustDoc, "PermissionsBoundary", pol,
				"Tags.member.1.Key", "k", "Tags.member.1.Value", "v")
		}, 200, true},
		{root, func() url.Values { return form("GetRole", "RoleName", "r") }, 200, true},
		{root, func() url.Values { return form("ListRoles") }, 200, true},
		{root, func() url.Values { return form("UpdateAssumeRolePolicy", "RoleName", "r", "PolicyDocument", trustDoc) }, 200, false},
		{root, func() url.Values {
			return form("PutRolePolicy", "RoleName", "r", "PolicyName", "i", "PolicyDocument", policyDoc)
		}, 200, false},
		{root, func() url.Values { return form("GetRolePolicy", "RoleName", "r", "PolicyName", "i") }, 200, true},
		{root, func() url.Values { return form("ListRolePolicies", "RoleName", "r") }, 200, true},
		{root, func() url.Values { return form("AttachRolePolicy", "RoleName", "r", "PolicyArn", pol) }, 200, false},
		{root, func() url.Values { return form("ListAttachedRolePolicies", "RoleName", "r") }, 200, true},
		{root, func() url.Values {
			return form("PutRolePermissionsBoundary", "RoleName", "r", "PermissionsBoundary", pol)
		}, 200, false},

		// Everything still hangs together: nothing can be deleted yet.
		{root, func() url.Values { return form("DeletePolicy", "PolicyArn", pol) }, 409, false},
		{root, func() url.Values { return form("DeleteUser", "UserName", "u") }, 409, false},
		{root, func() url.Values { return form("DeleteGroup", "GroupName", "g") }, 409, false},
		{root, func() url.Values { return form("DeleteRole", "RoleName", "r") }, 409, false},

		// Take it apart.
		{root, func() url.Values { return form("DeleteRolePermissionsBoundary", "RoleName", "r") }, 200, false},
		{root, func() url.Values { return form("DetachRolePolicy", "RoleName", "r", "PolicyArn", pol) }, 200, false},
		{root, func() url.Values { return form("DeleteRolePolicy", "RoleName", "r", "PolicyName", "i") }, 200, false},
		{root, func() url.Values { return form("DeleteRole", "RoleName", "r") }, 200, false},
		{root, func() url.Values { return form("DetachGroupPolicy", "GroupName", "g", "PolicyArn", pol) }, 200, false},
		{root, func() url.Values { return form("DeleteGroupPolicy", "GroupName", "g", "PolicyName", "i") }, 200, false},
		{root, func() url.Values { return form("RemoveUserFromGroup", "GroupName", "g", "UserName", "u") }, 200, false},
		{root, func() url.Values { return form("DeleteGroup", "GroupName", "g") }, 200, false},
		{root, func() url.Values { return form("DeleteUserPermissionsBoundary", "UserName", "u") }, 200, false},
		{root, func() url.Values { return form("DetachUserPolicy", "UserName", "u", "PolicyArn", pol) }, 200, false},
		{root, func() url.Values { return form("DeleteUserPolicy", "UserName", "u", "PolicyName", "i") }, 200, false},
		{alice, func() url.Values { return form("DeleteAccessKey", "AccessKeyId", keyID) }, 200, false},
		{root, func() url.Values { return form("DeleteVirtualMFADevice", "SerialNumber", serial) }, 409, false},
		{alice, func() url.Values { return form("DeactivateMFADevice", "SerialNumber", serial) }, 200, false},
		{root, func() url.Values { return form("DeleteVirtualMFADevice", "SerialNumber", serial) }, 200, false},
		{root, func() url.Values { return form("DeleteUser", "UserName", "u") }, 200, false},
		{root, func() url.Values { return form("DeletePolicy", "PolicyArn", pol) }, 200, false},
		{root, func() url.Values { return form("GetPolicy", "PolicyArn", pol) }, 404, false},
	}
	seen := map[string]bool{}
	for i, st := range steps {
		f := st.f()
		action := f.Get("Action")
		seen[action] = true
		body := do(t, h, st.caller, f, st.status)
		if st.status != http.StatusOK {
			continue
		}
		var env struct {
			XMLName xml.Name
			Result  *struct {
				XMLName xml.Name
				Inner   string `xml:",innerxml"`
			} `xml:",any"`
			RequestID string `xml:"ResponseMetadata>RequestId"`
		}
		if err := xml.Unmarshal(body, &env); err != nil {
			t.Fatalf("step %d %s: %v\n%s", i, action, err, body)
		}
		if env.XMLName != (xml.Name{Space: IAMNamespace, Local: action + "Response"}) || env.RequestID != "req-1" {
			t.Errorf("step %d %s: envelope %v, request id %q", i, action, env.XMLName, env.RequestID)
		}
		gotResult := env.Result != nil && env.Result.XMLName.Local == action+"Result"
		if gotResult != st.result {
			t.Errorf("step %d %s: result element present = %v, want %v:\n%s", i, action, gotResult, st.result, body)
		}
		if action == "CreateVirtualMFADevice" {
			var r struct {
				Seed string `xml:"CreateVirtualMFADeviceResult>VirtualMFADevice>Base32StringSeed"`
			}
			decode(t, body, &r)
			b32, err := base64.StdEncoding.DecodeString(r.Seed)
			if err != nil {
				t.Fatal(err)
			}
			if seed, err = mfa.ParseBase32(string(b32)); err != nil {
				t.Fatal(err)
			}
		}
		if action == "GenerateServiceLastAccessedDetails" {
			var r struct {
				ID string `xml:"GenerateServiceLastAccessedDetailsResult>JobId"`
			}
			decode(t, body, &r)
			jobID = r.ID
		}
		if action == "CreateAccessKey" {
			var r struct {
				ID string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
			}
			decode(t, body, &r)
			keyID = r.ID
		}
	}
	var got []string
	for a := range seen {
		got = append(got, a)
	}
	sort.Strings(got)
	want := append([]string(nil), wantIAM...)
	sort.Strings(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("actions walked (-want +got):\n%s", d)
	}
}
