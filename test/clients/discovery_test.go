package clients

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/alerts"
	"github.com/coffer-io/coffer/internal/auth/sigv4"
	"github.com/coffer-io/coffer/test/harness"
	"github.com/parquet-go/parquet-go"
)

// macieFinding is what the test reads of a finding.
type macieFinding struct {
	ID, Type, Category string
	Count              int
	Severity           struct{ Description string }
	ResourcesAffected  struct {
		S3Bucket struct {
			Name         string
			PublicAccess struct{ EffectivePermission string }
		}
		S3Object struct {
			Key, VersionId       string
			ServerSideEncryption struct{ EncryptionType string }
		}
	}
	ClassificationDetails struct {
		JobId  string
		Result struct {
			SensitiveData []struct {
				Category   string
				Detections []struct {
					Type  string
					Count int
				}
			}
		}
	}
}

// TestDiscoveryEndToEnd uploads documents with planted sensitive data
// through the aws CLI v2, runs classification jobs with `coffer
// discovery run` and `aws macie2 create-classification-job`, reads the
// findings both ways, then makes the bucket public and watches the
// findings' severity rise.
func TestDiscoveryEndToEnd(t *testing.T) {
	t.Parallel()
	requireAWSCLIv2(t)
	// A webhook receives the findings as signed alerts.
	const secret = "discovery-test-secret"
	var mu sync.Mutex
	var received []alerts.Alert
	wh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !alerts.Verify([]byte(secret), r.Header.Get(alerts.HeaderTimestamp), body, r.Header.Get(alerts.HeaderSignature)) {
			t.Errorf("alert with a bad signature: %s", body)
		}
		var a alerts.Alert
		_ = json.Unmarshal(body, &a)
		mu.Lock()
		received = append(received, a)
		mu.Unlock()
	}))
	t.Cleanup(wh.Close)
	srv := harness.Start(t, harness.WithArgs("--discovery-job-poll", "1s", "--alert-webhook", wh.URL, "--alert-secret", secret))
	ctx := testContext(t)
	a := awsCLI{runner{ctx: ctx, env: srv.Env(), bin: awsV2Path, args: []string{"--endpoint-url", srv.Endpoint, "--output", "json"}}}
	coffer := harness.Binary(t)
	var who struct{ Account string }
	a.json(t, &who, "sts", "get-caller-identity")
	acct := who.Account

	dir := t.TempDir()
	files := map[string]string{
		"hr/employees.csv": "name,email,ssn\nAlice Smith,alice.smith@example.org,536-22-8712\nBob Jones,bob.jones@example.net,412-56-7193\n",
		"billing/cards.txt": "Customer payment details\nCredit card number: 4532 0151 1283 0366 exp 09/29\n" +
			"Visa card 4916 3380 5694 0851 on file\n",
		"ops/deploy.env":  "# deployment\naws_access_key_id = AKIAQ3EGRFXZ7KLMN2PB\naws_secret_access_key = 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\n",
		"docs/readme.txt": "Nothing to see here: a plain document about gardening and tomatoes.\n",
		"kms/cards.txt":   "Credit card number: 4532 0151 1283 0366\n",
	}
	writeFiles(t, dir, files)
	// A Parquet file of customer records.
	type customer struct {
		Name  string `parquet:"name"`
		Email string `parquet:"email"`
		SSN   string `parquet:"ssn"`
	}
	var pq bytes.Buffer
	pw := parquet.NewGenericWriter[customer](&pq)
	if _, err := pw.Write([]customer{{"Alice Smith", "alice.smith@example.org", "536-22-8712"}, {"Bob Jones", "bob.jones@example.net", "412-56-7193"}}); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "customers.parquet"), pq.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	files["customers.parquet"] = ""
	a.run(t, "s3api", "create-bucket", "--bucket", "disc")
	for k := range files {
		args := []string{"s3api", "put-object", "--bucket", "disc", "--key", k, "--body", filepath.Join(dir, k)}
		if strings.HasPrefix(k, "kms/") {
			args = append(args, "--server-side-encryption", "aws:kms")
		}
		a.run(t, args...)
	}

	// coffer discovery run: create, wait, summarise.
	out := srv.Run(ctx, coffer, "discovery", "run", "disc", "--name", "first", "--json", "--endpoint", srv.Endpoint)
	var run struct {
		Job      struct{ JobId, JobStatus string }
		Findings []macieFinding
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatalf("discovery run: %v\n%s", err, out)
	}
	if run.Job.JobStatus != "COMPLETE" {
		t.Fatalf("job: %+v", run.Job)
	}
	byKey := map[string]macieFinding{}
	for _, f := range run.Findings {
		byKey[f.ResourcesAffected.S3Object.Key] = f
	}
	t.Logf("findings: %d", len(run.Findings))
	for k, f := range byKey {
		t.Logf("%s: %s %s %+v", k, f.Type, f.Severity.Description, f.ClassificationDetails.Result.SensitiveData)
	}
	want := map[string]string{
		"billing/cards.txt": "SensitiveData:S3Object/Financial",
		"ops/deploy.env":    "SensitiveData:S3Object/Credentials",
		"kms/cards.txt":     "SensitiveData:S3Object/Financial",
	}
	for k, typ := range want {
		if f, ok := byKey[k]; !ok || f.Type != typ {
			t.Errorf("%s: finding %+v, want type %s", k, f, typ)
		}
	}
	if f, ok := byKey["hr/employees.csv"]; !ok || (f.Type != "SensitiveData:S3Object/Personal" && f.Type != "SensitiveData:S3Object/Multiple") {
		t.Errorf("hr/employees.csv: %+v", f)
	}
	if f := byKey["customers.parquet"]; f.ClassificationDetails.Result.SensitiveData == nil {
		t.Errorf("customers.parquet: no sensitive data found: %+v", f)
	}
	if _, ok := byKey["docs/readme.txt"]; ok {
		t.Errorf("finding for a document without sensitive data")
	}
	if f := byKey["kms/cards.txt"]; f.ResourcesAffected.S3Object.ServerSideEncryption.EncryptionType != "aws:kms" {
		t.Errorf("SSE-KMS object: %+v", f.ResourcesAffected.S3Object)
	}
	if f := byKey["billing/cards.txt"]; f.Severity.Description != "Medium" || f.ResourcesAffected.S3Bucket.PublicAccess.EffectivePermission != "NOT_PUBLIC" {
		t.Errorf("private bucket's financial finding: %+v", f)
	}

	// The same through Macie's API with the aws CLI.
	var job struct{ JobId string }
	a.json(t, &job, "macie2", "create-classification-job", "--job-type", "ONE_TIME", "--name", "second",
		"--s3-job-definition", `{"bucketDefinitions":[{"accountId":"`+acct+`","buckets":["disc"]}],"scoping":{"includes":{"and":[{"simpleScopeTerm":{"comparator":"STARTS_WITH","key":"OBJECT_KEY","values":["billing/","ops/"]}}]}}}`)
	var desc struct {
		JobStatus  string
		Statistics struct{ NumberOfRuns float64 }
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(300 * time.Millisecond) {
		a.json(t, &desc, "macie2", "describe-classification-job", "--job-id", job.JobId)
		if desc.JobStatus != "RUNNING" || time.Now().After(deadline) {
			break
		}
	}
	if desc.JobStatus != "COMPLETE" || desc.Statistics.NumberOfRuns != 1 {
		t.Fatalf("describe-classification-job: %+v", desc)
	}
	var ids struct{ FindingIds []string }
	a.json(t, &ids, "macie2", "list-findings", "--finding-criteria",
		`{"criterion":{"classificationDetails.jobId":{"eq":["`+job.JobId+`"]}}}`)
	if len(ids.FindingIds) != 2 {
		t.Fatalf("list-findings for the scoped job: %v", ids.FindingIds)
	}
	var got struct{ Findings []macieFinding }
	a.json(t, &got, append([]string{"macie2", "get-findings", "--finding-ids"}, ids.FindingIds...)...)
	if len(got.Findings) != 2 {
		t.Fatalf("get-findings: %+v", got)
	}
	for _, f := range got.Findings {
		if k := f.ResourcesAffected.S3Object.Key; !strings.HasPrefix(k, "billing/") && !strings.HasPrefix(k, "ops/") {
			t.Errorf("out-of-scope object %s", k)
		}
	}
	var stats struct {
		CountsByGroup []struct {
			GroupKey string
			Count    int
		}
	}
	a.json(t, &stats, "macie2", "get-finding-statistics", "--group-by", "type")
	if len(stats.CountsByGroup) == 0 {
		t.Fatal("get-finding-statistics: empty")
	}

	// coffer discovery findings: a table filtered by severity.
	table := srv.Run(ctx, coffer, "discovery", "findings", "--severity", "High", "--endpoint", srv.Endpoint)
	mustContain(t, "discovery findings --severity High", table, "SensitiveData:S3Object/Credentials", "ops/deploy.env")
	mustNotContain(t, "discovery findings --severity High", table, "billing/cards.txt")

	// Make the bucket public: findings there become more severe. The
	// account's Block Public Access goes first (the aws CLI cannot reach
	// S3 Control at a local endpoint: it puts the account in the host).
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, srv.Endpoint+"/v20180820/configuration/publicAccessBlock", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Account-Id", acct)
	sigv4.SignRequest(&sigv4.Request{Method: req.Method, Host: req.URL.Host, EscapedPath: req.URL.EscapedPath(), Header: req.Header},
		srv.AccessKey, srv.SecretKey, srv.Region, "s3", sigv4.HashHex(nil), time.Now())
	resp, err := srv.HTTPClient().Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DeletePublicAccessBlock (account): %v %v", resp, err)
	}
	resp.Body.Close()
	a.run(t, "s3api", "put-public-access-block", "--bucket", "disc", "--public-access-block-configuration",
		"BlockPublicAcls=false,IgnorePublicAcls=false,BlockPublicPolicy=false,RestrictPublicBuckets=false")
	a.run(t, "s3api", "put-bucket-policy", "--bucket", "disc", "--policy",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::disc/*"}]}`)
	fid := byKey["billing/cards.txt"].ID
	var f struct{ Findings []macieFinding }
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		a.json(t, &f, "macie2", "get-findings", "--finding-ids", fid)
		if len(f.Findings) == 1 && f.Findings[0].Severity.Description == "High" || time.Now().After(deadline) {
			break
		}
	}
	if len(f.Findings) != 1 || f.Findings[0].Severity.Description != "High" ||
		f.Findings[0].ResourcesAffected.S3Bucket.PublicAccess.EffectivePermission != "PUBLIC" {
		t.Fatalf("finding after the bucket went public: %+v", f.Findings)
	}
	// The webhook saw the finding rise; the trail has the alert events.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		seen := false
		for _, a := range received {
			if a.Type == "MacieFinding" && a.Resource == "disc" && a.Current == "High" && strings.Contains(a.Detail, "Financial") {
				seen = true
			}
		}
		mu.Unlock()
		if seen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no High MacieFinding alert for the public bucket: %+v", received)
		}
	}
	var events struct {
		Events []struct{ EventName, EventSource string }
	}
	a.json(t, &events, "cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=MacieFinding")
	if len(events.Events) == 0 {
		t.Error("no MacieFinding event in the trail")
	}

	var pol struct{ FindingIds []string }
	a.json(t, &pol, "macie2", "list-findings", "--finding-criteria", `{"criterion":{"type":{"eq":["Policy:IAMUser/S3BucketPublic"]}}}`)
	if len(pol.FindingIds) != 1 {
		t.Fatalf("policy finding for the public bucket: %v", pol.FindingIds)
	}
}
