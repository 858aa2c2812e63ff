package e2e

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/coffer-io/coffer/internal/auth/sigv4"
	"github.com/coffer-io/coffer/test/harness"
)

// iamCall sends a signed IAM Query request and returns the response body;
// a non-200 answer fails the test.
func (s *suite) iamCall(t *testing.T, ak, sk string, params ...string) []byte {
	t.Helper()
	form := url.Values{"Version": {"2010-05-08"}}
	for i := 0; i+1 < len(params); i += 2 {
		form.Set(params[i], params[i+1])
	}
	body := []byte(form.Encode())
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.srv.Endpoint+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sr := &sigv4.Request{Method: req.Method, Host: req.URL.Host, EscapedPath: "/", Header: req.Header}
	sigv4.SignRequest(sr, ak, sk, s.srv.Region, "iam", sigv4.HashHex(body), time.Now())
	resp, err := s.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("IAM %s: %d %s", form.Get("Action"), resp.StatusCode, out)
	}
	return out
}

// iamUser creates an IAM user with an inline policy and returns its keys.
func (s *suite) iamUser(t *testing.T, name, policy string) (string, string) {
	t.Helper()
	s.iamCall(t, s.srv.AccessKey, s.srv.SecretKey, "Action", "CreateUser", "UserName", name)
	if policy != "" {
		s.iamCall(t, s.srv.AccessKey, s.srv.SecretKey, "Action", "PutUserPolicy", "UserName", name, "PolicyName", "p", "PolicyDocument", policy)
	}
	out := s.iamCall(t, s.srv.AccessKey, s.srv.SecretKey, "Action", "CreateAccessKey", "UserName", name)
	var r struct {
		Key struct{ AccessKeyId, SecretAccessKey string } `xml:"CreateAccessKeyResult>AccessKey"`
	}
	if err := xml.Unmarshal(out, &r); err != nil || r.Key.AccessKeyId == "" {
		t.Fatalf("CreateAccessKey: %v %s", err, out)
	}
	return r.Key.AccessKeyId, r.Key.SecretAccessKey
}

// allowPublicPolicies turns off the bucket's Block Public Access settings
// (on by default, as in AWS) so that tests can store public policies, and
// the default account's, which new accounts also get (see allowPublic).
func (s *suite) allowPublicPolicies(t *testing.T, bucket string) {
	t.Helper()
	_, err := s.s3.PutPublicAccessBlock(t.Context(), &s3.PutPublicAccessBlockInput{
		Bucket: aws.String(bucket),
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(false), IgnorePublicAcls: aws.Bool(false),
			BlockPublicPolicy: aws.Bool(false), RestrictPublicBuckets: aws.Bool(false),
		},
	})
	mustOK(t, err)
	s.allowPublic(t, bucket)
}

// wantMessage checks an API error's message contains want.
func wantMessage(t *testing.T, err error, want string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || !strings.Contains(ae.ErrorMessage(), want) {
		t.Fatalf("error message %v does not contain %q", err, want)
	}
}

func (s *suite) putPolicy(t *testing.T, bucket, doc string) {
	t.Helper()
	_, err := s.s3.PutBucketPolicy(t.Context(), &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc)})
	mustOK(t, err)
}

