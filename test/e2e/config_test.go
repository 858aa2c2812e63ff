package e2e

// Bucket and object subresources: tagging, CORS (configuration, preflight
// and actual requests), the supported ACL subset, and subresources Coffer
// does not implement yet.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"
)

func tagSet(m map[string]string) []types.Tag {
	var ts []types.Tag
	for k, v := range m {
		ts = append(ts, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return ts
}

func tagMap(ts []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// manyTags returns n distinct valid tags.
func manyTags(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprint("key-", i)] = fmt.Sprint("value ", i)
	}
	return m
}

func TestTagging(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "tags")
	s.put(t, bkt, "obj", []byte("x"), func(in *s3.PutObjectInput) { in.Tagging = aws.String("a=1&b=two%20words") })

	t.Run("object tags from the PUT header", func(t *testing.T) {
		out, err := s.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bkt), Key: aws.String("obj")})
		mustOK(t, err)
		if diff := cmp.Diff(map[string]string{"a": "1", "b": "two words"}, tagMap(out.TagSet)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		_, g := s.get(t, bkt, "obj")
		if aws.ToInt32(g.TagCount) != 2 {
			t.Errorf("x-amz-tagging-count %d", aws.ToInt32(g.TagCount))
		}
	})

	t.Run("put, get and delete object tags", func(t *testing.T) {
		want := manyTags(10) // the maximum
		_, err := s.s3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(bkt), Key: aws.String("obj"),
			Tagging: &types.Tagging{TagSet: tagSet(want)}})
		mustOK(t, err)
		out, err := s.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bkt), Key: aws.String("obj")})
		mustOK(t, err)
		if diff := cmp.Diff(want, tagMap(out.TagSet)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		_, err = s.s3.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String(bkt), Key: aws.String("obj")})
		mustOK(t, err)
		out, err = s.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bkt), Key: aws.String("obj")})
		mustOK(t, err)
		if len(out.TagSet) != 0 {
			t.Errorf("tags after delete: %v", tagMap(out.TagSet))
		}
		_, err = s.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bkt), Key: aws.String("missing")})
		wantErr(t, err, "NoSuchKey", http.StatusNotFound)
	})

	invalid := []struct {
		name string
		tags []types.Tag
	}{
		{"key too long", tagSet(map[string]string{strings.Repeat("k", 129): "v"})},
		{"value too long", tagSet(map[string]string{"k": strings.Repeat("v", 257)})},
		{"empty key", tagSet(map[string]string{"": "v"})},
		{"aws: prefix", tagSet(map[string]string{"aws:reserved": "v"})},
		{"duplicate key", []types.Tag{{Key: aws.String("d"), Value: aws.String("1")}, {Key: aws.String("d"), Value: aws.String("2")}}},
		{"invalid character", tagSet(map[string]string{"semi;colon": "v"})},
	}

	t.Run("object tag limits", func(t *testing.T) {
		cases := append(invalid, struct {
			name string
			tags []types.Tag
		}{"11 tags", tagSet(manyTags(11))})
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.s3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(bkt), Key: aws.String("obj"),
					Tagging: &types.Tagging{TagSet: c.tags}})
				wantErr(t, err, "InvalidTag", http.StatusBadRequest)
			})
		}
		// Limits hold for the PUT header too; 128/256 characters fit.
		var hdr []string
		for k, v := range manyTags(11) {
			hdr = append(hdr, k+"="+strings.ReplaceAll(v, " ", "%20"))
		}
		_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("obj2"), Body: strings.NewReader("x"),
			Tagging: aws.String(strings.Join(hdr, "&"))})
		wantErr(t, err, "InvalidTag", http.StatusBadRequest)
		_, err = s.s3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(bkt), Key: aws.String("obj"),
			Tagging: &types.Tagging{TagSet: tagSet(map[string]string{strings.Repeat("k", 128): strings.Repeat("v", 256)})}})
		mustOK(t, err)
	})

	t.Run("bucket tags", func(t *testing.T) {
		_, err := s.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bkt)})
		wantErr(t, err, "NoSuchTagSet", http.StatusNotFound)
		want := manyTags(50) // the maximum
		_, err = s.s3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(bkt), Tagging: &types.Tagging{TagSet: tagSet(want)}})
		mustOK(t, err)
		out, err := s.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bkt)})
		mustOK(t, err)
		if diff := cmp.Diff(want, tagMap(out.TagSet)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		_, err = s.s3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(bkt), Tagging: &types.Tagging{TagSet: tagSet(manyTags(51))}})
		wantErr(t, err, "InvalidTag", http.StatusBadRequest)
		for _, c := range invalid {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.s3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(bkt), Tagging: &types.Tagging{TagSet: c.tags}})
				wantErr(t, err, "InvalidTag", http.StatusBadRequest)
			})
		}
		_, err = s.s3.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String(bkt)})
		mustOK(t, err)
		_, err = s.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bkt)})
		wantErr(t, err, "NoSuchTagSet", http.StatusNotFound)
	})
}

