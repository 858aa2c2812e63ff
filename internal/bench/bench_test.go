package bench

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func checkPercentiles(t *testing.T, rep *Report) {
	t.Helper()
	if rep.Ops == 0 {
		return
	}
	if !(0 < rep.P50 && rep.P50 <= rep.P90 && rep.P90 <= rep.P99 && rep.P99 <= rep.Max) {
		t.Errorf("%s: percentiles not ordered: p50=%v p90=%v p99=%v max=%v", rep.Op, rep.P50, rep.P90, rep.P99, rep.Max)
	}
}

func TestRunSingleOps(t *testing.T) {
	const size, objects = 1000, 20
	tests := []struct {
		name    string
		op      string
		count   int
		payload string
		prefix  string
		session string
		keep    bool
		empty   bool // zero-byte objects

		wantBytes   int64
		wantCall    string // fake call counted once per measured op
		wantObjects int    // left in the bucket when keep is set
	}{
		{name: "put", op: OpPut, count: 60, wantBytes: 60 * size, wantCall: "PUT object"},
		{name: "put signed payload kept", op: OpPut, count: 60, payload: PayloadSigned, keep: true,
			wantBytes: 60 * size, wantCall: "PUT object", wantObjects: objects},
		{name: "put fewer than key space kept", op: OpPut, count: 7, keep: true,
			wantBytes: 7 * size, wantCall: "PUT object", wantObjects: 7},
		{name: "put empty objects signed", op: OpPut, count: 30, payload: PayloadSigned, empty: true, keep: true,
			wantCall: "PUT object", wantObjects: objects},
		{name: "get", op: OpGet, count: 60, wantBytes: 60 * size, wantCall: "GET object"},
		{name: "get empty objects", op: OpGet, count: 30, empty: true, wantCall: "GET object"},
		{name: "get odd prefix", op: OpGet, count: 30, prefix: "dir one/ü+&=$!'()*,;@[] ", keep: true,
			wantBytes: 30 * size, wantCall: "GET object", wantObjects: objects},
		{name: "head with session token", op: OpHead, count: 40, session: "session/token+1", wantCall: "HEAD object"},
		{name: "list", op: OpList, count: 25, prefix: "l/", wantCall: "LIST"},
		{name: "delete", op: OpDelete, count: 15, keep: true, wantCall: "DELETE object", wantObjects: objects - 15},
		{name: "delete past key space", op: OpDelete, count: 30, keep: true, wantCall: "DELETE object", wantObjects: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeS3(t)
			f.session = tc.session
			cfg := f.config()
			cfg.Op, cfg.Count, cfg.PayloadMode, cfg.Prefix = tc.op, tc.count, tc.payload, tc.prefix
			cfg.SessionToken, cfg.Keep = tc.session, tc.keep
			cfg.ObjectSize, cfg.Objects = size, objects
			wantSize := size
			if tc.empty {
				cfg.ObjectSize, wantSize = 0, 0
			}

			var progress bytes.Buffer
			rep, err := Run(context.Background(), cfg, &progress)
			if err != nil {
				t.Fatalf("Run: %v\nprogress:\n%s", err, progress.String())
			}
			if rep.Op != tc.op || rep.Ops != int64(tc.count) || rep.Errors != 0 {
				t.Errorf("report op=%s ops=%d errors=%d, want op=%s ops=%d errors=0 (samples %+v)",
					rep.Op, rep.Ops, rep.Errors, tc.op, tc.count, rep.ErrorSamples)
			}
			if rep.Bytes != tc.wantBytes {
				t.Errorf("bytes = %d, want %d", rep.Bytes, tc.wantBytes)
			}
			if rep.PerOp != nil {
				t.Errorf("single-op report has PerOp %v", rep.PerOp)
			}
			checkPercentiles(t, rep)

			// Prepare and cleanup add their own PUTs and DELETEs; the measured
			// calls come on top.
			if got := f.callCount(tc.wantCall); got < tc.count {
				t.Errorf("fake saw %d %q calls, want at least %d", got, tc.wantCall, tc.count)
			}
			if n := f.authFailures.Load(); n != 0 {
				t.Errorf("%d requests failed signature checks", n)
			}

			objs := f.objects(cfg.Bucket)
			if !tc.keep {
				if objs != nil {
					t.Errorf("bucket not removed; %d objects left", len(objs))
				}
				return
			}
			if len(objs) != tc.wantObjects {
				t.Errorf("kept bucket has %d objects, want %d", len(objs), tc.wantObjects)
			}
			for k, v := range objs {
				if !strings.HasPrefix(k, tc.prefix) || len(k) != len(tc.prefix)+keyDigits || len(v) != wantSize {
					t.Errorf("unexpected object %q (%d bytes)", k, len(v))
				}
			}
		})
	}
}

