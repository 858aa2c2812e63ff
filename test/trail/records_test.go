package trail

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/coffer-io/coffer/test/harness"
)

// TestRecords runs a scripted sequence of allowed, denied and failed
// calls on S3, STS and KMS and checks the CloudTrail fields of their
// records in the journal, then scans everything the trail wrote for the
// secrets the calls carried.
func TestRecords(t *testing.T) {
	srv := harness.Start(t)
	ctx := t.Context()
	hc := srv.HTTPClient()
	s3c := s3Client(srv, srv.AccessKey, srv.SecretKey, "")
	acct := accountOf(t, srv)

	mustDo(t, "CreateBucket", func() error {
		_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("rec-bucket")})
		return err
	})
	allowSSEC(t, srv, "rec-bucket")
	mustDo(t, "PutObject", func() error {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("rec-bucket"), Key: aws.String("plain.txt"), Body: strings.NewReader("hello")})
		return err
	})
	// SSE-C: the customer key must never reach the trail.
	ssecKey := bytes.Repeat([]byte{0x5a}, 32)
	ssecB64 := base64.StdEncoding.EncodeToString(ssecKey)
	sum := md5.Sum(ssecKey)
	mustDo(t, "PutObject SSE-C", func() error {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("rec-bucket"), Key: aws.String("ssec.txt"), Body: strings.NewReader("secret body"),
			SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(ssecB64), SSECustomerKeyMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:]))})
		return err
	})
	// Failed: a missing key.
	_, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("rec-bucket"), Key: aws.String("missing.txt")})
	wantCode(t, err, "NoSuchKey")
	// Denied: an anonymous read of a private object.
	resp, err := hc.Get(srv.Endpoint + "/rec-bucket/plain.txt")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("anonymous GET: %d", resp.StatusCode)
	}
	// A presigned GET: its signature must not be recorded.
	ps := s3.NewPresignClient(s3c)
	pr, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("rec-bucket"), Key: aws.String("plain.txt")})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(pr.URL)
	presignSig := u.Query().Get("X-Amz-Signature")
	resp, err = hc.Get(pr.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned GET: %d", resp.StatusCode)
	}
	// Failed authentication: a wrong secret.
	_, err = s3Client(srv, srv.AccessKey, "wrong"+srv.SecretKey, "").ListBuckets(ctx, &s3.ListBucketsInput{})
	wantCode(t, err, "SignatureDoesNotMatch")
	// Temporary credentials: neither the session's secret nor its token
	// may appear.
	stsc := sts.New(sts.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")})
	tok, err := stsc.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	sess := tok.Credentials
	mustDo(t, "ListBuckets with a session", func() error {
		_, err := s3Client(srv, *sess.AccessKeyId, *sess.SecretAccessKey, *sess.SessionToken).ListBuckets(ctx, &s3.ListBucketsInput{})
		return err
	})
	// KMS: a plaintext must not appear.
	kc := kms.New(kms.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")})
	key, err := kc.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	kmsPlain := []byte("kms-plaintext-never-logged-0123456789")
	if _, err := kc.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: kmsPlain}); err != nil {
		t.Fatal(err)
	}

	recs := journal(t, srv.Dir)
	find := func(name string, pred func(map[string]any) bool) map[string]any {
		t.Helper()
		for _, r := range recs {
			if r["eventName"] == name && (pred == nil || pred(r)) {
				return r
			}
		}
		t.Fatalf("no %s record among %d", name, len(recs))
		return nil
	}
	put := find("PutObject", func(r map[string]any) bool { return get(r, "requestParameters", "key") == "plain.txt" })
	checkFields(t, "PutObject", put, map[string]any{
		"eventVersion": "1.11", "eventSource": "s3.amazonaws.com", "awsRegion": srv.Region, "sourceIPAddress": "127.0.0.1",
		"eventType": "AwsApiCall", "eventCategory": "Data", "managementEvent": false, "readOnly": false,
		"recipientAccountId": acct, "userIdentity.type": "Root", "userIdentity.accountId": acct,
		"userIdentity.accessKeyId": srv.AccessKey, "userIdentity.arn": "arn:aws:iam::" + acct + ":root",
		"requestParameters.bucketName": "rec-bucket", "additionalEventData.SignatureVersion": "SigV4",
		"additionalEventData.AuthenticationMethod": "AuthHeader", "additionalEventData.bytesTransferredIn": float64(5),
		"tlsDetails.tlsVersion": "TLSv1.3", "resources.0.type": "AWS::S3::Object", "resources.0.ARN": "arn:aws:s3:::rec-bucket/plain.txt",
		"resources.1.type": "AWS::S3::Bucket", "resources.1.accountId": acct,
	})
	if ua, _ := put["userAgent"].(string); !strings.HasPrefix(ua, "[") || !strings.HasSuffix(ua, "]") {
		t.Errorf("S3 userAgent %q is not bracketed", ua)
	}
	if _, ok := put["responseElements"].(map[string]any)["x-amz-server-side-encryption"]; !ok {
		t.Errorf("PutObject responseElements %v lack the encryption header", put["responseElements"])
	}
	checkFields(t, "CreateBucket", find("CreateBucket", nil), map[string]any{
		"eventCategory": "Management", "managementEvent": true, "readOnly": false, "requestParameters.bucketName": "rec-bucket",
	})
	checkFields(t, "GetObject NoSuchKey", find("GetObject", func(r map[string]any) bool { return r["errorCode"] == "NoSuchKey" }), map[string]any{
		"readOnly": true, "errorMessage": "The specified key does not exist.",
	})
	checkFields(t, "anonymous denied", find("GetObject", func(r map[string]any) bool { return get(r, "userIdentity", "accountId") == "anonymous" }), map[string]any{
		"errorCode": "AccessDenied", "userIdentity.type": "AWSAccount", "recipientAccountId": acct,
	})
	checkFields(t, "presigned", find("GetObject", func(r map[string]any) bool {
		return get(r, "additionalEventData", "AuthenticationMethod") == "QueryString"
	}), map[string]any{
		"errorCode": nil, "additionalEventData.bytesTransferredOut": float64(5),
	})
	checkFields(t, "bad signature", find("ListBuckets", func(r map[string]any) bool { return r["errorCode"] == "SignatureDoesNotMatch" }), map[string]any{
		"userIdentity.type": "Unknown",
	})
	sessionRec := find("ListBuckets", func(r map[string]any) bool { return get(r, "userIdentity", "accessKeyId") == *sess.AccessKeyId })
	if get(sessionRec, "userIdentity", "sessionContext") == nil {
		t.Errorf("session call without sessionContext: %v", sessionRec["userIdentity"])
	}
	checkFields(t, "GetSessionToken", find("GetSessionToken", nil), map[string]any{"eventSource": "sts.amazonaws.com", "readOnly": true})
	checkFields(t, "CreateKey", find("CreateKey", nil), map[string]any{"eventSource": "kms.amazonaws.com", "eventCategory": "Management"})
	enc := find("Encrypt", nil)
	if get(enc, "requestParameters", "keyId") != *key.KeyMetadata.KeyId {
		t.Errorf("Encrypt requestParameters %v", enc["requestParameters"])
	}

	// No secret anywhere the trail writes.
	secrets := map[string]string{
		"root secret key":      srv.SecretKey,
		"session secret key":   *sess.SecretAccessKey,
		"session token":        *sess.SessionToken,
		"SSE-C key (base64)":   ssecB64,
		"SSE-C key (raw)":      string(ssecKey),
		"presigned signature":  presignSig,
		"KMS plaintext":        string(kmsPlain),
		"KMS plaintext base64": base64.StdEncoding.EncodeToString(kmsPlain),
	}
	scanForSecrets(t, filepath.Join(srv.Dir, "trail"), secrets)

	// coffer trail lookup, offline on the data directory and through the
	// server's LookupEvents, with filters.
	for _, args := range [][]string{
		{"--data", srv.Dir},
		{"--endpoint", srv.Endpoint},
	} {
		cmd := exec.CommandContext(ctx, harness.Binary(t), append([]string{"trail", "lookup", "--json", "--event-name", "CreateBucket", "--user", "root", "--resource", "rec-bucket"}, args...)...)
		cmd.Env = srv.Env()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("coffer trail lookup %v: %v\n%s", args, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var r map[string]any
		if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &r) != nil || r["eventName"] != "CreateBucket" {
			t.Errorf("coffer trail lookup %v: %s", args, out)
		}
		// Data events are not in the event history.
		cmd = exec.CommandContext(ctx, harness.Binary(t), append([]string{"trail", "lookup", "--json", "--event-name", "PutObject"}, args...)...)
		cmd.Env = srv.Env()
		if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "" {
			t.Errorf("coffer trail lookup PutObject %v: %v %s", args, err, out)
		}
		// A table for people, filtered by access key.
		cmd = exec.CommandContext(ctx, harness.Binary(t), append([]string{"trail", "lookup", "--access-key", srv.AccessKey, "--event-name", "GetSessionToken"}, args...)...)
		cmd.Env = srv.Env()
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "GetSessionToken") || !strings.Contains(string(out), "sts.amazonaws.com") {
			t.Errorf("coffer trail lookup table %v: %v %s", args, err, out)
		}
	}
	if strings.Contains(strings.Join(recsText(recs), ""), "Signature=") {
		t.Error("an Authorization header reached the trail")
	}
}

