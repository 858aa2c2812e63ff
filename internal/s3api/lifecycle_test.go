package s3api

import (
	"regexp"
	"strings"
	"testing"
)

func TestBucketLifecycleConfiguration(t *testing.T) {
	e, _ := lockEnv(t)
	e.do("alice", "PUT", "/lcycle", nil, nil)
	doc := `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ID>tmp</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>7</Days></Expiration></Rule></LifecycleConfiguration>`
	md5 := map[string]string{"Content-MD5": md5b64(doc)}
	wantError(t, "get none", e.do("alice", "GET", "/lcycle?lifecycle", nil, nil), 404, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist")
	wantError(t, "no digest", e.do("alice", "PUT", "/lcycle?lifecycle", []byte(doc), nil), 400, "InvalidRequest", "")
	bad := `<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule></LifecycleConfiguration>`
	wantError(t, "zero days", e.do("alice", "PUT", "/lcycle?lifecycle", []byte(bad), map[string]string{"Content-MD5": md5b64(bad)}), 400, "InvalidArgument",
		"'Days' for Expiration action must be a positive integer")
	if w := e.do("alice", "PUT", "/lcycle?lifecycle", []byte(doc), md5); w.Code != 200 || w.Header().Get("X-Amz-Transition-Default-Minimum-Object-Size") != "all_storage_classes_128K" {
		t.Fatalf("put: %d %v %s", w.Code, w.Header(), w.Body)
	}
	w := e.do("alice", "GET", "/lcycle?lifecycle", nil, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ID>tmp</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>7</Days></Expiration></Rule></LifecycleConfiguration>`) {
		t.Fatalf("get: %d %s", w.Code, w.Body)
	}
	// A rule put without an ID gets one.
	noID := `<LifecycleConfiguration><Rule><Filter/><Status>Enabled</Status><Expiration><Days>7</Days></Expiration></Rule><Rule><ID>mine</ID><Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule></LifecycleConfiguration>`
	if w := e.do("alice", "PUT", "/lcycle?lifecycle", []byte(noID), map[string]string{"Content-MD5": md5b64(noID)}); w.Code != 200 {
		t.Fatalf("put without ID: %d %s", w.Code, w.Body)
	}
	w = e.do("alice", "GET", "/lcycle?lifecycle", nil, nil)
	if ids := regexp.MustCompile(`<ID>([^<]*)</ID>`).FindAllStringSubmatch(w.Body.String(), -1); len(ids) != 2 || len(ids[0][1]) != 48 || ids[1][1] != "mine" {
		t.Fatalf("generated IDs: %s", w.Body)
	}
	// Lifecycle and MFA Delete exclude each other.
	enable := `<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>`
	wantError(t, "MFA Delete with lifecycle", e.do("alice", "PUT", "/lcycle?versioning", []byte(enable), map[string]string{"X-Amz-Mfa": testSerial + " 100001"}),
		400, "InvalidRequest", "Lifecycle configuration and MFA Delete cannot be used together on a bucket.")
	if w := e.do("alice", "DELETE", "/lcycle?lifecycle", nil, nil); w.Code != 204 {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	if w := e.do("alice", "PUT", "/lcycle?versioning", []byte(enable), map[string]string{"X-Amz-Mfa": testSerial + " 100002"}); w.Code != 200 {
		t.Fatalf("enable MFA Delete: %d %s", w.Code, w.Body)
	}
	wantError(t, "lifecycle with MFA Delete", e.do("alice", "PUT", "/lcycle?lifecycle", []byte(doc), md5), 400, "InvalidRequest", "")
}