// rawHeaders returns the HTTP response headers behind an SDK result.
func rawHeaders(t testing.TB, md middleware.Metadata) http.Header {
	t.Helper()
	r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	if !ok {
		t.Fatal("no raw response in the result metadata")
	}
	return r.Header
}

func TestCORS(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "cors")
	s.put(t, bkt, "page.html", []byte("<p>hi</p>"))

	preflight := func(t *testing.T, origin, method, headers string) (*http.Response, string) {
		t.Helper()
		req := rawRequest(t, ctx, http.MethodOptions, s.srv.Endpoint+"/"+bkt+"/page.html", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", method)
		if headers != "" {
			req.Header.Set("Access-Control-Request-Headers", headers)
		}
		resp, code, _ := s.do(t, req)
		return resp, code
	}

	t.Run("no configuration", func(t *testing.T) {
		_, err := s.s3.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bkt)})
		wantErr(t, err, "NoSuchCORSConfiguration", http.StatusNotFound)
		resp, code := preflight(t, "https://app.example", "GET", "")
		if resp.StatusCode != http.StatusForbidden || code != "AccessForbidden" {
			t.Errorf("preflight without CORS: %d %s", resp.StatusCode, code)
		}
	})

	cfg := &types.CORSConfiguration{CORSRules: []types.CORSRule{
		{
			ID:             aws.String("app"),
			AllowedOrigins: []string{"https://app.example"},
			AllowedMethods: []string{"GET", "PUT"},
			AllowedHeaders: []string{"x-amz-*", "Content-Type"},
			ExposeHeaders:  []string{"ETag", "x-amz-request-id"},
			MaxAgeSeconds:  aws.Int32(600),
		},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
	}}

	t.Run("put and get", func(t *testing.T) {
		_, err := s.s3.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String(bkt), CORSConfiguration: cfg})
		mustOK(t, err)
		out, err := s.s3.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bkt)})
		mustOK(t, err)
		if diff := cmp.Diff(cfg.CORSRules, out.CORSRules, cmp.AllowUnexported(types.CORSRule{})); diff != "" {
			t.Errorf("rules (-want +got):\n%s", diff)
		}
	})

	t.Run("preflight allowed", func(t *testing.T) {
		resp, code := preflight(t, "https://app.example", "PUT", "content-type, x-amz-meta-color")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("preflight: %d %s", resp.StatusCode, code)
		}
		h := resp.Header
		got := []string{h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Methods"),
			h.Get("Access-Control-Allow-Headers"), h.Get("Access-Control-Max-Age"), h.Get("Access-Control-Expose-Headers")}
		want := []string{"https://app.example", "GET, PUT", "content-type, x-amz-meta-color", "600", "ETag, x-amz-request-id"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("headers (-want +got):\n%s", diff)
		}
		// Any origin may GET, through the wildcard rule.
		resp, code = preflight(t, "https://elsewhere.example", "GET", "")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("wildcard preflight: %d %s, allow-origin %q", resp.StatusCode, code, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})

	t.Run("preflight forbidden", func(t *testing.T) {
		for _, c := range []struct{ name, origin, method, headers string }{
			{"origin", "https://evil.example", "PUT", ""},
			{"method", "https://app.example", "DELETE", ""},
			{"header", "https://app.example", "PUT", "authorization-extra"},
		} {
			t.Run(c.name, func(t *testing.T) {
				resp, code := preflight(t, c.origin, c.method, c.headers)
				if resp.StatusCode != http.StatusForbidden || code != "AccessForbidden" {
					t.Errorf("got %d %s, want 403 AccessForbidden", resp.StatusCode, code)
				}
				if resp.Header.Get("Access-Control-Allow-Origin") != "" {
					t.Errorf("forbidden preflight allowed origin %q", resp.Header.Get("Access-Control-Allow-Origin"))
				}
			})
		}
		// Missing Origin is a bad request.
		req := rawRequest(t, ctx, http.MethodOptions, s.srv.Endpoint+"/"+bkt+"/page.html", nil)
		req.Header.Set("Access-Control-Request-Method", "GET")
		resp, code, _ := s.do(t, req)
		if resp.StatusCode != http.StatusBadRequest || code != "InvalidRequest" {
			t.Errorf("preflight without Origin: %d %s", resp.StatusCode, code)
		}
	})

	t.Run("actual request carries CORS headers", func(t *testing.T) {
		out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("page.html")},
			s3.WithAPIOptions(smithyhttp.AddHeaderValue("Origin", "https://app.example")))
		mustOK(t, err)
		out.Body.Close()
		h := rawHeaders(t, out.ResultMetadata)
		if h.Get("Access-Control-Allow-Origin") != "https://app.example" || h.Get("Access-Control-Expose-Headers") != "ETag, x-amz-request-id" {
			t.Errorf("allow-origin %q expose %q", h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Expose-Headers"))
		}
		out, err = s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("page.html")})
		mustOK(t, err)
		out.Body.Close()
		if v := rawHeaders(t, out.ResultMetadata).Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("request without Origin got allow-origin %q", v)
		}
	})

	t.Run("invalid configurations", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			rules  []types.CORSRule
			code   string
			status int
		}{
			{"unsupported method", []types.CORSRule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PATCH"}}}, "InvalidRequest", http.StatusBadRequest},
			{"two wildcards", []types.CORSRule{{AllowedOrigins: []string{"https://*.*.example"}, AllowedMethods: []string{"GET"}}}, "InvalidRequest", http.StatusBadRequest},
			{"no rules", []types.CORSRule{}, "MalformedXML", http.StatusBadRequest},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.s3.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String(bkt), CORSConfiguration: &types.CORSConfiguration{CORSRules: c.rules}})
				wantErr(t, err, c.code, c.status)
			})
		}
	})

	t.Run("delete", func(t *testing.T) {
		_, err := s.s3.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String(bkt)})
		mustOK(t, err)
		_, err = s.s3.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bkt)})
		wantErr(t, err, "NoSuchCORSConfiguration", http.StatusNotFound)
		resp, code := preflight(t, "https://app.example", "GET", "")
		if resp.StatusCode != http.StatusForbidden || code != "AccessForbidden" {
			t.Errorf("preflight after delete: %d %s", resp.StatusCode, code)
		}
	})
}

