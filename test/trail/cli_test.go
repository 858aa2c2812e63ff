package trail

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer-io/coffer/test/harness"
)

// awsV1 returns the aws CLI v1 on PATH (its validate-logs honours
// AWS_ENDPOINT_URL_S3), skipping the test without one.
func awsV1(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("no aws CLI on PATH")
	}
	out, _ := exec.Command(p, "--version").CombinedOutput()
	if !strings.HasPrefix(string(out), "aws-cli/1.") {
		t.Skipf("aws on PATH is not v1: %s", out)
	}
	return p
}

const trailPolicy = `{"Version":"2012-10-17","Statement":[
 {"Sid":"AWSCloudTrailAclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
  "Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::trail-logs",
  "Condition":{"StringEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:ACCT:trail/main"}}},
 {"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
  "Action":"s3:PutObject","Resource":"arn:aws:s3:::trail-logs/pfx/AWSLogs/ACCT/*",
  "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control","aws:SourceArn":"arn:aws:cloudtrail:us-east-1:ACCT:trail/main"}}}]}`

// TestAWSCLITrail drives trails with `aws cloudtrail`, lets the server
// deliver logs and signed digests into a bucket, validates them with
// both `aws cloudtrail validate-logs` and `coffer trail validate`, then
// deletes, edits and inserts files and checks that both report each.
func TestAWSCLITrail(t *testing.T) {
	aws1 := awsV1(t)
	localDir := t.TempDir()
	srv := harness.Start(t, harness.WithArgs("--trail-delivery-interval", "1s", "--trail-digest-interval", "4s", "--trail-dir", localDir))
	ctx := t.Context()
	acct := accountOf(t, srv)
	s3c := s3Client(srv, srv.AccessKey, srv.SecretKey, "")
	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	ep := srv.Endpoint
	ct := func(args ...string) string {
		t.Helper()
		return srv.Run(ctx, aws1, append([]string{"--endpoint-url", ep, "--output", "json", "cloudtrail"}, args...)...)
	}
	ctErr := func(args ...string) (string, error) {
		return srv.RunErr(ctx, aws1, append([]string{"--endpoint-url", ep, "--output", "json", "cloudtrail"}, args...)...)
	}

	for _, b := range []string{"trail-logs", "data-bucket"} {
		mustDo(t, "CreateBucket "+b, func() error {
			_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
			return err
		})
	}
	// Without the policy CloudTrail may not write: CreateTrail fails.
	if out, err := ctErr("create-trail", "--name", "main", "--s3-bucket-name", "trail-logs"); err == nil || !strings.Contains(out, "InsufficientS3BucketPolicyException") {
		t.Fatalf("create-trail without policy: %v\n%s", err, out)
	}
	if out, err := ctErr("create-trail", "--name", "main", "--s3-bucket-name", "no-such-bucket"); err == nil || !strings.Contains(out, "S3BucketDoesNotExistException") {
		t.Fatalf("create-trail on a missing bucket: %v\n%s", err, out)
	}
	mustDo(t, "PutBucketPolicy", func() error {
		_, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("trail-logs"), Policy: aws.String(strings.ReplaceAll(trailPolicy, "ACCT", acct))})
		return err
	})
	var created struct {
		TrailARN                 string
		LogFileValidationEnabled bool
	}
	decodeOut(t, ct("create-trail", "--name", "main", "--s3-bucket-name", "trail-logs", "--s3-key-prefix", "pfx", "--enable-log-file-validation"), &created)
	arn := "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/main"
	if created.TrailARN != arn || !created.LogFileValidationEnabled {
		t.Fatalf("create-trail: %+v", created)
	}
	var described struct {
		TrailList []struct{ Name, S3BucketName, S3KeyPrefix, HomeRegion string } `json:"trailList"`
	}
	decodeOut(t, ct("describe-trails"), &described)
	if len(described.TrailList) != 1 || described.TrailList[0].S3KeyPrefix != "pfx" || described.TrailList[0].HomeRegion != "us-east-1" {
		t.Fatalf("describe-trails: %+v", described)
	}
	var status struct{ IsLogging bool }
	decodeOut(t, ct("get-trail-status", "--name", "main"), &status)
	if status.IsLogging {
		t.Fatal("a new trail is logging")
	}
	ct("start-logging", "--name", "main")
	decodeOut(t, ct("get-trail-status", "--name", "main"), &status)
	if !status.IsLogging {
		t.Fatal("start-logging did not start the trail")
	}
	ct("put-event-selectors", "--trail-name", "main", "--event-selectors",
		`[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::data-bucket/"]}]}]`)
	var sel struct {
		EventSelectors []struct{ DataResources []struct{ Values []string } }
	}
	decodeOut(t, ct("get-event-selectors", "--trail-name", "main"), &sel)
	if len(sel.EventSelectors) != 1 || sel.EventSelectors[0].DataResources[0].Values[0] != "arn:aws:s3:::data-bucket/" {
		t.Fatalf("get-event-selectors: %+v", sel)
	}
	// Activity over several digest periods.
	for i := range 4 {
		mustDo(t, "PutObject", func() error {
			_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data-bucket"), Key: aws.String("k" + string(rune('0'+i))), Body: strings.NewReader("x")})
			return err
		})
		time.Sleep(2500 * time.Millisecond)
	}
	// Lookup by user, event name and resource.
	var looked struct {
		Events []struct{ EventName, Username string }
	}
	decodeOut(t, ct("lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=StartLogging"), &looked)
	if len(looked.Events) != 1 || looked.Events[0].Username != "root" {
		t.Fatalf("lookup-events StartLogging: %+v", looked)
	}
	decodeOut(t, ct("lookup-events", "--lookup-attributes", "AttributeKey=ResourceName,AttributeValue=data-bucket"), &looked)
	if len(looked.Events) != 1 || looked.Events[0].EventName != "CreateBucket" {
		t.Fatalf("lookup-events data-bucket (management events only): %+v", looked)
	}

	// Untouched files validate with both validators.
	env := "AWS_ENDPOINT_URL_S3=" + ep
	validateAWS := func() (string, error) {
		cmd := exec.CommandContext(ctx, aws1, "--endpoint-url", ep, "cloudtrail", "validate-logs", "--trail-arn", arn,
			"--start-time", start.Format(time.RFC3339), "--verbose")
		cmd.Env = append(srv.Env(), env)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	validateCoffer := func() (string, error) {
		cmd := exec.CommandContext(ctx, harness.Binary(t), "trail", "validate", "--endpoint", ep, "--trail-arn", arn,
			"--start-time", start.Format(time.RFC3339), "--verbose")
		cmd.Env = srv.Env()
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := validateAWS(); err != nil || !strings.Contains(out, "digest files valid") || strings.Contains(out, "INVALID") {
		t.Fatalf("aws validate-logs on untouched files: %v\n%s", err, out)
	}
	if out, err := validateCoffer(); err != nil || strings.Contains(out, "INVALID") {
		t.Fatalf("coffer trail validate on untouched files: %v\n%s", err, out)
	}
	// A log file inserted while the trail runs: the digests that follow
	// do not name it.
	now := time.Now().UTC()
	inserted := "pfx/AWSLogs/" + acct + "/CloudTrail/us-east-1/" + now.Format("2006/01/02") + "/" + acct +
		"_CloudTrail_us-east-1_" + now.Format("20060102T1504Z") + "_ZZZZZZZZZZZZZZZZ.json.gz"
	putGz(t, s3c, inserted, []byte(`{"Records":[]}`), nil)
	mustDo(t, "PutObject", func() error {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data-bucket"), Key: aws.String("k4"), Body: strings.NewReader("x")})
		return err
	})
	time.Sleep(5 * time.Second)
	ct("stop-logging", "--name", "main")

	digests := listKeys(t, s3c, "trail-logs", "pfx/AWSLogs/"+acct+"/CloudTrail-Digest/")
	logs := listKeys(t, s3c, "trail-logs", "pfx/AWSLogs/"+acct+"/CloudTrail/")
	if len(digests) < 3 || len(logs) < 3 {
		t.Fatalf("delivered %d digests, %d logs", len(digests), len(logs))
	}
	// Every PutObject on data-bucket was delivered exactly once.
	puts := 0
	for _, k := range logs {
		for _, r := range readLog(t, s3c, k) {
			if r["eventName"] == "PutObject" && get(r, "requestParameters", "bucketName") == "data-bucket" {
				puts++
			}
		}
	}
	if puts != 5 {
		t.Errorf("%d PutObject records delivered, want 5", puts)
	}
	localOut, err := exec.CommandContext(ctx, harness.Binary(t), "trail", "validate", "--dir", localDir, "--data", srv.Dir,
		"--s3-bucket", "trail-logs", "--s3-prefix", "pfx", "--trail-arn", arn, "--start-time", start.Format(time.RFC3339)).CombinedOutput()
	// The local copies hold no inserted file: they validate.
	if err != nil {
		t.Fatalf("coffer trail validate --dir: %v\n%s", err, localOut)
	}

	// Tamper: the newest digest is edited; logs of older digests are
	// deleted and modified; a log is inserted.
	sort.Strings(digests)
	editedDigest := digests[len(digests)-1]
	older := logsOf(t, s3c, digests[len(digests)-2])
	older = append(older, logsOf(t, s3c, digests[len(digests)-3])...)
	if len(older) < 2 {
		t.Fatalf("older digests name %d logs", len(older))
	}
	deleted, modified := older[0], older[1]
	mustDo(t, "delete log", func() error {
		_, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("trail-logs"), Key: aws.String(deleted)})
		return err
	})
	putGz(t, s3c, modified, []byte(`{"Records":[]}`), nil)
	head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("trail-logs"), Key: aws.String(editedDigest)})
	if err != nil {
		t.Fatal(err)
	}
	body := gunzipObject(t, s3c, editedDigest)
	putGz(t, s3c, editedDigest, bytes.Replace(body, []byte(`"logFiles":[`), []byte(`"logFiles": [`), 1), head.Metadata)

	out, err := validateAWS()
	if err == nil {
		t.Errorf("aws validate-logs passed tampered files:\n%s", out)
	}
	for _, want := range []string{
		"s3://trail-logs/" + deleted + "\tINVALID: not found",
		"s3://trail-logs/" + modified + "\tINVALID: hash value doesn't match",
		"s3://trail-logs/" + editedDigest + "\tINVALID: signature verification failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("aws validate-logs output lacks %q:\n%s", want, out)
		}
	}
	out, err = validateCoffer()
	if err == nil {
		t.Errorf("coffer trail validate passed tampered files:\n%s", out)
	}
	for _, want := range []string{
		"s3://trail-logs/" + deleted + "\tINVALID: not found",
		"s3://trail-logs/" + modified + "\tINVALID: hash value doesn't match",
		"s3://trail-logs/" + editedDigest + "\tINVALID: signature verification failed",
		"s3://trail-logs/" + inserted + "\tINVALID: not named by any digest (inserted)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("coffer trail validate output lacks %q:\n%s", want, out)
		}
	}
}

