package metatest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// testEncryption: every envelope form (SSE-S3, SSE-KMS with context and
// bucket key, SSE-C) and an upload's encryption setting come back from
// the store exactly as written, through reads, listings and completion.
func testEncryption(t *testing.T, s meta.Store) {
	ctx := t.Context()
	mkBucket(t, s, "enc", meta.VersioningUnset)
	envs := map[string]*meta.Encryption{
		"s3":   {Algorithm: meta.SSES3, KeyID: "arn:aws:kms:us-east-1:111122223333:key/a", SealedKey: []byte{1, 2, 3}, Identity: []byte{4, 5}},
		"kms":  {Algorithm: meta.SSEKMS, KeyID: "arn:aws:kms:us-east-1:111122223333:key/b", SealedKey: []byte{6}, Identity: []byte{7}, Context: `{"a":"b"}`},
		"bk":   {Algorithm: meta.SSEKMS, KeyID: "arn:aws:kms:us-east-1:111122223333:key/b", SealedKey: []byte{8}, Identity: []byte{9}, BucketKey: true, LocalKey: []byte{10, 11}},
		"ssec": {Algorithm: meta.SSEC, KeyID: "arn:aws:kms:us-east-1:111122223333:key/a", SealedKey: []byte{12}, Identity: []byte{13}, LocalKey: []byte{14}},
	}
	for name, env := range envs {
		v := newObj("enc", name)
		v.Encryption = env
		res, err := s.PutObject(ctx, v, newVID(), nil)
		must(t, err)
		v.VersionID, v.IsLatest = res.VersionID, true
		if diff := cmp.Diff(v, get(t, s, "enc", name, "")); diff != "" {
			t.Errorf("%s: GetObject differs:\n%s", name, diff)
		}
	}
	lr, err := s.ListObjects(ctx, "enc", meta.ListOptions{MaxKeys: 10})
	must(t, err)
	for _, v := range lr.Objects {
		if diff := cmp.Diff(envs[v.Key], v.Encryption); diff != "" {
			t.Errorf("%s: listed envelope differs:\n%s", v.Key, diff)
		}
	}

	u := newUpload("enc", "mp", tick())
	u.SSE = &meta.UploadSSE{Mode: meta.SSEC, Secret: envs["ssec"]}
	must(t, s.CreateUpload(ctx, u))
	got, err := s.GetUpload(ctx, "enc", "mp", u.UploadID)
	must(t, err)
	if diff := cmp.Diff(u.SSE, got.SSE); diff != "" {
		t.Errorf("upload SSE differs:\n%s", diff)
	}
	p1, p2 := newPart(1), newPart(2)
	p1.Encryption, p2.Encryption = envs["ssec"], envs["bk"]
	for _, p := range []*meta.Part{p1, p2} {
		_, err := s.PutPart(ctx, "enc", "mp", u.UploadID, p)
		must(t, err)
	}
	ps, _, err := s.ListParts(ctx, "enc", "mp", u.UploadID, 0, 10)
	must(t, err)
	if len(ps) != 2 || cmp.Diff(p1.Encryption, ps[0].Encryption) != "" || cmp.Diff(p2.Encryption, ps[1].Encryption) != "" {
		t.Errorf("part envelopes differ: %+v", ps)
	}
	v := fromParts(u, p1, p2)
	v.Parts[0].Encryption, v.Parts[1].Encryption = p1.Encryption, p2.Encryption
	_, err = s.CompleteUpload(ctx, u.UploadID, v, newVID(), nil)
	must(t, err)
	done := get(t, s, "enc", "mp", "")
	if len(done.Parts) != 2 || cmp.Diff(p1.Encryption, done.Parts[0].Encryption) != "" || cmp.Diff(p2.Encryption, done.Parts[1].Encryption) != "" {
		t.Errorf("completed part envelopes differ: %+v", done.Parts)
	}
}