func TestRunMixed(t *testing.T) {
	f := newFakeS3(t)
	cfg := f.config()
	cfg.Op = OpMixed
	cfg.Mix = "get=40,put=20,head=15,list=10,delete=15"
	cfg.Count = 300

	rep, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ops != 300 || rep.Errors != 0 {
		t.Fatalf("ops=%d errors=%d, want 300 and 0 (samples %+v)", rep.Ops, rep.Errors, rep.ErrorSamples)
	}
	var sum, bytes int64
	for _, name := range []string{OpGet, OpPut, OpHead, OpList, OpDelete} {
		sub, ok := rep.PerOp[name]
		if !ok {
			// 300 draws at >= 10% each: missing an op is vanishingly unlikely.
			t.Errorf("no per-op report for %s", name)
			continue
		}
		if sub.Op != name || sub.Errors != 0 || sub.Elapsed != rep.Elapsed {
			t.Errorf("per-op %s: %+v", name, sub)
		}
		checkPercentiles(t, sub)
		sum += sub.Ops
		bytes += sub.Bytes
	}
	if sum != rep.Ops || bytes != rep.Bytes {
		t.Errorf("per-op ops/bytes add up to %d/%d, total says %d/%d", sum, bytes, rep.Ops, rep.Bytes)
	}
	if want := (rep.PerOp[OpGet].Ops + rep.PerOp[OpPut].Ops) * cfg.ObjectSize; rep.Bytes != want {
		t.Errorf("bytes = %d, want %d", rep.Bytes, want)
	}
	checkPercentiles(t, rep)
	if f.bucketExists(cfg.Bucket) {
		t.Errorf("bucket left behind with %d objects", len(f.objects(cfg.Bucket)))
	}
}

func TestRunBounds(t *testing.T) {
	tests := []struct {
		name     string
		duration time.Duration
		count    int
		wantOps  int64 // 0: any positive number
	}{
		{name: "duration only", duration: 300 * time.Millisecond},
		{name: "count before duration", duration: time.Minute, count: 5, wantOps: 5},
		{name: "count below concurrency", count: 2, wantOps: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeS3(t)
			cfg := f.config()
			cfg.Op, cfg.Duration, cfg.Count = OpHead, tc.duration, tc.count
			rep, err := Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Errors != 0 || rep.Ops == 0 || (tc.wantOps != 0 && rep.Ops != tc.wantOps) {
				t.Errorf("ops=%d errors=%d, want %d ops and no errors", rep.Ops, rep.Errors, tc.wantOps)
			}
			if tc.count == 0 && rep.Elapsed < tc.duration {
				t.Errorf("duration-bound run ended after %v, before %v", rep.Elapsed, tc.duration)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name    string
		op      string
		fail    func() func(r *http.Request, bucket, key string) (int, string)
		wantErr string // "" when Run must succeed
		// wantSample is the expected most frequent error sample.
		wantSample ErrorSample
		allFail    bool
	}{
		{
			name: "every other put fails",
			op:   OpPut,
			fail: func() func(*http.Request, string, string) (int, string) {
				var n atomic.Int64
				return func(r *http.Request, _, key string) (int, string) {
					if r.Method == http.MethodPut && key != "" && n.Add(1)%2 == 0 {
						return http.StatusInternalServerError, "InternalError"
					}
					return 0, ""
				}
			},
			wantSample: ErrorSample{Op: OpPut, Status: 500, Code: "InternalError"},
		},
		{
			name: "all gets fail",
			op:   OpGet,
			fail: func() func(*http.Request, string, string) (int, string) {
				return func(r *http.Request, _, key string) (int, string) {
					if r.Method == http.MethodGet && key != "" {
						return http.StatusServiceUnavailable, "SlowDown"
					}
					return 0, ""
				}
			},
			wantErr:    "all 60 operations failed",
			wantSample: ErrorSample{Op: OpGet, Status: 503, Code: "SlowDown", Count: 60},
			allFail:    true,
		},
		{
			name: "all heads fail without body",
			op:   OpHead,
			fail: func() func(*http.Request, string, string) (int, string) {
				return func(r *http.Request, _, key string) (int, string) {
					if r.Method == http.MethodHead && key != "" {
						return http.StatusInternalServerError, ""
					}
					return 0, ""
				}
			},
			wantErr:    "all 60 operations failed",
			wantSample: ErrorSample{Op: OpHead, Status: 500, Count: 60},
			allFail:    true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeS3(t)
			f.fail = tc.fail()
			cfg := f.config()
			cfg.Op = tc.op
			rep, err := Run(context.Background(), cfg, nil)
			if rep == nil {
				t.Fatalf("no report (err %v)", err)
			}
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Run: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Run error = %v, want %q", err, tc.wantErr)
			}
			if rep.Ops+rep.Errors != int64(cfg.Count) || rep.Errors == 0 {
				t.Errorf("ops=%d errors=%d, want errors > 0 adding up to %d", rep.Ops, rep.Errors, cfg.Count)
			}
			if tc.allFail && (rep.Ops != 0 || rep.P50 != 0 || rep.OpsPerSec != 0) {
				t.Errorf("all-failed run reports successes: %+v", rep)
			}
			if len(rep.ErrorSamples) == 0 {
				t.Fatal("no error samples")
			}
			got := rep.ErrorSamples[0]
			if tc.wantSample.Count == 0 {
				got.Count = 0
			}
			if got != tc.wantSample {
				t.Errorf("error sample %+v, want %+v", got, tc.wantSample)
			}
			if f.bucketExists(cfg.Bucket) {
				t.Error("bucket not cleaned up after a failing run")
			}
		})
	}
}

