package clients

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer-io/coffer/test/harness"
)

// TestAWSCLIv2SSE and TestAWSCLIv1SSE drive SSE-KMS, SSE-C and default
// bucket encryption with the aws CLI: `s3 cp --sse aws:kms`, `--sse-c`
// with a key file, server-side copies between modes, and the s3api
// bucket-encryption commands.
func TestAWSCLIv2SSE(t *testing.T) {
	t.Parallel()
	requireAWSCLIv2(t)
	testAWSCLISSE(t, awsV2Path)
}

func TestAWSCLIv1SSE(t *testing.T) {
	t.Parallel()
	bin := awsCLIv1(t)
	testAWSCLISSE(t, bin)
}

// allowSSEC lifts the SSE-C block of a new bucket with the Go SDK: older
// CLIs do not know BlockedEncryptionTypes.
func allowSSEC(t *testing.T, srv *harness.Server, bucket string) {
	t.Helper()
	c := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""), HTTPClient: srv.HTTPClient()})
	_, err := c.PutBucketEncryption(t.Context(), &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256},
			BlockedEncryptionTypes:             &types.BlockedEncryptionTypes{EncryptionType: []types.EncryptionType{types.EncryptionTypeNone}},
		}}}})
	if err != nil {
		t.Fatal(err)
	}
}

type awsSSEHead struct {
	ContentLength        int64
	ServerSideEncryption string
	SSEKMSKeyId          string
	BucketKeyEnabled     bool
	SSECustomerAlgorithm string
}

type awsBucketEncryption struct {
	ServerSideEncryptionConfiguration struct {
		Rules []struct {
			ApplyServerSideEncryptionByDefault struct {
				SSEAlgorithm   string
				KMSMasterKeyID string
			}
			BucketKeyEnabled bool
		}
	}
}

func testAWSCLISSE(t *testing.T, bin string) {
	srv := harness.Start(t)
	ctx := testContext(t)
	t.Logf("client: %s", awsVersion(bin))
	a := awsCLI{runner{ctx: ctx, env: srv.Env(), bin: bin, args: []string{"--endpoint-url", srv.Endpoint}}}
	dir := t.TempDir()
	const b = "cli-sse"
	small := filepath.Join(dir, "small.txt")
	writeFiles(t, dir, map[string]string{"small.txt": "encrypted with the aws cli\n"})
	big := filepath.Join(dir, "big.bin")
	bigSum := writeBigFile(t, big, bigSize)
	keyFile := filepath.Join(dir, "sse-c.key")
	if err := os.WriteFile(keyFile, bytes.Repeat([]byte{0x42}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	a.run(t, "s3", "mb", "s3://"+b)
	head := func(t *testing.T, key string, extra ...string) awsSSEHead {
		t.Helper()
		var h awsSSEHead
		a.json(t, &h, append([]string{"s3api", "head-object", "--bucket", b, "--key", key}, extra...)...)
		return h
	}

	t.Run("bucket default", func(t *testing.T) {
		a.run(t, "s3api", "put-bucket-encryption", "--bucket", b, "--server-side-encryption-configuration",
			`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"alias/aws/s3"},"BucketKeyEnabled":true}]}`)
		var enc awsBucketEncryption
		a.json(t, &enc, "s3api", "get-bucket-encryption", "--bucket", b)
		r := enc.ServerSideEncryptionConfiguration.Rules
		if len(r) != 1 || r[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != "aws:kms" || r[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID != "alias/aws/s3" || !r[0].BucketKeyEnabled {
			t.Fatalf("get-bucket-encryption: %+v", enc)
		}
		a.run(t, "s3", "cp", "--no-progress", small, "s3://"+b+"/default.txt")
		if h := head(t, "default.txt"); h.ServerSideEncryption != "aws:kms" || !h.BucketKeyEnabled || !strings.HasPrefix(h.SSEKMSKeyId, "arn:aws:kms:") {
			t.Fatalf("object under the default: %+v", h)
		}
		a.run(t, "s3api", "delete-bucket-encryption", "--bucket", b)
		a.json(t, &enc, "s3api", "get-bucket-encryption", "--bucket", b)
		if alg := enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm; alg != "AES256" {
			t.Fatalf("after delete-bucket-encryption: %s", alg)
		}
		a.run(t, "s3", "cp", "--no-progress", small, "s3://"+b+"/after.txt")
		if h := head(t, "after.txt"); h.ServerSideEncryption != "AES256" {
			t.Fatalf("after delete: %+v", h)
		}
	})

	t.Run("sse-kms", func(t *testing.T) {
		a.run(t, "s3", "cp", "--no-progress", big, "s3://"+b+"/kms.bin", "--sse", "aws:kms", "--sse-kms-key-id", "alias/aws/s3")
		if h := head(t, "kms.bin"); h.ServerSideEncryption != "aws:kms" || !strings.HasPrefix(h.SSEKMSKeyId, "arn:aws:kms:") || h.ContentLength != bigSize {
			t.Fatalf("head-object: %+v", h)
		}
		dl := filepath.Join(t.TempDir(), "kms.bin")
		a.run(t, "s3", "cp", "--no-progress", "s3://"+b+"/kms.bin", dl)
		checkSameFile(t, dl, bigSum)
		out, err := a.runErr(t, "s3", "cp", "--no-progress", small, "s3://"+b+"/nokey.txt", "--sse", "aws:kms", "--sse-kms-key-id", "alias/missing")
		if err == nil || !strings.Contains(out, "KMS.NotFoundException") {
			t.Fatalf("missing key: %v\n%s", err, out)
		}
	})

	t.Run("sse-c", func(t *testing.T) {
		allowSSEC(t, srv, b)
		for _, f := range []string{small, big} {
			key := "ssec-" + filepath.Base(f)
			a.run(t, "s3", "cp", "--no-progress", f, "s3://"+b+"/"+key, "--sse-c", "AES256", "--sse-c-key", "fileb://"+keyFile)
			dl := filepath.Join(t.TempDir(), key)
			a.run(t, "s3", "cp", "--no-progress", "s3://"+b+"/"+key, dl, "--sse-c", "AES256", "--sse-c-key", "fileb://"+keyFile)
			checkSameFile(t, dl, sha256File(t, f))
			if _, err := a.runErr(t, "s3", "cp", "--no-progress", "s3://"+b+"/"+key, dl+".nokey"); err == nil {
				t.Fatal("SSE-C object downloaded without its key")
			}
		}
		// Server-side copy from SSE-C to SSE-KMS.
		a.run(t, "s3", "cp", "--no-progress", "s3://"+b+"/ssec-big.bin", "s3://"+b+"/from-ssec.bin",
			"--sse-c-copy-source", "AES256", "--sse-c-copy-source-key", "fileb://"+keyFile, "--sse", "aws:kms")
		if h := head(t, "from-ssec.bin"); h.ServerSideEncryption != "aws:kms" || h.ContentLength != bigSize {
			t.Fatalf("copy: %+v", h)
		}
		dl := filepath.Join(t.TempDir(), "from-ssec.bin")
		a.run(t, "s3", "cp", "--no-progress", "s3://"+b+"/from-ssec.bin", dl)
		checkSameFile(t, dl, bigSum)
	})
}
