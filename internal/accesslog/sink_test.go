package accesslog

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
)

type fakeStore struct {
	mu      sync.Mutex
	objects map[string]string // bucket/key → body
	fail    error
}

func (f *fakeStore) PutLog(_ context.Context, srcAcct, srcBucket, bucket, key string, body io.Reader, size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if int64(len(b)) != size {
		return errors.New("size mismatch")
	}
	if f.objects == nil {
		f.objects = map[string]string{}
	}
	f.objects[bucket+"/"+key] = string(b)
	return nil
}

func testEvent(key, outcome string, status int, code string) *audit.Event {
	return &audit.Event{
		Time: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), RequestID: "R" + key, Service: "s3", Operation: "GetObject",
		PrincipalType: "Root", AccountID: "111122223333", Bucket: "src", Key: key, SourceIP: "127.0.0.1",
		UserAgent: "test", TLS: true, TLSVersion: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", AuthType: "header",
		Outcome: outcome, Status: status, ErrorCode: code, BytesOut: 5, Duration: 3 * time.Millisecond,
	}
}

func record(t *testing.T, s *Sink, e *audit.Event, logging []byte) {
	t.Helper()
	d := &Details{Method: "GET", RequestURI: "/src/" + e.Key, Proto: "HTTP/1.1", Host: "127.0.0.1", ObjectSize: 5,
		TurnAround: time.Millisecond, BucketOwner: "111122223333", Logging: logging, HostID: "h"}
	if err := s.Record(WithDetails(context.Background(), d), e); err != nil {
		t.Fatal(err)
	}
}

func TestSinkDeliversOnceAcrossCrashes(t *testing.T) {
	dir := t.TempDir()
	st := &fakeStore{}
	canon := func(context.Context, string) (string, error) { return strings.Repeat("c", 64), nil }
	s, err := NewSink(dir, "us-east-1", canon, st)
	if err != nil {
		t.Fatal(err)
	}
	cfg := EncodeTarget(&Target{Bucket: "logs", Prefix: "src-logs/"})
	record(t, s, testEvent("a", "success", 200, ""), cfg)
	record(t, s, testEvent("b", "denied", 403, "AccessDenied"), cfg)
	// Not logged: no configuration; not S3.
	record(t, s, testEvent("c", "success", 200, ""), nil)
	iam := testEvent("d", "success", 200, "")
	iam.Service = "iam"
	record(t, s, iam, cfg)

	// The target refuses for now: the segment stays.
	st.fail = errors.New("transient")
	if err := s.Deliver(context.Background(), time.Unix(1000, 0), nil); err == nil {
		t.Fatal("delivery error not reported")
	}
	// A crash (no Close) and a new process: more lines, one cut short.
	record(t, s, testEvent("e", "failed", 404, "NoSuchKey"), cfg)
	s2, _ := NewSink(dir, "us-east-1", canon, st)
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	f, _ := os.OpenFile(logs[0], os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("partial line without end")
	f.Close()
	st.fail = nil
	if err := s2.Deliver(context.Background(), time.Unix(2000, 0), nil); err != nil {
		t.Fatal(err)
	}
	if len(st.objects) != 2 {
		t.Fatalf("objects: %v", st.objects)
	}
	var all string
	for k, v := range st.objects {
		if !strings.HasPrefix(k, "logs/src-logs/1970-01-01-") {
			t.Errorf("key %s", k)
		}
		all += v
	}
	for _, want := range []string{
		" src [27/Nov/2026:10:00:00 +0000] 127.0.0.1 " + strings.Repeat("c", 64) + " Ra REST.GET.OBJECT a \"GET /src/a HTTP/1.1\" 200 - 5 5 3 1 \"-\" \"test\" - h SigV4 TLS_AES_128_GCM_SHA256 AuthHeader 127.0.0.1 TLSv1.3 - - -\n",
		" Rb REST.GET.OBJECT b \"GET /src/b HTTP/1.1\" 403 AccessDenied ",
		" Re REST.GET.OBJECT e \"GET /src/e HTTP/1.1\" 404 NoSuchKey ",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("delivered logs lack %q:\n%s", want, all)
		}
	}
	if n := strings.Count(all, "\n"); n != 3 || strings.Contains(all, "partial") || strings.Contains(all, " Rc ") || strings.Contains(all, " Rd ") {
		t.Errorf("delivered lines:\n%s", all)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 0 {
		t.Errorf("spool not empty: %v", left)
	}
}

func TestSinkDropsUndeliverable(t *testing.T) {
	dir := t.TempDir()
	st := &fakeStore{fail: ErrUndeliverable}
	s, _ := NewSink(dir, "us-east-1", nil, st)
	record(t, s, testEvent("a", "success", 200, ""), EncodeTarget(&Target{Bucket: "gone", Prefix: ""}))
	if err := s.Deliver(context.Background(), time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("undeliverable segment kept: %v", left)
	}
}

func TestSegmentKeyIsStable(t *testing.T) {
	a, b := uniqueString("x.1.seg"), uniqueString("x.1.seg")
	if a != b || a == uniqueString("x.2.seg") {
		t.Error("unique string not derived from the segment name")
	}
	if len(uniqueString("x")) != 16 || strings.ToUpper(uniqueString("x")) != uniqueString("x") {
		t.Error("unique string shape")
	}
}

func TestValidate(t *testing.T) {
	s := func(v string) *string { return &v }
	for _, c := range []struct {
		name string
		st   Status
		err  error
	}{
		{"off", Status{}, nil},
		{"simple", Status{Enabled: &Enabled{TargetBucket: s("t"), TargetPrefix: s("p/")}}, nil},
		{"no prefix", Status{Enabled: &Enabled{TargetBucket: s("t")}}, ErrMalformed},
		{"no bucket", Status{Enabled: &Enabled{TargetPrefix: s("")}}, ErrMalformed},
		{"both formats", Status{Enabled: &Enabled{TargetBucket: s("t"), TargetPrefix: s(""), KeyFormat: &KeyFormat{Simple: &struct{}{}, Partitioned: &Partitioned{}}}}, ErrMalformed},
		{"bad date source", Status{Enabled: &Enabled{TargetBucket: s("t"), TargetPrefix: s(""), KeyFormat: &KeyFormat{Partitioned: &Partitioned{DateSource: "Now"}}}}, ErrBadDateSrc},
		{"long prefix", Status{Enabled: &Enabled{TargetBucket: s("t"), TargetPrefix: s(strings.Repeat("p", 901))}}, ErrPrefixLong},
	} {
		if _, err := c.st.Validate(); !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
	}
}
