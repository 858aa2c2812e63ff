package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/configrec"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

const (
	owner = "111111111111"
	canon = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
)

// Stored forms, as the S3 layer writes them.
const (
	pabAllOn       = `<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>`
	pabAllOff      = `<PublicAccessBlockConfiguration><BlockPublicAcls>false</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>`
	aclPublicRead  = `{"g":[{"id":"` + canon + `","p":"FULL_CONTROL"},{"uri":"http://acs.amazonaws.com/groups/global/AllUsers","p":"READ"}]}`
	aclPublicWrite = `{"g":[{"id":"` + canon + `","p":"FULL_CONTROL"},{"uri":"http://acs.amazonaws.com/groups/global/AllUsers","p":"WRITE"}]}`
	aclOther       = `{"g":[{"id":"` + canon + `","p":"FULL_CONTROL"},{"id":"1111111111111111111111111111111111111111111111111111111111111111","p":"READ"}]}`
	polPublicRead  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
	polPublicWrite = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["s3:PutObject"],"Resource":"arn:aws:s3:::b/*"}]}`
	polPinnedRead  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}}]}`
	polSSL         = `{"Version":"2012-10-17","Statement":[{"Sid":"https","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	polSSLGetOnly  = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	polCrossPut    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:PutBucketPolicy","Resource":"arn:aws:s3:::b"}]}`
	polCrossGet    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
	polSameAcct    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}`
	polService     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`
	encKMS         = `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>arn:aws:kms:us-east-1:111111111111:key/k1</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`
	lifecycle30    = `<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule></LifecycleConfiguration>`
	lifecycleOff   = `<LifecycleConfiguration><Rule><ID>r</ID><Filter></Filter><Status>Disabled</Status><Expiration><Days>30</Days></Expiration></Rule></LifecycleConfiguration>`
	logging        = `{"bucket":"logs","prefix":"b/"}`
)

type mod func(b *meta.Bucket)

func cfg(name, v string) mod { return func(b *meta.Bucket) { b.Configs[name] = []byte(v) } }
func versioning(s, mfa string) mod {
	return func(b *meta.Bucket) { b.Versioning, b.MFADelete = s, mfa }
}
func lock(mode string) mod {
	return func(b *meta.Bucket) {
		b.ObjectLockEnabled = true
		if mode != "" {
			b.DefaultRetention = &meta.DefaultRetention{Mode: mode, Days: 1}
		}
	}
}

func bucket(mods ...mod) *configrec.Item {
	b := &meta.Bucket{Name: "b", Owner: owner, Region: "us-east-1", CreatedAt: time.Unix(1700000000, 0), Configs: map[string][]byte{}}
	for _, m := range mods {
		m(b)
	}
	it := configrec.BucketItem(b, canon)
	return &it
}

// without removes a supplementary configuration key from an item.
func without(it *configrec.Item, key string) *configrec.Item {
	delete(it.SupplementaryConfiguration, key)
	return it
}

