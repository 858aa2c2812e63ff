package policy

import (
	"errors"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`,
	`{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:sts::111122223333:assumed-role/R/s","arn:aws:iam::111122223333:role/R","111122223333"]},"NotAction":"s3:Get*","NotResource":"arn:aws:s3:::b/${aws:username}/*","Condition":{"ForAllValues:StringNotLikeIfExists":{"aws:TagKeys":["a*","${*}?"]}}}]}`,
	`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:*Object*","iam:?et*"],"Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00+01:00"},"NumericGreaterThan":{"s3:max-keys":"-1.5"},"Bool":{"aws:SecureTransport":true},"Null":{"s3:prefix":"false"},"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:${aws:PrincipalAccount}:*"},"BinaryEquals":{"aws:RequestTag/b":"aGk="}}}}`,
	`{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com","Federated":"accounts.google.com"},"Action":"sts:AssumeRole"}}`,
	`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:userid, 'x'}/${s3:prefix}"}}`,
	`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b","Statement":1}}`,
	`{"a":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}`,
	``, `{`, `null`, `{"Version":"2012-10-17","Statement":[]}`,
}

var allKinds = []Kind{Identity, Managed, Boundary, Session, Resource, Trust, KeyPolicy}

// Parse never panics, answers only *Error for a known kind, is
// deterministic, and whatever it accepts can be evaluated (deterministically)
// and analysed without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		for k := range allKinds {
			f.Add([]byte(s), uint8(k))
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte, k uint8) {
		kind := allKinds[int(k)%len(allKinds)]
		p, err := Parse(doc, kind)
		p2, err2 := Parse(doc, kind)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("Parse not deterministic: %v / %v", err, err2)
		}
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("non-*Error: %v", err)
			}
			if kind == Resource && pe.Code != CodeMalformedPolicy || kind != Resource && pe.Code != CodeMalformedPolicyDocument {
				t.Fatalf("kind %v answered %s", kind, pe.Code)
			}
			return
		}
		_ = p.IsPublic()
		_ = p.GrantsCrossAccount("111122223333")
		_ = p.CheckBucket("b")
		if p.Len() == 0 || p2.Len() != p.Len() {
			t.Fatalf("parsed policy has %d statements", p.Len())
		}
		in := &Input{Resource: p}
		if kind != Resource && kind != Trust && kind != KeyPolicy {
			in = &Input{Identity: []*Policy{p}, Boundary: p, Session: []*Policy{p}}
		}
		for _, r := range fuzzRequests() {
			d1, d2 := Evaluate(in, r), Evaluate(in, r)
			if d1 != d2 {
				t.Fatalf("Evaluate not deterministic: %+v / %+v", d1, d2)
			}
			checkDecision(t, d1)
		}
	})
}

func fuzzRequests() []*Request {
	ctx := map[string][]string{
		"aws:SourceIp": {"10.1.2.3"}, "aws:CurrentTime": {"2024-01-01T00:00:00Z"},
		"s3:max-keys": {"10"}, "aws:SecureTransport": {"true"}, "aws:TagKeys": {"a1", "b"},
		"s3:prefix": {"a*"}, "aws:SourceArn": {"arn:aws:sns:us-east-1:111122223333:t"},
		"aws:RequestTag/b": {"hi"},
	}
	return []*Request{
		{Principal: Principal{Type: IAMUser, Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/u", UserID: "AIDAEXAMPLEEXAMPLE01"}, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/u/x", ResourceAccount: "111122223333", Context: ctx},
		{Principal: Principal{Type: AssumedRole, Account: "111122223333", ARN: "arn:aws:sts::111122223333:assumed-role/R/s", RoleARN: "arn:aws:iam::111122223333:role/R", UserID: "AROAEXAMPLEEXAMPLE01:s"}, Action: "sts:AssumeRole", Resource: "arn:aws:iam::444455556666:role/T", ResourceAccount: "444455556666", Context: ctx},
		{Principal: Principal{Type: Anonymous}, Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", ResourceAccount: "111122223333"},
		{Principal: Principal{Type: Service, ARN: "ec2.amazonaws.com"}, Action: "sts:AssumeRole", Resource: "*"},
		{Principal: Principal{Type: Root, Account: "111122223333", ARN: "arn:aws:iam::111122223333:root"}, Action: "s3:PutBucketPolicy", Resource: "arn:aws:s3:::b", ResourceAccount: "111122223333"},
	}
}

// checkDecision checks the invariants every decision keeps.
func checkDecision(t *testing.T, d Decision) {
	t.Helper()
	allowedReason := d.Reason >= AllowedByIdentity
	if d.Allowed != allowedReason {
		t.Fatalf("Allowed=%v with reason %v", d.Allowed, d.Reason)
	}
	if d.Reason == ExplicitDeny && d.Statement == "" {
		t.Fatalf("explicit deny without a statement: %+v", d)
	}
}

// FuzzEvaluate drives Evaluate with arbitrary requests against a fixed set
// of policies and checks it never panics, is deterministic, and keeps
// AWS's invariants: an explicit Deny always wins (the owner root's bucket
// policy management aside), and adding a Deny never turns a denial into an
// allow.
func FuzzEvaluate(f *testing.F) {
	identity := mustParse(f, Identity, `{"Version":"2012-10-17","Statement":[
		{"Sid":"A","Effect":"Deny","NotAction":"s3:Get*","NotResource":"arn:aws:s3:::b/${aws:username}/*","Condition":{"ForAllValues:StringNotLikeIfExists":{"aws:TagKeys":["a*","${*}?"]}}},
		{"Sid":"B","Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:PrincipalTag/team, 'x'}/*"}]}`)
	identity2 := mustParse(f, Identity, fuzzSeeds[2])
	bucket := mustParse(f, Resource, `{"Version":"2012-10-17","Statement":[
		{"Sid":"Pub","Effect":"Allow","Principal":"*","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*","Condition":{"StringLike":{"s3:prefix":"${aws:username}*"}}},
		{"Sid":"B","Effect":"Allow","Principal":{"AWS":["444455556666","arn:aws:iam::111122223333:role/R"]},"Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]},
		{"Sid":"NP","Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:Delete*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`)
	denyAll := mustParse(f, Resource, `{"Statement":{"Sid":"No","Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}}`)
	trust := mustParse(f, Trust, fuzzSeeds[3])

	f.Add(uint8(2), "111122223333", "arn:aws:iam::111122223333:user/u", "s3:GetObject", "arn:aws:s3:::b/u/x", "111122223333", "", "s3:prefix", "u/x", uint8(0))
	f.Add(uint8(3), "444455556666", "arn:aws:sts::444455556666:assumed-role/R/s", "S3:getobject", "arn:aws:s3:::b/k", "111122223333", "777788889999", "aws:SourceIp", "10.0.0.1", uint8(1))
	f.Add(uint8(0), "", "", "s3:GetObject", "*", "", "", "", "", uint8(2))
	f.Add(uint8(1), "111122223333", "arn:aws:iam::111122223333:root", "s3:PutBucketPolicy", "arn:aws:s3:::b", "111122223333", "", "AWS:SOURCEIP", "::ffff:10.0.0.1", uint8(3))
	f.Add(uint8(5), "", "ec2.amazonaws.com", "sts:AssumeRole", "arn:aws:iam::111122223333:role/x", "111122223333", "", "aws:CurrentTime", "2024-02-30", uint8(4))
	f.Fuzz(func(t *testing.T, typ uint8, account, arn, action, resource, owner, objOwner, key, value string, sel uint8) {
		p := Principal{Type: PrincipalType(typ % 7), Account: account, ARN: arn, UserID: arn, RoleARN: arn, SourceARN: arn,
			Tags: map[string]string{"team": value}}
		r := &Request{Principal: p, Action: action, Resource: resource, ResourceAccount: owner, ObjectOwner: objOwner}
		if key != "" {
			r.Context = map[string][]string{key: {value}, strings.ToUpper(key): {value, value}}
		}
		inputs := []*Input{
			{Identity: []*Policy{identity, identity2}, Resource: bucket, ACL: ACLGrant(sel % 3)},
			{Identity: []*Policy{identity2}, Boundary: identity, Session: []*Policy{identity2}, Resource: bucket, RestrictPublicBuckets: sel&4 != 0},
			{Identity: []*Policy{identity2}, Resource: trust},
			{Resource: bucket, ACL: ACLEveryone},
		}
		for _, in := range inputs {
			d := Evaluate(in, r)
			if d2 := Evaluate(in, r); d2 != d {
				t.Fatalf("not deterministic: %+v / %+v", d, d2)
			}
			checkDecision(t, d)
			// Adding a Deny-everything bucket policy statement can only
			// deny (the owner root managing its bucket policy excepted).
			withDeny := *in
			withDeny.Resource = denyAll
			if dd := Evaluate(&withDeny, r); dd.Allowed && dd.Reason != AllowedOwnerRootPolicyManagement {
				t.Fatalf("allowed despite Deny *: %+v for %+v", dd, r)
			}
		}
	})
}

func mustParse(tb testing.TB, kind Kind, doc string) *Policy {
	tb.Helper()
	p, err := Parse([]byte(doc), kind)
	if err != nil {
		tb.Fatalf("%s: %v", doc, err)
	}
	return p
}
