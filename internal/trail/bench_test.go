package trail

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
)

// BenchmarkRecord is the per-request CPU cost of the trail: a record
// built from a typical S3 event and encoded.
func BenchmarkRecord(b *testing.B) {
	ev := &audit.Event{Time: time.Now(), Service: "s3", Operation: "GetObject", PrincipalType: "Root", AccountID: "111122223333",
		PrincipalARN: "arn:aws:iam::111122223333:root", AccessKeyID: "AKIAEXAMPLE", Bucket: "bench", Key: "bench/obj-000123",
		BucketOwner: "111122223333", Data: true, ReadOnly: true, TLS: true, TLSVersion: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256",
		Host: "127.0.0.1:9000", UserAgent: "coffer-bench", Region: "us-east-1", Outcome: audit.OutcomeSuccess,
		RequestParameters:   map[string]any{"bucketName": "bench", "key": "bench/obj-000123", "Host": "127.0.0.1:9000"},
		AdditionalEventData: map[string]any{"SignatureVersion": "SigV4", "AuthenticationMethod": "AuthHeader", "bytesTransferredIn": int64(0), "bytesTransferredOut": int64(4096), "x-amz-id-2": "abc", "CipherSuite": "TLS_AES_128_GCM_SHA256"}}
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range FromEvent(ev) {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	}
}
