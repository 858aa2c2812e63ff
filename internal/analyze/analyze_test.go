package analyze

import (
	"strings"
	"testing"
)

func TestAnalyze(t *testing.T) {
	rep := Analyze([]Bucket{
		{Name: "private", Owner: "111111111111"},
		{Name: "public", Owner: "111111111111", Policy: []byte(`{"Version":"2012-10-17","Statement":[{"Sid":"all","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::public/*"}]}`)},
		{Name: "shared", Owner: "111111111111", Policy: []byte(`{"Version":"2012-10-17","Statement":[{"Sid":"bob","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}`)},
		{Name: "pinned", Owner: "111111111111", Policy: []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pinned/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`)},
	})
	if rep.Buckets != 4 {
		t.Fatalf("buckets = %d", rep.Buckets)
	}
	kinds := map[string]string{}
	for _, f := range rep.Findings {
		kinds[f.Bucket] = f.Kind
		if len(f.Statements) == 0 {
			t.Errorf("finding without statements: %+v", f)
		}
	}
	if kinds["public"] != "public" || kinds["shared"] != "cross-account" || kinds["pinned"] != "" || kinds["private"] != "" {
		t.Fatalf("findings: %+v", rep.Findings)
	}
	var problems []string
	for _, w := range rep.Warnings {
		problems = append(problems, w.Bucket+": "+w.Problem)
		if w.Suggestion == "" || !strings.Contains(w.Suggestion, `"Effect":"Allow"`) {
			t.Errorf("warning without a suggestion: %+v", w)
		}
	}
	got := strings.Join(problems, "\n")
	for _, want := range []string{"public: grants every S3 action", "public: grants access to everyone, without conditions"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing warning %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "pinned") || strings.Contains(got, "shared") {
		t.Errorf("narrow statements flagged:\n%s", got)
	}
}
