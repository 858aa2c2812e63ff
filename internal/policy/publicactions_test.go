package policy

import "testing"

func TestPublicAllowsAndCrossAccount(t *testing.T) {
	const owner = "111111111111"
	for _, c := range []struct {
		name, doc, action string
		public, cross     bool
	}{
		{"public read", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, "s3:GetObject", true, true},
		{"public read, asked write", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"}]}`, "s3:PutObject", false, false},
		{"NotAction", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","NotAction":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, "s3:PutObject", true, true},
		{"pinned to a VPC", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}}]}`, "s3:GetObject", false, true},
		{"other account", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"s3:PutBucketPolicy","Resource":"arn:aws:s3:::b"}]}`, "s3:PutBucketPolicy", false, true},
		{"own account", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/a"},"Action":"s3:*","Resource":"arn:aws:s3:::b"}]}`, "s3:PutBucketPolicy", false, false},
		{"deny", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}`, "s3:GetObject", false, false},
	} {
		p, err := Parse([]byte(c.doc), Resource)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := p.PublicAllows(c.action); got != c.public {
			t.Errorf("%s: PublicAllows(%s) = %v", c.name, c.action, got)
		}
		if got := p.CrossAccountAllows(owner, c.action); got != c.cross {
			t.Errorf("%s: CrossAccountAllows(%s) = %v", c.name, c.action, got)
		}
	}
}
