package policy

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// benchPolicies builds a realistic worst case: a 50-statement bucket policy
// (grants to accounts, users, roles and "*", wildcard actions and
// resources, conditions on IP, TLS, prefixes, tags and dates, a few Denies)
// and 10 identity policies of 5 statements each.
func benchPolicies(tb testing.TB) (*Policy, []*Policy) {
	tb.Helper()
	var stmts []string
	for i := 0; i < 50; i++ {
		var principal, action, resource, cond string
		switch i % 5 {
		case 0:
			principal = fmt.Sprintf(`{"AWS":"arn:aws:iam::%012d:user/u%d"}`, 100000000000+i, i)
		case 1:
			principal = fmt.Sprintf(`{"AWS":["%012d","arn:aws:iam::%012d:role/r%d"]}`, 200000000000+i, 300000000000+i, i)
		case 2:
			principal = `"*"`
		case 3:
			principal = `{"AWS":"arn:aws:iam::444455556666:root"}`
		case 4:
			principal = `{"Service":"logging.s3.amazonaws.com"}`
		}
		switch i % 4 {
		case 0:
			action = `["s3:GetObject","s3:GetObjectVersion"]`
		case 1:
			action = `"s3:Put*"`
		case 2:
			action = `["s3:List*","s3:GetBucket*"]`
		case 3:
			action = `"s3:*Object*"`
		}
		switch i % 3 {
		case 0:
			resource = fmt.Sprintf(`"arn:aws:s3:::bkt/team%d/*"`, i)
		case 1:
			resource = `["arn:aws:s3:::bkt","arn:aws:s3:::bkt/*"]`
		case 2:
			resource = fmt.Sprintf(`"arn:aws:s3:::bkt/*/p%d/*.log"`, i)
		}
		switch i % 6 {
		case 0:
			cond = `,"Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]}}`
		case 1:
			cond = `,"Condition":{"Bool":{"aws:SecureTransport":"true"},"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}`
		case 2:
			cond = `,"Condition":{"StringEquals":{"aws:PrincipalTag/team":"red"},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`
		case 3:
			cond = `,"Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]},"NumericLessThanEquals":{"s3:max-keys":"1000"}}`
		}
		effect := "Allow"
		if i%10 == 9 {
			effect = "Deny"
		}
		stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d","Effect":"%s","Principal":%s,"Action":%s,"Resource":%s%s}`, i, effect, principal, action, resource, cond))
	}
	bucket, err := Parse([]byte(`{"Version":"2012-10-17","Statement":[`+strings.Join(stmts, ",")+`]}`), Resource)
	if err != nil {
		tb.Fatal(err)
	}
	var identity []*Policy
	for p := 0; p < 10; p++ {
		var ss []string
		for s := 0; s < 5; s++ {
			ss = append(ss, fmt.Sprintf(`{"Sid":"P%dS%d","Effect":"Allow","Action":["ec2:Describe*","s3:Get%d*","iam:*AccessKey*"],"Resource":["arn:aws:s3:::other%d/*","arn:aws:iam::111122223333:user/${aws:username}"],"Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}`, p, s, s, p))
		}
		if p == 9 {
			ss[4] = `{"Sid":"Grant","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/home/${aws:username}/*"}`
		}
		pol, err := Parse([]byte(`{"Version":"2012-10-17","Statement":[`+strings.Join(ss, ",")+`]}`), Managed)
		if err != nil {
			tb.Fatal(err)
		}
		identity = append(identity, pol)
	}
	return bucket, identity
}

