// Package compliance drives the configuration recorder, the compliance
// rules, remediation and alerts of the real binary with the aws CLI v2
// (`aws configservice`) and Coffer's own commands, and receives the
// alerts on a webhook server of its own.
package compliance

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/alerts"
	"github.com/coffer-io/coffer/test/harness"
)

const awsV2 = "/usr/bin/aws"

const secret = "webhook-test-secret"

// webhook collects verified alerts.
type webhook struct {
	t      *testing.T
	mu     sync.Mutex
	alerts []alerts.Alert
	srv    *httptest.Server
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{t: t}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get(alerts.HeaderTimestamp)
		if !alerts.Verify([]byte(secret), ts, body, r.Header.Get(alerts.HeaderSignature)) {
			t.Errorf("alert with a bad signature: %s", body)
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		var a alerts.Alert
		if err := json.Unmarshal(body, &a); err != nil {
			t.Errorf("alert body: %v", err)
		}
		w.mu.Lock()
		w.alerts = append(w.alerts, a)
		w.mu.Unlock()
	}))
	t.Cleanup(w.srv.Close)
	return w
}

// wait returns the first alert satisfying f, waiting up to 20s.
func (w *webhook) wait(what string, f func(a alerts.Alert) bool) alerts.Alert {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		for _, a := range w.alerts {
			if f(a) {
				w.mu.Unlock()
				return a
			}
		}
		w.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Fatalf("no %s alert; got %+v", what, w.alerts)
	return alerts.Alert{}
}

type cli struct {
	t   *testing.T
	srv *harness.Server
	ctx context.Context
	env []string // extra environment (another principal's keys)
}

