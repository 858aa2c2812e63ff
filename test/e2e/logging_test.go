package e2e

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer-io/coffer/test/harness"
)

// loggingPolicy lets the logging service write under prefix for buckets
// of account.
func loggingPolicy(bucket, prefix, account string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"S3ServerAccessLogsPolicy","Effect":"Allow",
"Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::%s/%s*",
"Condition":{"StringEquals":{"aws:SourceAccount":"%s"}}}]}`, bucket, prefix, account)
}

func TestBucketLoggingValidation(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	src := s.mkBucket(t, "log-src")
	logs := s.mkBucket(t, "log-target")
	ak, sk := s.createAccount("other")
	other := s.client(ak, sk)
	if _, err := other.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("others-logs")}); err != nil {
		t.Fatal(err)
	}
	put := func(target, prefix string, grants []types.TargetGrant, format *types.TargetObjectKeyFormat) error {
		_, err := s.s3.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: aws.String(src),
			BucketLoggingStatus: &types.BucketLoggingStatus{LoggingEnabled: &types.LoggingEnabled{
				TargetBucket: aws.String(target), TargetPrefix: aws.String(prefix), TargetGrants: grants, TargetObjectKeyFormat: format}}})
		return err
	}
	t.Run("target missing", func(t *testing.T) {
		wantErr(t, put("no-such-target", "x/", nil, nil), "InvalidTargetBucketForLogging", 400)
	})
	t.Run("target of another account", func(t *testing.T) {
		wantErr(t, put("others-logs", "x/", nil, nil), "InvalidTargetBucketForLogging", 400)
	})
	t.Run("target policy does not allow the logging service", func(t *testing.T) {
		wantErr(t, put(logs, "x/", nil, nil), "InvalidTargetBucketForLogging", 400)
	})
	t.Run("target grants on a bucket owner enforced target", func(t *testing.T) {
		g := []types.TargetGrant{{Grantee: &types.Grantee{Type: types.TypeGroup, URI: aws.String("http://acs.amazonaws.com/groups/global/AllUsers")},
			Permission: types.BucketLogsPermissionRead}}
		wantErr(t, put(logs, "x/", g, nil), "AccessControlListNotSupported", 400)
	})
	t.Run("no DeleteBucketLogging", func(t *testing.T) {
		req := rawRequest(t, ctx, http.MethodDelete, s.srv.Endpoint+"/"+src+"?logging", nil)
		mustOK(t, s3Signer().SignHTTP(ctx, aws.Credentials{AccessKeyID: s.srv.AccessKey, SecretAccessKey: s.srv.SecretKey},
			req, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "s3", s.srv.Region, time.Now()))
		req.Header.Set("X-Amz-Content-Sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
		if resp, code, _ := s.do(t, req); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("DELETE ?logging: %d %s", resp.StatusCode, code)
		}
		if _, err := s.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(src)}); err != nil {
			t.Fatalf("the bucket is gone: %v", err)
		}
	})
	t.Run("another account may not configure it", func(t *testing.T) {
		_, err := other.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: aws.String(src),
			BucketLoggingStatus: &types.BucketLoggingStatus{}})
		wantErr(t, err, "AccessDenied", 403)
	})
	t.Run("enable, read back, disable", func(t *testing.T) {
		acct := s.accountID(t, s.srv.AccessKey, s.srv.SecretKey)
		_, err := s.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(logs), Policy: aws.String(loggingPolicy(logs, "", acct))})
		mustOK(t, err)
		format := &types.TargetObjectKeyFormat{PartitionedPrefix: &types.PartitionedPrefix{PartitionDateSource: types.PartitionDateSourceDeliveryTime}}
		mustOK(t, put(logs, "src/", nil, format))
		out, err := s.s3.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: aws.String(src)})
		mustOK(t, err)
		le := out.LoggingEnabled
		if le == nil || aws.ToString(le.TargetBucket) != logs || aws.ToString(le.TargetPrefix) != "src/" ||
			le.TargetObjectKeyFormat == nil || le.TargetObjectKeyFormat.PartitionedPrefix == nil ||
			le.TargetObjectKeyFormat.PartitionedPrefix.PartitionDateSource != types.PartitionDateSourceDeliveryTime {
			t.Fatalf("GetBucketLogging: %+v", le)
		}
		_, err = s.s3.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: aws.String(src), BucketLoggingStatus: &types.BucketLoggingStatus{}})
		mustOK(t, err)
		out, err = s.s3.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: aws.String(src)})
		mustOK(t, err)
		if out.LoggingEnabled != nil {
			t.Errorf("logging still on: %+v", out.LoggingEnabled)
		}
	})
}

func TestBucketLoggingDelivery(t *testing.T) {
	s := newSuite(t, harness.WithArgs("--access-log-interval", "1s"))
	ctx := t.Context()
	src := s.mkBucket(t, "logged")
	logs := s.mkBucket(t, "access-logs")
	acct := s.accountID(t, s.srv.AccessKey, s.srv.SecretKey)
	_, err := s.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(logs), Policy: aws.String(loggingPolicy(logs, "logged/", acct))})
	mustOK(t, err)
	_, err = s.s3.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: aws.String(src),
		BucketLoggingStatus: &types.BucketLoggingStatus{LoggingEnabled: &types.LoggingEnabled{
			TargetBucket: aws.String(logs), TargetPrefix: aws.String("logged/")}}})
	mustOK(t, err)

	// Allowed, failed and denied requests.
	s.put(t, src, "allowed.txt", []byte("hello"))
	s.get(t, src, "allowed.txt")
	_, err = s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(src), Key: aws.String("missing.txt")})
	wantErr(t, err, "NoSuchKey", 404)
	if resp, code, _ := s.do(t, rawRequest(t, ctx, http.MethodGet, s.srv.Endpoint+"/"+src+"/allowed.txt", nil)); resp.StatusCode != 403 {
		t.Fatalf("anonymous GET: %d %s", resp.StatusCode, code)
	}
	bad := s.client(s.srv.AccessKey, "wrong-secret-key-wrong-secret-key-0000")
	_, err = bad.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(src), Key: aws.String("allowed.txt")})
	wantErr(t, err, "SignatureDoesNotMatch", 403)

	var all string
	keyRE := regexp.MustCompile(`^logged/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		all = ""
		lo, err := s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(logs)})
		mustOK(t, err)
		for _, o := range lo.Contents {
			if !keyRE.MatchString(aws.ToString(o.Key)) {
				t.Errorf("log object key %q", aws.ToString(o.Key))
			}
			body, _ := s.get(t, logs, aws.ToString(o.Key))
			all += string(body)
		}
		if strings.Count(all, "\n") >= 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSuffix(all, "\n"), "\n")
	find := func(parts ...string) string {
		for _, l := range lines {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(l, p)
			}
			if ok {
				return l
			}
		}
		t.Errorf("no log line with %q in:\n%s", parts, all)
		return ""
	}
	line := regexp.MustCompile(`^[0-9a-f]{64} logged \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] 127\.0\.0\.1 (\S+) [0-9A-F]{16} (\S+) (\S+) "([^"]*)" (\d{3}|-) (\S+) (\S+) (\S+) (\d+) (\d+|-) "([^"]*)" "([^"]*)" (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) - (Yes|-) -$`)
	for _, l := range []string{
		find("REST.PUT.OBJECT allowed.txt", `"PUT /logged/allowed.txt`, " 200 - - 5 ", `" - `, "SigV4", "AuthHeader", "TLSv1."),
		find("REST.GET.OBJECT allowed.txt", " 200 - 5 5 "),
		find("REST.GET.OBJECT missing.txt", " 404 NoSuchKey "),
		find(" - ", "REST.GET.OBJECT allowed.txt", " 403 AccessDenied ", `"-" "Go-http-client`),
		find("REST.GET.OBJECT allowed.txt", " 403 SignatureDoesNotMatch "),
	} {
		if l != "" && !line.MatchString(l) {
			t.Errorf("line does not have the log format:\n%s", l)
		}
	}
	if t.Failed() {
		t.Logf("server logs:\n%s", s.srv.Logs())
	}
	// A line appears once.
	if n := strings.Count(all, " REST.GET.OBJECT missing.txt "); n != 1 {
		t.Errorf("the NoSuchKey request is logged %d times", n)
	}
}

