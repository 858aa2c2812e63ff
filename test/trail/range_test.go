package trail

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer-io/coffer/test/harness"
)

// lookAhead is how far past --end-time both validators read digests: the
// aws CLI lists digest keys dated up to an hour after it (logs delivered
// after the period they record), and coffer trail validate does the same.
const lookAhead = time.Hour

// TestAWSCLITrailUntouchedRange tampers only with files of a later digest
// period and checks that both validators still pass an earlier range
// whose look-ahead does not reach the tampered period, while the later
// range reports every tampered file. The server's test clock moves two
// hours between the periods, more than the validators' look-ahead.
func TestAWSCLITrailUntouchedRange(t *testing.T) {
	aws1 := awsV1(t)
	const gap = 2 * lookAhead
	srv := harness.Start(t, harness.WithTestClock(), harness.WithArgs("--trail-delivery-interval", "1s", "--trail-digest-interval", "3s"))
	ctx := t.Context()
	acct := accountOf(t, srv)
	s3c := s3Client(srv, srv.AccessKey, srv.SecretKey, "")
	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	ep := srv.Endpoint
	ct := func(args ...string) string {
		t.Helper()
		return srv.Run(ctx, aws1, append([]string{"--endpoint-url", ep, "--output", "json", "cloudtrail"}, args...)...)
	}
	for _, b := range []string{"trail-logs", "data-bucket"} {
		mustDo(t, "CreateBucket "+b, func() error {
			_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
			return err
		})
	}
	mustDo(t, "PutBucketPolicy", func() error {
		_, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("trail-logs"), Policy: aws.String(strings.ReplaceAll(trailPolicy, "ACCT", acct))})
		return err
	})
	ct("create-trail", "--name", "main", "--s3-bucket-name", "trail-logs", "--s3-key-prefix", "pfx", "--enable-log-file-validation")
	ct("put-event-selectors", "--trail-name", "main", "--event-selectors",
		`[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::data-bucket/"]}]}]`)
	ct("start-logging", "--name", "main")
	arn := "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/main"
	put := func(key string) {
		t.Helper()
		mustDo(t, "PutObject "+key, func() error {
			_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data-bucket"), Key: aws.String(key), Body: strings.NewReader("x")})
			return err
		})
	}
	digestDir := "pfx/AWSLogs/" + acct + "/CloudTrail-Digest/"

	// The earlier period: activity over several digests, then enough time
	// for digests closing after endA to be delivered.
	for i := range 3 {
		put("a" + string(rune('0'+i)))
		time.Sleep(1500 * time.Millisecond)
	}
	endA := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	time.Sleep(8 * time.Second)
	earlier := listKeys(t, s3c, "trail-logs", digestDir)
	if len(earlier) < 3 {
		t.Fatalf("%d digests in the earlier period", len(earlier))
	}

	// The later period, two hours on by the trail's clock.
	srv.AdvanceClock(gap)
	put("b0")
	time.Sleep(1500 * time.Millisecond)
	later := time.Now().UTC().Add(gap)
	inserted := "pfx/AWSLogs/" + acct + "/CloudTrail/us-east-1/" + later.Format("2006/01/02") + "/" + acct +
		"_CloudTrail_us-east-1_" + later.Format("20060102T1504Z") + "_ZZZZZZZZZZZZZZZZ.json.gz"
	putGz(t, s3c, inserted, []byte(`{"Records":[]}`), nil)
	put("b1")
	time.Sleep(1500 * time.Millisecond)
	put("b2")
	time.Sleep(8 * time.Second)
	// Stopped, the trail delivers no digest after the one edited below.
	ct("stop-logging", "--name", "main")
	time.Sleep(2 * time.Second)
	var laterDigests []string
	for _, k := range listKeys(t, s3c, "trail-logs", digestDir) {
		if !slices.Contains(earlier, k) {
			laterDigests = append(laterDigests, k)
		}
	}
	if len(laterDigests) < 3 {
		t.Fatalf("%d digests in the later period", len(laterDigests))
	}

	// Tamper with the later period only: edit its newest digest, delete
	// and modify logs its older digests name, insert a log (above).
	editedDigest := laterDigests[len(laterDigests)-1]
	var older []string
	for _, d := range laterDigests[:len(laterDigests)-1] {
		older = append(older, logsOf(t, s3c, d)...)
	}
	if len(older) < 2 {
		t.Fatalf("older digests of the later period name %d logs", len(older))
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

	validateAWS := func(end time.Time) (string, error) {
		cmd := exec.CommandContext(ctx, aws1, "--endpoint-url", ep, "cloudtrail", "validate-logs", "--trail-arn", arn,
			"--start-time", start.Format(time.RFC3339), "--end-time", end.Format(time.RFC3339), "--verbose")
		cmd.Env = append(srv.Env(), "AWS_ENDPOINT_URL_S3="+ep)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	validateCoffer := func(end time.Time) (string, error) {
		cmd := exec.CommandContext(ctx, harness.Binary(t), "trail", "validate", "--endpoint", ep, "--trail-arn", arn,
			"--start-time", start.Format(time.RFC3339), "--end-time", end.Format(time.RFC3339), "--verbose")
		cmd.Env = srv.Env()
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	// The earlier range validates with both: every digest of it, and
	// nothing of the later period.
	for name, validate := range map[string]func(time.Time) (string, error){"aws validate-logs": validateAWS, "coffer trail validate": validateCoffer} {
		out, err := validate(endA)
		if err != nil || strings.Contains(out, "INVALID") {
			t.Errorf("%s on the untouched earlier range: %v\n%s", name, err, out)
		}
		for _, d := range earlier {
			if !strings.Contains(out, "s3://trail-logs/"+d+"\tvalid") {
				t.Errorf("%s on the earlier range did not validate %s:\n%s", name, d, out)
			}
		}
		for _, d := range laterDigests {
			if strings.Contains(out, d) {
				t.Errorf("%s on the earlier range read %s of the later period:\n%s", name, d, out)
			}
		}
	}

	// The later range reports each tampered file with both.
	endB := time.Now().UTC().Add(gap).Add(time.Minute)
	wantAWS := []string{
		"s3://trail-logs/" + deleted + "\tINVALID: not found",
		"s3://trail-logs/" + modified + "\tINVALID: hash value doesn't match",
		"s3://trail-logs/" + editedDigest + "\tINVALID: signature verification failed",
	}
	out, err := validateAWS(endB)
	if err == nil {
		t.Errorf("aws validate-logs passed the tampered later range:\n%s", out)
	}
	for _, want := range wantAWS {
		if !strings.Contains(out, want) {
			t.Errorf("aws validate-logs output lacks %q:\n%s", want, out)
		}
	}
	out, err = validateCoffer(endB)
	if err == nil {
		t.Errorf("coffer trail validate passed the tampered later range:\n%s", out)
	}
	for _, want := range append(wantAWS, "s3://trail-logs/"+inserted+"\tINVALID: not named by any digest (inserted)") {
		if !strings.Contains(out, want) {
			t.Errorf("coffer trail validate output lacks %q:\n%s", want, out)
		}
	}
}