func TestManagedRules(t *testing.T) {
	type fixture struct {
		name   string
		params map[string]string
		item   *configrec.Item
		want   string
	}
	cases := map[string][]fixture{
		"S3_BUCKET_PUBLIC_READ_PROHIBITED": {
			{"private", nil, bucket(), Compliant},
			{"public policy", nil, bucket(cfg("policy", polPublicRead)), NonCompliant},
			{"public ACL", nil, bucket(cfg("acl", aclPublicRead)), NonCompliant},
			{"public policy, restricted by BPA", nil, bucket(cfg("policy", polPublicRead), cfg("publicAccessBlock", pabAllOn)), Compliant},
			{"public ACL, ignored by BPA", nil, bucket(cfg("acl", aclPublicRead), cfg("publicAccessBlock", pabAllOn)), Compliant},
			{"public write only", nil, bucket(cfg("policy", polPublicWrite)), Compliant},
			{"pinned to a VPC", nil, bucket(cfg("policy", polPinnedRead)), Compliant},
			{"cross-account is not public", nil, bucket(cfg("policy", polCrossGet)), Compliant},
		},
		"S3_BUCKET_PUBLIC_WRITE_PROHIBITED": {
			{"private", nil, bucket(), Compliant},
			{"public write policy", nil, bucket(cfg("policy", polPublicWrite), cfg("publicAccessBlock", pabAllOff)), NonCompliant},
			{"public write ACL", nil, bucket(cfg("acl", aclPublicWrite)), NonCompliant},
			{"public read only", nil, bucket(cfg("policy", polPublicRead)), Compliant},
		},
		"S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED": {
			{"all on", nil, bucket(cfg("publicAccessBlock", pabAllOn)), Compliant},
			{"none", nil, bucket(), NonCompliant},
			{"all off", nil, bucket(cfg("publicAccessBlock", pabAllOff)), NonCompliant},
			{"excluded", map[string]string{"excludedPublicBuckets": "a, b"}, bucket(cfg("publicAccessBlock", pabAllOff)), NotApplicable},
		},
		"S3_BUCKET_SSL_REQUESTS_ONLY": {
			{"deny without TLS", nil, bucket(cfg("policy", polSSL)), Compliant},
			{"no policy", nil, bucket(), NonCompliant},
			{"deny only GetObject", nil, bucket(cfg("policy", polSSLGetOnly)), NonCompliant},
			{"allow policy", nil, bucket(cfg("policy", polPublicRead)), NonCompliant},
		},
		"S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED": {
			{"implicit SSE-S3", nil, bucket(), Compliant},
			{"KMS", nil, bucket(cfg("encryption", encKMS)), Compliant},
			// Every Coffer bucket has a default; an item without one (as
			// AWS Config shows a bucket from before 2023) is not compliant.
			{"no default encryption", nil, without(bucket(), configrec.SupEncryption), NonCompliant},
		},
		"S3_DEFAULT_ENCRYPTION_KMS": {
			{"SSE-S3", nil, bucket(), NonCompliant},
			{"KMS", nil, bucket(cfg("encryption", encKMS)), Compliant},
			{"KMS listed key", map[string]string{"kmsKeyArns": "arn:aws:kms:us-east-1:111111111111:key/k1"}, bucket(cfg("encryption", encKMS)), Compliant},
			{"KMS other key", map[string]string{"kmsKeyArns": "arn:aws:kms:us-east-1:111111111111:key/k2"}, bucket(cfg("encryption", encKMS)), NonCompliant},
		},
		"S3_BUCKET_VERSIONING_ENABLED": {
			{"off", nil, bucket(), NonCompliant},
			{"suspended", nil, bucket(versioning("Suspended", "")), NonCompliant},
			{"enabled", nil, bucket(versioning("Enabled", "")), Compliant},
			{"enabled, MFA wanted", map[string]string{"isMfaDeleteEnabled": "true"}, bucket(versioning("Enabled", "Disabled")), NonCompliant},
			{"enabled with MFA", map[string]string{"isMfaDeleteEnabled": "true"}, bucket(versioning("Enabled", "Enabled")), Compliant},
		},
		"S3_BUCKET_MFA_DELETE_ENABLED": {
			{"off", nil, bucket(versioning("Enabled", "")), NonCompliant},
			{"on", nil, bucket(versioning("Enabled", "Enabled")), Compliant},
		},
		"S3_BUCKET_LOGGING_ENABLED": {
			{"off", nil, bucket(), NonCompliant},
			{"on", nil, bucket(cfg("logging", logging)), Compliant},
			{"target matches", map[string]string{"targetBucket": "logs", "targetPrefix": "b/"}, bucket(cfg("logging", logging)), Compliant},
			{"other target", map[string]string{"targetBucket": "audit"}, bucket(cfg("logging", logging)), NonCompliant},
		},
		"S3_BUCKET_DEFAULT_LOCK_ENABLED": {
			{"off", nil, bucket(), NonCompliant},
			{"on", nil, bucket(lock("")), Compliant},
			{"mode matches", map[string]string{"mode": "COMPLIANCE"}, bucket(lock("COMPLIANCE")), Compliant},
			{"mode differs", map[string]string{"mode": "COMPLIANCE"}, bucket(lock("GOVERNANCE")), NonCompliant},
		},
		"S3_BUCKET_POLICY_GRANTEE_CHECK": {
			{"no policy", nil, bucket(), Compliant},
			{"listed account", map[string]string{"awsPrincipals": "222222222222"}, bucket(cfg("policy", polCrossGet)), Compliant},
			{"unlisted account", map[string]string{"awsPrincipals": "333333333333"}, bucket(cfg("policy", polCrossGet)), NonCompliant},
			{"everyone", map[string]string{"awsPrincipals": "222222222222"}, bucket(cfg("policy", polPublicRead)), NonCompliant},
			{"service and IP listed", map[string]string{"servicePrincipals": "logging.s3.amazonaws.com", "ipAddresses": "10.0.0.0/8"}, bucket(cfg("policy", polService)), Compliant},
			{"service, IP unlisted", map[string]string{"servicePrincipals": "logging.s3.amazonaws.com"}, bucket(cfg("policy", polService)), NonCompliant},
		},
		"S3_BUCKET_POLICY_NOT_MORE_PERMISSIVE": {
			{"no policy", map[string]string{"controlPolicy": polCrossGet}, bucket(), Compliant},
			{"within control", map[string]string{"controlPolicy": polCrossGet}, bucket(cfg("policy", polCrossGet)), Compliant},
			{"beyond control", map[string]string{"controlPolicy": polCrossGet}, bucket(cfg("policy", polCrossPut)), NonCompliant},
			{"public beyond control", map[string]string{"controlPolicy": polCrossGet}, bucket(cfg("policy", polPublicRead)), NonCompliant},
		},
		"S3_BUCKET_BLACKLISTED_ACTIONS_PROHIBITED": {
			{"no policy", map[string]string{"blacklistedActionPatterns": "s3:PutBucketPolicy"}, bucket(), Compliant},
			{"other account may put policy", map[string]string{"blacklistedActionPatterns": "s3:PutBucket*"}, bucket(cfg("policy", polCrossPut)), NonCompliant},
			{"other account may read", map[string]string{"blacklistedActionPatterns": "s3:PutBucketPolicy,s3:DeleteObject"}, bucket(cfg("policy", polCrossGet)), Compliant},
			{"own account", map[string]string{"blacklistedActionPatterns": "s3:*"}, bucket(cfg("policy", polSameAcct)), Compliant},
		},
		"S3_BUCKET_ACL_PROHIBITED": {
			{"default", nil, bucket(), Compliant},
			{"grant to another account", nil, bucket(cfg("acl", aclOther)), NonCompliant},
			{"public", nil, bucket(cfg("acl", aclPublicRead)), NonCompliant},
		},
		"S3_LIFECYCLE_POLICY_CHECK": {
			{"none", nil, bucket(), NonCompliant},
			{"enabled rule", nil, bucket(cfg("lifecycle", lifecycle30)), Compliant},
			{"disabled rule", nil, bucket(cfg("lifecycle", lifecycleOff)), NonCompliant},
			{"matching parameters", map[string]string{"targetExpirationDays": "30", "targetPrefix": "logs/"}, bucket(cfg("lifecycle", lifecycle30)), Compliant},
			{"other expiration", map[string]string{"targetExpirationDays": "7"}, bucket(cfg("lifecycle", lifecycle30)), NonCompliant},
			{"other bucket", map[string]string{"bucketNames": "x"}, bucket(), NotApplicable},
		},
		"S3_VERSION_LIFECYCLE_POLICY_CHECK": {
			{"unversioned", nil, bucket(), NotApplicable},
			{"versioned without lifecycle", nil, bucket(versioning("Enabled", "")), NonCompliant},
			{"versioned with lifecycle", nil, bucket(versioning("Enabled", ""), cfg("lifecycle", lifecycle30)), Compliant},
		},
		"S3_BUCKET_REPLICATION_ENABLED":  {{"no replication", nil, bucket(), NonCompliant}},
		"S3_EVENT_NOTIFICATIONS_ENABLED": {{"no notifications", nil, bucket(), NonCompliant}},
	}
	acctItem := func(settings string) *configrec.Item {
		it, ok := configrec.AccountItem(owner, "us-east-1", &meta.AccountSettings{Configs: map[string][]byte{"publicAccessBlock": []byte(settings)}})
		if !ok {
			t.Fatal("no account item")
		}
		return &it
	}
	for _, id := range []string{"S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS", "S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC"} {
		cases[id] = []fixture{
			{"all on", nil, acctItem(pabAllOn), Compliant},
			{"all off", nil, acctItem(pabAllOff), NonCompliant},
			{"off as wanted", map[string]string{"BlockPublicAcls": "false", "IgnorePublicAcls": "false", "BlockPublicPolicy": "false", "RestrictPublicBuckets": "false"}, acctItem(pabAllOff), Compliant},
			{"absent", nil, nil, InsufficientData},
		}
	}
	for id := range ManagedRules() {
		if len(cases[id]) == 0 {
			t.Errorf("%s has no fixtures", id)
		}
	}
	for id, fs := range cases {
		for _, f := range fs {
			t.Run(id+"/"+f.name, func(t *testing.T) {
				r := &Rule{Name: "r", Owner: OwnerAWS, Identifier: id, Params: map[string]string{}}
				for k, v := range f.params {
					r.Params[k] = v
				}
				if err := Validate(r); err != nil {
					t.Fatal(err)
				}
				got, ann := Evaluate(r, f.item)
				if got != f.want {
					t.Fatalf("got %s (%s), want %s", got, ann, f.want)
				}
				if got == NonCompliant && ann == "" {
					t.Fatal("NON_COMPLIANT without annotation")
				}
			})
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		rule Rule
		err  string
	}{
		{Rule{Owner: OwnerAWS, Identifier: "S3_NOPE"}, "sourceIdentifier S3_NOPE is invalid"},
		{Rule{Owner: OwnerAWS, Identifier: "S3_BUCKET_LOGGING_ENABLED", Params: map[string]string{"bogus": "1"}}, "Unknown parameters"},
		{Rule{Owner: OwnerAWS, Identifier: "S3_BUCKET_POLICY_NOT_MORE_PERMISSIVE", Params: map[string]string{"controlPolicy": "{"}}, "must be an Amazon S3 bucket policy"},
		{Rule{Owner: OwnerAWS, Identifier: "S3_BUCKET_DEFAULT_LOCK_ENABLED", Params: map[string]string{"mode": "x"}}, "GOVERNANCE or COMPLIANCE"},
		{Rule{Owner: OwnerCustom, Expression: "item.nope +"}, "not a valid CEL"},
		{Rule{Owner: OwnerCustom, Expression: `"x"`}, "must be a boolean"},
		{Rule{Owner: "CUSTOM_LAMBDA"}, "not supported"},
		{Rule{Owner: OwnerAWS, Identifier: "S3_BUCKET_ACL_PROHIBITED"}, ""},
	} {
		err := Validate(&c.rule)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%+v: %v, want %q", c.rule, err, c.err)
		}
	}
}

