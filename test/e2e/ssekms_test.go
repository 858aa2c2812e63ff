package e2e

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/coffer-io/coffer/test/harness"
)

// SSE-KMS and KMS key policies together: S3 uses a key on the
// requester's behalf, so the key's policy, state and conditions decide
// S3 reads and writes as they would the requester's own KMS calls.

// kmsClient returns an aws-sdk-go-v2 KMS client for the given credentials.
func (s *suite) kmsClient(accessKey, secretKey string) *kms.Client {
	return kms.New(kms.Options{
		Region:           s.srv.Region,
		BaseEndpoint:     aws.String(s.srv.Endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		HTTPClient:       s.hc,
		RetryMaxAttempts: 1,
	})
}

// newKey creates a customer managed key, optionally with a key policy.
func newKey(t *testing.T, k *kms.Client, policy string) (id, arn string) {
	t.Helper()
	in := &kms.CreateKeyInput{}
	if policy != "" {
		in.Policy = aws.String(policy)
	}
	out, err := k.CreateKey(t.Context(), in)
	mustOK(t, err)
	return aws.ToString(out.KeyMetadata.KeyId), aws.ToString(out.KeyMetadata.Arn)
}

func putKeyPolicy(t *testing.T, k *kms.Client, keyID, policy string) {
	t.Helper()
	_, err := k.PutKeyPolicy(t.Context(), &kms.PutKeyPolicyInput{KeyId: aws.String(keyID), PolicyName: aws.String("default"), Policy: aws.String(policy)})
	mustOK(t, err)
}

// withKMS asks a PutObject for SSE-KMS under key ("" for aws/s3).
func withKMS(key string, bucketKey bool) func(*s3.PutObjectInput) {
	return func(in *s3.PutObjectInput) {
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		if key != "" {
			in.SSEKMSKeyId = aws.String(key)
		}
		if bucketKey {
			in.BucketKeyEnabled = aws.Bool(true)
		}
	}
}

func putErr(t *testing.T, c *s3.Client, bucket, key string, optFns ...func(*s3.PutObjectInput)) error {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader([]byte("data of " + key))}
	for _, f := range optFns {
		f(in)
	}
	_, err := c.PutObject(t.Context(), in)
	return err
}

func getErr(t *testing.T, c *s3.Client, bucket, key string) error {
	t.Helper()
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(out.Body); err != nil {
		return err
	}
	if b.String() != "data of "+key {
		t.Fatalf("GetObject %s/%s: wrong data %q", bucket, key, b.String())
	}
	return nil
}

func headErr(t *testing.T, c *s3.Client, bucket, key string) error {
	t.Helper()
	_, err := c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return err
}