// TestBucketLoggingSurvivesCrash kills the server before any delivery:
// the lines of acknowledged requests are delivered after the restart,
// each once.
func TestBucketLoggingSurvivesCrash(t *testing.T) {
	s := newSuite(t, harness.WithArgs("--access-log-interval", "1h"))
	ctx := t.Context()
	src := s.mkBucket(t, "crash-src")
	logs := s.mkBucket(t, "crash-logs")
	acct := s.accountID(t, s.srv.AccessKey, s.srv.SecretKey)
	_, err := s.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(logs), Policy: aws.String(loggingPolicy(logs, "", acct))})
	mustOK(t, err)
	_, err = s.s3.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: aws.String(src),
		BucketLoggingStatus: &types.BucketLoggingStatus{LoggingEnabled: &types.LoggingEnabled{
			TargetBucket: aws.String(logs), TargetPrefix: aws.String(""),
			TargetObjectKeyFormat: &types.TargetObjectKeyFormat{PartitionedPrefix: &types.PartitionedPrefix{PartitionDateSource: types.PartitionDateSourceEventTime}}}}})
	mustOK(t, err)
	const n = 20
	for i := range n {
		s.put(t, src, fmt.Sprintf("k%02d", i), []byte("x"))
	}
	s.srv.Kill()
	s.srv.Restart()
	s.s3 = s.client(s.srv.AccessKey, s.srv.SecretKey) // a new port

	keyRE := regexp.MustCompile(`^\d{12}/us-east-1/crash-src/\d{4}/\d{2}/\d{2}/\d{4}-\d{2}-\d{2}-00-00-00-[0-9A-F]{16}$`)
	var all string
	deadline := time.Now().Add(20 * time.Second)
	for {
		all = ""
		lo, err := s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(logs)})
		mustOK(t, err)
		for _, o := range lo.Contents {
			if !keyRE.MatchString(aws.ToString(o.Key)) {
				t.Errorf("log object key %q", aws.ToString(o.Key))
			}
			body, _ := s.get(t, logs, aws.ToString(o.Key))
			all += string(body)
		}
		if strings.Count(all, "\n") >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	for i := range n {
		if c := strings.Count(all, fmt.Sprintf(" REST.PUT.OBJECT k%02d ", i)); c != 1 {
			t.Errorf("k%02d logged %d times", i, c)
		}
	}
}