func benchRequest() *Request {
	return &Request{
		Principal: Principal{
			Type:    IAMUser,
			Account: "111122223333",
			ARN:     "arn:aws:iam::111122223333:user/alice",
			UserID:  "AIDAALICEEXAMPLE00001",
			Tags:    map[string]string{"team": "red"},
		},
		Action:          "s3:GetObject",
		Resource:        "arn:aws:s3:::bkt/home/alice/photos/p7/x.log",
		ResourceAccount: "111122223333",
		Context: map[string][]string{
			"aws:SourceIp":               {"203.0.113.9"},
			"aws:SecureTransport":        {"true"},
			"aws:CurrentTime":            {"2024-06-01T12:00:00Z"},
			"aws:EpochTime":              {"1717243200"},
			"aws:UserAgent":              {"aws-cli/2.15"},
			"aws:RequestedRegion":        {"us-east-1"},
			"aws:MultiFactorAuthPresent": {"false"},
			"s3:authType":                {"REST-HEADER"},
			"s3:signatureversion":        {"AWS4-HMAC-SHA256"},
			"s3:TlsVersion":              {"1.3"},
			"s3:x-amz-content-sha256":    {"UNSIGNED-PAYLOAD"},
		},
	}
}

// BenchmarkEvaluate: a 50-statement bucket policy and 10 identity policies;
// the budget is 5 µs per decision (median).
func BenchmarkEvaluate(b *testing.B) {
	bucket, identity := benchPolicies(b)
	in := &Input{Identity: identity, Resource: bucket}
	r := benchRequest()
	if d := Evaluate(in, r); !d.Allowed {
		b.Fatalf("benchmark request not allowed: %+v", d)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Evaluate(in, r)
	}
}

// BenchmarkEvaluateLowerKeys is the same with lower-case context keys,
// which Evaluate looks up without scanning.
func BenchmarkEvaluateLowerKeys(b *testing.B) {
	bucket, identity := benchPolicies(b)
	in := &Input{Identity: identity, Resource: bucket}
	r := benchRequest()
	lower := map[string][]string{}
	for k, v := range r.Context {
		lower[strings.ToLower(k)] = v
	}
	r.Context = lower
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Evaluate(in, r)
	}
}

// BenchmarkEvaluateCrossAccount: a principal of another account, so no
// Allow short-cuts the scan of the bucket policy.
func BenchmarkEvaluateCrossAccount(b *testing.B) {
	bucket, identity := benchPolicies(b)
	in := &Input{Identity: identity, Resource: bucket}
	r := benchRequest()
	r.Principal.Account = "444455556666"
	r.Principal.ARN = "arn:aws:iam::444455556666:user/alice"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Evaluate(in, r)
	}
}

func BenchmarkParse(b *testing.B) {
	var stmts []string
	for i := 0; i < 50; i++ {
		stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/u%d"},"Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::bkt","arn:aws:s3:::bkt/*"],"Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}`, i, i))
	}
	doc := []byte(`{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`)
	b.SetBytes(int64(len(doc)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(doc, Resource); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEvaluateBudget measures the median decision time of the benchmark
// scenario and fails far above the 5 µs budget (generously, so that a
// loaded CI machine does not flake; the benchmark reports the real
// number), and checks that the common path does not allocate.
func TestEvaluateBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	bucket, identity := benchPolicies(t)
	in := &Input{Identity: identity, Resource: bucket}
	r := benchRequest()
	const rounds, per = 31, 200
	var samples []time.Duration
	for i := 0; i < rounds; i++ {
		start := time.Now()
		for j := 0; j < per; j++ {
			Evaluate(in, r)
		}
		samples = append(samples, time.Since(start)/per)
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	median := samples[rounds/2]
	t.Logf("median Evaluate: %v", median)
	if median > 50*time.Microsecond {
		t.Errorf("median Evaluate %v, budget 5µs", median)
	}
	if n := testing.AllocsPerRun(100, func() { Evaluate(in, r) }); n != 0 {
		t.Errorf("Evaluate allocates %v times per call", n)
	}
}

// Parsed policies are shared between goroutines; run with -race.
func TestConcurrentEvaluate(t *testing.T) {
	bucket, identity := benchPolicies(t)
	in := &Input{Identity: identity, Resource: bucket}
	reqs := fuzzRequests()
	reqs = append(reqs, benchRequest())
	want := make([]Decision, len(reqs))
	for i, r := range reqs {
		want[i] = Evaluate(in, r)
	}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			for n := 0; n < 200; n++ {
				for i, r := range reqs {
					if d := Evaluate(in, r); d != want[i] {
						done <- fmt.Errorf("request %d: %+v, want %+v", i, d, want[i])
						return
					}
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
