package s3api

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/policy"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

var (
	ownerCID = strings.Repeat("a", 64)
	otherCID = strings.Repeat("b", 64)
)

func TestParseRequestACL(t *testing.T) {
	tests := []struct {
		name   string
		hdr    map[string]string
		body   string
		object bool
		want   []aclGrant // nil with code "": no ACL set
		public bool
		code   string
	}{
		{name: "none"},
		{name: "private", hdr: map[string]string{"X-Amz-Acl": "private"}, want: []aclGrant{{ID: ownerCID, Perm: permFullControl}}},
		{name: "public-read", hdr: map[string]string{"X-Amz-Acl": "public-read"}, public: true,
			want: []aclGrant{{ID: ownerCID, Perm: permFullControl}, {URI: groupAllUsers, Perm: permRead}}},
		{name: "public-read-write", hdr: map[string]string{"X-Amz-Acl": "public-read-write"}, public: true,
			want: []aclGrant{{ID: ownerCID, Perm: permFullControl}, {URI: groupAllUsers, Perm: permRead}, {URI: groupAllUsers, Perm: permWrite}}},
		{name: "authenticated-read", hdr: map[string]string{"X-Amz-Acl": "authenticated-read"}, public: true,
			want: []aclGrant{{ID: ownerCID, Perm: permFullControl}, {URI: groupAuthenticated, Perm: permRead}}},
		{name: "bucket-owner-full-control on an object", object: true, hdr: map[string]string{"X-Amz-Acl": "bucket-owner-full-control"},
			want: []aclGrant{{ID: ownerCID, Perm: permFullControl}, {ID: otherCID, Perm: permFullControl}}},
		{name: "bucket-owner-read on a bucket is ignored", hdr: map[string]string{"X-Amz-Acl": "bucket-owner-read"},
			want: []aclGrant{{ID: ownerCID, Perm: permFullControl}}},
		{name: "log-delivery-write", hdr: map[string]string{"X-Amz-Acl": "log-delivery-write"},
			want: []aclGrant{{ID: ownerCID, Perm: permFullControl}, {URI: groupLogDelivery, Perm: permWrite}, {URI: groupLogDelivery, Perm: permReadACP}}},
		{name: "unknown canned", hdr: map[string]string{"X-Amz-Acl": "everyone"}, code: "InvalidArgument"},
		{name: "grant headers", hdr: map[string]string{
			"X-Amz-Grant-Read":         `uri="` + groupAllUsers + `", id="` + otherCID + `"`,
			"X-Amz-Grant-Full-Control": `id="` + ownerCID + `"`,
		}, public: true, want: []aclGrant{{URI: groupAllUsers, Perm: permRead}, {ID: otherCID, Perm: permRead}, {ID: ownerCID, Perm: permFullControl}}},
		{name: "canned and grants", hdr: map[string]string{"X-Amz-Acl": "private", "X-Amz-Grant-Read": `id="` + otherCID + `"`}, code: "InvalidRequest"},
		{name: "email grantee", hdr: map[string]string{"X-Amz-Grant-Read": `emailAddress="a@example.com"`}, code: "UnresolvableGrantByEmailAddress"},
		{name: "bad group", hdr: map[string]string{"X-Amz-Grant-Read": `uri="http://example.com/everyone"`}, code: "InvalidArgument"},
		{name: "bad id", hdr: map[string]string{"X-Amz-Grant-Read": `id="alice"`}, code: "InvalidArgument"},
		{name: "unquoted", hdr: map[string]string{"X-Amz-Grant-Read": `id=` + otherCID}, code: "InvalidArgument"},
		{name: "document", body: `<AccessControlPolicy><Owner><ID>` + ownerCID + `</ID></Owner><AccessControlList>
			<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>` + ownerCID + `</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>
			<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>` + groupAuthenticated + `</URI></Grantee><Permission>READ_ACP</Permission></Grant>
			</AccessControlList></AccessControlPolicy>`, public: true,
			want: []aclGrant{{ID: ownerCID, Perm: permFullControl}, {URI: groupAuthenticated, Perm: permReadACP}}},
		{name: "document with a bad permission", body: `<AccessControlPolicy><Owner><ID>x</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>` + ownerCID + `</ID></Grantee><Permission>ALL</Permission></Grant></AccessControlList></AccessControlPolicy>`, code: "MalformedACLError"},
		{name: "malformed document", body: `<AccessControlPolicy>`, code: "MalformedACLError"},
		{name: "document and header", body: `<AccessControlPolicy/>`, hdr: map[string]string{"X-Amz-Acl": "private"}, code: "UnexpectedContent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.hdr {
				h.Set(k, v)
			}
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			got, err := parseRequestACL(h, body, ownerCID, otherCID, tc.object)
			if tc.code != "" {
				if err == nil || s3err.From(err).Code != tc.code {
					t.Fatalf("error %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if got != nil {
					t.Fatalf("got %+v, want no ACL", got)
				}
				return
			}
			if got == nil || len(got.grants) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range tc.want {
				if got.grants[i] != tc.want[i] {
					t.Errorf("grant %d: %+v, want %+v", i, got.grants[i], tc.want[i])
				}
			}
			if isPublicACL(got.grants) != tc.public {
				t.Errorf("public = %v, want %v", !tc.public, tc.public)
			}
		})
	}
}

