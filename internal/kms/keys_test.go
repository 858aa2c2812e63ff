package kms_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/kms"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewConfig(t *testing.T) {
	sealer, _ := kms.NewLocalSealer(make([]byte, 32))
	for _, tc := range []struct {
		name string
		cfg  kms.Config
		ok   bool
	}{
		{"ok", kms.Config{Store: kms.NewMemStore(), Sealer: sealer, Region: region}, true},
		{"no store", kms.Config{Sealer: sealer, Region: region}, false},
		{"no sealer", kms.Config{Store: kms.NewMemStore(), Region: region}, false},
		{"no region", kms.Config{Store: kms.NewMemStore(), Sealer: sealer}, false},
		{"short period", kms.Config{Store: kms.NewMemStore(), Sealer: sealer, Region: region, DefaultRotationPeriodDays: 89}, false},
		{"custom period", kms.Config{Store: kms.NewMemStore(), Sealer: sealer, Region: region, DefaultRotationPeriodDays: 90}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kms.New(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("New err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestCreateKey(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		in   kms.CreateKeyInput
		code string
	}{
		{"defaults", kms.CreateKeyInput{}, ""},
		{"explicit symmetric", kms.CreateKeyInput{KeyUsage: "ENCRYPT_DECRYPT", KeySpec: "SYMMETRIC_DEFAULT", Description: "d"}, ""},
		{"custom policy", kms.CreateKeyInput{Policy: []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}]}`)}, ""},
		{"policy without principal", kms.CreateKeyInput{Policy: []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`)}, kms.CodeMalformedPolicyDocument},
		{"policy with empty statement list", kms.CreateKeyInput{Policy: []byte(`{"Version":"2012-10-17","Statement":[]}`)}, kms.CodeMalformedPolicyDocument},
		{"sign verify", kms.CreateKeyInput{KeyUsage: "SIGN_VERIFY"}, kms.CodeUnsupportedOperation},
		{"rsa", kms.CreateKeyInput{KeySpec: "RSA_2048"}, kms.CodeUnsupportedOperation},
		{"long description", kms.CreateKeyInput{Description: strings.Repeat("x", 8193)}, kms.CodeValidation},
		{"policy not json", kms.CreateKeyInput{Policy: []byte(`{`)}, kms.CodeMalformedPolicyDocument},
		{"policy without statement", kms.CreateKeyInput{Policy: []byte(`{"Version":"2012-10-17"}`)}, kms.CodeMalformedPolicyDocument},
		{"empty policy", kms.CreateKeyInput{Policy: []byte{}}, kms.CodeValidation},
		{"huge policy", kms.CreateKeyInput{Policy: bytes.Repeat([]byte(" "), kms.MaxPolicyLength+1)}, kms.CodeValidation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := f.svc.CreateKey(ctx, acct, tc.in)
			wantCode(t, err, tc.code)
			if err != nil {
				return
			}
			if !uuidRE.MatchString(k.ID) {
				t.Errorf("ID %q is not a UUID", k.ID)
			}
			if want := "arn:aws:kms:us-east-1:" + acct + ":key/" + k.ID; k.ARN != want {
				t.Errorf("ARN = %q, want %q", k.ARN, want)
			}
			if k.State != kms.KeyStateEnabled || !k.Enabled() || k.KeyManager != kms.KeyManagerCustomer || k.RotationEnabled || k.CurrentVersion != 1 || k.AccountID != acct {
				t.Errorf("unexpected metadata %+v", k)
			}
			if !k.CreationDate.Equal(f.clock.Now()) {
				t.Errorf("CreationDate = %v", k.CreationDate)
			}
			if tc.in.Policy == nil {
				var p struct {
					Statement []struct{ Principal struct{ AWS string } }
				}
				if err := json.Unmarshal(k.Policy, &p); err != nil || p.Statement[0].Principal.AWS != "arn:aws:iam::"+acct+":root" {
					t.Errorf("default policy = %s", k.Policy)
				}
			} else if !bytes.Equal(k.Policy, tc.in.Policy) {
				t.Errorf("policy = %s", k.Policy)
			}
		})
	}
}