// TestSSEKMSKeyPolicy: a key policy that denies a user kms:Decrypt stops
// that user's GetObject (not HeadObject, which AWS answers without the
// KMS) of objects under the key, while a user the policy allows reads
// them; one that denies kms:GenerateDataKey stops PutObject, multipart
// uploads and copies to the key, with and without bucket keys.
func TestSSEKMSKeyPolicy(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	acct := s.accountID(t, s.srv.AccessKey, s.srv.SecretKey)
	root := s.kmsClient(s.srv.AccessKey, s.srv.SecretKey)
	bkt := s.mkBucket(t, "kms-policy")
	keyID, keyARN := newKey(t, root, "")
	all := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","kms:*"],"Resource":"*"}]}`
	alice := s.client(s.iamUser(t, "alice", all))
	bob := s.client(s.iamUser(t, "bob", all))

	for _, k := range []string{"plain", "plain-bk"} {
		mustOK(t, putErr(t, s.s3, bkt, k, withKMS(keyID, k == "plain-bk"), func(in *s3.PutObjectInput) {
			in.Metadata = map[string]string{"owner": "root"}
			in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
		}))
	}
	// The default key policy delegates to IAM: both users may.
	for _, c := range []*s3.Client{alice, bob} {
		mustOK(t, getErr(t, c, bkt, "plain"))
		mustOK(t, getErr(t, c, bkt, "plain-bk"))
	}

	rootStmt := `{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"}`
	deny := func(action string) string {
		return `{"Version":"2012-10-17","Statement":[` + rootStmt + `,
			{"Sid":"Deny bob","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/bob"},"Action":"` + action + `","Resource":"*"}]}`
	}

	t.Run("deny Decrypt", func(t *testing.T) {
		putKeyPolicy(t, root, keyID, deny("kms:Decrypt"))
		for _, k := range []string{"plain", "plain-bk"} {
			// Bob read the bucket-key object a moment ago: a cached bucket
			// key must not outlive the policy that allowed it.
			wantErr(t, getErr(t, bob, bkt, k), "AccessDenied", 403)
			mustOK(t, getErr(t, alice, bkt, k))
			// HEAD reads metadata only; AWS does not call the KMS for it.
			mustOK(t, headErr(t, bob, bkt, k))
		}
		// The refusal carries none of the object's headers.
		_, err := bob.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("plain"), ChecksumMode: types.ChecksumModeEnabled})
		wantErr(t, err, "AccessDenied", 403)
		var re *awshttp.ResponseError
		if !errors.As(err, &re) {
			t.Fatalf("no HTTP response in %v", err)
		}
		for _, h := range []string{"ETag", "Last-Modified", "X-Amz-Server-Side-Encryption", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", "X-Amz-Checksum-Crc32", "X-Amz-Checksum-Type", "X-Amz-Meta-Owner"} {
			if v := re.Response.Header.Get(h); v != "" {
				t.Errorf("AccessDenied response has the object's %s: %q", h, v)
			}
		}
		// A copy decrypts its source.
		_, err = bob.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String("copy"), CopySource: aws.String(bkt + "/plain")})
		wantErr(t, err, "AccessDenied", 403)
		// Writing still works: GenerateDataKey is not denied.
		mustOK(t, putErr(t, bob, bkt, "by-bob", withKMS(keyARN, false)))
		wantErr(t, getErr(t, bob, bkt, "by-bob"), "AccessDenied", 403)
		mustOK(t, getErr(t, alice, bkt, "by-bob"))
	})

	t.Run("deny GenerateDataKey", func(t *testing.T) {
		// Alice and bob write with bucket keys first, so that both hold a
		// cached one when the policy changes.
		mustOK(t, putErr(t, alice, bkt, "a0", withKMS(keyID, true)))
		mustOK(t, putErr(t, bob, bkt, "b0", withKMS(keyID, true)))
		putKeyPolicy(t, root, keyID, deny("kms:GenerateDataKey"))
		for _, bk := range []bool{false, true} {
			wantErr(t, putErr(t, bob, bkt, "b1", withKMS(keyID, bk)), "AccessDenied", 403)
			mustOK(t, putErr(t, alice, bkt, "a1", withKMS(keyID, bk)))
		}
		for _, name := range []string{"alias", "arn"} {
			id := keyARN
			if name == "alias" {
				_, err := root.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/policy-test"), TargetKeyId: aws.String(keyID)})
				mustOK(t, err)
				id = "alias/policy-test"
			}
			wantErr(t, putErr(t, bob, bkt, "b2", withKMS(id, false)), "AccessDenied", 403)
		}
		_, err := bob.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String("mpu"),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(keyID)})
		wantErr(t, err, "AccessDenied", 403)
		_, err = bob.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String("copy"), CopySource: aws.String(bkt + "/plain"),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(keyID)})
		wantErr(t, err, "AccessDenied", 403)
		// A bucket default that names the key is no way around it.
		_, err = s.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(bkt),
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(keyARN)},
				BucketKeyEnabled:                   aws.Bool(true),
			}}}})
		mustOK(t, err)
		wantErr(t, putErr(t, bob, bkt, "b3"), "AccessDenied", 403)
		mustOK(t, putErr(t, alice, bkt, "a3"))
		// Bob still reads: Decrypt is allowed.
		mustOK(t, getErr(t, bob, bkt, "a3"))
		_, err = s.s3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(bkt)})
		mustOK(t, err)
	})

	t.Run("multipart", func(t *testing.T) {
		// As in AWS, each part needs kms:Decrypt on the upload's key.
		putKeyPolicy(t, root, keyID, `{"Version":"2012-10-17","Statement":[`+rootStmt+`]}`)
		for _, bk := range []bool{false, true} {
			up, err := bob.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String("mpu"),
				ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(keyID), BucketKeyEnabled: aws.Bool(bk)})
			mustOK(t, err)
			part := func(c *s3.Client, n int32) error {
				_, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bkt), Key: aws.String("mpu"), UploadId: up.UploadId,
					PartNumber: aws.Int32(n), Body: bytes.NewReader([]byte("part"))})
				return err
			}
			mustOK(t, part(bob, 1))
			putKeyPolicy(t, root, keyID, deny("kms:Decrypt"))
			wantErr(t, part(bob, 2), "AccessDenied", 403)
			mustOK(t, part(alice, 2))
			putKeyPolicy(t, root, keyID, `{"Version":"2012-10-17","Statement":[`+rootStmt+`]}`)
			_, err = bob.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String("mpu"), UploadId: up.UploadId})
			mustOK(t, err)
		}
	})
}