func TestOwnerOnlyACL(t *testing.T) {
	tests := []struct {
		grants []aclGrant
		want   bool
	}{
		{nil, true},
		{[]aclGrant{{ID: ownerCID, Perm: permFullControl}}, true},
		{[]aclGrant{{ID: ownerCID, Perm: permFullControl}, {ID: otherCID, Perm: permFullControl}}, true},
		{[]aclGrant{{ID: otherCID, Perm: permRead}}, false},
		{[]aclGrant{{URI: groupLogDelivery, Perm: permWrite}}, false},
		{[]aclGrant{{ID: strings.Repeat("c", 64), Perm: permFullControl}}, false},
	}
	for i, tc := range tests {
		if got := ownerOnlyACL(tc.grants, ownerCID, otherCID); got != tc.want {
			t.Errorf("%d: ownerOnlyACL(%+v) = %v", i, tc.grants, got)
		}
	}
}

func TestACLGrantFor(t *testing.T) {
	anon := authn.Anonymous
	other := &authn.Principal{AccountID: "222222222222", CanonicalID: otherCID, Type: authn.TypeRoot}
	third := &authn.Principal{AccountID: "333333333333", CanonicalID: strings.Repeat("c", 64), Type: authn.TypeRoot}
	grants := []aclGrant{
		{ID: ownerCID, Perm: permFullControl},
		{ID: otherCID, Perm: permReadACP},
		{URI: groupAuthenticated, Perm: permRead},
	}
	tests := []struct {
		p    *authn.Principal
		perm string
		want policy.ACLGrant
	}{
		{anon, permRead, policy.ACLNone}, // AuthenticatedUsers excludes anonymous
		{third, permRead, policy.ACLEveryone},
		{other, permReadACP, policy.ACLAccount},
		{other, permWriteACP, policy.ACLNone},
		{third, permWrite, policy.ACLNone},
	}
	for i, tc := range tests {
		if got := aclGrantFor(grants, tc.p, tc.perm); got != tc.want {
			t.Errorf("%d: %s for %s = %v, want %v", i, tc.perm, tc.p.AccountID, got, tc.want)
		}
	}
	if got := aclGrantFor([]aclGrant{{URI: groupAllUsers, Perm: permFullControl}}, anon, permRead); got != policy.ACLEveryone {
		t.Errorf("AllUsers FULL_CONTROL for anonymous READ = %v", got)
	}
	if got := aclGrantFor(withoutPublic([]aclGrant{{URI: groupAllUsers, Perm: permRead}}), anon, permRead); got != policy.ACLNone {
		t.Errorf("ignored public grant still grants: %v", got)
	}
}

func TestACLPermission(t *testing.T) {
	tests := []struct {
		action string
		perm   string
		object bool
		ok     bool
	}{
		{"s3:GetObject", permRead, true, true},
		{"s3:GetObjectVersion", permRead, true, true},
		{"s3:ListBucket", permRead, false, true},
		{"s3:PutObject", permWrite, false, true},
		{"s3:PutObjectAcl", permWriteACP, true, true},
		{"s3:GetBucketAcl", permReadACP, false, true},
		{"s3:DeleteBucket", "", false, false},
		{"s3:PutBucketPolicy", "", false, false},
	}
	for _, tc := range tests {
		perm, object, ok := aclPermission(tc.action)
		if perm != tc.perm || object != tc.object || ok != tc.ok {
			t.Errorf("%s: %q %v %v", tc.action, perm, object, ok)
		}
	}
}

func TestRenderACL(t *testing.T) {
	res := renderACL(Owner{ID: ownerCID}, []aclGrant{{ID: ownerCID, Perm: permFullControl}, {URI: groupAllUsers, Perm: permRead}})
	out, err := xml.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		`<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
		`xsi:type="CanonicalUser"`, `<ID>` + ownerCID + `</ID>`,
		`xsi:type="Group"`, `<URI>` + groupAllUsers + `</URI>`, `<Permission>READ</Permission>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("rendered ACL lacks %s:\n%s", want, s)
		}
	}
	// What is rendered parses back to the same grants.
	back, err := parseACLBody(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0] != (aclGrant{ID: ownerCID, Perm: permFullControl}) || back[1] != (aclGrant{URI: groupAllUsers, Perm: permRead}) {
		t.Errorf("round trip: %+v", back)
	}
}

func TestPublicAccessBlockCodec(t *testing.T) {
	if got := decodePAB(encodePAB(allBlocked)); got != allBlocked {
		t.Errorf("round trip: %+v", got)
	}
	if got := decodePAB(nil); got != (publicAccessBlock{}) {
		t.Errorf("nothing stored: %+v", got)
	}
	if got := decodePAB([]byte("<garbage")); got != allBlocked {
		t.Errorf("unreadable configuration must block everything: %+v", got)
	}
	a := publicAccessBlock{BlockPublicAcls: true}
	b := publicAccessBlock{RestrictPublicBuckets: true}
	if got := a.or(b); !got.BlockPublicAcls || !got.RestrictPublicBuckets || got.IgnorePublicAcls || got.BlockPublicPolicy {
		t.Errorf("or: %+v", got)
	}
}