func TestDescribeKeyIdentifiers(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, acct)
	ok := f.key(t, other)
	if err := f.svc.CreateAlias(ctx, acct, "alias/mine", k.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CreateAlias(ctx, other, "alias/theirs", ok.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, id, wantID, code string
	}{
		{"key id", k.ID, k.ID, ""},
		{"key arn", k.ARN, k.ID, ""},
		{"alias name", "alias/mine", k.ID, ""},
		{"alias arn", "arn:aws:kms:us-east-1:" + acct + ":alias/mine", k.ID, ""},
		{"other account key arn", ok.ARN, ok.ID, ""},
		{"other account alias arn", "arn:aws:kms:us-east-1:" + other + ":alias/theirs", ok.ID, ""},
		{"other account bare id", ok.ID, "", kms.CodeNotFound},
		{"other account alias name", "alias/theirs", "", kms.CodeNotFound},
		{"empty", "", "", kms.CodeValidation},
		{"unknown id", "00000000-0000-4000-8000-000000000000", "", kms.CodeNotFound},
		{"unknown alias", "alias/nope", "", kms.CodeNotFound},
		{"other region", "arn:aws:kms:eu-west-1:" + acct + ":key/" + k.ID, "", kms.CodeNotFound},
		{"malformed arn", "arn:aws:s3:::bucket", "", kms.CodeInvalidArn},
		{"arn without resource", "arn:aws:kms:us-east-1:" + acct + ":key/", "", kms.CodeInvalidArn},
		{"too long", strings.Repeat("a", 2049), "", kms.CodeValidation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.svc.DescribeKey(ctx, acct, tc.id)
			wantCode(t, err, tc.code)
			if err == nil && got.ID != tc.wantID {
				t.Errorf("resolved %s, want %s", got.ID, tc.wantID)
			}
		})
	}
}

func TestListKeysPaging(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for range 5 {
		ids = append(ids, f.key(t, acct).ID)
	}
	f.key(t, other)
	var got []string
	marker := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		ks, next, err := f.svc.ListKeys(ctx, acct, kms.Page{Limit: 2, Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			got = append(got, k.KeyID)
			if k.KeyARN != "arn:aws:kms:us-east-1:"+acct+":key/"+k.KeyID {
				t.Errorf("bad ARN %s", k.KeyARN)
			}
		}
		if next == "" {
			break
		}
		marker = next
	}
	if len(got) != 5 || !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(ids))) {
		t.Fatalf("listed %v, want the 5 keys of the account %v", got, ids)
	}
	for i := 1; i < len(got); i++ {
		if got[i-1] >= got[i] {
			t.Errorf("not ordered/unique: %v", got)
		}
	}
	all, next, err := f.svc.ListKeys(ctx, acct, kms.Page{})
	if err != nil || next != "" || len(all) != 5 {
		t.Errorf("default page = %d keys, next %q, %v", len(all), next, err)
	}
	for _, tc := range []struct {
		name string
		p    kms.Page
		code string
	}{
		{"limit too big", kms.Page{Limit: 1001}, kms.CodeValidation},
		{"negative limit", kms.Page{Limit: -1}, kms.CodeValidation},
		{"bogus marker", kms.Page{Marker: "xyz"}, kms.CodeInvalidMarker},
		{"max limit", kms.Page{Limit: 1000}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.svc.ListKeys(ctx, acct, tc.p)
			wantCode(t, err, tc.code)
		})
	}
}

func TestEnableDisableKey(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, acct)
	blob := f.encrypt(t, k.ID, "secret", nil)

	wantCode(t, f.svc.DisableKey(ctx, acct, k.ID), "")
	wantCode(t, f.svc.DisableKey(ctx, acct, k.ID), "") // idempotent
	d, _ := f.svc.DescribeKey(ctx, acct, k.ID)
	if d.State != kms.KeyStateDisabled || d.Enabled() {
		t.Fatalf("state = %s", d.State)
	}
	// Every cryptographic operation is refused with DisabledException.
	_, err := f.svc.Encrypt(ctx, acct, k.ID, []byte("x"), nil)
	wantCode(t, err, kms.CodeDisabled)
	_, err = f.svc.Decrypt(ctx, acct, blob, "", nil)
	wantCode(t, err, kms.CodeDisabled)
	_, err = f.svc.GenerateDataKey(ctx, acct, k.ID, kms.DataKeyInput{KeySpec: "AES_256"}, nil)
	wantCode(t, err, kms.CodeDisabled)
	_, err = f.svc.GenerateDataKeyWithoutPlaintext(ctx, acct, k.ID, kms.DataKeyInput{KeySpec: "AES_256"}, nil)
	wantCode(t, err, kms.CodeDisabled)

	wantCode(t, f.svc.EnableKey(ctx, acct, k.ARN), "")
	wantCode(t, f.svc.EnableKey(ctx, acct, k.ARN), "")
	if _, err := f.svc.Decrypt(ctx, acct, blob, "", nil); err != nil {
		t.Fatalf("Decrypt after re-enable: %v", err)
	}

	// Management is not cross-account, and missing keys are not found.
	ok := f.key(t, other)
	wantCode(t, f.svc.DisableKey(ctx, acct, ok.ARN), kms.CodeNotFound)
	wantCode(t, f.svc.EnableKey(ctx, acct, "alias/none"), kms.CodeNotFound)

	// Pending deletion: KMSInvalidStateException for enable and disable.
	if _, err := f.svc.ScheduleKeyDeletion(ctx, acct, k.ID, 7); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.EnableKey(ctx, acct, k.ID), kms.CodeInvalidState)
	wantCode(t, f.svc.DisableKey(ctx, acct, k.ID), kms.CodeInvalidState)

	// The AWS managed key cannot be disabled.
	dk, err := f.svc.DefaultKey(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.DisableKey(ctx, acct, "alias/aws/s3"), kms.CodeUnsupportedOperation)
	wantCode(t, f.svc.EnableKey(ctx, acct, dk.ID), kms.CodeUnsupportedOperation)
}

