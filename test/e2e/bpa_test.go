package e2e

// Block Public Access (bucket and account level), Object Ownership and
// ACLs: the April-2023 defaults refuse public policies and ACLs, relaxing
// them makes anonymous access work, and the read-time settings
// (IgnorePublicAcls, RestrictPublicBuckets) cut access already granted.

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer-io/coffer/internal/auth/sigv4"
)

// accountID returns the account of a root's credentials (IAM GetUser on
// the root gives arn:aws:iam::ACCOUNT:root).
func (s *suite) accountID(t *testing.T, ak, sk string) string {
	t.Helper()
	out := s.iamCall(t, ak, sk, "Action", "GetUser")
	var r struct {
		Arn string `xml:"GetUserResult>User>Arn"`
	}
	if err := xml.Unmarshal(out, &r); err != nil {
		t.Fatalf("GetUser: %v %s", err, out)
	}
	parts := strings.Split(r.Arn, ":")
	if len(parts) < 5 {
		t.Fatalf("GetUser ARN %q", r.Arn)
	}
	return parts[4]
}

// control sends a signed S3 Control publicAccessBlock request for account.
func (s *suite) control(t *testing.T, ak, sk, method, account string, body []byte) (*http.Response, string, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.srv.Endpoint+"/v20180820/configuration/publicAccessBlock", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Account-Id", account)
	sr := &sigv4.Request{Method: method, Host: req.URL.Host, EscapedPath: req.URL.EscapedPath(), Header: req.Header}
	sigv4.SignRequest(sr, ak, sk, s.srv.Region, "s3", sigv4.HashHex(body), time.Now())
	return s.do(t, req)
}

// pabXML renders a PublicAccessBlockConfiguration.
func pabXML(acls, ignore, policy, restrict bool) []byte {
	b := func(v bool) string {
		if v {
			return "true"
		}
		return "false"
	}
	return []byte(`<PublicAccessBlockConfiguration xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/"><BlockPublicAcls>` + b(acls) +
		`</BlockPublicAcls><IgnorePublicAcls>` + b(ignore) + `</IgnorePublicAcls><BlockPublicPolicy>` + b(policy) +
		`</BlockPublicPolicy><RestrictPublicBuckets>` + b(restrict) + `</RestrictPublicBuckets></PublicAccessBlockConfiguration>`)
}

// allowPublic turns Block Public Access off for bucket and for the default
// account, as one must before making a bucket public.
func (s *suite) allowPublic(t *testing.T, bucket string) {
	t.Helper()
	_, err := s.s3.DeletePublicAccessBlock(t.Context(), &s3.DeletePublicAccessBlockInput{Bucket: aws.String(bucket)})
	mustOK(t, err)
	acct := s.accountID(t, s.srv.AccessKey, s.srv.SecretKey)
	if resp, code, body := s.control(t, s.srv.AccessKey, s.srv.SecretKey, http.MethodDelete, acct, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DeletePublicAccessBlock (account): %d %s %s", resp.StatusCode, code, body)
	}
}

// setBucketPAB stores a bucket-level configuration.
func (s *suite) setBucketPAB(t *testing.T, bucket string, acls, ignore, policy, restrict bool) {
	t.Helper()
	_, err := s.s3.PutPublicAccessBlock(t.Context(), &s3.PutPublicAccessBlockInput{Bucket: aws.String(bucket),
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(acls), IgnorePublicAcls: aws.Bool(ignore),
			BlockPublicPolicy: aws.Bool(policy), RestrictPublicBuckets: aws.Bool(restrict),
		}})
	mustOK(t, err)
}

