package s3api

import (
	"testing"

	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

// FuzzRequestDocuments feeds arbitrary bytes to every request-document
// decoder: none may panic, and every failure must be an S3 error whose
// code a client understands.
func FuzzRequestDocuments(f *testing.F) {
	for _, s := range []string{
		`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>`,
		`<Delete><Quiet>true</Quiet><Object><Key>a</Key><VersionId>v</VersionId></Object></Delete>`,
		`<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>`,
		`<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>`,
		`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`,
		`<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`,
		`<!DOCTYPE x [<!ENTITY a "b">]><Tagging>&a;</Tagging>`,
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		targets := []any{
			&completeRequest{}, &deleteRequest{}, &corsConfiguration{}, &Tagging{},
			&versioningConfiguration{}, &createBucketConfiguration{}, &accessControlPolicy{},
		}
		for _, v := range targets {
			err := unmarshalXML(data, v)
			if err == nil {
				continue
			}
			if e := s3err.From(err); e.Code != "MalformedXML" {
				t.Fatalf("%T: error code %s, want MalformedXML", v, e.Code)
			}
		}
		if c, ok := targets[2].(*corsConfiguration); ok {
			_ = validateCORS(c)
		}
		if tg, ok := targets[3].(*Tagging); ok {
			_, _ = validateTags(tg.TagSet.Tags, 50)
		}
	})
}
