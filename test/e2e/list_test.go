package e2e

// Listing: ListObjectsV2 and V1 with prefix, delimiter, pagination,
// start-after, URL encoding and owners; ListObjectVersions on an
// unversioned bucket.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
)

// listing is one page or the union of pages: keys, then common prefixes.
type listing struct {
	Keys     []string
	Prefixes []string
}

func v2Listing(out *s3.ListObjectsV2Output) listing {
	var l listing
	for _, o := range out.Contents {
		l.Keys = append(l.Keys, aws.ToString(o.Key))
	}
	for _, p := range out.CommonPrefixes {
		l.Prefixes = append(l.Prefixes, aws.ToString(p.Prefix))
	}
	return l
}

func TestListing(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()

	small := s.mkBucket(t, "list-small")
	smallKeys := []string{"a.txt", "dir1/a", "dir1/b", "dir1/sub/c", "dir2/d", "e.txt", "space dir/f", "unicode/ü", "z+plus"}
	s.putMany(t, small, smallKeys)

	t.Run("V2 prefix and delimiter", func(t *testing.T) {
		cases := []struct {
			name, prefix, delimiter, startAfter string
			want                                listing
		}{
			{name: "everything", want: listing{Keys: smallKeys}},
			{name: "top level", delimiter: "/", want: listing{
				Keys: []string{"a.txt", "e.txt", "z+plus"}, Prefixes: []string{"dir1/", "dir2/", "space dir/", "unicode/"}}},
			{name: "one directory", prefix: "dir1/", delimiter: "/", want: listing{
				Keys: []string{"dir1/a", "dir1/b"}, Prefixes: []string{"dir1/sub/"}}},
			{name: "prefix without delimiter", prefix: "dir", want: listing{Keys: []string{"dir1/a", "dir1/b", "dir1/sub/c", "dir2/d"}}},
			{name: "prefix matching nothing", prefix: "nope", want: listing{}},
			{name: "delimiter other than slash", delimiter: ".", want: listing{
				Keys: []string{"dir1/a", "dir1/b", "dir1/sub/c", "dir2/d", "space dir/f", "unicode/ü", "z+plus"}, Prefixes: []string{"a.", "e."}}},
			{name: "start-after", startAfter: "dir1/b", want: listing{Keys: []string{"dir1/sub/c", "dir2/d", "e.txt", "space dir/f", "unicode/ü", "z+plus"}}},
			// A common prefix sorts as its own string: "dir1/" comes
			// before "dir1/b", so it is not listed again (the same rule
			// keeps a V1 NextMarker naming a prefix from repeating it).
			{name: "start-after with delimiter", startAfter: "dir1/b", delimiter: "/", want: listing{
				Keys: []string{"e.txt", "z+plus"}, Prefixes: []string{"dir2/", "space dir/", "unicode/"}}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				in := &s3.ListObjectsV2Input{Bucket: aws.String(small)}
				if c.prefix != "" {
					in.Prefix = aws.String(c.prefix)
				}
				if c.delimiter != "" {
					in.Delimiter = aws.String(c.delimiter)
				}
				if c.startAfter != "" {
					in.StartAfter = aws.String(c.startAfter)
				}
				out, err := s.s3.ListObjectsV2(ctx, in)
				mustOK(t, err)
				if diff := cmp.Diff(c.want, v2Listing(out)); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				if n := len(c.want.Keys) + len(c.want.Prefixes); aws.ToInt32(out.KeyCount) != int32(n) {
					t.Errorf("KeyCount %d, want %d", aws.ToInt32(out.KeyCount), n)
				}
				if aws.ToBool(out.IsTruncated) {
					t.Errorf("IsTruncated")
				}
			})
		}
	})

	t.Run("start-after a key that sorts before an existing one", func(t *testing.T) {
		// start-after need not exist.
		out, err := s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(small), StartAfter: aws.String("dir1/aa")})
		mustOK(t, err)
		if got := v2Listing(out).Keys; len(got) == 0 || got[0] != "dir1/b" {
			t.Errorf("first key %v", got)
		}
	})

	t.Run("V2 pagination over prefixes", func(t *testing.T) {
		// Common prefixes count towards max-keys and pages continue after
		// a rolled-up prefix without repeating it.
		var all listing
		in := &s3.ListObjectsV2Input{Bucket: aws.String(small), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)}
		pages := 0
		for {
			out, err := s.s3.ListObjectsV2(ctx, in)
			mustOK(t, err)
			pages++
			l := v2Listing(out)
			if n := len(l.Keys) + len(l.Prefixes); n > 2 || aws.ToInt32(out.KeyCount) != int32(n) {
				t.Fatalf("page %d has %d entries, KeyCount %d", pages, n, aws.ToInt32(out.KeyCount))
			}
			all.Keys = append(all.Keys, l.Keys...)
			all.Prefixes = append(all.Prefixes, l.Prefixes...)
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			in.ContinuationToken = out.NextContinuationToken
		}
		want := listing{Keys: []string{"a.txt", "e.txt", "z+plus"}, Prefixes: []string{"dir1/", "dir2/", "space dir/", "unicode/"}}
		if diff := cmp.Diff(want, all); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if pages != 4 {
			t.Errorf("%d pages, want 4", pages)
		}
	})

	t.Run("encoding-type url", func(t *testing.T) {
		out, err := s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(small), EncodingType: types.EncodingTypeUrl, Prefix: aws.String("space dir/")})
		mustOK(t, err)
		if out.EncodingType != types.EncodingTypeUrl {
			t.Errorf("EncodingType %q", out.EncodingType)
		}
		// The SDK hands back the encoded values; decoding them must give
		// the real keys, and what came over the wire must not contain the
		// raw space.
		if len(out.Contents) != 1 {
			t.Fatalf("%d keys", len(out.Contents))
		}
		raw := aws.ToString(out.Contents[0].Key)
		dec, err := url.QueryUnescape(raw)
		if err != nil || dec != "space dir/f" || raw == dec {
			t.Errorf("encoded key %q decodes to %q (%v)", raw, dec, err)
		}
		if p, _ := url.QueryUnescape(aws.ToString(out.Prefix)); p != "space dir/" {
			t.Errorf("encoded prefix %q", aws.ToString(out.Prefix))
		}
		out, err = s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(small), EncodingType: types.EncodingTypeUrl})
		mustOK(t, err)
		var keys []string
		for _, o := range out.Contents {
			k, err := url.QueryUnescape(aws.ToString(o.Key))
			mustOK(t, err)
			keys = append(keys, k)
		}
		if diff := cmp.Diff(smallKeys, keys); diff != "" {
			t.Errorf("decoded keys (-want +got):\n%s", diff)
		}
		_, err = s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(small), EncodingType: "base64"})
		wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	})

	t.Run("fetch-owner", func(t *testing.T) {
		out, err := s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(small), MaxKeys: aws.Int32(1)})
		mustOK(t, err)
		if out.Contents[0].Owner != nil {
			t.Errorf("V2 without fetch-owner returned an owner")
		}
		out, err = s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(small), MaxKeys: aws.Int32(1), FetchOwner: aws.Bool(true)})
		mustOK(t, err)
		if o := out.Contents[0].Owner; o == nil || aws.ToString(o.ID) == "" {
			t.Errorf("V2 with fetch-owner returned no owner")
		}
		// V1 always includes owners.
		v1, err := s.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(small), MaxKeys: aws.Int32(1)})
		mustOK(t, err)
		if o := v1.Contents[0].Owner; o == nil || aws.ToString(o.ID) == "" {
			t.Errorf("V1 returned no owner")
		}
	})

	t.Run("object entries", func(t *testing.T) {
		out, err := s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(small), Prefix: aws.String("a.txt")})
		mustOK(t, err)
		o := out.Contents[0]
		if aws.ToInt64(o.Size) != int64(len("a.txt")) || aws.ToString(o.ETag) != quoted(md5Hex([]byte("a.txt"))) ||
			o.StorageClass != types.ObjectStorageClassStandard || o.LastModified == nil {
			t.Errorf("entry %+v", o)
		}
	})

	t.Run("V1 prefix, delimiter and marker", func(t *testing.T) {
		out, err := s.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(small), Delimiter: aws.String("/"), MaxKeys: aws.Int32(3)})
		mustOK(t, err)
		var got listing
		for _, o := range out.Contents {
			got.Keys = append(got.Keys, aws.ToString(o.Key))
		}
		for _, p := range out.CommonPrefixes {
			got.Prefixes = append(got.Prefixes, aws.ToString(p.Prefix))
		}
		if diff := cmp.Diff(listing{Keys: []string{"a.txt"}, Prefixes: []string{"dir1/", "dir2/"}}, got); diff != "" {
			t.Errorf("first page (-want +got):\n%s", diff)
		}
		// With a delimiter, a truncated V1 page names its NextMarker.
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextMarker) != "dir2/" {
			t.Errorf("IsTruncated %v NextMarker %q", aws.ToBool(out.IsTruncated), aws.ToString(out.NextMarker))
		}
		out, err = s.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(small), Delimiter: aws.String("/"), Marker: out.NextMarker})
		mustOK(t, err)
		got = listing{}
		for _, o := range out.Contents {
			got.Keys = append(got.Keys, aws.ToString(o.Key))
		}
		for _, p := range out.CommonPrefixes {
			got.Prefixes = append(got.Prefixes, aws.ToString(p.Prefix))
		}
		if diff := cmp.Diff(listing{Keys: []string{"e.txt", "z+plus"}, Prefixes: []string{"space dir/", "unicode/"}}, got); diff != "" {
			t.Errorf("second page (-want +got):\n%s", diff)
		}
		out, err = s.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(small), Prefix: aws.String("dir1/"), Marker: aws.String("dir1/a")})
		mustOK(t, err)
		if len(out.Contents) != 2 || aws.ToString(out.Contents[0].Key) != "dir1/b" || aws.ToString(out.Prefix) != "dir1/" || aws.ToString(out.Marker) != "dir1/a" {
			t.Errorf("prefix+marker: %d keys, prefix %q marker %q", len(out.Contents), aws.ToString(out.Prefix), aws.ToString(out.Marker))
		}
	})

	t.Run("versions of an unversioned bucket", func(t *testing.T) {
		out, err := s.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(small), Prefix: aws.String("dir1/")})
		mustOK(t, err)
		var got []string
		for _, v := range out.Versions {
			got = append(got, aws.ToString(v.Key)+"@"+aws.ToString(v.VersionId))
			if !aws.ToBool(v.IsLatest) {
				t.Errorf("%s is not latest", aws.ToString(v.Key))
			}
		}
		if diff := cmp.Diff([]string{"dir1/a@null", "dir1/b@null", "dir1/sub/c@null"}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if len(out.DeleteMarkers) != 0 {
			t.Errorf("delete markers %v", out.DeleteMarkers)
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("no-such-bucket")})
		wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
		_, err = s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(small), ContinuationToken: aws.String("!!garbage!!")})
		wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
		_, err = s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(small), MaxKeys: aws.Int32(-1)})
		wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	})

	big := s.mkBucket(t, "list-big")
	// 2500 keys spread over 16 prefixes, stored in an order unrelated to
	// their sort order.
	var bigKeys []string
	for i := range 2500 {
		bigKeys = append(bigKeys, fmt.Sprintf("%x/%d", i%16, i))
	}
	s.putMany(t, big, bigKeys)
	slices.Sort(bigKeys)

	t.Run("V2 pagination over 2500 keys", func(t *testing.T) {
		for _, maxKeys := range []int32{0, 333, 1000} {
			t.Run(fmt.Sprint("max-keys=", maxKeys), func(t *testing.T) {
				in := &s3.ListObjectsV2Input{Bucket: aws.String(big)}
				pageSize := 1000 // the default
				if maxKeys > 0 {
					in.MaxKeys = aws.Int32(maxKeys)
					pageSize = int(maxKeys)
				}
				var got []string
				tokens := map[string]bool{}
				for {
					out, err := s.s3.ListObjectsV2(ctx, in)
					mustOK(t, err)
					l := v2Listing(out)
					if aws.ToBool(out.IsTruncated) != (len(got)+len(l.Keys) < len(bigKeys)) {
						t.Fatalf("IsTruncated %v after %d keys", aws.ToBool(out.IsTruncated), len(got)+len(l.Keys))
					}
					if aws.ToBool(out.IsTruncated) && len(l.Keys) != pageSize {
						t.Fatalf("truncated page of %d keys, want %d", len(l.Keys), pageSize)
					}
					got = append(got, l.Keys...)
					if !aws.ToBool(out.IsTruncated) {
						break
					}
					tok := aws.ToString(out.NextContinuationToken)
					if tok == "" || tokens[tok] {
						t.Fatalf("continuation token %q empty or repeated", tok)
					}
					tokens[tok] = true
					in.ContinuationToken = aws.String(tok)
				}
				if !slices.Equal(got, bigKeys) {
					t.Errorf("union of pages: %d keys, differs from the %d stored (first diff: %s)", len(got), len(bigKeys), cmp.Diff(bigKeys, got))
				}
			})
		}
	})

	t.Run("SDK paginator with start-after and prefix", func(t *testing.T) {
		p := s3.NewListObjectsV2Paginator(s.s3, &s3.ListObjectsV2Input{Bucket: aws.String(big), Prefix: aws.String("a/"),
			StartAfter: aws.String("a/1500"), MaxKeys: aws.Int32(17)})
		var got []string
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			mustOK(t, err)
			got = append(got, v2Listing(out).Keys...)
		}
		var want []string
		for _, k := range bigKeys {
			if k > "a/1500" && k[:2] == "a/" {
				want = append(want, k)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("(-want +got):\n%s", cmp.Diff(want, got))
		}
	})

	t.Run("V1 pagination over 2500 keys", func(t *testing.T) {
		// Without a delimiter V1 has no NextMarker: the next marker is the
		// last key of the page.
		in := &s3.ListObjectsInput{Bucket: aws.String(big), MaxKeys: aws.Int32(700)}
		var got []string
		for {
			out, err := s.s3.ListObjects(ctx, in)
			mustOK(t, err)
			for _, o := range out.Contents {
				got = append(got, aws.ToString(o.Key))
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			in.Marker = aws.String(got[len(got)-1])
		}
		if !slices.Equal(got, bigKeys) {
			t.Errorf("union of pages: %d keys, want %d", len(got), len(bigKeys))
		}
	})

	t.Run("delimiter over 2500 keys", func(t *testing.T) {
		out, err := s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(big), Delimiter: aws.String("/")})
		mustOK(t, err)
		var want []string
		for i := range 16 {
			want = append(want, fmt.Sprintf("%x/", i))
		}
		if diff := cmp.Diff(listing{Prefixes: want}, v2Listing(out)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}