func recsText(recs []map[string]any) []string {
	var out []string
	for _, r := range recs {
		b, _ := json.Marshal(r)
		out = append(out, string(b))
	}
	return out
}

// scanForSecrets fails if any file under dir contains a secret.
func scanForSecrets(t *testing.T, dir string, secrets map[string]string) {
	t.Helper()
	n := 0
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		for name, s := range secrets {
			if s != "" && bytes.Contains(b, []byte(s)) {
				t.Errorf("%s found in %s", name, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("the trail wrote no files")
	}
}

// journal reads every record of the data directory's journal.
func journal(t *testing.T, dir string) []map[string]any {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "trail", "journal", "*.jsonl"))
	sort.Strings(files)
	var out []map[string]any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// The segment being written is preallocated with zeros.
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var r map[string]any
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatalf("journal line %q: %v", line, err)
			}
			out = append(out, r)
		}
	}
	return out
}

// get walks nested maps and lists ("resources", "0", "ARN").
func get(r map[string]any, path ...string) any {
	var cur any = r
	for _, p := range path {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			i := 0
			for _, ch := range p {
				i = i*10 + int(ch-'0')
			}
			if i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

func checkFields(t *testing.T, what string, r map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if got := get(r, strings.Split(k, ".")...); got != v {
			t.Errorf("%s: %s = %#v, want %#v", what, k, got, v)
		}
	}
}

func mustDo(t *testing.T, what string, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func s3Client(srv *harness.Server, id, secret, token string) *s3.Client {
	return s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, token), HTTPClient: srv.HTTPClient(), RetryMaxAttempts: 1})
}

// accountOf returns the default account's ID.
func accountOf(t *testing.T, srv *harness.Server) string {
	t.Helper()
	stsc := sts.New(sts.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), HTTPClient: srv.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")})
	id, err := stsc.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	return *id.Account
}

// allowSSEC lifts the SSE-C block new buckets carry.
func allowSSEC(t *testing.T, srv *harness.Server, bucket string) {
	t.Helper()
	c := s3Client(srv, srv.AccessKey, srv.SecretKey, "")
	_, err := c.PutBucketEncryption(t.Context(), &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256},
			BlockedEncryptionTypes:             &types.BlockedEncryptionTypes{EncryptionType: []types.EncryptionType{types.EncryptionTypeNone}},
		}}}})
	if err != nil {
		t.Fatal(err)
	}
}