func TestRunSetupFailures(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		fail    func(r *http.Request, bucket, key string) (int, string)
		wantErr string
	}{
		{
			name:    "untrusted certificate",
			mutate:  func(c *Config) { c.CAFile = "" },
			wantErr: "certificate",
		},
		{
			name: "bucket creation refused",
			fail: func(r *http.Request, _, key string) (int, string) {
				if r.Method == http.MethodPut && key == "" {
					return http.StatusForbidden, "AccessDenied"
				}
				return 0, ""
			},
			wantErr: "AccessDenied",
		},
		{
			name: "prepare fails",
			mutate: func(c *Config) {
				c.Op = OpGet
			},
			fail: func(r *http.Request, _, key string) (int, string) {
				if r.Method == http.MethodPut && key != "" && strings.HasSuffix(key, "7") {
					return http.StatusInsufficientStorage, "XMinioStorageFull"
				}
				return 0, ""
			},
			wantErr: "before the run",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeS3(t)
			f.fail = tc.fail
			cfg := f.config()
			if tc.mutate != nil {
				tc.mutate(&cfg)
			}
			rep, err := Run(context.Background(), cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Run error = %v, want one mentioning %q", err, tc.wantErr)
			}
			if rep != nil {
				t.Errorf("setup failure returned a report: %+v", rep)
			}
			if f.bucketExists(cfg.Bucket) {
				t.Errorf("bucket left behind with %d objects", len(f.objects(cfg.Bucket)))
			}
		})
	}
}

