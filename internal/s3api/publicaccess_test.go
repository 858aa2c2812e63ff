package s3api

import (
	"strings"
	"testing"
)

// TestPublicAccessBlockInProcess drives the Block Public Access, Object
// Ownership and ACL handlers through the pipeline.
func TestPublicAccessBlockInProcess(t *testing.T) {
	e := newTestEnv(t)
	e.do("alice", "PUT", "/alice-bucket", nil, nil)
	e.do("alice", "PUT", "/alice-bucket/k", []byte("x"), nil)
	want := func(name string, code int, errCode string, method, target string, body []byte, hdr map[string]string) string {
		t.Helper()
		w := e.do("alice", method, target, body, hdr)
		if w.Code != code || (errCode != "" && errorCode(t, w) != errCode) {
			t.Fatalf("%s: %d %s, want %d %s", name, w.Code, w.Body, code, errCode)
		}
		return w.Body.String()
	}
	const public = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::alice-bucket/*"}]}`
	control := map[string]string{"X-Amz-Account-Id": "111111111111"}

	body := want("new bucket's configuration", 200, "", "GET", "/alice-bucket?publicAccessBlock", nil, nil)
	if strings.Count(body, ">true<") != 4 {
		t.Fatalf("new bucket's configuration: %s", body)
	}
	want("ownership", 200, "", "GET", "/alice-bucket?ownershipControls", nil, nil)
	want("public policy", 403, "AccessDenied", "PUT", "/alice-bucket?policy", []byte(public), nil)

	// This account was made without the account-level default.
	want("account configuration unset", 404, "NoSuchPublicAccessBlockConfiguration", "GET", "/v20180820/configuration/publicAccessBlock", nil, control)
	want("other account's id", 403, "AccessDenied", "GET", "/v20180820/configuration/publicAccessBlock", nil, map[string]string{"X-Amz-Account-Id": "222222222222"})
	want("account put", 200, "", "PUT", "/v20180820/configuration/publicAccessBlock",
		[]byte(`<PublicAccessBlockConfiguration><BlockPublicPolicy>true</BlockPublicPolicy></PublicAccessBlockConfiguration>`), control)
	body = want("account get", 200, "", "GET", "/v20180820/configuration/publicAccessBlock", nil, control)
	if !strings.Contains(body, "<BlockPublicPolicy>true</BlockPublicPolicy>") || !strings.Contains(body, "<BlockPublicAcls>false</BlockPublicAcls>") {
		t.Fatalf("account configuration: %s", body)
	}

	want("bucket delete", 204, "", "DELETE", "/alice-bucket?publicAccessBlock", nil, nil)
	want("bucket get after delete", 404, "NoSuchPublicAccessBlockConfiguration", "GET", "/alice-bucket?publicAccessBlock", nil, nil)
	// The account level still blocks public policies, and only them.
	want("public policy under the account setting", 403, "AccessDenied", "PUT", "/alice-bucket?policy", []byte(public), nil)
	want("account delete", 204, "", "DELETE", "/v20180820/configuration/publicAccessBlock", nil, control)
	want("public policy allowed", 204, "", "PUT", "/alice-bucket?policy", []byte(public), nil)

	// ACLs: disabled until ownership allows them.
	want("ACL with BucketOwnerEnforced", 400, "AccessControlListNotSupported", "PUT", "/alice-bucket?acl", nil, map[string]string{"X-Amz-Acl": "public-read"})
	want("private with BucketOwnerEnforced", 200, "", "PUT", "/alice-bucket?acl", nil, map[string]string{"X-Amz-Acl": "private"})
	want("ObjectWriter", 200, "", "PUT", "/alice-bucket?ownershipControls",
		[]byte(`<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>`), nil)
	want("public-read object ACL", 200, "", "PUT", "/alice-bucket/k?acl", nil, map[string]string{"X-Amz-Acl": "public-read"})
	body = want("object ACL", 200, "", "GET", "/alice-bucket/k?acl", nil, nil)
	if !strings.Contains(body, groupAllUsers) {
		t.Fatalf("object ACL: %s", body)
	}
	// Back to BucketOwnerEnforced: refused while the bucket ACL grants
	// others, and the object's ACL reads as the owner's alone.
	want("public bucket ACL", 200, "", "PUT", "/alice-bucket?acl", nil, map[string]string{"X-Amz-Grant-Read": `uri="` + groupAllUsers + `"`})
	want("enforced with a bucket ACL", 400, "InvalidBucketAclWithObjectOwnership", "PUT", "/alice-bucket?ownershipControls",
		[]byte(`<OwnershipControls><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>`), nil)
	want("private bucket ACL", 200, "", "PUT", "/alice-bucket?acl", nil, map[string]string{"X-Amz-Acl": "private"})
	want("enforced", 200, "", "PUT", "/alice-bucket?ownershipControls",
		[]byte(`<OwnershipControls><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>`), nil)
	body = want("object ACL when enforced", 200, "", "GET", "/alice-bucket/k?acl", nil, nil)
	if strings.Contains(body, groupAllUsers) || strings.Count(body, "<Grant>") != 1 {
		t.Fatalf("object ACL when enforced: %s", body)
	}
	want("bad ownership", 400, "MalformedXML", "PUT", "/alice-bucket?ownershipControls",
		[]byte(`<OwnershipControls><Rule><ObjectOwnership>Everyone</ObjectOwnership></Rule></OwnershipControls>`), nil)
	want("delete ownership", 204, "", "DELETE", "/alice-bucket?ownershipControls", nil, nil)
	want("ownership gone", 404, "OwnershipControlsNotFoundError", "GET", "/alice-bucket?ownershipControls", nil, nil)

	// Block Public Access on the bucket refuses a public ACL write.
	want("bucket put", 200, "", "PUT", "/alice-bucket?publicAccessBlock",
		[]byte(`<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>`), nil)
	want("public ACL under BlockPublicAcls", 403, "AccessDenied", "PUT", "/alice-bucket/k2", []byte("x"), map[string]string{"X-Amz-Acl": "public-read-write"})
	want("CreateBucket with an ACL and enforced ownership", 400, "InvalidBucketAclWithObjectOwnership", "PUT", "/alice-acl", nil, map[string]string{"X-Amz-Acl": "authenticated-read"})
	want("CreateBucket with a public ACL", 400, "InvalidBucketAclWithBlockPublicAccessError", "PUT", "/alice-acl", nil,
		map[string]string{"X-Amz-Acl": "public-read", "X-Amz-Object-Ownership": "ObjectWriter"})
	want("CreateBucket with a bad ownership", 400, "InvalidArgument", "PUT", "/alice-acl", nil, map[string]string{"X-Amz-Object-Ownership": "Mine"})
	want("CreateBucket with a private ACL and ObjectWriter", 200, "", "PUT", "/alice-acl", nil,
		map[string]string{"X-Amz-Acl": "log-delivery-write", "X-Amz-Object-Ownership": "ObjectWriter"})
	body = want("log-delivery-write bucket ACL", 200, "", "GET", "/alice-acl?acl", nil, nil)
	if !strings.Contains(body, groupLogDelivery) {
		t.Fatalf("bucket ACL: %s", body)
	}
}