// TestLeastPrivilegeUser shows an IAM user can do exactly what its policy
// allows and nothing else.
func TestLeastPrivilegeUser(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	b := s.mkBucket(t, "lp-data")
	other := s.mkBucket(t, "lp-other")
	s.put(t, b, "public/a.txt", []byte("a"))
	s.put(t, b, "private/b.txt", []byte("b"))
	s.put(t, other, "x", []byte("x"))
	ak, sk := s.iamUser(t, "reader", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::lp-data","Condition":{"StringLike":{"s3:prefix":"public/*"}}},
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::lp-data/public/*"}]}`)
	c := s.client(ak, sk)

	_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("public/")})
	mustOK(t, err)
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
	wantErr(t, err, "AccessDenied", 403) // no prefix: the condition's key is absent
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("public/a.txt")})
	mustOK(t, err)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("private/b.txt")})
	wantErr(t, err, "AccessDenied", 403)
	// Same-account denials say why, as AWS's do.
	wantMessage(t, err, `is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::lp-data/private/b.txt" because no identity-based policy allows the s3:GetObject action`)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("public/new"), Body: strings.NewReader("n")})
	wantErr(t, err, "AccessDenied", 403)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(other), Key: aws.String("x")})
	wantErr(t, err, "AccessDenied", 403)
	_, err = c.ListBuckets(ctx, &s3.ListBucketsInput{})
	wantErr(t, err, "AccessDenied", 403)
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lp-mine")})
	wantErr(t, err, "AccessDenied", 403)

	// A user without any policy can do nothing at all.
	ak2, sk2 := s.iamUser(t, "nobody", "")
	_, err = s.client(ak2, sk2).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("public/a.txt")})
	wantErr(t, err, "AccessDenied", 403)
}

// TestBucketPolicyConditions checks bucket policies that deny outside an
// IP range, without TLS, outside a time window and without MFA, and that
// the owner can always remove a policy that locks it out.
func TestBucketPolicyConditions(t *testing.T) {
	s := newSuite(t, harness.WithHTTP())
	ctx := t.Context()
	b := s.mkBucket(t, "pol-cond")
	s.put(t, b, "k", []byte("v"))
	get := func(c *s3.Client) error {
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
		return err
	}
	deny := func(cond string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"d","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol-cond/*","Condition":` + cond + `}]}`
	}
	cases := []struct {
		name, cond string
		denied     bool
	}{
		{"outside an IP range", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, true},
		{"inside the IP range", `{"NotIpAddress":{"aws:SourceIp":"127.0.0.0/8"}}`, false},
		{"outside a time window", `{"DateGreaterThan":{"aws:CurrentTime":"2099-01-01T00:00:00Z"}}`, false},
		{"after a time window", `{"DateLessThan":{"aws:CurrentTime":"2001-01-01T00:00:00Z"}}`, false},
		{"before the window ends", `{"DateLessThan":{"aws:CurrentTime":"2099-01-01T00:00:00Z"}}`, true},
		{"without MFA", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, true},
		{"without TLS (over TLS)", `{"Bool":{"aws:SecureTransport":"false"}}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.putPolicy(t, b, deny(tc.cond))
			err := get(s.s3)
			if tc.denied {
				wantErr(t, err, "AccessDenied", 403)
				wantMessage(t, err, "with an explicit deny in a resource-based policy")
			} else {
				mustOK(t, err)
			}
			// The owner's root can always manage the policy, even when a
			// Deny would match it.
			_, err = s.s3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(b)})
			mustOK(t, err)
			mustOK(t, get(s.s3))
		})
	}

	t.Run("without TLS (plain HTTP)", func(t *testing.T) {
		s.putPolicy(t, b, deny(`{"Bool":{"aws:SecureTransport":"false"}}`))
		plain := s.client(s.srv.AccessKey, s.srv.SecretKey, func(o *s3.Options) { o.BaseEndpoint = aws.String("http://" + s.srv.HTTPAddr) })
		wantErr(t, get(plain), "AccessDenied", 403)
		mustOK(t, get(s.s3))
	})

	t.Run("policy status and round trip", func(t *testing.T) {
		s.allowPublicPolicies(t, b)
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol-cond/*"}]}`
		s.allowPublic(t, b) // a public policy needs Block Public Access off
		s.putPolicy(t, b, doc)
		got, err := s.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b)})
		mustOK(t, err)
		if aws.ToString(got.Policy) != doc {
			t.Fatalf("GetBucketPolicy = %s", aws.ToString(got.Policy))
		}
		st, err := s.s3.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String(b)})
		mustOK(t, err)
		if !aws.ToBool(st.PolicyStatus.IsPublic) {
			t.Fatal("a policy granting * is not reported public")
		}
		_, err = s.s3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(b)})
		mustOK(t, err)
		_, err = s.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b)})
		wantErr(t, err, "NoSuchBucketPolicy", 404)
	})

	t.Run("malformed policies are refused", func(t *testing.T) {
		for _, doc := range []string{
			`not json`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol-cond/*","Condition":{"StringEqualz":{"aws:UserAgent":"x"}}}]}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol-cond/*"}]}`,
		} {
			_, err := s.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(doc)})
			wantErr(t, err, "MalformedPolicy", 400)
		}
	})
}

// TestCrossAccountBucketPolicy checks cross-account access: a bucket
// policy naming another account lets that account's root in, and its IAM
// users only when their own policies allow too.
func TestCrossAccountBucketPolicy(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	b := s.mkBucket(t, "xacct")
	s.put(t, b, "k", []byte("v"))
	bobAK, bobSK := s.createAccount("bob")
	bob := s.client(bobAK, bobSK)
	get := func(c *s3.Client) error {
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
		return err
	}
	wantErr(t, get(bob), "AccessDenied", 403)

	// Find bob's account id through STS-less means: the bucket policy
	// names the account by its root ARN, which GetCallerIdentity would
	// give; the admin command printed only keys, so ask IAM.
	who := s.iamCall(t, bobAK, bobSK, "Action", "GetUser")
	var r struct {
		Arn string `xml:"GetUserResult>User>Arn"`
	}
	if err := xml.Unmarshal(who, &r); err != nil || r.Arn == "" {
		t.Fatalf("GetUser: %v %s", err, who)
	}
	bobRoot := r.Arn
	s.putPolicy(t, b, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+bobRoot+`"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::xacct/*"}]}`)
	mustOK(t, get(bob))
	_, err := bob.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k2"), Body: strings.NewReader("x")})
	wantErr(t, err, "AccessDenied", 403)

	// Bob's IAM user needs both sides: the bucket policy (naming bob's
	// account) and its own identity policy.
	bobSuite := &suite{t: t, srv: &harness.Server{Endpoint: s.srv.Endpoint, Region: s.srv.Region, AccessKey: bobAK, SecretKey: bobSK}, hc: s.hc}
	bobSuite.s3 = s.client(bobAK, bobSK)
	uak, usk := bobSuite.iamUser(t, "carol", "")
	wantErr(t, get(s.client(uak, usk)), "AccessDenied", 403)
	bobSuite.iamCall(t, bobAK, bobSK, "Action", "PutUserPolicy", "UserName", "carol", "PolicyName", "p",
		"PolicyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	mustOK(t, get(s.client(uak, usk)))

	// Only the owner's account manages the bucket policy: another account
	// without permission gets 403, and with permission 405.
	_, err = bob.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b)})
	wantErr(t, err, "AccessDenied", 403)
	s.putPolicy(t, b, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+bobRoot+`"},"Action":["s3:GetObject","s3:GetBucketPolicy"],"Resource":["arn:aws:s3:::xacct","arn:aws:s3:::xacct/*"]}]}`)
	_, err = bob.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b)})
	wantErr(t, err, "MethodNotAllowed", 405)
}

// TestAnalyzeReportsAccess checks `coffer analyze` finds public and
// cross-account access, with the statements granting it.
func TestAnalyzeReportsAccess(t *testing.T) {
	s := newSuite(t)
	s.mkBucket(t, "an-public")
	s.mkBucket(t, "an-shared")
	s.mkBucket(t, "an-private")
	s.allowPublicPolicies(t, "an-public")
	s.putPolicy(t, "an-public", `{"Version":"2012-10-17","Statement":[{"Sid":"web","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::an-public/*"}]}`)
	s.putPolicy(t, "an-shared", `{"Version":"2012-10-17","Statement":[{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222233334444:root"},"Action":"s3:*","Resource":"arn:aws:s3:::an-shared/*"}]}`)
	s.srv.Stop()
	out := s.srv.Run(t.Context(), harness.Binary(t), "analyze", "--data", s.srv.Dir, "--json")
	var rep struct {
		Buckets  int
		Findings []struct {
			Bucket, Kind string
			Accounts     []string
			Statements   []string
		}
		Warnings []struct{ Bucket, Statement, Problem string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("analyze output: %v\n%s", err, out)
	}
	found := map[string]string{}
	for _, f := range rep.Findings {
		found[f.Bucket] = f.Kind + ":" + strings.Join(f.Accounts, ",") + ":" + strings.Join(f.Statements, ",")
	}
	if found["an-public"] != "public::web" || found["an-shared"] != "cross-account:222233334444:partner" || found["an-private"] != "" {
		t.Fatalf("findings: %v\n%s", found, out)
	}
	warned := false
	for _, w := range rep.Warnings {
		if w.Bucket == "an-shared" && w.Statement == "partner" && strings.Contains(w.Problem, "every S3 action") {
			warned = true
		}
	}
	if !warned {
		t.Fatalf("s3:* grant not flagged:\n%s", out)
	}
}

// TestAnalyzeThroughTheServer checks the admin API behind
// `coffer analyze --endpoint`: each account sees its own buckets.
func TestAnalyzeThroughTheServer(t *testing.T) {
	s := newSuite(t)
	s.mkBucket(t, "an2-shared")
	s.putPolicy(t, "an2-shared", `{"Version":"2012-10-17","Statement":[{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222233334444:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::an2-shared/*"}]}`)
	out := s.srv.Run(t.Context(), harness.Binary(t), "analyze", "--endpoint", s.srv.Endpoint, "--ca-bundle", s.srv.CAFile)
	if !strings.Contains(out, "an2-shared: reachable by accounts 222233334444") || !strings.Contains(out, "through partner") {
		t.Fatalf("analyze --endpoint:\n%s", out)
	}
	// Another account's root sees none of it.
	ak, sk := s.createAccount("eve")
	env := append(s.srv.Env(), "AWS_ACCESS_KEY_ID="+ak, "AWS_SECRET_ACCESS_KEY="+sk)
	cmd := exec.CommandContext(t.Context(), harness.Binary(t), "analyze", "--endpoint", s.srv.Endpoint, "--ca-bundle", s.srv.CAFile)
	cmd.Env = env
	raw, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(raw), "an2-shared") || !strings.Contains(string(raw), "0 buckets analyzed") {
		t.Fatalf("eve's analysis: %v\n%s", err, raw)
	}
}

// TestNetworkEndpointPolicy checks "only through endpoint X" bucket
// policies against Coffer's network endpoints.
func TestNetworkEndpointPolicy(t *testing.T) {
	s := newSuite(t, harness.WithArgs("--network-endpoint", "vpce-office:vpc-corp=127.0.0.0/8"))
	ctx := t.Context()
	b := s.mkBucket(t, "net-ep")
	s.put(t, b, "k", []byte("v"))
	only := func(endpoint string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"only-endpoint","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::net-ep/*","Condition":{"StringNotEquals":{"aws:SourceVpce":"` + endpoint + `"}}}]}`
	}
	get := func() error {
		_, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
		return err
	}
	s.putPolicy(t, b, only("vpce-office"))
	mustOK(t, get())
	s.putPolicy(t, b, only("vpce-elsewhere"))
	wantErr(t, get(), "AccessDenied", 403)
	// aws:SourceVpc names the network; aws:SourceIp is absent, as behind
	// an AWS VPC endpoint.
	s.putPolicy(t, b, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::net-ep/*","Condition":{"StringNotEquals":{"aws:SourceVpc":"vpc-corp"}}},
		{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::net-ep/*","Condition":{"Null":{"aws:SourceIp":"false"}}}]}`)
	mustOK(t, get())
}