func TestKeyPolicy(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, acct)
	p := []byte(`{"Version":"2012-10-17","Statement":[{"Sid":"Deny all","Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"}]}`)
	wantCode(t, f.svc.PutKeyPolicy(ctx, acct, k.ID, p), "")
	_, err := f.svc.GetKeyPolicy(ctx, acct, "alias/none")
	wantCode(t, err, kms.CodeNotFound)
	got, err := f.svc.GetKeyPolicy(ctx, acct, k.ID)
	if err != nil || !bytes.Equal(got, p) {
		t.Fatalf("GetKeyPolicy = %s, %v", got, err)
	}
	wantCode(t, f.svc.PutKeyPolicy(ctx, acct, k.ID, []byte("nope")), kms.CodeMalformedPolicyDocument)
	dk, _ := f.svc.DefaultKey(ctx, acct)
	wantCode(t, f.svc.PutKeyPolicy(ctx, acct, dk.ID, p), kms.CodeUnsupportedOperation)
}

func TestDefaultKey(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	keys := make([]*kms.Key, 8)
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := f.svc.DefaultKey(ctx, acct)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if k.ID != keys[0].ID {
			t.Fatalf("concurrent DefaultKey created several keys: %s, %s", k.ID, keys[0].ID)
		}
	}
	k := keys[0]
	if k.KeyManager != kms.KeyManagerAWS || !k.RotationEnabled || k.RotationPeriodInDays != 365 ||
		!k.NextRotation.Equal(f.clock.Now().AddDate(0, 0, 365)) || k.State != kms.KeyStateEnabled {
		t.Errorf("aws/s3 key = %+v", k)
	}
	byAlias, err := f.svc.DescribeKey(ctx, acct, kms.DefaultS3Alias)
	if err != nil || byAlias.ID != k.ID {
		t.Fatalf("alias/aws/s3 -> %v, %v", byAlias, err)
	}
	ks, _, _ := f.svc.ListKeys(ctx, acct, kms.Page{})
	if len(ks) != 1 {
		t.Errorf("%d keys", len(ks))
	}
	// It is usable like any key, and per account.
	out, err := f.svc.GenerateDataKey(ctx, acct, kms.DefaultS3Alias, kms.DataKeyInput{KeySpec: "AES_256"}, map[string]string{"aws:s3:arn": "arn:aws:s3:::b/o"})
	if err != nil || len(out.Plaintext) != 32 || out.KeyID != k.ARN {
		t.Fatalf("GenerateDataKey(aws/s3) = %+v, %v", out, err)
	}
	ok, err := f.svc.DefaultKey(ctx, other)
	if err != nil || ok.ID == k.ID || ok.AccountID != other {
		t.Errorf("other account's default key = %+v, %v", ok, err)
	}
	// Customers cannot manage it.
	_, err = f.svc.ScheduleKeyDeletion(ctx, acct, k.ID, 7)
	wantCode(t, err, kms.CodeUnsupportedOperation)
	wantCode(t, f.svc.DisableKeyRotation(ctx, acct, k.ID), kms.CodeUnsupportedOperation)
	wantCode(t, f.svc.EnableKeyRotation(ctx, acct, k.ID, 0), kms.CodeUnsupportedOperation)
	_, err = f.svc.RotateKeyOnDemand(ctx, acct, k.ID)
	wantCode(t, err, kms.CodeUnsupportedOperation)
	wantCode(t, f.svc.DeleteAlias(ctx, acct, kms.DefaultS3Alias), kms.CodeInvalidAliasName)
}