// TestSSEKMSKeyStates: a disabled key, or one pending deletion, stops
// reads and writes of objects under it with the KMS's error prefixed
// "KMS." (as S3 reports them), and they work again once the key is
// enabled. Bucket keys cached before the change do not outlive it.
func TestSSEKMSKeyStates(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	root := s.kmsClient(s.srv.AccessKey, s.srv.SecretKey)
	bkt := s.mkBucket(t, "kms-states")
	keyID, keyARN := newKey(t, root, "")
	for _, k := range []string{"obj", "obj-bk"} {
		mustOK(t, putErr(t, s.s3, bkt, k, withKMS(keyID, k == "obj-bk")))
		mustOK(t, getErr(t, s.s3, bkt, k))
	}
	check := func(t *testing.T, code string) {
		t.Helper()
		for _, bk := range []bool{false, true} {
			err := putErr(t, s.s3, bkt, "new", withKMS(keyID, bk))
			wantErr(t, err, code, 400)
			if code == "KMS.DisabledException" {
				wantMessage(t, err, keyARN+" is disabled.")
			}
		}
		_, err := s.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String("mpu"),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(keyARN)})
		wantErr(t, err, code, 400)
		for _, k := range []string{"obj", "obj-bk"} {
			wantErr(t, getErr(t, s.s3, bkt, k), code, 400)
			mustOK(t, headErr(t, s.s3, bkt, k))
		}
	}
	works := func(t *testing.T) {
		t.Helper()
		for _, bk := range []bool{false, true} {
			mustOK(t, putErr(t, s.s3, bkt, "new", withKMS(keyID, bk)))
			mustOK(t, getErr(t, s.s3, bkt, "new"))
		}
		mustOK(t, getErr(t, s.s3, bkt, "obj"))
		mustOK(t, getErr(t, s.s3, bkt, "obj-bk"))
	}

	t.Run("disabled", func(t *testing.T) {
		_, err := root.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(keyID)})
		mustOK(t, err)
		check(t, "KMS.DisabledException")
		_, err = root.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(keyID)})
		mustOK(t, err)
		works(t)
	})
	t.Run("pending deletion", func(t *testing.T) {
		_, err := root.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(keyID), PendingWindowInDays: aws.Int32(7)})
		mustOK(t, err)
		check(t, "KMS.KMSInvalidStateException")
		_, err = root.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: aws.String(keyID)})
		mustOK(t, err)
		// A cancelled deletion leaves the key disabled, as in AWS.
		check(t, "KMS.DisabledException")
		_, err = root.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(keyID)})
		mustOK(t, err)
		works(t)
	})
	t.Run("unknown key", func(t *testing.T) {
		wantErr(t, putErr(t, s.s3, bkt, "x", withKMS("alias/none", false)), "KMS.NotFoundException", 400)
	})
}

