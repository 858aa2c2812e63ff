package iamapi

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-io/coffer/internal/analyze"
	"github.com/coffer-io/coffer/internal/auth/authn"
)

type history []analyze.Activity

func (h history) Activity(context.Context, string) ([]analyze.Activity, error) { return h, nil }
func (history) Region() string                                                 { return "eu-west-1" }

func TestServiceLastAccessed(t *testing.T) {
	h := newHandler()
	h.Now = func() time.Time { return fixedTime }
	used := fixedTime.Add(-time.Hour)
	userARN := "arn:aws:iam::" + acct + ":user/team/dev"
	h.AccessHistory = history{
		{Account: acct, Principal: userARN, Action: "s3:GetObject", Time: used},
		{Account: acct, Principal: userARN, Action: "s3:ListBucket", Time: used.Add(-time.Hour)},
		{Account: acct, Principal: "role/worker", Action: "kms:Decrypt", Time: used},
		{Account: acct, Principal: "arn:aws:iam::" + acct + ":user/other", Action: "iam:ListUsers", Time: used},
	}
	do(t, h, root, form("CreateUser", "UserName", "dev", "Path", "/team/"), 200)
	do(t, h, root, form("PutUserPolicy", "UserName", "dev", "PolicyName", "p", "PolicyDocument",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:List*","iam:GetUser"],"Resource":"*"}]}`), 200)
	do(t, h, root, form("CreateRole", "RoleName", "worker", "AssumeRolePolicyDocument", trustDoc), 200)
	do(t, h, root, form("PutRolePolicy", "RoleName", "worker", "PolicyName", "p", "PolicyDocument",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`), 200)

	job := func(arn, gran string) string {
		t.Helper()
		var r struct {
			ID string `xml:"GenerateServiceLastAccessedDetailsResult>JobId"`
		}
		decode(t, do(t, h, root, form("GenerateServiceLastAccessedDetails", "Arn", arn, "Granularity", gran), 200), &r)
		if len(r.ID) != 36 {
			t.Fatalf("job id %q", r.ID)
		}
		return r.ID
	}
	type tracked struct{ ActionName, LastAccessedTime, LastAccessedEntity string }
	type service struct {
		ServiceName, ServiceNamespace, LastAuthenticated, LastAuthenticatedEntity, LastAuthenticatedRegion string
		TotalAuthenticatedEntities                                                                         int
		Tracked                                                                                            []tracked `xml:"TrackedActionsLastAccessed>member"`
	}
	type result struct {
		JobStatus, JobType, JobCreationDate, JobCompletionDate string
		Services                                               []service `xml:"ServicesLastAccessed>member"`
		IsTruncated                                            bool
		Marker                                                 string
	}
	get := func(id string, kv ...string) result {
		t.Helper()
		var r struct {
			R result `xml:"GetServiceLastAccessedDetailsResult"`
		}
		decode(t, do(t, h, root, form("GetServiceLastAccessedDetails", append([]string{"JobId", id}, kv...)...), 200), &r)
		return r.R
	}
	at := used.UTC().Format("2006-01-02T15:04:05Z")

	got := get(job(userARN, "ACTION_LEVEL"))
	want := result{JobStatus: "COMPLETED", JobType: "ACTION_LEVEL", JobCreationDate: "2025-06-01T12:30:45Z", JobCompletionDate: "2025-06-01T12:30:45Z",
		Services: []service{
			{ServiceName: "AWS Identity and Access Management", ServiceNamespace: "iam", Tracked: []tracked{{ActionName: "GetUser"}}},
			{ServiceName: "Amazon S3", ServiceNamespace: "s3", LastAuthenticated: at, LastAuthenticatedEntity: userARN, LastAuthenticatedRegion: "eu-west-1",
				TotalAuthenticatedEntities: 1, Tracked: []tracked{
					{ActionName: "GetObject", LastAccessedTime: at, LastAccessedEntity: userARN},
					{ActionName: "ListBucket", LastAccessedTime: used.Add(-time.Hour).UTC().Format("2006-01-02T15:04:05Z"), LastAccessedEntity: userARN},
					{ActionName: "PutObject"},
				}},
		}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("user, action level (-want +got):\n%s", d)
	}

	roleJob := job("arn:aws:iam::"+acct+":role/worker", "")
	got = get(roleJob, "MaxItems", "2")
	if got.JobType != "SERVICE_LEVEL" || len(got.Services) != 2 || !got.IsTruncated || got.Marker != "2" ||
		got.Services[0].ServiceNamespace != "iam" || got.Services[1].ServiceNamespace != "kms" || got.Services[1].LastAuthenticated != at ||
		got.Services[1].Tracked != nil {
		t.Errorf("role, first page: %+v", got)
	}
	got = get(roleJob, "Marker", "2")
	if len(got.Services) != 2 || got.IsTruncated || got.Services[0].ServiceNamespace != "s3" || got.Services[0].LastAuthenticated != "" {
		t.Errorf("role, second page: %+v", got)
	}

	for _, c := range []struct {
		name   string
		caller *authn.Principal
		form   []string
		status int
		code   string
	}{
		{"bad granularity", root, []string{"GenerateServiceLastAccessedDetails", "Arn", userARN, "Granularity", "FINE"}, 400, "ValidationError"},
		{"missing arn", root, []string{"GenerateServiceLastAccessedDetails"}, 400, "ValidationError"},
		{"another account", root, []string{"GenerateServiceLastAccessedDetails", "Arn", "arn:aws:iam::999999999999:user/x"}, 400, "InvalidInput"},
		{"no such user", root, []string{"GenerateServiceLastAccessedDetails", "Arn", "arn:aws:iam::" + acct + ":user/nobody"}, 404, "NoSuchEntity"},
		{"wrong path", root, []string{"GenerateServiceLastAccessedDetails", "Arn", "arn:aws:iam::" + acct + ":user/dev"}, 404, "NoSuchEntity"},
		{"group", root, []string{"GenerateServiceLastAccessedDetails", "Arn", "arn:aws:iam::" + acct + ":group/g"}, 501, "NotImplemented"},
		{"unknown job", root, []string{"GetServiceLastAccessedDetails", "JobId", "00000000-0000-0000-0000-000000000000"}, 404, "NoSuchEntity"},
		{"another account's job", &authn.Principal{Type: authn.TypeRoot, AccountID: "999999999999", ARN: "arn:aws:iam::999999999999:root"},
			[]string{"GetServiceLastAccessedDetails", "JobId", roleJob}, 404, "NoSuchEntity"},
	} {
		body := do(t, h, c.caller, form(c.form[0], c.form[1:]...), c.status)
		if !strings.Contains(string(body), "<Code>"+c.code+"</Code>") {
			t.Errorf("%s: %s", c.name, body)
		}
	}
}