func TestAuthorizeHook(t *testing.T) {
	deny := errors.New("denied by key policy")
	var seen []string
	var mu sync.Mutex
	f := newFixture(t, func(c *kms.Config) {
		c.Authorize = func(_ context.Context, r *kms.AuthzRequest) error {
			mu.Lock()
			seen = append(seen, fmt.Sprintf("%s %s %s", r.Op, r.Caller, r.Key.AccountID))
			mu.Unlock()
			if r.Key.Description == "locked" {
				return deny
			}
			return nil
		}
	})
	open := f.key(t, other)
	locked, err := f.svc.CreateKey(ctx, acct, kms.CreateKeyInput{Description: "locked"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DisableKey(ctx, acct, locked.ID); err != deny {
		t.Fatalf("DisableKey err = %v, want the hook's", err)
	}
	if d, err := f.svc.DescribeKey(ctx, other, locked.ARN); d != nil || err != deny {
		t.Fatalf("DescribeKey of locked key = %v, %v", d, err)
	}
	if _, err := f.svc.Encrypt(ctx, acct, locked.ID, []byte("x"), nil); err != deny {
		t.Fatalf("Encrypt with locked key err = %v", err)
	}
	// Nothing happened to the key (checked without the hook's veto).
	var r *kms.KeyRecord
	_ = f.store.View(ctx, acct, func(tx kms.Tx) error { r, _ = tx.Key(locked.ID); return nil })
	if r.Key.State != kms.KeyStateEnabled {
		t.Errorf("denied DisableKey took effect")
	}
	// Cross-account Decrypt: the hook sees the caller and the key's account.
	enc, err := f.svc.Encrypt(ctx, acct, open.ARN, []byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if arn, err := f.svc.CiphertextKeyARN(enc.CiphertextBlob); err != nil || arn != open.ARN {
		t.Errorf("CiphertextKeyARN = %s, %v", arn, err)
	}
	seen = nil
	if _, err := f.svc.Decrypt(ctx, acct, enc.CiphertextBlob, "", nil); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != "Decrypt "+acct+" "+other {
		t.Errorf("hook calls = %v", seen)
	}
}

func TestErrorType(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.DescribeKey(ctx, acct, "alias/none")
	if !errors.Is(err, &kms.Error{Code: kms.CodeNotFound}) || errors.Is(err, &kms.Error{Code: kms.CodeDisabled}) {
		t.Errorf("errors.Is by code failed for %v", err)
	}
	if kms.ErrorCode(err) != kms.CodeNotFound || kms.ErrorCode(errors.New("x")) != "" {
		t.Error("ErrorCode")
	}
	var e *kms.Error
	errors.As(err, &e)
	if e.HTTPStatus() != 400 || (&kms.Error{Code: kms.CodeInternal}).HTTPStatus() != 500 {
		t.Error("HTTPStatus")
	}
	if !strings.HasPrefix(err.Error(), "NotFoundException: ") {
		t.Errorf("Error() = %q", err.Error())
	}
	// Timestamps are whole seconds, as on the wire.
	f.clock.Advance(1500 * time.Millisecond)
	k := f.key(t, acct)
	if k.CreationDate.Nanosecond() != 0 {
		t.Errorf("CreationDate %v has sub-second part", k.CreationDate)
	}
}

func TestAuthorizeHookSees(t *testing.T) {
	var got []kms.AuthzRequest
	var mu sync.Mutex
	lockout := false
	f := newFixture(t, func(c *kms.Config) {
		c.Authorize = func(_ context.Context, r *kms.AuthzRequest) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, *r)
			if r.LockoutCheck && lockout {
				return errors.New("would lock out")
			}
			return nil
		}
	})
	k := f.key(t, acct)
	if err := f.svc.CreateAlias(ctx, acct, "alias/app", k.ID); err != nil {
		t.Fatal(err)
	}
	ec := map[string]string{"dept": "eng"}
	got = nil
	out, err := f.svc.Encrypt(ctx, acct, "alias/app", []byte("x"), ec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Decrypt(ctx, acct, out.CiphertextBlob, "", ec); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Op != "Encrypt" || got[0].Alias != "alias/app" || got[0].EncryptionContext["dept"] != "eng" ||
		got[1].Op != "Decrypt" || got[1].Alias != "" || got[1].EncryptionContext["dept"] != "eng" || got[1].Key.ID != k.ID {
		t.Fatalf("hook saw %+v", got)
	}
	// The AWS-managed key's policy in force is AWS's managed policy.
	dk, _ := f.svc.DefaultKey(ctx, acct)
	got = nil
	if _, err := f.svc.DescribeKey(ctx, acct, dk.ID); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Contains(got[0].Key.Policy, []byte(`"kms:ViaService":"s3.`)) {
		t.Fatalf("hook saw %+v", got)
	}
	// The lockout safety check, and its bypass.
	p := []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Encrypt","Resource":"*"}]}`)
	lockout = true
	wantCode(t, f.svc.PutKeyPolicy(ctx, acct, k.ID, p), kms.CodeMalformedPolicyDocument)
	_, err = f.svc.CreateKey(ctx, acct, kms.CreateKeyInput{Policy: p})
	wantCode(t, err, kms.CodeMalformedPolicyDocument)
	wantCode(t, f.svc.PutKeyPolicyWithOptions(ctx, acct, k.ID, p, true), "")
	_, err = f.svc.CreateKey(ctx, acct, kms.CreateKeyInput{Policy: p, BypassPolicyLockoutSafetyCheck: true})
	wantCode(t, err, "")
}

func TestGrantsLifecycle(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, acct)
	in := kms.CreateGrantInput{KeyID: k.ARN, GranteePrincipal: "arn:aws:iam::" + acct + ":user/u", Operations: []string{"Encrypt", "Decrypt"},
		EncryptionContextSubset: map[string]string{"a": "b"}}
	id, tok, err := f.svc.CreateGrant(ctx, acct, in)
	if err != nil || len(id) != 64 {
		t.Fatalf("CreateGrant = %q, %v", id, err)
	}
	wantCode(t, kms.CheckGrantTokens([]string{tok}), "")
	wantCode(t, kms.CheckGrantTokens([]string{"nope"}), kms.CodeInvalidGrantToken)
	gs, _, err := f.svc.ListGrants(ctx, acct, k.ID, "", "", kms.Page{})
	if err != nil || len(gs) != 1 || gs[0].ID != id || gs[0].IssuingAccount != "arn:aws:iam::"+acct+":root" || gs[0].Operations[0] != "Decrypt" {
		t.Fatalf("ListGrants = %+v, %v", gs, err)
	}
	// Returned grants are copies.
	gs[0].Operations[0] = "CreateGrant"
	gs, _, _ = f.svc.ListGrants(ctx, acct, k.ID, id, "", kms.Page{})
	if gs[0].Operations[0] != "Decrypt" {
		t.Fatal("ListGrants shares memory with the store")
	}
	for i := 0; i < 2; i++ {
		if _, _, err := f.svc.CreateGrant(ctx, acct, in); err != nil {
			t.Fatal(err)
		}
	}
	p1, next, err := f.svc.ListGrants(ctx, acct, k.ID, "", "", kms.Page{Limit: 2})
	if err != nil || len(p1) != 2 || next == "" {
		t.Fatalf("page 1: %d %q %v", len(p1), next, err)
	}
	p2, next, err := f.svc.ListGrants(ctx, acct, k.ID, "", "", kms.Page{Limit: 2, Marker: next})
	if err != nil || len(p2) != 1 || next != "" || p2[0].ID == p1[0].ID || p2[0].ID == p1[1].ID {
		t.Fatalf("page 2: %+v %q %v", p2, next, err)
	}
	wantCode(t, f.svc.RevokeGrant(ctx, acct, k.ID, id), "")
	wantCode(t, f.svc.RevokeGrant(ctx, acct, k.ID, id), kms.CodeNotFound)
	wantCode(t, f.svc.RetireGrant(ctx, acct, tok, "", ""), kms.CodeNotFound)
	wantCode(t, f.svc.RetireGrant(ctx, acct, "", k.ID, p2[0].ID), "")
	// Decrypt and Encrypt keep working for internal callers; grants do
	// not change the key otherwise.
	if _, err := f.svc.Encrypt(ctx, acct, k.ID, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	bad := in
	bad.Operations = []string{"Sign"}
	_, _, err = f.svc.CreateGrant(ctx, acct, bad)
	wantCode(t, err, kms.CodeValidation)
	bad = in
	bad.GranteePrincipal = "*"
	_, _, err = f.svc.CreateGrant(ctx, acct, bad)
	wantCode(t, err, kms.CodeValidation)
}
