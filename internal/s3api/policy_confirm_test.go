package s3api

import "testing"

// TestConfirmRemoveSelfBucketAccess checks that PutBucketPolicy accepts the
// x-amz-confirm-remove-self-bucket-access boolean and refuses other values
// without storing anything.
func TestConfirmRemoveSelfBucketAccess(t *testing.T) {
	e := newTestEnv(t)
	if w := e.do("alice", "PUT", "/alice-bucket", nil, nil); w.Code != 200 {
		t.Fatalf("CreateBucket: %d %s", w.Code, w.Body)
	}
	doc := []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:PutBucketPolicy","Resource":"arn:aws:s3:::alice-bucket"}]}`)
	for _, v := range []string{"yes", "1", "", "true,true"} {
		w := e.do("alice", "PUT", "/alice-bucket?policy", doc, map[string]string{"X-Amz-Confirm-Remove-Self-Bucket-Access": v})
		if w.Code != 400 || errorCode(t, w) != "InvalidArgument" {
			t.Errorf("value %q: %d %s", v, w.Code, w.Body)
		}
	}
	if w := e.do("alice", "GET", "/alice-bucket?policy", nil, nil); w.Code != 404 {
		t.Fatalf("a refused PutBucketPolicy stored a policy: %d %s", w.Code, w.Body)
	}
	for _, v := range []string{"true", "false", "TRUE"} {
		w := e.do("alice", "PUT", "/alice-bucket?policy", doc, map[string]string{"X-Amz-Confirm-Remove-Self-Bucket-Access": v})
		if w.Code != 204 {
			t.Errorf("value %q: %d %s", v, w.Code, w.Body)
		}
	}
	if w := e.do("alice", "PUT", "/alice-bucket?policy", doc, nil); w.Code != 204 {
		t.Errorf("without the header: %d %s", w.Code, w.Body)
	}
}
