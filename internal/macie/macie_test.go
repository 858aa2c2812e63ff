package macie

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

const acct = "111111111111"

// newService returns a Service on a bolt store in a temporary directory.
func newService(t *testing.T) *Service {
	t.Helper()
	st, err := openTestStore(filepath.Join(t.TempDir(), "discovery.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Service{Store: st, Region: "us-east-1", Now: func() time.Time { return now }}
}

func call(t *testing.T, s *Service, method, path, body string) (int, map[string]any, string) {
	t.Helper()
	r, id, ok := findRoute(method, path)
	if !ok {
		t.Fatalf("no route for %s %s", method, path)
	}
	out, err := s.serve(context.Background(), acct, r.op, id, nil, []byte(body))
	if err != nil {
		w := toWire(err)
		return w.status, nil, w.code
	}
	b, _ := json.Marshal(out)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return http.StatusOK, m, ""
}

func TestRoutes(t *testing.T) {
	for _, c := range []struct{ method, path, op, id string }{
		{"GET", "/macie", "GetMacieSession", ""},
		{"POST", "/jobs", "CreateClassificationJob", ""},
		{"POST", "/jobs/list", "ListClassificationJobs", ""},
		{"GET", "/jobs/abc", "DescribeClassificationJob", "abc"},
		{"PATCH", "/jobs/abc", "UpdateClassificationJob", "abc"},
		{"POST", "/findings/describe", "GetFindings", ""},
		{"GET", "/allow-lists/x1", "GetAllowList", "x1"},
		{"DELETE", "/custom-data-identifiers/c1", "DeleteCustomDataIdentifier", "c1"},
	} {
		r, id, ok := findRoute(c.method, c.path)
		if !ok || r.op != c.op || id != c.id {
			t.Errorf("%s %s = %s %q %v, want %s %q", c.method, c.path, r.op, id, ok, c.op, c.id)
		}
	}
	for _, c := range []struct{ method, path string }{{"GET", "/jobs/a/b"}, {"PUT", "/jobs"}, {"GET", "/nothing"}, {"GET", "/jobs/"}} {
		if r, _, ok := findRoute(c.method, c.path); ok {
			t.Errorf("%s %s routed to %s", c.method, c.path, r.op)
		}
	}
}

func TestJobValidation(t *testing.T) {
	def := `"s3JobDefinition":{"bucketDefinitions":[{"accountId":"` + acct + `","buckets":["b"]}]}`
	for _, c := range []struct {
		name, body, code string
	}{
		{"one-time", `{"jobType":"ONE_TIME","name":"j",` + def + `}`, ""},
		{"daily", `{"jobType":"SCHEDULED","name":"j",` + def + `,"scheduleFrequency":{"dailySchedule":{}}}`, ""},
		{"weekly bad day", `{"jobType":"SCHEDULED","name":"j",` + def + `,"scheduleFrequency":{"weeklySchedule":{"dayOfWeek":"FUNDAY"}}}`, "ValidationException"},
		{"scheduled without frequency", `{"jobType":"SCHEDULED","name":"j",` + def + `}`, "ValidationException"},
		{"one-time with frequency", `{"jobType":"ONE_TIME","name":"j",` + def + `,"scheduleFrequency":{"dailySchedule":{}}}`, "ValidationException"},
		{"no type", `{"name":"j",` + def + `}`, "ValidationException"},
		{"sampling 0..100", `{"jobType":"ONE_TIME","name":"j","samplingPercentage":101,` + def + `}`, "ValidationException"},
		{"INCLUDE without ids", `{"jobType":"ONE_TIME","name":"j","managedDataIdentifierSelector":"INCLUDE",` + def + `}`, "ValidationException"},
		{"NONE without custom", `{"jobType":"ONE_TIME","name":"j","managedDataIdentifierSelector":"NONE",` + def + `}`, "ValidationException"},
		{"unknown selector", `{"jobType":"ONE_TIME","name":"j","managedDataIdentifierSelector":"SOME",` + def + `}`, "ValidationException"},
		{"other account", `{"jobType":"ONE_TIME","name":"j","s3JobDefinition":{"bucketDefinitions":[{"accountId":"222222222222","buckets":["b"]}]}}`, "ValidationException"},
		{"bucketCriteria refused", `{"jobType":"ONE_TIME","name":"j","s3JobDefinition":{"bucketCriteria":{}}}`, "ValidationException"},
		{"unknown member", `{"jobType":"ONE_TIME","name":"j","bogus":1,` + def + `}`, "ValidationException"},
		{"unsupported scope key", `{"jobType":"ONE_TIME","name":"j","s3JobDefinition":{"bucketDefinitions":[{"accountId":"` + acct + `","buckets":["b"]}],"scoping":{"excludes":{"and":[{"simpleScopeTerm":{"comparator":"EQ","key":"OBJECT_STORAGE_CLASS","values":["GLACIER"]}}]}}}}`, "ValidationException"},
		{"size scope", `{"jobType":"ONE_TIME","name":"j","s3JobDefinition":{"bucketDefinitions":[{"accountId":"` + acct + `","buckets":["b"]}],"scoping":{"includes":{"and":[{"simpleScopeTerm":{"comparator":"LT","key":"OBJECT_SIZE","values":["1000"]}}]}}}}`, ""},
		{"unknown custom identifier", `{"jobType":"ONE_TIME","name":"j","customDataIdentifierIds":["nope"],` + def + `}`, "ResourceNotFoundException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, code := call(t, newService(t), "POST", "/jobs", c.body)
			if code != c.code {
				t.Errorf("code %q, want %q", code, c.code)
			}
		})
	}
}

func TestJobLifecycle(t *testing.T) {
	s := newService(t)
	_, out, code := call(t, s, "POST", "/jobs", `{"jobType":"SCHEDULED","name":"nightly","clientToken":"tok","scheduleFrequency":{"weeklySchedule":{"dayOfWeek":"MONDAY"}},"s3JobDefinition":{"bucketDefinitions":[{"accountId":"`+acct+`","buckets":["b"]}]}}`)
	if code != "" {
		t.Fatal(code)
	}
	id := out["jobId"].(string)
	// The same client token is the same job.
	if _, again, _ := call(t, s, "POST", "/jobs", `{"jobType":"ONE_TIME","name":"other","clientToken":"tok","s3JobDefinition":{"bucketDefinitions":[{"accountId":"`+acct+`","buckets":["b"]}]}}`); again["jobId"] != id {
		t.Fatalf("client token: %v vs %s", again, id)
	}
	_, d, _ := call(t, s, "GET", "/jobs/"+id, "")
	if d["jobStatus"] != "RUNNING" || d["jobArn"] != "arn:aws:macie2:us-east-1:"+acct+":classification-job/"+id || d["samplingPercentage"] != 100.0 {
		t.Fatalf("describe: %v", d)
	}
	if _, ok := d["nextRun"]; ok {
		t.Error("describe shows Coffer's own nextRun")
	}
	for _, c := range []struct{ status, want, code string }{
		{"USER_PAUSED", "USER_PAUSED", ""},
		{"RUNNING", "IDLE", ""},
		{"COMPLETE", "", "ValidationException"},
		{"CANCELLED", "CANCELLED", ""},
		{"RUNNING", "", "ValidationException"},
	} {
		_, _, code := call(t, s, "PATCH", "/jobs/"+id, `{"jobStatus":"`+c.status+`"}`)
		if code != c.code {
			t.Fatalf("update to %s: %q, want %q", c.status, code, c.code)
		}
		if c.code == "" {
			if _, d, _ := call(t, s, "GET", "/jobs/"+id, ""); d["jobStatus"] != c.want {
				t.Fatalf("after %s: %v", c.status, d["jobStatus"])
			}
		}
	}
	_, l, _ := call(t, s, "POST", "/jobs/list", `{"filterCriteria":{"includes":[{"comparator":"EQ","key":"jobStatus","values":["CANCELLED"]}]}}`)
	if items := l["items"].([]any); len(items) != 1 {
		t.Fatalf("list filtered: %v", l)
	}
	_, l, _ = call(t, s, "POST", "/jobs/list", `{"filterCriteria":{"excludes":[{"comparator":"EQ","key":"jobType","values":["SCHEDULED"]}]}}`)
	if items := l["items"].([]any); len(items) != 0 {
		t.Fatalf("list excluded: %v", l)
	}
}

func TestSessionDisableDeletes(t *testing.T) {
	s := newService(t)
	if st, _, code := call(t, s, "POST", "/macie", `{}`); code != "ConflictException" || st != 409 {
		t.Fatalf("enable twice: %d %s", st, code)
	}
	call(t, s, "POST", "/custom-data-identifiers", `{"name":"n","regex":"x[0-9]+"}`)
	call(t, s, "DELETE", "/macie", "")
	if st, _, code := call(t, s, "POST", "/custom-data-identifiers/list", `{}`); code != "AccessDeniedException" || st != 403 {
		t.Fatalf("disabled: %d %s", st, code)
	}
	call(t, s, "POST", "/macie", `{"findingPublishingFrequency":"ONE_HOUR"}`)
	_, sess, _ := call(t, s, "GET", "/macie", "")
	if sess["status"] != "ENABLED" || sess["findingPublishingFrequency"] != "ONE_HOUR" {
		t.Fatalf("session: %v", sess)
	}
	_, l, _ := call(t, s, "POST", "/custom-data-identifiers/list", `{}`)
	if items := l["items"].([]any); len(items) != 0 {
		t.Fatalf("identifiers survived DisableMacie: %v", items)
	}
}

func TestCustomIdentifierValidation(t *testing.T) {
	for _, c := range []struct{ body, code string }{
		{`{"name":"ok","regex":"EMP-[0-9]{6}","keywords":["employee"],"maximumMatchDistance":30}`, ""},
		{`{"name":"","regex":"x"}`, "ValidationException"},
		{`{"name":"bad","regex":"("}`, "ValidationException"},
		{`{"name":"far","regex":"x","maximumMatchDistance":301}`, "ValidationException"},
		{`{"name":"kw","regex":"x","keywords":["ab"]}`, "ValidationException"},
		{`{"name":"sev","regex":"x","severityLevels":[{"occurrencesThreshold":1,"severity":"LOW"},{"occurrencesThreshold":5,"severity":"LOW"}]}`, "ValidationException"},
	} {
		if _, _, code := call(t, newService(t), "POST", "/custom-data-identifiers", c.body); code != c.code {
			t.Errorf("%s: %q, want %q", c.body, code, c.code)
		}
	}
}

func TestClassifySeverity(t *testing.T) {
	sd := func(cat string, n int64) SensitiveDataItem { return SensitiveDataItem{Category: cat, TotalCount: n} }
	custom := map[string]*CustomDataIdentifier{"arn:c": {SeverityLevels: []SeverityLevel{{1, "LOW"}, {10, "HIGH"}}}}
	for _, c := range []struct {
		name   string
		res    ClassificationResult
		typ    string
		sev    string
		public string
	}{
		{"credentials", ClassificationResult{SensitiveData: []SensitiveDataItem{sd(CategoryCredentials, 1)}}, "SensitiveData:S3Object/Credentials", "High", "High"},
		{"financial few", ClassificationResult{SensitiveData: []SensitiveDataItem{sd(CategoryFinancial, 3)}}, "SensitiveData:S3Object/Financial", "Medium", "High"},
		{"financial many", ClassificationResult{SensitiveData: []SensitiveDataItem{sd(CategoryFinancial, 100)}}, "SensitiveData:S3Object/Financial", "High", "High"},
		{"personal few", ClassificationResult{SensitiveData: []SensitiveDataItem{sd(CategoryPersonal, 2)}}, "SensitiveData:S3Object/Personal", "Low", "Medium"},
		{"personal many", ClassificationResult{SensitiveData: []SensitiveDataItem{sd(CategoryPersonal, 150)}}, "SensitiveData:S3Object/Personal", "Medium", "High"},
		{"multiple", ClassificationResult{SensitiveData: []SensitiveDataItem{sd(CategoryPersonal, 2), sd(CategoryFinancial, 1)}}, "SensitiveData:S3Object/Multiple", "Medium", "High"},
		{"custom below threshold", ClassificationResult{CustomDataIdentifiers: CustomDataIdentifiers{Detections: []CustomDetection{{Arn: "arn:c", Count: 0}}}}, "", "", ""},
		{"custom levels", ClassificationResult{CustomDataIdentifiers: CustomDataIdentifiers{Detections: []CustomDetection{{Arn: "arn:c", Count: 12}}}}, "SensitiveData:S3Object/CustomIdentifier", "High", "High"},
		{"custom default", ClassificationResult{CustomDataIdentifiers: CustomDataIdentifiers{Detections: []CustomDetection{{Arn: "arn:other", Count: 1}}}}, "SensitiveData:S3Object/CustomIdentifier", "Medium", "High"},
		{"nothing", ClassificationResult{}, "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			typ, sev := classify(&c.res, custom)
			if typ != c.typ || sev.Description != c.sev {
				t.Fatalf("classify = %s %s, want %s %s", typ, sev.Description, c.typ, c.sev)
			}
			if typ == "" {
				return
			}
			if got := rate(sev, BucketAccess{Public: true}); got.Description != c.public || got.Score != severityScore[c.public] {
				t.Errorf("public: %+v, want %s", got, c.public)
			}
			if got := rate(sev, BucketAccess{Shared: true}); got.Description != c.public {
				t.Errorf("shared: %+v, want %s", got, c.public)
			}
			if got := rate(sev, BucketAccess{}); got != sev {
				t.Errorf("private: %+v", got)
			}
		})
	}
}