func TestCELRules(t *testing.T) {
	for _, c := range []struct {
		expr string
		item *configrec.Item
		want string
	}{
		{`item.supplementaryConfiguration.BucketVersioningConfiguration.status == "Enabled"`, bucket(versioning("Enabled", "")), Compliant},
		{`item.supplementaryConfiguration.BucketVersioningConfiguration.status == "Enabled"`, bucket(), NonCompliant},
		{`"team" in item.tags`, bucket(cfg("tagging", `<Tagging><TagSet><Tag><Key>team</Key><Value>a</Value></Tag></TagSet></Tagging>`)), Compliant},
		{`"team" in item.tags`, bucket(), NonCompliant},
		{`!item.supplementaryConfiguration.AccessControlList.grantList.exists(g, g.grantee == "AllUsers")`, bucket(cfg("acl", aclPublicRead)), NonCompliant},
		{`!item.supplementaryConfiguration.AccessControlList.grantList.exists(g, g.grantee == "AllUsers")`, bucket(), Compliant},
		{`item.configuration.name.startsWith("b")`, bucket(), Compliant},
		{`item.supplementaryConfiguration.PublicAccessBlockConfiguration.blockPublicAcls`, bucket(), NonCompliant}, // missing: fails closed
	} {
		r := &Rule{Name: "c", Owner: OwnerCustom, Expression: c.expr}
		if err := Validate(r); err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		if got, ann := Evaluate(r, c.item); got != c.want {
			t.Errorf("%s: got %s (%s), want %s", c.expr, got, ann, c.want)
		}
	}
}
