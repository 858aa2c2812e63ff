package e2e

// Bucket lifecycle, naming rules and cross-account isolation.

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/coffer-io/coffer/test/harness"
)

func TestBuckets(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	otherAK, otherSK := s.createAccount("other")
	other := s.client(otherAK, otherSK)

	t.Run("create", func(t *testing.T) {
		out, err := s.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alpha")})
		mustOK(t, err)
		if got := aws.ToString(out.Location); got != "/alpha" {
			t.Errorf("Location = %q, want /alpha", got)
		}
	})

	t.Run("duplicate create by owner succeeds in us-east-1", func(t *testing.T) {
		// AWS keeps this legacy behaviour in us-east-1 only; every other
		// region answers BucketAlreadyOwnedByYou.
		_, err := s.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alpha")})
		mustOK(t, err)
	})

	t.Run("create of another account's name", func(t *testing.T) {
		_, err := other.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alpha")})
		wantErr(t, err, "BucketAlreadyExists", http.StatusConflict)
	})

	t.Run("create with us-east-1 location constraint", func(t *testing.T) {
		// us-east-1 is expressed by omitting the constraint; naming it is
		// InvalidLocationConstraint.
		_, err := s.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("gamma"),
			CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "us-east-1"}})
		wantErr(t, err, "InvalidLocationConstraint", http.StatusBadRequest)
		_, err = s.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("gamma"),
			CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})
		wantErr(t, err, "IllegalLocationConstraintException", http.StatusBadRequest)
	})

	t.Run("head", func(t *testing.T) {
		out, err := s.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("alpha")})
		mustOK(t, err)
		if got := aws.ToString(out.BucketRegion); got != "us-east-1" {
			t.Errorf("BucketRegion = %q", got)
		}
		_, err = s.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")})
		// HEAD responses have no body: the SDK names the error by status.
		wantErr(t, err, "NotFound", http.StatusNotFound)
	})

	t.Run("list", func(t *testing.T) {
		s.mkBucket(t, "beta")
		_, err := other.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("others-bucket")})
		mustOK(t, err)
		out, err := s.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
		mustOK(t, err)
		var names []string
		for _, b := range out.Buckets {
			names = append(names, aws.ToString(b.Name))
			if b.CreationDate == nil || b.CreationDate.IsZero() {
				t.Errorf("bucket %s has no CreationDate", aws.ToString(b.Name))
			}
		}
		if diff := cmp.Diff([]string{"alpha", "beta"}, names); diff != "" {
			t.Errorf("ListBuckets (-want +got):\n%s", diff)
		}
		if out.Owner == nil || aws.ToString(out.Owner.ID) == "" {
			t.Errorf("ListBuckets has no owner")
		}
		out, err = other.ListBuckets(ctx, &s3.ListBucketsInput{})
		mustOK(t, err)
		if len(out.Buckets) != 1 || aws.ToString(out.Buckets[0].Name) != "others-bucket" {
			t.Errorf("other account sees %v", out.Buckets)
		}
		// Pagination with max-buckets and the continuation token.
		out, err = s.s3.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1)})
		mustOK(t, err)
		if len(out.Buckets) != 1 || aws.ToString(out.ContinuationToken) == "" {
			t.Fatalf("first page: %d buckets, token %q", len(out.Buckets), aws.ToString(out.ContinuationToken))
		}
		out, err = s.s3.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1), ContinuationToken: out.ContinuationToken})
		mustOK(t, err)
		if len(out.Buckets) != 1 || aws.ToString(out.Buckets[0].Name) != "beta" {
			t.Errorf("second page: %v", out.Buckets)
		}
	})

	t.Run("location", func(t *testing.T) {
		out, err := s.s3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("alpha")})
		mustOK(t, err)
		// us-east-1 is reported as an empty LocationConstraint.
		if out.LocationConstraint != "" {
			t.Errorf("LocationConstraint = %q, want empty", out.LocationConstraint)
		}
		_, err = s.s3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("no-such-bucket")})
		wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
	})

	t.Run("cross-account access is denied", func(t *testing.T) {
		s.put(t, "alpha", "secret.txt", []byte("mine"))
		cases := []struct {
			name string
			call func() error
		}{
			{"GetObject", func() error {
				_, err := other.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("alpha"), Key: aws.String("secret.txt")})
				return err
			}},
			{"PutObject", func() error {
				_, err := other.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("alpha"), Key: aws.String("x"), Body: strings.NewReader("x")})
				return err
			}},
			{"ListObjectsV2", func() error {
				_, err := other.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("alpha")})
				return err
			}},
			{"DeleteObject", func() error {
				_, err := other.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("alpha"), Key: aws.String("secret.txt")})
				return err
			}},
			{"DeleteBucket", func() error {
				_, err := other.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
				return err
			}},
			{"GetBucketLocation", func() error {
				_, err := other.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("alpha")})
				return err
			}},
			{"CopyObject from a foreign source", func() error {
				_, err := other.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("others-bucket"), Key: aws.String("stolen"),
					CopySource: aws.String("alpha/secret.txt")})
				return err
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { wantErr(t, c.call(), "AccessDenied", http.StatusForbidden) })
		}
		_, err := other.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("alpha")})
		wantErr(t, err, "Forbidden", http.StatusForbidden)
	})

	t.Run("invalid names", func(t *testing.T) {
		for _, name := range []string{
			"ab", strings.Repeat("a", 64), "Upper-case", "under_score", "-leading", "trailing-",
			"double..dot", "dot.-dash", "192.168.5.4", "xn--punycode", "sthree-prefix", "name-s3alias",
		} {
			t.Run(name, func(t *testing.T) {
				_, err := s.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
				wantErr(t, err, "InvalidBucketName", http.StatusBadRequest)
			})
		}
		// Boundary lengths are valid.
		for _, name := range []string{"abc", strings.Repeat("b", 63)} {
			s.mkBucket(t, name)
		}
	})

	t.Run("delete", func(t *testing.T) {
		_, err := s.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
		wantErr(t, err, "BucketNotEmpty", http.StatusConflict)
		_, err = s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("alpha"), Key: aws.String("secret.txt")})
		mustOK(t, err)
		_, err = s.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
		mustOK(t, err)
		_, err = s.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("alpha")})
		wantErr(t, err, "NotFound", http.StatusNotFound)
		_, err = s.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
		wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
		out, err := s.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
		mustOK(t, err)
		if slices.ContainsFunc(out.Buckets, func(b types.Bucket) bool { return aws.ToString(b.Name) == "alpha" }) {
			t.Errorf("deleted bucket still listed")
		}
		// The name is free again, for any account.
		_, err = other.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alpha")})
		mustOK(t, err)
	})
}

// TestOfflineAccount creates an account with the admin CLI working directly
// on a stopped server's data directory, then uses it after a restart.
func TestOfflineAccount(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	bin := harness.Binary(t)
	s.mkBucket(t, "default-owned")

	// While the server holds the directory, the offline path is refused.
	if out, err := s.srv.RunErr(ctx, bin, "admin", "account", "create", "offline", "--data", s.srv.Dir); err == nil {
		t.Fatalf("offline account creation on a live data directory succeeded:\n%s", out)
	}
	s.srv.Stop()
	ak, sk := parseCredentials(t, s.srv.Run(ctx, bin, "admin", "account", "create", "offline", "--data", s.srv.Dir))
	s.srv.Restart() // a new port: clients must be rebuilt
	owner := s.client(s.srv.AccessKey, s.srv.SecretKey)
	offline := s.client(ak, sk)

	_, err := offline.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("offline-owned")})
	mustOK(t, err)
	_, err = offline.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("default-owned")})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	// Data written before the restart is still there.
	_, err = owner.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("default-owned")})
	mustOK(t, err)
	_, err = owner.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("offline-owned")})
	wantErr(t, err, "BucketAlreadyExists", http.StatusConflict)
}