func TestFindingCriteria(t *testing.T) {
	s := newService(t)
	mk := func(id, typ, sev, bucket string, archived bool, updated string) {
		f := &Finding{ID: id, Type: typ, Severity: severity(sev), Archived: archived, Category: "CLASSIFICATION", Count: 1,
			CreatedAt: updated, UpdatedAt: updated,
			ResourcesAffected: ResourcesAffected{S3Bucket: &S3Bucket{Name: bucket}},
			ClassificationDetails: &ClassificationDetails{JobID: "j-" + bucket, Result: ClassificationResult{
				SensitiveData: []SensitiveDataItem{{Category: CategoryFinancial, Detections: []DefaultDetection{{Type: "CREDIT_CARD_NUMBER", Count: 1}}, TotalCount: 1}}}}}
		if err := putJSON(context.Background(), s.Store, acct, KindFinding, id, f); err != nil {
			t.Fatal(err)
		}
	}
	mk("a", "SensitiveData:S3Object/Financial", "Medium", "b1", false, "2026-01-01T00:00:00.000Z")
	mk("b", "SensitiveData:S3Object/Credentials", "High", "b2", false, "2026-01-03T00:00:00.000Z")
	mk("c", "SensitiveData:S3Object/Financial", "High", "b2", false, "2026-01-02T00:00:00.000Z")
	mk("d", "Policy:IAMUser/S3BucketPublic", "High", "b2", true, "2026-01-04T00:00:00.000Z")
	ms := func(t time.Time) string { return json.Number(itoa(t.UnixMilli())).String() }
	for _, c := range []struct {
		name, body string
		want       []string
	}{
		{"all current, newest first", `{}`, []string{"b", "c", "a"}},
		{"severity", `{"findingCriteria":{"criterion":{"severity.description":{"eq":["High"]}}}}`, []string{"b", "c"}},
		{"bucket and type", `{"findingCriteria":{"criterion":{"resourcesAffected.s3Bucket.name":{"eq":["b2"]},"type":{"neq":["SensitiveData:S3Object/Credentials"]}}}}`, []string{"c"}},
		{"archived", `{"findingCriteria":{"criterion":{"archived":{"eq":["true"]}}}}`, []string{"d"}},
		{"detection type", `{"findingCriteria":{"criterion":{"classificationDetails.result.sensitiveData.detections.type":{"eq":["CREDIT_CARD_NUMBER"]}}}}`, []string{"b", "c", "a"}},
		{"score gte", `{"findingCriteria":{"criterion":{"severity.score":{"gte":3}}}}`, []string{"b", "c"}},
		{"updated after", `{"findingCriteria":{"criterion":{"updatedAt":{"gt":` + ms(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)) + `}}}}`, []string{"b", "c"}},
		{"sort asc", `{"sortCriteria":{"attributeName":"updatedAt","orderBy":"ASC"}}`, []string{"a", "c", "b"}},
		{"page", `{"maxResults":2}`, []string{"b", "c"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, out, code := call(t, s, "POST", "/findings", c.body)
			if code != "" {
				t.Fatal(code)
			}
			ids := out["findingIds"].([]any)
			if len(ids) != len(c.want) {
				t.Fatalf("ids %v, want %v", ids, c.want)
			}
			for i := range ids {
				if ids[i] != c.want[i] {
					t.Fatalf("ids %v, want %v", ids, c.want)
				}
			}
		})
	}
	if _, _, code := call(t, s, "POST", "/findings", `{"findingCriteria":{"criterion":{"secret.field":{"eq":["x"]}}}}`); code != "ValidationException" {
		t.Errorf("unknown field: %q", code)
	}
	_, st, _ := call(t, s, "POST", "/findings/statistics", `{"groupBy":"resourcesAffected.s3Bucket.name"}`)
	b, _ := json.Marshal(st)
	if string(b) != `{"countsByGroup":[{"count":2,"groupKey":"b2"},{"count":1,"groupKey":"b1"}]}` {
		t.Errorf("statistics: %s", b)
	}
	_, g, _ := call(t, s, "POST", "/findings/describe", `{"findingIds":["a","missing"]}`)
	if fs := g["findings"].([]any); len(fs) != 1 {
		t.Errorf("get-findings: %v", g)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestScope(t *testing.T) {
	v := &meta.ObjectVersion{Key: "data/report.CSV", Size: 500, LastModified: time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC), Tags: map[string]string{"class": "secret"}}
	term := func(key, cmp string, vals ...string) ScopeTerm {
		return ScopeTerm{SimpleScopeTerm: &SimpleScopeTerm{Comparator: cmp, Key: key, Values: vals}}
	}
	tag := func(cmp, k, val string) ScopeTerm {
		return ScopeTerm{TagScopeTerm: &TagScopeTerm{Comparator: cmp, Key: "TAG", Target: "S3_OBJECT", TagValues: []TagValue{{k, val}}}}
	}
	for _, c := range []struct {
		name string
		s    *Scoping
		want bool
	}{
		{"none", nil, true},
		{"prefix", &Scoping{Includes: &ScopeBlock{And: []ScopeTerm{term("OBJECT_KEY", "STARTS_WITH", "logs/", "data/")}}}, true},
		{"prefix miss", &Scoping{Includes: &ScopeBlock{And: []ScopeTerm{term("OBJECT_KEY", "STARTS_WITH", "logs/")}}}, false},
		{"extension case", &Scoping{Includes: &ScopeBlock{And: []ScopeTerm{term("OBJECT_EXTENSION", "EQ", "csv")}}}, true},
		{"exclude extension", &Scoping{Excludes: &ScopeBlock{And: []ScopeTerm{term("OBJECT_EXTENSION", "EQ", "csv")}}}, false},
		{"size lt", &Scoping{Includes: &ScopeBlock{And: []ScopeTerm{term("OBJECT_SIZE", "LT", "1000")}}}, true},
		{"size gt", &Scoping{Includes: &ScopeBlock{And: []ScopeTerm{term("OBJECT_SIZE", "GT", "1000")}}}, false},
		{"modified after", &Scoping{Includes: &ScopeBlock{And: []ScopeTerm{term("OBJECT_LAST_MODIFIED", "GTE", "2026-01-01T00:00:00Z")}}}, true},
		{"modified before", &Scoping{Includes: &ScopeBlock{And: []ScopeTerm{term("OBJECT_LAST_MODIFIED", "LT", "2026-01-01T00:00:00Z")}}}, false},
		{"tag eq", &Scoping{Includes: &ScopeBlock{And: []ScopeTerm{tag("EQ", "class", "secret")}}}, true},
		{"tag key only", &Scoping{Includes: &ScopeBlock{And: []ScopeTerm{tag("EQ", "class", "")}}}, true},
		{"tag ne", &Scoping{Includes: &ScopeBlock{And: []ScopeTerm{tag("NE", "class", "secret")}}}, false},
		{"exclude tag", &Scoping{Excludes: &ScopeBlock{And: []ScopeTerm{tag("EQ", "class", "public")}}}, true},
	} {
		if got := inScope(c.s, v); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestNextRunAndSampling(t *testing.T) {
	mon := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC) // a Monday
	weekly := &Schedule{}
	weekly.WeeklySchedule = &struct {
		DayOfWeek string `json:"dayOfWeek"`
	}{"WEDNESDAY"}
	monthly := &Schedule{}
	monthly.MonthlySchedule = &struct {
		DayOfMonth int `json:"dayOfMonth"`
	}{31}
	for _, c := range []struct {
		s    *Schedule
		from time.Time
		want time.Time
	}{
		{&Schedule{DailySchedule: &struct{}{}}, mon, time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC)},
		{weekly, mon, time.Date(2026, 1, 7, 0, 0, 0, 0, time.UTC)},
		{monthly, time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)},
	} {
		if got := NextRun(c.s, c.from); !got.Equal(c.want) {
			t.Errorf("NextRun(%+v, %v) = %v, want %v", c.s, c.from, got, c.want)
		}
	}
	n := 0
	for i := range 2000 {
		if sampled("job", &meta.ObjectVersion{Key: "k" + itoa(int64(i)), VersionID: "null"}, 25) {
			n++
		}
	}
	if n < 400 || n > 600 {
		t.Errorf("25%% sampling picked %d of 2000", n)
	}
}

func TestTestCustomDataIdentifier(t *testing.T) {
	s := newService(t)
	for _, c := range []struct {
		body  string
		count float64
		code  string
	}{
		{`{"regex":"EMP-[0-9]{6}","sampleText":"employee EMP-123456 and EMP-654321"}`, 2, ""},
		{`{"regex":"EMP-[0-9]{6}","keywords":["employee"],"maximumMatchDistance":20,"sampleText":"EMP-123456 at the start, no keyword before it"}`, 0, ""},
		{`{"regex":"EMP-[0-9]{6}","keywords":["employee"],"maximumMatchDistance":20,"sampleText":"employee id: EMP-123456"}`, 1, ""},
		{`{"regex":"(","sampleText":"x"}`, 0, "ValidationException"},
		{`{"regex":"x","sampleText":""}`, 0, "ValidationException"},
	} {
		_, out, code := call(t, s, "POST", "/custom-data-identifiers/test", c.body)
		if code != c.code || (code == "" && out["matchCount"] != c.count) {
			t.Errorf("%s: %v %q, want %v %q", c.body, out, code, c.count, c.code)
		}
	}
}
