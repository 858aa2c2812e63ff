package configapi

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/configrec"
	"github.com/coffer-io/coffer/internal/rules"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

const acct = "111111111111"

type source struct{ buckets []*meta.Bucket }

func (s source) GetBucket(_ context.Context, name string) (*meta.Bucket, error) {
	for _, b := range s.buckets {
		if b.Name == name {
			return b, nil
		}
	}
	return nil, meta.ErrBucketNotFound
}
func (s source) ListBuckets(context.Context, string) ([]*meta.Bucket, error) { return s.buckets, nil }
func (s source) GetAccount(_ context.Context, id string) (*meta.Account, error) {
	return &meta.Account{ID: id, CanonicalID: "c"}, nil
}
func (s source) ListAccounts(context.Context) ([]*meta.Account, error) {
	return []*meta.Account{{ID: acct}}, nil
}
func (s source) GetAccountSettings(context.Context, string) (*meta.AccountSettings, error) {
	return &meta.AccountSettings{}, nil
}

func newHandler(t *testing.T) *Handler {
	st := configrec.NewMemoryStore()
	rec := &configrec.Recorder{Store: st, Region: "us-east-1",
		Source: source{[]*meta.Bucket{{Name: "data", Owner: acct, CreatedAt: time.Unix(1700000000, 0)}}}}
	eng := &rules.Engine{Store: st, Recorder: rec, Region: "us-east-1"}
	rec.OnChange(eng.OnChange)
	rec.Start(t.Context())
	t.Cleanup(func() { rec.Close() })
	rec.Flush()
	return &Handler{Recorder: rec, Store: st, Rules: eng, Region: "us-east-1"}
}