func decodeOut(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("decoding %q: %v", out, err)
	}
}

func listKeys(t *testing.T, c *s3.Client, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, *o.Key)
		}
	}
	sort.Strings(keys)
	return keys
}

func gunzipObject(t *testing.T, c *s3.Client, key string) []byte {
	t.Helper()
	o, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("trail-logs"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Body.Close()
	zr, err := gzip.NewReader(o.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readLog(t *testing.T, c *s3.Client, key string) []map[string]any {
	t.Helper()
	var f struct{ Records []map[string]any }
	if err := json.Unmarshal(gunzipObject(t, c, key), &f); err != nil {
		t.Fatal(err)
	}
	return f.Records
}

func logsOf(t *testing.T, c *s3.Client, digest string) []string {
	t.Helper()
	var d struct {
		LogFiles []struct{ S3Object string } `json:"logFiles"`
	}
	if err := json.Unmarshal(gunzipObject(t, c, digest), &d); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range d.LogFiles {
		out = append(out, l.S3Object)
	}
	return out
}

func putGz(t *testing.T, c *s3.Client, key string, body []byte, meta map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(body)
	zw.Close()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("trail-logs"), Key: aws.String(key),
		Body: bytes.NewReader(buf.Bytes()), Metadata: meta}); err != nil {
		t.Fatal(err)
	}
}
