package clients

import (
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/test/harness"
)

// TestMacieWithAWSCLIv2 drives Macie's API (sessions, custom data
// identifiers, allow lists, jobs, findings) with Debian's aws CLI v2.
func TestMacieWithAWSCLIv2(t *testing.T) {
	t.Parallel()
	requireAWSCLIv2(t)
	srv := harness.Start(t)
	ctx := testContext(t)
	a := awsCLI{runner{ctx: ctx, env: srv.Env(), bin: awsV2Path, args: []string{"--endpoint-url", srv.Endpoint, "--output", "json"}}}
	mustFail := func(t *testing.T, code string, args ...string) {
		t.Helper()
		out, err := a.runErr(t, args...)
		if err == nil || !strings.Contains(out, code) {
			t.Fatalf("aws %s: want %s, got err=%v\n%s", strings.Join(args, " "), code, err, out)
		}
	}
	var who struct{ Account string }
	a.json(t, &who, "sts", "get-caller-identity")
	acct := who.Account

	var sess struct{ Status, FindingPublishingFrequency string }
	a.json(t, &sess, "macie2", "get-macie-session")
	if sess.Status != "ENABLED" {
		t.Fatalf("session: %+v", sess)
	}
	mustFail(t, "ConflictException", "macie2", "enable-macie")

	var cdi struct{ CustomDataIdentifierId string }
	a.json(t, &cdi, "macie2", "create-custom-data-identifier", "--name", "employee-id", "--regex", `EMP-[0-9]{6}`,
		"--keywords", "employee", "--maximum-match-distance", "20")
	if cdi.CustomDataIdentifierId == "" {
		t.Fatal("no custom data identifier id")
	}
	mustFail(t, "ConflictException", "macie2", "create-custom-data-identifier", "--name", "employee-id", "--regex", `x`)
	mustFail(t, "ValidationException", "macie2", "create-custom-data-identifier", "--name", "bad", "--regex", `(`)
	var got struct {
		Arn, Name, Regex     string
		MaximumMatchDistance int
		Keywords             []string
	}
	a.json(t, &got, "macie2", "get-custom-data-identifier", "--id", cdi.CustomDataIdentifierId)
	if got.Name != "employee-id" || got.Regex != `EMP-[0-9]{6}` || got.MaximumMatchDistance != 20 ||
		got.Arn != "arn:aws:macie2:us-east-1:"+acct+":custom-data-identifier/"+cdi.CustomDataIdentifierId {
		t.Fatalf("get-custom-data-identifier: %+v", got)
	}
	var cdis struct{ Items []struct{ Id, Name string } }
	a.json(t, &cdis, "macie2", "list-custom-data-identifiers")
	if len(cdis.Items) != 1 || cdis.Items[0].Id != cdi.CustomDataIdentifierId {
		t.Fatalf("list-custom-data-identifiers: %+v", cdis)
	}
	mustFail(t, "ResourceNotFoundException", "macie2", "get-custom-data-identifier", "--id", "nope")
	var tested struct{ MatchCount int }
	a.json(t, &tested, "macie2", "test-custom-data-identifier", "--regex", `EMP-[0-9]{6}`, "--keywords", "employee",
		"--sample-text", "employee EMP-123456; EMP-654321")
	if tested.MatchCount != 2 {
		t.Fatalf("test-custom-data-identifier: %+v", tested)
	}
	var managed struct {
		Items []struct{ Category, Id string }
	}
	a.json(t, &managed, "macie2", "list-managed-data-identifiers")
	if len(managed.Items) == 0 {
		t.Fatal("list-managed-data-identifiers: none")
	}

	var al struct{ Arn, Id string }
	a.json(t, &al, "macie2", "create-allow-list", "--name", "test-cards", "--criteria", `{"regex":"4111-1111-1111-1111"}`)
	var als struct{ AllowLists []struct{ Id, Name string } }
	a.json(t, &als, "macie2", "list-allow-lists")
	if len(als.AllowLists) != 1 || als.AllowLists[0].Id != al.Id {
		t.Fatalf("list-allow-lists: %+v", als)
	}
	var alGot struct {
		Name     string
		Criteria struct{ Regex string }
		Status   struct{ Code string }
	}
	a.json(t, &alGot, "macie2", "get-allow-list", "--id", al.Id)
	if alGot.Name != "test-cards" || alGot.Criteria.Regex != "4111-1111-1111-1111" || alGot.Status.Code != "OK" {
		t.Fatalf("get-allow-list: %+v", alGot)
	}

	a.run(t, "s3api", "create-bucket", "--bucket", "macie-docs")
	mustFail(t, "ValidationException", "macie2", "create-classification-job", "--job-type", "ONE_TIME", "--name", "bad",
		"--s3-job-definition", `{"bucketDefinitions":[{"accountId":"`+acct+`","buckets":["macie-docs"]}],"scoping":{"includes":{"and":[{"simpleScopeTerm":{"comparator":"EQ","key":"OBJECT_STORAGE_CLASS","values":["STANDARD"]}}]}}}`)
	var job struct{ JobId, JobArn string }
	a.json(t, &job, "macie2", "create-classification-job", "--job-type", "ONE_TIME", "--name", "docs",
		"--s3-job-definition", `{"bucketDefinitions":[{"accountId":"`+acct+`","buckets":["macie-docs"]}]}`,
		"--custom-data-identifier-ids", cdi.CustomDataIdentifierId, "--allow-list-ids", al.Id)
	var desc struct {
		JobId, JobStatus, JobType, Name, ManagedDataIdentifierSelector string
		SamplingPercentage                                             int
	}
	a.json(t, &desc, "macie2", "describe-classification-job", "--job-id", job.JobId)
	if desc.JobId != job.JobId || desc.JobType != "ONE_TIME" || desc.Name != "docs" || desc.SamplingPercentage != 100 ||
		desc.ManagedDataIdentifierSelector != "RECOMMENDED" {
		t.Fatalf("describe-classification-job: %+v", desc)
	}
	var jobs struct {
		Items []struct{ JobId, Name string }
	}
	a.json(t, &jobs, "macie2", "list-classification-jobs")
	if len(jobs.Items) != 1 || jobs.Items[0].JobId != job.JobId {
		t.Fatalf("list-classification-jobs: %+v", jobs)
	}

	var ids struct{ FindingIds []string }
	a.json(t, &ids, "macie2", "list-findings", "--finding-criteria", `{"criterion":{"severity.description":{"eq":["High"]}}}`)
	var stats struct{ CountsByGroup []struct{ GroupKey string } }
	a.json(t, &stats, "macie2", "get-finding-statistics", "--group-by", "type")
	mustFail(t, "ValidationException", "macie2", "list-findings", "--finding-criteria", `{"criterion":{"nonsense":{"eq":["x"]}}}`)

	// IAM users need macie2:<Operation>.
	a.run(t, "iam", "create-user", "--user-name", "analyst")
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	a.json(t, &key, "iam", "create-access-key", "--user-name", "analyst")
	env := append(envWithout(srv.Env(), "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE"),
		"AWS_ACCESS_KEY_ID="+key.AccessKey.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+key.AccessKey.SecretAccessKey)
	analyst := awsCLI{runner{ctx: ctx, env: env, bin: awsV2Path, args: a.args}}
	if out, err := analyst.runErr(t, "macie2", "list-findings"); err == nil || !strings.Contains(out, "AccessDeniedException") || !strings.Contains(out, "macie2:ListFindings") {
		t.Fatalf("list-findings without permission: %v\n%s", err, out)
	}
	a.run(t, "iam", "put-user-policy", "--user-name", "analyst", "--policy-name", "findings", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["macie2:ListFindings","macie2:GetFindings"],"Resource":"*"}]}`)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, err := analyst.runErr(t, "macie2", "list-findings"); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("list-findings with permission: %v", err)
		}
	}
	if out, err := analyst.runErr(t, "macie2", "delete-allow-list", "--id", al.Id); err == nil || !strings.Contains(out, "AccessDeniedException") {
		t.Fatalf("delete-allow-list without permission: %v\n%s", err, out)
	}

	a.run(t, "macie2", "delete-allow-list", "--id", al.Id)
	mustFail(t, "ResourceNotFoundException", "macie2", "get-allow-list", "--id", al.Id)
	a.run(t, "macie2", "disable-macie")
	mustFail(t, "AccessDeniedException", "macie2", "list-classification-jobs")
	a.run(t, "macie2", "enable-macie")
	a.json(t, &jobs, "macie2", "list-classification-jobs")
	if len(jobs.Items) != 0 {
		t.Fatalf("jobs survived disable-macie: %+v", jobs)
	}
}