func TestACLAndUnimplemented(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bkt := s.mkBucket(t, "acl")
	s.put(t, bkt, "obj", []byte("x"))

	t.Run("private is accepted", func(t *testing.T) {
		_, err := s.s3.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(bkt), ACL: types.BucketCannedACLPrivate})
		mustOK(t, err)
		_, err = s.s3.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(bkt), Key: aws.String("obj"), ACL: types.ObjectCannedACLPrivate})
		mustOK(t, err)
		s.put(t, bkt, "private-put", []byte("x"), func(in *s3.PutObjectInput) { in.ACL = types.ObjectCannedACLPrivate })
		_, err = s.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acl-private"), ACL: types.BucketCannedACLPrivate})
		mustOK(t, err)
	})

	t.Run("the owner has full control", func(t *testing.T) {
		b, err := s.s3.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(bkt)})
		mustOK(t, err)
		o, err := s.s3.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(bkt), Key: aws.String("obj")})
		mustOK(t, err)
		for name, acl := range map[string]struct {
			owner  *types.Owner
			grants []types.Grant
		}{"bucket": {b.Owner, b.Grants}, "object": {o.Owner, o.Grants}} {
			if acl.owner == nil || len(acl.grants) != 1 || acl.grants[0].Permission != types.PermissionFullControl ||
				acl.grants[0].Grantee == nil || aws.ToString(acl.grants[0].Grantee.ID) != aws.ToString(acl.owner.ID) ||
				acl.grants[0].Grantee.Type != types.TypeCanonicalUser {
				t.Errorf("%s ACL: owner %+v grants %+v", name, acl.owner, acl.grants)
			}
		}
	})

	t.Run("ACLs are disabled on new buckets", func(t *testing.T) {
		cases := []struct {
			name string
			call func() error
		}{
			{"PutBucketAcl", func() error {
				_, err := s.s3.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(bkt), ACL: types.BucketCannedACLPublicRead})
				return err
			}},
			{"PutObjectAcl", func() error {
				_, err := s.s3.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(bkt), Key: aws.String("obj"), ACL: types.ObjectCannedACLPublicRead})
				return err
			}},
			{"PutObject", func() error {
				_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("pub"), Body: strings.NewReader("x"), ACL: types.ObjectCannedACLPublicRead})
				return err
			}},
			{"CreateBucket", func() error {
				_, err := s.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acl-public"), ACL: types.BucketCannedACLPublicRead})
				return err
			}},
			{"grant header", func() error {
				_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("pub"), Body: strings.NewReader("x"),
					GrantRead: aws.String(`uri="http://acs.amazonaws.com/groups/global/AllUsers"`)})
				return err
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				// BucketOwnerEnforced is the default: ACL writes fail,
				// and CreateBucket with an ACL needs another ownership.
				code := "AccessControlListNotSupported"
				if c.name == "CreateBucket" {
					code = "InvalidBucketAclWithObjectOwnership"
				}
				wantErr(t, c.call(), code, http.StatusBadRequest)
			})
		}
		// Nothing was created by the refused requests.
		_, err := s.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("acl-public")})
		wantErr(t, err, "NotFound", http.StatusNotFound)
		_, err = s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("pub")})
		wantErr(t, err, "NotFound", http.StatusNotFound)
	})

	t.Run("unimplemented subresources", func(t *testing.T) {
		cases := []struct {
			name string
			call func() error
		}{
			{"GetBucketWebsite", func() error {
				_, err := s.s3.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: aws.String(bkt)})
				return err
			}},
			{"GetBucketReplication", func() error {
				_, err := s.s3.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String(bkt)})
				return err
			}},
			{"GetBucketAccelerateConfiguration", func() error {
				_, err := s.s3.GetBucketAccelerateConfiguration(ctx, &s3.GetBucketAccelerateConfigurationInput{Bucket: aws.String(bkt)})
				return err
			}},
			{"GetBucketNotificationConfiguration", func() error {
				_, err := s.s3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(bkt)})
				return err
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { wantErr(t, c.call(), "NotImplemented", http.StatusNotImplemented) })
		}
		// Unbuilt subresources must not fall through to object or bucket
		// operations.
		_, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("obj")})
		mustOK(t, err)
	})
}