func TestErrors(t *testing.T) {
	h := newHandler(t)
	caller := &authn.Principal{AccountID: acct}
	for _, c := range []struct {
		op, body, code string
		status         int
	}{
		{"Nope", `{}`, "UnknownOperationException", 400},
		{"PutConfigRule", `{`, "SerializationException", 400},
		{"PutConfigRule", `{"ConfigRule":{"ConfigRuleName":"a b","Source":{"Owner":"AWS","SourceIdentifier":"S3_BUCKET_ACL_PROHIBITED"}}}`, "ValidationException", 400},
		{"PutConfigRule", `{"ConfigRule":{"ConfigRuleName":"r","Source":{"Owner":"AWS","SourceIdentifier":"S3_X"}}}`, "InvalidParameterValueException", 400},
		{"PutConfigRule", `{"ConfigRule":{"ConfigRuleName":"r","Source":{"Owner":"AWS","SourceIdentifier":"S3_BUCKET_ACL_PROHIBITED"},"InputParameters":"[1]"}}`, "InvalidParameterValueException", 400},
		{"PutConfigRule", `{"ConfigRule":{"ConfigRuleName":"r","Source":{"Owner":"CUSTOM_POLICY","CustomPolicyDetails":{"PolicyRuntime":"guard-2.x.x","PolicyText":"x"}}}}`, "InvalidParameterValueException", 400},
		{"PutConfigRule", `{"ConfigRule":{"ConfigRuleName":"r","Source":{"Owner":"CUSTOM_LAMBDA","SourceIdentifier":"arn:aws:lambda:x"}}}`, "InvalidParameterValueException", 400},
		{"PutConfigRule", `{"ConfigRule":{"ConfigRuleName":"r","Source":{"Owner":"AWS","SourceIdentifier":"S3_BUCKET_ACL_PROHIBITED"},"Scope":{"TagKey":"a"}}}`, "InvalidParameterValueException", 400},
		{"DeleteConfigRule", `{"ConfigRuleName":"none"}`, "NoSuchConfigRuleException", 400},
		{"GetComplianceDetailsByConfigRule", `{"ConfigRuleName":"none"}`, "NoSuchConfigRuleException", 400},
		{"StartConfigRulesEvaluation", `{}`, "ValidationException", 400},
		{"StartConfigurationRecorder", `{"ConfigurationRecorderName":"x"}`, "NoSuchConfigurationRecorderException", 400},
		{"DescribeConfigurationRecorders", `{"ConfigurationRecorderNames":["x"]}`, "NoSuchConfigurationRecorderException", 400},
		{"PutConfigurationRecorder", `{"ConfigurationRecorder":{"name":"default","recordingGroup":{"allSupported":false,"resourceTypes":["AWS::EC2::Instance"]}}}`, "InvalidParameterValueException", 400},
		{"GetResourceConfigHistory", `{"resourceType":"AWS::EC2::Instance","resourceId":"i"}`, "ValidationException", 400},
		{"GetResourceConfigHistory", `{"resourceType":"AWS::S3::Bucket","resourceId":"nope"}`, "ResourceNotDiscoveredException", 400},
		{"GetResourceConfigHistory", `{"resourceType":"AWS::S3::Bucket","resourceId":"data","nextToken":"x"}`, "InvalidNextTokenException", 400},
		{"GetResourceConfigHistory", `{"resourceType":"AWS::S3::Bucket","resourceId":"data","laterTime":1,"earlierTime":2}`, "InvalidParameterValueException", 400},
		{"BatchGetResourceConfig", `{"resourceKeys":[]}`, "ValidationException", 400},
		{"PutConformancePack", `{"ConformancePackName":"p","TemplateBody":"Resources: {}"}`, "ConformancePackTemplateValidationException", 400},
		{"DeleteConformancePack", `{"ConformancePackName":"p"}`, "NoSuchConformancePackException", 400},
	} {
		res := h.Serve(t.Context(), caller, c.op, []byte(c.body), "req")
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(res.Body, &e)
		if res.Status != c.status || e.Type != c.code || res.ErrorCode != c.code {
			t.Errorf("%s %s: %d %s (%s), want %d %s", c.op, c.body, res.Status, e.Type, e.Message, c.status, c.code)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	h := newHandler(t)
	caller := &authn.Principal{AccountID: acct}
	call := func(op, body string) map[string]any {
		t.Helper()
		res := h.Serve(t.Context(), caller, op, []byte(body), "req")
		if res.Status != 200 {
			t.Fatalf("%s: %d %s", op, res.Status, res.Body)
		}
		var m map[string]any
		if err := json.Unmarshal(res.Body, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	call("PutConfigRule", `{"ConfigRule":{"ConfigRuleName":"v","Source":{"Owner":"AWS","SourceIdentifier":"S3_BUCKET_VERSIONING_ENABLED"},"InputParameters":"{\"isMfaDeleteEnabled\":true}"}}`)
	got := call("DescribeConfigRules", `{"ConfigRuleNames":["v"]}`)
	rule := got["ConfigRules"].([]any)[0].(map[string]any)
	if rule["InputParameters"] != `{"isMfaDeleteEnabled":true}` || rule["ConfigRuleState"] != "ACTIVE" {
		t.Fatalf("rule %v", rule)
	}
	got = call("GetComplianceDetailsByConfigRule", `{"ConfigRuleName":"v"}`)
	res := got["EvaluationResults"].([]any)
	if len(res) != 1 || res[0].(map[string]any)["ComplianceType"] != "NON_COMPLIANT" {
		t.Fatalf("results %v", got)
	}
	got = call("BatchGetResourceConfig", `{"resourceKeys":[{"resourceType":"AWS::S3::Bucket","resourceId":"data"},{"resourceType":"AWS::S3::Bucket","resourceId":"gone"}]}`)
	if items := got["baseConfigurationItems"].([]any); len(items) != 1 {
		t.Fatalf("batch %v", got)
	}
	got = call("GetResourceConfigHistory", `{"resourceType":"AWS::S3::Bucket","resourceId":"data","chronologicalOrder":"Forward","limit":1}`)
	item := got["configurationItems"].([]any)[0].(map[string]any)
	if _, ok := item["configurationItemCaptureTime"].(float64); !ok || item["configurationItemStatus"] != "ResourceDiscovered" {
		t.Fatalf("item %v", item)
	}
	got = call("GetComplianceHistory", `{"ConfigRuleName":"v"}`)
	if len(got["EvaluationResults"].([]any)) != 1 {
		t.Fatalf("history %v", got)
	}
	got = call("DescribeComplianceByConfigRule", `{"ComplianceTypes":["COMPLIANT"]}`)
	if len(got["ComplianceByConfigRules"].([]any)) != 0 {
		t.Fatalf("filtered %v", got)
	}
	if !strings.HasPrefix(call("PutConformancePack", `{"ConformancePackName":"cis","TemplateBody":"coffer:cis-securityhub-s3"}`)["ConformancePackArn"].(string), "arn:aws:config:us-east-1:"+acct+":conformance-pack/cis/") {
		t.Fatal("pack ARN")
	}
	got = call("DescribeConfigRuleEvaluationStatus", `{"ConfigRuleNames":["v"]}`)
	if st := got["ConfigRulesEvaluationStatus"].([]any)[0].(map[string]any); st["FirstEvaluationStarted"] != true {
		t.Fatalf("evaluation status %v", st)
	}
	// Another account sees none of this.
	other := &authn.Principal{AccountID: "222222222222"}
	if res := h.Serve(t.Context(), other, "GetResourceConfigHistory", []byte(`{"resourceType":"AWS::S3::Bucket","resourceId":"data"}`), "r"); res.ErrorCode != "ResourceNotDiscoveredException" {
		t.Fatalf("other account reads history: %d %s", res.Status, res.Body)
	}
	if res := h.Serve(t.Context(), other, "DescribeConfigRules", []byte(`{}`), "r"); string(res.Body) != `{"ConfigRules":[]}` {
		t.Fatalf("other account sees rules: %s", res.Body)
	}
	got = call("DescribeConformancePacks", `{}`)
	if len(got["ConformancePackDetails"].([]any)) != 1 {
		t.Fatalf("packs %v", got)
	}
}