func TestRunInsecure(t *testing.T) {
	f := newFakeS3(t)
	cfg := f.config()
	cfg.CAFile, cfg.Insecure = "", true
	var progress bytes.Buffer
	rep, err := Run(context.Background(), cfg, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ops != int64(cfg.Count) {
		t.Errorf("ops = %d, want %d", rep.Ops, cfg.Count)
	}
	if !strings.Contains(progress.String(), "TLS verification disabled") {
		t.Errorf("no insecure warning in progress output:\n%s", progress.String())
	}
}

func TestRunExistingBucketKept(t *testing.T) {
	f := newFakeS3(t)
	f.buckets["shared"] = map[string][]byte{"unrelated": []byte("keep me")}
	cfg := f.config()
	cfg.Bucket, cfg.Prefix = "shared", "bench/"
	if _, err := Run(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	objs := f.objects("shared")
	if len(objs) != 1 || string(objs["unrelated"]) != "keep me" {
		t.Errorf("pre-existing bucket contents changed: %d objects", len(objs))
	}
	if n := f.callCount("DELETE bucket"); n != 0 {
		t.Errorf("tried to delete a bucket the run did not create (%d times)", n)
	}
}

func TestRunCancelled(t *testing.T) {
	f := newFakeS3(t)
	cfg := f.config()
	cfg.Op, cfg.Count, cfg.Duration = OpPut, 0, time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	rep, err := Run(ctx, cfg, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want context.Canceled", err)
	}
	if rep == nil || rep.Errors != 0 {
		t.Fatalf("want a partial report without errors, got %+v", rep)
	}
	if f.bucketExists(cfg.Bucket) {
		t.Error("bucket not cleaned up after cancellation")
	}
}

func TestNormalize(t *testing.T) {
	valid := Config{Endpoint: "https://127.0.0.1:9000", AccessKey: "a", SecretKey: "s", Count: 1}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
		check   func(*testing.T, *settings)
	}{
		{name: "defaults", check: func(t *testing.T, s *settings) {
			if s.Region != "us-east-1" || s.Op != OpPut || s.Objects != 1000 || s.Concurrency != 16 ||
				s.PayloadMode != PayloadUnsigned || !strings.HasPrefix(s.Bucket, "coffer-bench-") {
				t.Errorf("defaults: %+v", s.Config)
			}
		}},
		{name: "http defaults to signed payload", mutate: func(c *Config) { c.Endpoint = "http://localhost:9000/" },
			check: func(t *testing.T, s *settings) {
				if !s.signed || s.scheme != "http" || s.host != "localhost:9000" {
					t.Errorf("got %+v", s)
				}
			}},
		{name: "mix implies mixed", mutate: func(c *Config) { c.Mix = "get=1" }, check: func(t *testing.T, s *settings) {
			if !s.mixed || s.Op != OpMixed || !s.usesOp[opGet] || s.usesOp[opPut] {
				t.Errorf("got %+v", s)
			}
		}},
		{name: "mixed default mix", mutate: func(c *Config) { c.Op = "MIXED" }, check: func(t *testing.T, s *settings) {
			if s.Mix != DefaultMix || s.mixTotal != 100 {
				t.Errorf("got mix %q total %d", s.Mix, s.mixTotal)
			}
		}},
		{name: "no scheme", mutate: func(c *Config) { c.Endpoint = "127.0.0.1:9000" }, wantErr: "endpoint"},
		{name: "endpoint path", mutate: func(c *Config) { c.Endpoint = "https://h/s3" }, wantErr: "path"},
		{name: "no keys", mutate: func(c *Config) { c.SecretKey = "" }, wantErr: "secret key"},
		{name: "bad op", mutate: func(c *Config) { c.Op = "copy" }, wantErr: "op"},
		{name: "mix with single op", mutate: func(c *Config) { c.Op, c.Mix = OpGet, "get=1" }, wantErr: "mix"},
		{name: "bad mix", mutate: func(c *Config) { c.Op, c.Mix = OpMixed, "get=x" }, wantErr: "weight"},
		{name: "negative size", mutate: func(c *Config) { c.ObjectSize = -1 }, wantErr: "size"},
		{name: "negative objects", mutate: func(c *Config) { c.Objects = -1 }, wantErr: "objects"},
		{name: "unbounded", mutate: func(c *Config) { c.Count = 0 }, wantErr: "bound"},
		{name: "negative duration", mutate: func(c *Config) { c.Duration = -time.Second }, wantErr: "negative"},
		{name: "bad payload mode", mutate: func(c *Config) { c.PayloadMode = "chunked" }, wantErr: "payload"},
		{name: "bad bucket", mutate: func(c *Config) { c.Bucket = "a/b" }, wantErr: "bucket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			if tc.mutate != nil {
				tc.mutate(&cfg)
			}
			s, err := cfg.normalize()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one mentioning %q", err, tc.wantErr)
				}
				// Run must refuse the same config before touching the network.
				if _, err := Run(context.Background(), cfg, nil); err == nil {
					t.Error("Run accepted an invalid config")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
		})
	}
}

func TestParseMix(t *testing.T) {
	tests := []struct {
		in        string
		wantTable []mixEntry
		wantTotal int
		wantErr   bool
	}{
		{in: "get=60,put=30,delete=5,list=5", wantTotal: 100,
			wantTable: []mixEntry{{opGet, 60}, {opPut, 90}, {opDelete, 95}, {opList, 100}}},
		{in: " HEAD = 3 , get=0,", wantTotal: 3, wantTable: []mixEntry{{opHead, 3}}},
		{in: "get=1,get=2", wantErr: true},
		{in: "copy=1", wantErr: true},
		{in: "get", wantErr: true},
		{in: "get=-1", wantErr: true},
		{in: "get=0", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			table, total, err := parseMix(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if total != tc.wantTotal || len(table) != len(tc.wantTable) {
				t.Fatalf("got %v total %d, want %v total %d", table, total, tc.wantTable, tc.wantTotal)
			}
			for i := range table {
				if table[i] != tc.wantTable[i] {
					t.Errorf("entry %d = %v, want %v", i, table[i], tc.wantTable[i])
				}
			}
		})
	}
}

func TestS3Escape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain-key_0.9~", "plain-key_0.9~"},
		{"dir/sub/", "dir/sub/"},
		{"a b", "a%20b"},
		{"ü", "%C3%BC"},
		{"a+b=c&d", "a%2Bb%3Dc%26d"},
		{"!$'()*,;:@", "%21%24%27%28%29%2A%2C%3B%3A%40"},
	}
	for _, tc := range tests {
		if got := s3Escape(tc.in); got != tc.want {
			t.Errorf("s3Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestKeyName(t *testing.T) {
	tests := []struct {
		prefix string
		i      int
		want   string
	}{
		{"", 0, "0000000000"},
		{"p/", 42, "p/0000000042"},
		{"x-", 1999999999, "x-1999999999"},
	}
	for _, tc := range tests {
		if got := keyName(tc.prefix, tc.i); got != tc.want {
			t.Errorf("keyName(%q, %d) = %q, want %q", tc.prefix, tc.i, got, tc.want)
		}
	}
}
