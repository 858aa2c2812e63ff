package configrec_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/configrec"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestBucketItemGolden pins the AWS Config shape of a bucket with every
// recorded configuration set, in the stored forms the S3 layer writes.
func TestBucketItemGolden(t *testing.T) {
	b := &meta.Bucket{
		Name: "photos", Owner: acct, Region: "us-east-1", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Versioning: "Enabled", MFADelete: "Enabled", ObjectLockEnabled: true,
		DefaultRetention: &meta.DefaultRetention{Mode: meta.LockGovernance, Days: 7},
		Configs: map[string][]byte{
			"policy":            []byte(`{"Version":"2012-10-17","Statement":[]}`),
			"acl":               []byte(`{"g":[{"id":"c0ffee","p":"FULL_CONTROL"},{"uri":"http://acs.amazonaws.com/groups/s3/LogDelivery","p":"WRITE"}]}`),
			"ownershipControls": []byte("BucketOwnerPreferred"),
			"publicAccessBlock": []byte(`<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>`),
			"encryption":        []byte(`<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>arn:aws:kms:us-east-1:111111111111:key/k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`),
			"lifecycle":         []byte(`<LifecycleConfiguration><Rule><ID>old</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays></NoncurrentVersionExpiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>`),
			"logging":           []byte(`{"bucket":"logs","prefix":"photos/"}`),
			"tagging":           []byte(`<Tagging><TagSet><Tag><Key>team</Key><Value>blue</Value></Tag></TagSet></Tagging>`),
		},
	}
	it := configrec.BucketItem(b, "c0ffee")
	got, err := json.MarshalIndent(it, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "bucket-item.golden.json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(got)+"\n" {
		t.Fatalf("item differs from %s (go test -update to accept):\n%s", path, got)
	}
	// Every supplementary value is itself JSON.
	for k, v := range it.SupplementaryConfiguration {
		if !json.Valid([]byte(v)) {
			t.Errorf("%s is not JSON: %s", k, v)
		}
	}
}
