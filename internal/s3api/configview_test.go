package s3api

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/coffer-io/coffer/internal/policy"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// bucketStore is the part of meta.Store the remediations use.
type bucketStore struct {
	meta.Store
	b *meta.Bucket
}

func (s *bucketStore) UpdateBucket(_ context.Context, _ string, fn func(b *meta.Bucket) error) error {
	c := *s.b
	c.Configs = map[string][]byte{}
	for k, v := range s.b.Configs {
		c.Configs[k] = v
	}
	if err := fn(&c); err != nil {
		return err
	}
	*s.b = c
	return nil
}

func TestRemediations(t *testing.T) {
	ctx := t.Context()
	st := &bucketStore{b: &meta.Bucket{Name: "b", Owner: "111111111111", Configs: map[string][]byte{
		cfgPolicy:            []byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`),
		cfgPublicAccessBlock: encodePAB(publicAccessBlock{}),
	}}}
	if err := RemediateBlockPublicAccess(ctx, st, "b"); err != nil {
		t.Fatal(err)
	}
	if s := BucketStateOf(st.b); *s.PublicAccessBlock != (PublicAccessBlockState{true, true, true, true}) {
		t.Fatalf("PAB %+v", s.PublicAccessBlock)
	}
	for range 2 { // the second time changes nothing
		if err := RemediateSecureTransport(ctx, st, "b"); err != nil {
			t.Fatal(err)
		}
	}
	var doc struct{ Statement []map[string]any }
	if err := json.Unmarshal(st.b.Configs[cfgPolicy], &doc); err != nil || len(doc.Statement) != 2 {
		t.Fatalf("policy %s: %v", st.b.Configs[cfgPolicy], err)
	}
	p, err := policy.Parse(st.b.Configs[cfgPolicy], policy.Resource)
	if err != nil {
		t.Fatal(err)
	}
	d := policy.Evaluate(&policy.Input{Resource: p}, &policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k",
		ResourceAccount: "111111111111", Context: map[string][]string{"aws:securetransport": {"false"}}})
	if d.Reason != policy.ExplicitDeny {
		t.Fatalf("request without TLS: %+v", d)
	}
	delete(st.b.Configs, cfgEncryption)
	if err := RemediateDefaultEncryption(ctx, st, "b"); err != nil {
		t.Fatal(err)
	}
	if s := BucketStateOf(st.b); !s.Encryption.Stored || s.Encryption.Algorithm != "AES256" {
		t.Fatalf("encryption %+v", s.Encryption)
	}
}