// TestSSEKMSCrossAccount: the AWS-managed aws/s3 key serves its own
// account only (its policy allows kms:CallerAccount of the account, via
// S3), so another account writing into a bucket it may write to cannot
// use the bucket owner's aws/s3 key, but can use a customer key whose
// policy lets that account in.
func TestSSEKMSCrossAccount(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	owner := s.accountID(t, s.srv.AccessKey, s.srv.SecretKey)
	root := s.kmsClient(s.srv.AccessKey, s.srv.SecretKey)
	bkt := s.mkBucket(t, "kms-xacct")

	// An IAM user of the owning account and the aws/s3 key.
	user := s.client(s.iamUser(t, "writer", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`))
	mustOK(t, putErr(t, user, bkt, "own", withKMS("", false)))
	mustOK(t, getErr(t, user, bkt, "own"))
	mustOK(t, getErr(t, s.s3, bkt, "own"))
	head, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("own")})
	mustOK(t, err)
	ownerS3Key := aws.ToString(head.SSEKMSKeyId)
	if !strings.HasPrefix(ownerS3Key, "arn:aws:kms:"+s.srv.Region+":"+owner+":key/") {
		t.Fatalf("aws/s3 key of the owner: %q", ownerS3Key)
	}
	mustOK(t, putErr(t, user, bkt, "own-alias", withKMS("alias/aws/s3", true)))

	// Another account whose user the bucket policy lets write and read.
	otherAK, otherSK := s.createAccount("other")
	other := s.accountID(t, otherAK, otherSK)
	otherSuite := &suite{t: t, srv: &harness.Server{Endpoint: s.srv.Endpoint, Region: s.srv.Region, AccessKey: otherAK, SecretKey: otherSK}, hc: s.hc}
	xuser := s.client(otherSuite.iamUser(t, "xwriter", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","kms:*"],"Resource":"*"}]}`))
	s.putPolicy(t, bkt, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+other+`:root"},
		"Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::`+bkt+`/*"}]}`)
	mustOK(t, putErr(t, xuser, bkt, "x-sse-s3"))
	mustOK(t, getErr(t, xuser, bkt, "x-sse-s3"))

	// The owner's aws/s3 key by ARN: refused by its managed policy.
	for _, bk := range []bool{false, true} {
		wantErr(t, putErr(t, xuser, bkt, "x-owner-aws-s3", withKMS(ownerS3Key, bk)), "AccessDenied", 403)
	}
	wantErr(t, getErr(t, xuser, bkt, "own"), "AccessDenied", 403)

	// aws:kms without a key uses the writer's own aws/s3 key, which the
	// bucket owner then cannot use to read (as in AWS).
	mustOK(t, putErr(t, xuser, bkt, "x-own-aws-s3", withKMS("", false)))
	mustOK(t, getErr(t, xuser, bkt, "x-own-aws-s3"))
	wantErr(t, getErr(t, s.s3, bkt, "x-own-aws-s3"), "AccessDenied", 403)

	// A customer key of the owner whose policy lets the other account in.
	_, keyARN := newKey(t, root, `{"Version":"2012-10-17","Statement":[
		{"Sid":"Owner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+owner+`:root"},"Action":"kms:*","Resource":"*"},
		{"Sid":"Other account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+other+`:root"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*"}]}`)
	for _, bk := range []bool{false, true} {
		mustOK(t, putErr(t, xuser, bkt, "x-shared", withKMS(keyARN, bk)))
		mustOK(t, getErr(t, xuser, bkt, "x-shared"))
		mustOK(t, getErr(t, s.s3, bkt, "x-shared"))
	}
	// Another account names a foreign key by ARN only.
	keyID := keyARN[strings.LastIndex(keyARN, "/")+1:]
	wantErr(t, putErr(t, xuser, bkt, "x-by-id", withKMS(keyID, false)), "KMS.NotFoundException", 400)
	// The other account's user needs its own identity policy too.
	nopol := s.client(otherSuite.iamUser(t, "xnokms", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`))
	wantErr(t, putErr(t, nopol, bkt, "x-nokms", withKMS(keyARN, false)), "AccessDenied", 403)
	wantErr(t, getErr(t, nopol, bkt, "x-shared"), "AccessDenied", 403)
}

// TestSSEKMSEncryptionContextPolicy: a key policy condition on
// kms:EncryptionContext:aws:s3:arn limits the key to one bucket's objects.
func TestSSEKMSEncryptionContextPolicy(t *testing.T) {
	s := newSuite(t)
	acct := s.accountID(t, s.srv.AccessKey, s.srv.SecretKey)
	root := s.kmsClient(s.srv.AccessKey, s.srv.SecretKey)
	in, out := s.mkBucket(t, "ctx-inside"), s.mkBucket(t, "ctx-outside")
	keyID, _ := newKey(t, root, "")
	putKeyPolicy(t, root, keyID, `{"Version":"2012-10-17","Statement":[
		{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:root"},"Action":"kms:*","Resource":"*",
		 "Condition":{"Null":{"kms:ViaService":"true"}}},
		{"Sid":"S3 in one bucket","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:root"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*",
		 "Condition":{"StringLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::ctx-inside*"}}}]}`)
	ctxHdr := func(in *s3.PutObjectInput) {
		in.SSEKMSEncryptionContext = sseModes[3].ctxHeader()
	}
	for _, bk := range []bool{false, true} {
		mustOK(t, putErr(t, s.s3, in, "k", withKMS(keyID, bk), ctxHdr))
		mustOK(t, getErr(t, s.s3, in, "k"))
		wantErr(t, putErr(t, s.s3, out, "k", withKMS(keyID, bk), ctxHdr), "AccessDenied", 403)
	}
}

// TestSSEKMSOverHTTP: SSE-KMS and SSE-C need HTTPS; SSE-S3 does not, and
// a bucket policy denying aws:SecureTransport=false refuses plain HTTP.
func TestSSEKMSOverHTTP(t *testing.T) {
	s := newSuite(t, harness.WithHTTP())
	ctx := t.Context()
	bkt := s.mkBucket(t, "kms-http")
	plain := s.client(s.srv.AccessKey, s.srv.SecretKey, func(o *s3.Options) {
		o.BaseEndpoint = aws.String("http://" + s.srv.HTTPAddr)
		o.HTTPClient = http.DefaultClient
	})
	mustOK(t, putErr(t, s.s3, bkt, "kms", withKMS("", false)))
	mustOK(t, putErr(t, plain, bkt, "s3"))
	mustOK(t, getErr(t, plain, bkt, "s3"))
	for _, bk := range []bool{false, true} {
		err := putErr(t, plain, bkt, "kms2", withKMS("", bk))
		wantErr(t, err, "InvalidRequest", 400)
	}
	wantErr(t, getErr(t, plain, bkt, "kms"), "InvalidRequest", 400)
	_, err := plain.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String("m"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms})
	wantErr(t, err, "InvalidRequest", 400)
	up, err := s.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String("m"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms})
	mustOK(t, err)
	_, err = plain.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bkt), Key: aws.String("m"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("part"))})
	wantErr(t, err, "InvalidRequest", 400)
	// A bucket default of SSE-KMS refuses plain-HTTP writes too.
	_, err = s.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(bkt),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms},
		}}}})
	mustOK(t, err)
	wantErr(t, putErr(t, plain, bkt, "kms3"), "InvalidRequest", 400)
	mustOK(t, putErr(t, s.s3, bkt, "kms3"))
	_, err = s.s3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(bkt)})
	mustOK(t, err)
	// KMS calls themselves are refused over plain HTTP.
	pk := kms.New(kms.Options{Region: s.srv.Region, BaseEndpoint: aws.String("http://" + s.srv.HTTPAddr),
		Credentials: credentials.NewStaticCredentialsProvider(s.srv.AccessKey, s.srv.SecretKey, ""), RetryMaxAttempts: 1})
	_, err = pk.ListKeys(ctx, &kms.ListKeysInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("KMS over plain HTTP: %v", err)
	}
	// aws:SecureTransport=false denied: plain HTTP refused altogether.
	s.putPolicy(t, bkt, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*",
		"Resource":["arn:aws:s3:::`+bkt+`","arn:aws:s3:::`+bkt+`/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)
	wantErr(t, putErr(t, plain, bkt, "s3b"), "AccessDenied", 403)
	wantErr(t, getErr(t, plain, bkt, "s3"), "AccessDenied", 403)
	mustOK(t, putErr(t, s.s3, bkt, "s3b"))
	mustOK(t, getErr(t, s.s3, bkt, "kms"))
}
