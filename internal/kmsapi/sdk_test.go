package kmsapi

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/coffer-io/coffer/internal/auth/authn"
)

// TestSDKClient checks that aws-sdk-go-v2's KMS client parses the front
// door's responses and errors (timestamps, blobs, modeled exceptions).
func TestSDKClient(t *testing.T) {
	f := newFixture(t)
	const rootKey, userKey = "AKIAROOTROOTROOTROOT", "AKIACAROLCAROLCAROL0"
	srv := httptest.NewServer(&adapter{f: f, keys: map[string]*authn.Principal{rootKey: rootOf(acct), userKey: userOf(acct, "carol")}})
	defer srv.Close()
	client := func(key string) *kms.Client {
		return kms.New(kms.Options{Region: region, BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(),
			Credentials: credentials.NewStaticCredentialsProvider(key, "secretsecretsecretsecretsecretsecret1234", "")})
	}
	c := client(rootKey)
	ctx := t.Context()

	ck, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("sdk")})
	if err != nil {
		t.Fatal(err)
	}
	md := ck.KeyMetadata
	if md.KeySpec != types.KeySpecSymmetricDefault || md.KeyUsage != types.KeyUsageTypeEncryptDecrypt || md.KeyState != types.KeyStateEnabled ||
		md.KeyManager != types.KeyManagerTypeCustomer || md.Origin != types.OriginTypeAwsKms || !md.CreationDate.Equal(fixedTime) ||
		aws.ToString(md.AWSAccountId) != acct || !md.Enabled {
		t.Fatalf("CreateKey: %+v", md)
	}
	id := aws.ToString(md.KeyId)
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/sdk"), TargetKeyId: md.KeyId}); err != nil {
		t.Fatal(err)
	}
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/sdk"), Plaintext: []byte("secret"), EncryptionContext: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(enc.KeyId) != aws.ToString(md.Arn) || enc.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
		t.Errorf("Encrypt: %+v", enc)
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"k": "v"}})
	if err != nil || !bytes.Equal(dec.Plaintext, []byte("secret")) {
		t.Fatalf("Decrypt: %v %+v", err, dec)
	}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	var invalid *types.InvalidCiphertextException
	if !errors.As(err, &invalid) {
		t.Errorf("Decrypt without context: %v, want InvalidCiphertextException", err)
	}
	dk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256})
	if err != nil || len(dk.Plaintext) != 32 || len(dk.CiphertextBlob) == 0 {
		t.Fatalf("GenerateDataKey: %v %+v", err, dk)
	}
	if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(id), RotationPeriodInDays: aws.Int32(180)}); err != nil {
		t.Fatal(err)
	}
	st, err := c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
	if err != nil || !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 180 || st.NextRotationDate == nil {
		t.Fatalf("GetKeyRotationStatus: %v %+v", err, st)
	}
	if _, err := c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"k": "v"}}); err != nil {
		t.Fatalf("Decrypt after rotation: %v", err)
	}
	if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")})
	var disabled *types.DisabledException
	if !errors.As(err, &disabled) {
		t.Errorf("Encrypt with a disabled key: %v", err)
	}
	sd, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(7)})
	if err != nil || sd.KeyState != types.KeyStatePendingDeletion || sd.DeletionDate == nil || aws.ToInt32(sd.PendingWindowInDays) != 7 {
		t.Fatalf("ScheduleKeyDeletion: %v %+v", err, sd)
	}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"k": "v"}})
	var state *types.KMSInvalidStateException
	if !errors.As(err, &state) {
		t.Errorf("Decrypt with a key pending deletion: %v", err)
	}
	_, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/none")})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("DescribeKey of a missing alias: %v", err)
	}
	_, err = c.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`)})
	var malformed *types.MalformedPolicyDocumentException
	if !errors.As(err, &malformed) {
		t.Errorf("CreateKey with a policy without principal: %v", err)
	}
	_, err = c.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(id), GranteePrincipal: aws.String("arn:aws:iam::" + acct + ":root"), Operations: []types.GrantOperation{types.GrantOperationDecrypt}})
	if !errors.As(err, &state) {
		t.Errorf("CreateGrant on a key pending deletion: %v", err)
	}
	// An IAM user without permissions: AccessDeniedException is not a
	// modeled KMS exception, but the SDK reports its code.
	_, err = client(userKey).ListKeys(ctx, &kms.ListKeysInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != CodeAccessDenied {
		t.Errorf("ListKeys as a user without policies: %v", err)
	}
	lk, err := c.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil || len(lk.Keys) != 1 || aws.ToString(lk.Keys[0].KeyId) != id || lk.Truncated {
		t.Fatalf("ListKeys: %v %+v", err, lk)
	}
}