func (c cli) run(args ...string) (string, error) {
	all := append([]string{"--endpoint-url", c.srv.Endpoint, "--output", "json"}, args...)
	cmd := exec.CommandContext(c.ctx, awsV2, all...)
	cmd.Env = append(c.srv.Env(), c.env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c cli) json(v any, args ...string) {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			c.t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func (c cli) fails(code string, args ...string) {
	c.t.Helper()
	out, err := c.run(args...)
	if err == nil || !strings.Contains(out, code) {
		c.t.Fatalf("aws %s: want %s, got %v\n%s", strings.Join(args, " "), code, err, out)
	}
}

// coffer runs the coffer binary against the server.
func (c cli) coffer(args ...string) string {
	c.t.Helper()
	cmd := exec.CommandContext(c.ctx, harness.Binary(c.t), append(args, "--endpoint", c.srv.Endpoint)...)
	cmd.Env = c.srv.Env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("coffer %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func accountID(t *testing.T, s *harness.Server) string {
	i := strings.Index(s.Logs(), "Created the default account ")
	if i < 0 {
		t.Fatalf("no account id in start-up output:\n%s", s.Logs())
	}
	return s.Logs()[i+len("Created the default account "):][:12]
}

func setup(t *testing.T, extra ...string) (cli, *webhook, string) {
	if _, err := os.Stat(awsV2); err != nil {
		if os.Getenv("COFFER_REQUIRE_CLIENTS") == "1" {
			t.Fatalf("aws CLI v2 not installed at %s", awsV2)
		}
		t.Skipf("aws CLI v2 not installed at %s", awsV2)
	}
	wh := newWebhook(t)
	args := append([]string{"--alert-webhook", wh.srv.URL, "--alert-secret", secret, "--alert-retry-base", "50ms",
		"--alert-denied-threshold", "3", "--alert-denied-window", "1m"}, extra...)
	srv := harness.Start(t, harness.WithArgs(args...))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	c := cli{t: t, srv: srv, ctx: ctx}
	return c, wh, accountID(t, srv)
}

const publicPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"}]}`

// makePublic lifts the account's and the bucket's Block Public Access and
// puts a public-read bucket policy.
func (c cli) makePublic(acct, bucket string) {
	c.t.Helper()
	c.coffer("admin", "public-access-block", "put", "--account-id", acct,
		"--no-block-public-acls", "--no-ignore-public-acls", "--no-block-public-policy", "--no-restrict-public-buckets")
	c.json(nil, "s3api", "delete-public-access-block", "--bucket", bucket)
	c.json(nil, "s3api", "put-bucket-policy", "--bucket", bucket, "--policy", strings.ReplaceAll(publicPolicy, "%s", bucket))
}

type compliance struct {
	ComplianceByConfigRules []struct {
		ConfigRuleName string
		Compliance     struct{ ComplianceType string }
	}
}

// ruleCompliance waits until the rule reaches want (evaluation follows a
// change asynchronously).
func (c cli) ruleCompliance(rule, want string) {
	c.t.Helper()
	var got compliance
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		c.json(&got, "configservice", "describe-compliance-by-config-rule", "--config-rule-names", rule)
		if len(got.ComplianceByConfigRules) == 1 && got.ComplianceByConfigRules[0].Compliance.ComplianceType == want {
			return
		}
	}
	c.t.Fatalf("rule %s: %+v, want %s", rule, got, want)
}

type historyOut struct {
	ConfigurationItems []struct {
		ConfigurationItemStatus    string
		ConfigurationStateId       string
		ResourceId                 string
		AccountId                  string
		SupplementaryConfiguration map[string]string
	}
}

func TestConfigServiceWithAWSCLIv2(t *testing.T) {
	c, wh, acct := setup(t, "--rules-interval", "2s")
	c.json(nil, "s3api", "create-bucket", "--bucket", "data")
	c.json(nil, "s3api", "create-bucket", "--bucket", "logs")

	// The recorder is on from the start.
	var recs struct {
		ConfigurationRecordersStatus []struct {
			Name      string
			Recording bool
		}
	}
	c.json(&recs, "configservice", "describe-configuration-recorder-status")
	if len(recs.ConfigurationRecordersStatus) != 1 || !recs.ConfigurationRecordersStatus[0].Recording {
		t.Fatalf("recorder status %+v", recs)
	}
	name := recs.ConfigurationRecordersStatus[0].Name
	c.json(nil, "configservice", "describe-configuration-recorders")
	c.fails("NoSuchConfigurationRecorderException", "configservice", "start-configuration-recorder", "--configuration-recorder-name", "nope")

	// Managed rules, with parameters; a custom rule in CEL.
	c.json(nil, "configservice", "put-config-rule", "--config-rule",
		`{"ConfigRuleName":"no-public-read","Source":{"Owner":"AWS","SourceIdentifier":"S3_BUCKET_PUBLIC_READ_PROHIBITED"}}`)
	c.json(nil, "configservice", "put-config-rule", "--config-rule",
		`{"ConfigRuleName":"logging","Source":{"Owner":"AWS","SourceIdentifier":"S3_BUCKET_LOGGING_ENABLED"},"InputParameters":"{\"targetBucket\":\"logs\"}","Scope":{"ComplianceResourceTypes":["AWS::S3::Bucket"],"ComplianceResourceId":"data"}}`)
	c.json(nil, "configservice", "put-config-rule", "--config-rule",
		`{"ConfigRuleName":"versioned","Source":{"Owner":"CUSTOM_POLICY","SourceDetails":[{"EventSource":"aws.config","MessageType":"ConfigurationItemChangeNotification"}],"CustomPolicyDetails":{"PolicyRuntime":"cel","PolicyText":"item.supplementaryConfiguration.BucketVersioningConfiguration.status == \"Enabled\""}}}`)
	c.fails("InvalidParameterValueException", "configservice", "put-config-rule", "--config-rule",
		`{"ConfigRuleName":"bad","Source":{"Owner":"AWS","SourceIdentifier":"S3_NO_SUCH_RULE"}}`)
	c.fails("InvalidParameterValueException", "configservice", "put-config-rule", "--config-rule",
		`{"ConfigRuleName":"bad","Source":{"Owner":"AWS","SourceIdentifier":"S3_BUCKET_LOGGING_ENABLED"},"InputParameters":"{\"nope\":\"1\"}"}`)
	var rules struct {
		ConfigRules []struct {
			ConfigRuleName, ConfigRuleArn, InputParameters string
			Source                                         struct{ Owner, SourceIdentifier string }
		}
	}
	c.json(&rules, "configservice", "describe-config-rules")
	if len(rules.ConfigRules) != 3 || rules.ConfigRules[0].ConfigRuleName != "logging" || rules.ConfigRules[0].InputParameters != `{"targetBucket":"logs"}` ||
		!strings.HasPrefix(rules.ConfigRules[0].ConfigRuleArn, "arn:aws:config:us-east-1:"+acct+":config-rule/") {
		t.Fatalf("rules %+v", rules)
	}
	c.fails("NoSuchConfigRuleException", "configservice", "describe-config-rules", "--config-rule-names", "nope")
	c.ruleCompliance("no-public-read", "COMPLIANT")
	c.ruleCompliance("logging", "NON_COMPLIANT")
	c.ruleCompliance("versioned", "NON_COMPLIANT")
	c.json(nil, "s3api", "put-bucket-versioning", "--bucket", "data", "--versioning-configuration", "Status=Enabled")
	c.json(nil, "s3api", "put-bucket-versioning", "--bucket", "logs", "--versioning-configuration", "Status=Enabled")
	c.ruleCompliance("versioned", "COMPLIANT")

	// A change that makes a bucket public flips the rule and raises
	// alerts, signed.
	c.makePublic(acct, "data")
	c.ruleCompliance("no-public-read", "NON_COMPLIANT")
	pub := wh.wait("BucketPublic", func(a alerts.Alert) bool { return a.Type == "BucketPublic" && a.Resource == "data" })
	if pub.ChangedBy != "arn:aws:iam::"+acct+":root" || pub.Account != acct {
		t.Fatalf("public alert %+v", pub)
	}
	wh.wait("ComplianceChange", func(a alerts.Alert) bool {
		return a.Type == "ComplianceChange" && a.Rule == "no-public-read" && a.Resource == "data" && a.Previous == "COMPLIANT" && a.Current == "NON_COMPLIANT"
	})
	var details struct {
		EvaluationResults []struct {
			EvaluationResultIdentifier struct {
				EvaluationResultQualifier struct{ ConfigRuleName, ResourceType, ResourceId string }
			}
			ComplianceType, Annotation string
		}
	}
	c.json(&details, "configservice", "get-compliance-details-by-config-rule", "--config-rule-name", "no-public-read", "--compliance-types", "NON_COMPLIANT")
	if len(details.EvaluationResults) != 1 || details.EvaluationResults[0].EvaluationResultIdentifier.EvaluationResultQualifier.ResourceId != "data" ||
		!strings.Contains(details.EvaluationResults[0].Annotation, "public read") {
		t.Fatalf("details %+v", details)
	}
	c.json(nil, "configservice", "start-config-rules-evaluation", "--config-rule-names", "no-public-read", "logging")
	var byRes struct {
		ComplianceByResources []struct {
			ResourceId string
			Compliance struct{ ComplianceType string }
		}
	}
	c.json(&byRes, "configservice", "describe-compliance-by-resource", "--resource-type", "AWS::S3::Bucket", "--resource-id", "logs")
	if len(byRes.ComplianceByResources) != 1 || byRes.ComplianceByResources[0].Compliance.ComplianceType != "COMPLIANT" {
		t.Fatalf("by resource %+v", byRes)
	}

	// History: newest first, each change with a new state id; the policy
	// is in the supplementary configuration.
	var h historyOut
	c.json(&h, "configservice", "get-resource-config-history", "--resource-type", "AWS::S3::Bucket", "--resource-id", "data")
	if len(h.ConfigurationItems) < 4 || h.ConfigurationItems[len(h.ConfigurationItems)-1].ConfigurationItemStatus != "ResourceDiscovered" ||
		!strings.Contains(h.ConfigurationItems[0].SupplementaryConfiguration["BucketPolicy"], "s3:GetObject") || h.ConfigurationItems[0].AccountId != acct {
		t.Fatalf("history %+v", h)
	}
	if h.ConfigurationItems[0].ConfigurationStateId <= h.ConfigurationItems[1].ConfigurationStateId {
		t.Fatalf("state ids not increasing: %+v", h)
	}
	c.fails("ResourceNotDiscoveredException", "configservice", "get-resource-config-history", "--resource-type", "AWS::S3::Bucket", "--resource-id", "nope")
	out := c.coffer("config", "history", "data")
	if !strings.Contains(out, "PutBucketPolicy") || !strings.Contains(out, "arn:aws:iam::"+acct+":root") || !strings.Contains(out, "ResourceDiscovered") {
		t.Fatalf("coffer config history:\n%s", out)
	}
	var acctHist historyOut
	c.json(&acctHist, "configservice", "get-resource-config-history", "--resource-type", "AWS::S3::AccountPublicAccessBlock", "--resource-id", acct)
	if len(acctHist.ConfigurationItems) != 2 {
		t.Fatalf("account history %+v", acctHist)
	}

	// Stopping the recorder stops recording (and is audited); starting it
	// records what changed meanwhile.
	c.json(nil, "configservice", "stop-configuration-recorder", "--configuration-recorder-name", name)
	c.json(nil, "s3api", "put-bucket-tagging", "--bucket", "data", "--tagging", "TagSet=[{Key=team,Value=blue}]")
	time.Sleep(300 * time.Millisecond)
	var h2 historyOut
	c.json(&h2, "configservice", "get-resource-config-history", "--resource-type", "AWS::S3::Bucket", "--resource-id", "data")
	if len(h2.ConfigurationItems) != len(h.ConfigurationItems) {
		t.Fatalf("stopped recorder recorded: %d items, had %d", len(h2.ConfigurationItems), len(h.ConfigurationItems))
	}
	c.json(nil, "configservice", "start-configuration-recorder", "--configuration-recorder-name", name)
	deadline := time.Now().Add(10 * time.Second)
	for len(h2.ConfigurationItems) == len(h.ConfigurationItems) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		c.json(&h2, "configservice", "get-resource-config-history", "--resource-type", "AWS::S3::Bucket", "--resource-id", "data")
	}
	if len(h2.ConfigurationItems) != len(h.ConfigurationItems)+1 || !strings.Contains(h2.ConfigurationItems[0].SupplementaryConfiguration["BucketTaggingConfiguration"], "blue") {
		t.Fatalf("after restart: %+v", h2)
	}
	audit, err := os.ReadFile(filepath.Join(c.srv.Dir, "audit", "audit.log"))
	if err == nil && !strings.Contains(string(audit), `"operation":"StopConfigurationRecorder"`) {
		// The audit log is flushed every second.
		time.Sleep(1500 * time.Millisecond)
		audit, err = os.ReadFile(filepath.Join(c.srv.Dir, "audit", "audit.log"))
	}
	if err != nil || !strings.Contains(string(audit), `"operation":"StopConfigurationRecorder"`) || !strings.Contains(string(audit), `"service":"coffer-alerts"`) {
		t.Fatalf("audit log lacks the recorder call or the alerts: %v", err)
	}

	// Discovered resources, deletion.
	c.json(nil, "s3api", "delete-bucket", "--bucket", "logs")
	var disc struct {
		ResourceIdentifiers []struct{ ResourceId string }
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		c.json(&disc, "configservice", "list-discovered-resources", "--resource-type", "AWS::S3::Bucket")
		if len(disc.ResourceIdentifiers) == 1 {
			break
		}
	}
	if len(disc.ResourceIdentifiers) != 1 || disc.ResourceIdentifiers[0].ResourceId != "data" {
		t.Fatalf("discovered %+v", disc)
	}
	c.json(&disc, "configservice", "list-discovered-resources", "--resource-type", "AWS::S3::Bucket", "--include-deleted-resources")
	if len(disc.ResourceIdentifiers) != 2 {
		t.Fatalf("discovered with deleted %+v", disc)
	}

	// Conformance pack and the report.
	c.json(nil, "configservice", "put-conformance-pack", "--conformance-pack-name", "cis", "--template-body", "coffer:cis-securityhub-s3")
	c.fails("ConformancePackTemplateValidationException", "configservice", "put-conformance-pack", "--conformance-pack-name", "other", "--template-body", "Resources: {}")
	dir := t.TempDir()
	out = c.coffer("compliance", "report", "--out", dir)
	if !strings.Contains(out, "s3-bucket-public-read-prohibited") || !strings.Contains(out, "NON_COMPLIANT") {
		t.Fatalf("report:\n%s", out)
	}
	var rep struct {
		Rules []struct{ Name, Compliance string }
	}
	raw, err := os.ReadFile(filepath.Join(dir, "compliance-report.json"))
	if err != nil || json.Unmarshal(raw, &rep) != nil || len(rep.Rules) < 14 {
		t.Fatalf("JSON report: %v\n%s", err, raw)
	}
	if md, err := os.ReadFile(filepath.Join(dir, "compliance-report.md")); err != nil || !strings.Contains(string(md), "| s3-bucket-ssl-requests-only | S3_BUCKET_SSL_REQUESTS_ONLY | NON_COMPLIANT |") {
		t.Fatalf("Markdown report: %v\n%s", err, md)
	}

	// Denied-request spike: anonymous listings (the policy grants only
	// GetObject).
	for range 3 {
		if out, err := c.run("s3api", "list-objects-v2", "--bucket", "data", "--no-sign-request"); err == nil || !strings.Contains(out, "AccessDenied") {
			t.Fatalf("anonymous listing: %v\n%s", err, out)
		}
	}
	wh.wait("DeniedRequestSpike", func(a alerts.Alert) bool { return a.Type == "DeniedRequestSpike" })

	// The metric.
	resp, err := c.srv.HTTPClient().Get(c.srv.Endpoint + "/_coffer/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `coffer_noncompliant_resources{account="`+acct+`"}`) {
		t.Fatalf("metrics lack coffer_noncompliant_resources:\n%s", body)
	}

	var evst struct {
		ConfigRulesEvaluationStatus []struct {
			ConfigRuleName         string
			FirstEvaluationStarted bool
		}
	}
	c.json(&evst, "configservice", "describe-config-rule-evaluation-status", "--config-rule-names", "no-public-read")
	if len(evst.ConfigRulesEvaluationStatus) != 1 || !evst.ConfigRulesEvaluationStatus[0].FirstEvaluationStarted {
		t.Fatalf("evaluation status %+v", evst)
	}

	// An IAM user needs config:* permissions like any other action.
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	c.json(nil, "iam", "create-user", "--user-name", "auditor")
	c.json(&key, "iam", "create-access-key", "--user-name", "auditor")
	user := c
	user.env = []string{"AWS_ACCESS_KEY_ID=" + key.AccessKey.AccessKeyId, "AWS_SECRET_ACCESS_KEY=" + key.AccessKey.SecretAccessKey}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		out, err := user.run("configservice", "describe-config-rules")
		if err != nil && strings.Contains(out, "AccessDeniedException") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("IAM user without permissions: %v\n%s", err, out)
		}
	}
	c.json(nil, "iam", "put-user-policy", "--user-name", "auditor", "--policy-name", "read-config", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["config:Describe*","config:Get*"],"Resource":"*"}]}`)
	user.json(&rules, "configservice", "describe-config-rules")
	if len(rules.ConfigRules) != 3+14 { // three rules and the pack's
		t.Fatalf("auditor sees %+v", rules)
	}
	user.fails("AccessDeniedException", "configservice", "delete-config-rule", "--config-rule-name", "versioned")

	c.json(nil, "configservice", "delete-config-rule", "--config-rule-name", "versioned")
	c.fails("NoSuchConfigRuleException", "configservice", "delete-config-rule", "--config-rule-name", "versioned")
}

func TestAutoRemediation(t *testing.T) {
	c, wh, acct := setup(t, "--auto-remediate")
	c.json(nil, "s3api", "create-bucket", "--bucket", "data")
	c.json(nil, "configservice", "put-config-rule", "--config-rule",
		`{"ConfigRuleName":"no-public-read","Source":{"Owner":"AWS","SourceIdentifier":"S3_BUCKET_PUBLIC_READ_PROHIBITED"}}`)
	c.json(nil, "configservice", "put-config-rule", "--config-rule",
		`{"ConfigRuleName":"tls-only","Source":{"Owner":"AWS","SourceIdentifier":"S3_BUCKET_SSL_REQUESTS_ONLY"}}`)
	c.makePublic(acct, "data")
	wh.wait("BucketPublic", func(a alerts.Alert) bool { return a.Type == "BucketPublic" && a.Resource == "data" })
	wh.wait("Remediation", func(a alerts.Alert) bool {
		return a.Type == "Remediation" && a.Rule == "no-public-read" && strings.Contains(a.Detail, "applied")
	})
	c.ruleCompliance("no-public-read", "COMPLIANT")
	c.ruleCompliance("tls-only", "COMPLIANT")
	var pab struct {
		PublicAccessBlockConfiguration map[string]bool
	}
	c.json(&pab, "s3api", "get-public-access-block", "--bucket", "data")
	for k, v := range pab.PublicAccessBlockConfiguration {
		if !v {
			t.Fatalf("%s still off after remediation: %+v", k, pab)
		}
	}
	var pol struct{ Policy string }
	c.json(&pol, "s3api", "get-bucket-policy", "--bucket", "data")
	if !strings.Contains(pol.Policy, "aws:SecureTransport") || !strings.Contains(pol.Policy, "s3:GetObject") {
		t.Fatalf("policy after remediation: %s", pol.Policy)
	}
	// The remediations are in the configuration history, by the AWS
	// Config service principal; the rule's verdicts in its history.
	out := c.coffer("config", "history", "data")
	if !strings.Contains(out, "config.amazonaws.com") {
		t.Fatalf("history lacks the remediation:\n%s", out)
	}
	out = c.coffer("compliance", "history", "no-public-read")
	if strings.Count(out, "no-public-read") != 3 || !strings.Contains(out, "NON_COMPLIANT") {
		t.Fatalf("compliance history (want COMPLIANT, NON_COMPLIANT, COMPLIANT):\n%s", out)
	}
}