// anonGet fetches an object without credentials and returns the status.
func (s *suite) anonGet(t *testing.T, bucket, key string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.srv.Endpoint+"/"+bucket+"/"+key, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

const publicRead = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::BUCKET/*"}]}`

func TestBlockPublicAccess(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	acct := s.accountID(t, s.srv.AccessKey, s.srv.SecretKey)
	pol := s.mkBucket(t, "bpa-policy")
	s.put(t, pol, "k", []byte("public"))
	acl := s.mkBucket(t, "bpa-acl")
	s.put(t, acl, "k", []byte("acl"))
	policyDoc := strings.ReplaceAll(publicRead, "BUCKET", pol)

	t.Run("on by default for buckets and accounts", func(t *testing.T) {
		got, err := s.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(pol)})
		mustOK(t, err)
		c := got.PublicAccessBlockConfiguration
		if !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.IgnorePublicAcls) || !aws.ToBool(c.BlockPublicPolicy) || !aws.ToBool(c.RestrictPublicBuckets) {
			t.Errorf("new bucket's configuration %+v", c)
		}
		resp, code, body := s.control(t, s.srv.AccessKey, s.srv.SecretKey, http.MethodGet, acct, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("<RestrictPublicBuckets>true</RestrictPublicBuckets>")) {
			t.Errorf("account configuration: %d %s %s", resp.StatusCode, code, body)
		}
		bobAK, bobSK := s.createAccount("bpa-new")
		bobAcct := s.accountID(t, bobAK, bobSK)
		if resp, code, body := s.control(t, bobAK, bobSK, http.MethodGet, bobAcct, nil); resp.StatusCode != http.StatusOK ||
			!bytes.Contains(body, []byte("<BlockPublicPolicy>true</BlockPublicPolicy>")) {
			t.Errorf("new account's configuration: %d %s %s", resp.StatusCode, code, body)
		}
		// Another account's setting is not the caller's to read.
		if resp, code, _ := s.control(t, bobAK, bobSK, http.MethodGet, acct, nil); resp.StatusCode != http.StatusForbidden || code != "AccessDenied" {
			t.Errorf("foreign account id: %d %s", resp.StatusCode, code)
		}
	})

	t.Run("a public policy is refused", func(t *testing.T) {
		_, err := s.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(pol), Policy: aws.String(policyDoc)})
		wantErr(t, err, "AccessDenied", http.StatusForbidden)
		// The bucket level alone is not enough: the account's still blocks.
		_, err = s.s3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(pol)})
		mustOK(t, err)
		_, err = s.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(pol)})
		wantErr(t, err, "NoSuchPublicAccessBlockConfiguration", http.StatusNotFound)
		_, err = s.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(pol), Policy: aws.String(policyDoc)})
		wantErr(t, err, "AccessDenied", http.StatusForbidden)
	})

	t.Run("a public ACL is refused", func(t *testing.T) {
		_, err := s.s3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(acl),
			OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipObjectWriter}}}})
		mustOK(t, err)
		_, err = s.s3.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(acl), Key: aws.String("k"), ACL: types.ObjectCannedACLPublicRead})
		wantErr(t, err, "AccessDenied", http.StatusForbidden)
		_, err = s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(acl), Key: aws.String("k2"), Body: strings.NewReader("x"), ACL: types.ObjectCannedACLPublicRead})
		wantErr(t, err, "AccessDenied", http.StatusForbidden)
		if st := s.anonGet(t, acl, "k"); st != http.StatusForbidden {
			t.Errorf("anonymous GET before any public grant: %d", st)
		}
	})

	// Turn Block Public Access off, account level included.
	s.allowPublic(t, acl)
	if resp, code, _ := s.control(t, s.srv.AccessKey, s.srv.SecretKey, http.MethodGet, acct, nil); resp.StatusCode != http.StatusNotFound || code != "NoSuchPublicAccessBlockConfiguration" {
		t.Fatalf("account configuration after delete: %d %s", resp.StatusCode, code)
	}

	t.Run("anonymous GET through a public policy", func(t *testing.T) {
		if st := s.anonGet(t, pol, "k"); st != http.StatusForbidden {
			t.Errorf("anonymous GET before the policy: %d", st)
		}
		s.putPolicy(t, pol, policyDoc)
		if st := s.anonGet(t, pol, "k"); st != http.StatusOK {
			t.Errorf("anonymous GET through a public policy: %d", st)
		}
	})

	t.Run("anonymous GET through a public-read ACL", func(t *testing.T) {
		_, err := s.s3.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(acl), Key: aws.String("k"), ACL: types.ObjectCannedACLPublicRead})
		mustOK(t, err)
		if st := s.anonGet(t, acl, "k"); st != http.StatusOK {
			t.Errorf("anonymous GET through public-read: %d", st)
		}
		got, err := s.s3.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(acl), Key: aws.String("k")})
		mustOK(t, err)
		if !hasGroupGrant(got.Grants, "http://acs.amazonaws.com/groups/global/AllUsers", types.PermissionRead) {
			t.Errorf("GetObjectAcl grants %+v", got.Grants)
		}
	})

	t.Run("IgnorePublicAcls makes the ACL ineffective", func(t *testing.T) {
		s.setBucketPAB(t, acl, false, true, false, false)
		if st := s.anonGet(t, acl, "k"); st != http.StatusForbidden {
			t.Errorf("anonymous GET under IgnorePublicAcls: %d", st)
		}
		// GetObjectAcl shows the effective ACL.
		got, err := s.s3.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(acl), Key: aws.String("k")})
		mustOK(t, err)
		if hasGroupGrant(got.Grants, "http://acs.amazonaws.com/groups/global/AllUsers", types.PermissionRead) {
			t.Errorf("GetObjectAcl under IgnorePublicAcls still shows %+v", got.Grants)
		}
		_, err = s.s3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(acl)})
		mustOK(t, err)
		if st := s.anonGet(t, acl, "k"); st != http.StatusOK {
			t.Errorf("anonymous GET after lifting IgnorePublicAcls: %d", st)
		}
	})

	t.Run("RestrictPublicBuckets", func(t *testing.T) {
		bobAK, bobSK := s.createAccount("bob")
		bob := s.client(bobAK, bobSK)
		userAK, userSK := s.iamUser(t, "reader", "")
		user := s.client(userAK, userSK)
		get := func(c *s3.Client) error {
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(pol), Key: aws.String("k")})
			return err
		}
		// Principal "*" lets in other accounts and the account's own users.
		mustOK(t, get(bob))
		mustOK(t, get(user))
		s.setBucketPAB(t, pol, false, false, false, true)
		wantErr(t, get(bob), "AccessDenied", http.StatusForbidden)
		if st := s.anonGet(t, pol, "k"); st != http.StatusForbidden {
			t.Errorf("anonymous GET under RestrictPublicBuckets: %d", st)
		}
		mustOK(t, get(user))
		// The account-level setting has the same effect.
		_, err := s.s3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(pol)})
		mustOK(t, err)
		mustOK(t, get(bob))
		if resp, code, body := s.control(t, s.srv.AccessKey, s.srv.SecretKey, http.MethodPut, acct, pabXML(false, false, false, true)); resp.StatusCode != http.StatusOK {
			t.Fatalf("PutPublicAccessBlock (account): %d %s %s", resp.StatusCode, code, body)
		}
		wantErr(t, get(bob), "AccessDenied", http.StatusForbidden)
		mustOK(t, get(user))
	})
}

func hasGroupGrant(grants []types.Grant, uri string, perm types.Permission) bool {
	for _, g := range grants {
		if g.Grantee != nil && aws.ToString(g.Grantee.URI) == uri && g.Permission == perm {
			return true
		}
	}
	return false
}

func TestObjectOwnership(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	b := s.mkBucket(t, "own")
	s.put(t, b, "k", []byte("x"))
	getOwnership := func(bucket string) (types.ObjectOwnership, error) {
		out, err := s.s3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(bucket)})
		if err != nil {
			return "", err
		}
		return out.OwnershipControls.Rules[0].ObjectOwnership, nil
	}

	t.Run("BucketOwnerEnforced by default; ACLs disabled", func(t *testing.T) {
		v, err := getOwnership(b)
		mustOK(t, err)
		if v != types.ObjectOwnershipBucketOwnerEnforced {
			t.Errorf("default ownership %q", v)
		}
		_, err = s.s3.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(b), ACL: types.BucketCannedACLPublicRead})
		wantErr(t, err, "AccessControlListNotSupported", http.StatusBadRequest)
		_, err = s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("g"), Body: strings.NewReader("x"),
			GrantRead: aws.String(`uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"`)})
		wantErr(t, err, "AccessControlListNotSupported", http.StatusBadRequest)
		// bucket-owner-full-control is still accepted.
		s.put(t, b, "bofc", []byte("x"), func(in *s3.PutObjectInput) { in.ACL = types.ObjectCannedACLBucketOwnerFullControl })
		got, err := s.s3.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(b), Key: aws.String("bofc")})
		mustOK(t, err)
		if len(got.Grants) != 1 || got.Grants[0].Permission != types.PermissionFullControl || aws.ToString(got.Grants[0].Grantee.ID) != aws.ToString(got.Owner.ID) {
			t.Errorf("GetObjectAcl under BucketOwnerEnforced: %+v", got.Grants)
		}
	})

	t.Run("round trip", func(t *testing.T) {
		for _, o := range []types.ObjectOwnership{types.ObjectOwnershipBucketOwnerPreferred, types.ObjectOwnershipObjectWriter, types.ObjectOwnershipBucketOwnerEnforced} {
			_, err := s.s3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(b),
				OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: o}}}})
			mustOK(t, err)
			v, err := getOwnership(b)
			mustOK(t, err)
			if v != o {
				t.Errorf("after putting %s: %s", o, v)
			}
		}
		_, err := s.s3.DeleteBucketOwnershipControls(ctx, &s3.DeleteBucketOwnershipControlsInput{Bucket: aws.String(b)})
		mustOK(t, err)
		_, err = getOwnership(b)
		wantErr(t, err, "OwnershipControlsNotFoundError", http.StatusNotFound)
	})

	t.Run("chosen at CreateBucket", func(t *testing.T) {
		_, err := s.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("own-writer"), ObjectOwnership: types.ObjectOwnershipObjectWriter})
		mustOK(t, err)
		v, err := getOwnership("own-writer")
		mustOK(t, err)
		if v != types.ObjectOwnershipObjectWriter {
			t.Errorf("ownership %s", v)
		}
		// A public ACL at creation meets the new bucket's Block Public Access.
		_, err = s.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("own-public"), ObjectOwnership: types.ObjectOwnershipObjectWriter, ACL: types.BucketCannedACLPublicRead})
		wantErr(t, err, "InvalidBucketAclWithBlockPublicAccessError", http.StatusBadRequest)
	})

	t.Run("ObjectWriter: another account's object is its own", func(t *testing.T) {
		bkt := "own-writer"
		bobAK, bobSK := s.createAccount("bob")
		bob := s.client(bobAK, bobSK)
		bobAcct := s.accountID(t, bobAK, bobSK)
		s.putPolicy(t, bkt, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+bobAcct+`:root"},"Action":["s3:PutObject","s3:PutObjectAcl"],"Resource":"arn:aws:s3:::`+bkt+`/*"}]}`)
		_, err := bob.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("bobs"), Body: strings.NewReader("x")})
		mustOK(t, err)
		_, err = bob.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("shared"), Body: strings.NewReader("x"), ACL: types.ObjectCannedACLBucketOwnerFullControl})
		mustOK(t, err)
		// The bucket owner's root cannot read bob's object without a grant,
		// but can with bucket-owner-full-control.
		_, err = s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("bobs")})
		wantErr(t, err, "AccessDenied", http.StatusForbidden)
		_, err = s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("shared")})
		mustOK(t, err)
	})
}
