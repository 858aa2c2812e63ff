package kmsapi

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/kms"
)

// TestKeyPolicies checks AWS KMS's authorization rules end to end through
// the front door: the key policy is the key's authority, IAM counts only
// where it delegates to the account.
func TestKeyPolicies(t *testing.T) {
	f := newFixture(t)
	root, rootB := rootOf(acct), rootOf(other)
	alice, carol, dave := userOf(acct, "alice"), userOf(acct, "carol"), userOf(other, "dave")
	kmsAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`
	f.ids[acct+"/alice"] = []string{kmsAll}
	f.ids[other+"/dave"] = []string{kmsAll}

	def := f.createKey(t, root, `{}`)
	defARN := "arn:aws:kms:us-east-1:" + acct + ":key/" + def
	f.ok(t, root, "CreateAlias", `{"AliasName":"alias/def","TargetKeyId":"`+def+`"}`, nil)
	// Only carol, directly, and account B for Decrypt; only with dept=eng.
	pol := `{"Version":"2012-10-17","Statement":[
 {"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":["kms:PutKeyPolicy","kms:GetKeyPolicy","kms:DescribeKey"],"Resource":"*"},
 {"Sid":"Carol","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/carol"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:dept":"eng"}}},
 {"Sid":"Account B","Effect":"Allow","Principal":{"AWS":"` + other + `"},"Action":["kms:Encrypt","kms:Decrypt","kms:DescribeKey"],"Resource":"*"},
 {"Sid":"Not via app alias","Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"StringEquals":{"kms:RequestAlias":"alias/blocked"}}}]}`
	polJSON := jsonString(pol)
	own := f.createKey(t, root, `{}`)
	ownARN := "arn:aws:kms:us-east-1:" + acct + ":key/" + own
	f.ok(t, root, "CreateAlias", `{"AliasName":"alias/blocked","TargetKeyId":"`+own+`"}`, nil)
	f.ok(t, root, "PutKeyPolicy", `{"KeyId":"`+own+`","Policy":`+polJSON+`}`, nil)

	enc := func(key, ec string) string {
		b := `{"KeyId":"` + key + `","Plaintext":"aGk="`
		if ec != "" {
			b += `,"EncryptionContext":` + ec
		}
		return b + "}"
	}
	for _, tc := range []struct {
		name   string
		caller *authn.Principal
		op     string
		body   string
		code   string // "" allowed
	}{
		{"root under the default policy", root, "Encrypt", enc(def, ""), ""},
		{"user with identity policy, default policy", alice, "Encrypt", enc("alias/def", ""), ""},
		{"user without identity policy, default policy", carol, "Encrypt", enc(def, ""), CodeAccessDenied},
		{"account-level call needs IAM", carol, "ListKeys", `{}`, CodeAccessDenied},
		{"account-level call allowed by IAM", alice, "ListKeys", `{}`, ""},
		{"root not delegated to", root, "Encrypt", enc(own, `{"dept":"eng"}`), CodeAccessDenied},
		{"root allowed what the policy names", root, "DescribeKey", `{"KeyId":"` + own + `"}`, ""},
		{"IAM allow without delegation", alice, "Encrypt", enc(own, `{"dept":"eng"}`), CodeAccessDenied},
		{"named user with matching context", carol, "Encrypt", enc(own, `{"dept":"eng"}`), ""},
		{"named user with other context", carol, "Encrypt", enc(own, `{"dept":"ops"}`), CodeAccessDenied},
		{"named user without context", carol, "Encrypt", enc(own, ""), CodeAccessDenied},
		{"deny on the requested alias", carol, "Encrypt", enc("alias/blocked", `{"dept":"eng"}`), CodeAccessDenied},
		{"other account root by ARN", rootB, "Encrypt", enc(ownARN, ""), ""},
		{"other account user with IAM allow", dave, "Encrypt", enc(ownARN, ""), ""},
		{"other account user not named for the action", dave, "GenerateDataKey", `{"KeyId":"` + ownARN + `","KeySpec":"AES_256"}`, CodeAccessDenied},
		{"other account on a key that does not name it", rootB, "Encrypt", enc(defARN, ""), CodeAccessDenied},
		{"alias needs IAM on the alias", carol, "CreateAlias", `{"AliasName":"alias/c","TargetKeyId":"` + own + `"}`, CodeAccessDenied},
		{"alias needs the key policy on the key", alice, "CreateAlias", `{"AliasName":"alias/a","TargetKeyId":"` + own + `"}`, CodeAccessDenied},
		{"alias allowed on both", alice, "CreateAlias", `{"AliasName":"alias/a","TargetKeyId":"` + def + `"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.call(tc.caller, tc.op, tc.body)
			if res.ErrorCode != tc.code {
				t.Fatalf("%s as %s: got %d %s, want %q", tc.op, tc.caller.ARN, res.Status, res.Body, tc.code)
			}
			if tc.code == CodeAccessDenied && !res.Denied {
				t.Errorf("denial not reported as denied for audit")
			}
		})
	}

	// Denial messages name the caller, the action and the key, in AWS's
	// words.
	res := f.call(alice, "Encrypt", enc(own, `{"dept":"eng"}`))
	want := `{"__type":"AccessDeniedException","message":"User: arn:aws:iam::` + acct + `:user/alice is not authorized to perform: kms:Encrypt on resource: ` + ownARN + ` because no resource-based policy allows the kms:Encrypt action"}`
	if string(res.Body) != want {
		t.Errorf("denial body\n got %s\nwant %s", res.Body, want)
	}
	res = f.call(carol, "Encrypt", enc(def, ""))
	if want := "because no identity-based policy allows the kms:Encrypt action"; !contains(res.Body, want) {
		t.Errorf("denial body %s, want %q", res.Body, want)
	}
}

// TestViaS3 checks the calls S3 makes on a requester's behalf (SSE-KMS):
// the aws/s3 key admits principals of its account only via S3, and a
// context without a Caller (SSE-S3, background work) is not checked.
func TestViaS3(t *testing.T) {
	f := newFixture(t)
	svc := f.h.KMS
	ctx := context.Background()
	dk, err := svc.DefaultKey(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	carol := userOf(acct, "carol") // no identity policy at all
	via := func(p *authn.Principal, service string) context.Context {
		return authz.WithCaller(ctx, &authz.Caller{Principal: p, ViaService: service,
			Conditions: map[string][]string{"aws:SecureTransport": {"true"}}})
	}
	ec := map[string]string{"aws:s3:arn": "arn:aws:s3:::bkt/k"}
	if _, err := svc.GenerateDataKey(via(carol, "s3.us-east-1.amazonaws.com"), acct, kms.DefaultS3Alias, kms.DataKeyInput{KeySpec: "AES_256"}, ec); err != nil {
		t.Fatalf("via S3: %v", err)
	}
	if _, err := svc.GenerateDataKey(via(carol, ""), acct, kms.DefaultS3Alias, kms.DataKeyInput{KeySpec: "AES_256"}, ec); kms.ErrorCode(err) != CodeAccessDenied {
		t.Fatalf("direct use of aws/s3: %v", err)
	}
	if _, err := svc.GenerateDataKey(via(carol, "s3.eu-west-1.amazonaws.com"), acct, kms.DefaultS3Alias, kms.DataKeyInput{KeySpec: "AES_256"}, ec); kms.ErrorCode(err) != CodeAccessDenied {
		t.Fatalf("via another region's S3: %v", err)
	}
	// Another account's principal, even via S3, is not the key's account.
	if _, err := svc.Encrypt(via(rootOf(other), "s3.us-east-1.amazonaws.com"), other, dk.ARN, []byte("x"), ec); kms.ErrorCode(err) != CodeAccessDenied {
		t.Fatalf("other account via S3: %v", err)
	}
	// Internal: no Caller, no check.
	if _, err := svc.GenerateDataKey(ctx, acct, dk.ID, kms.DataKeyInput{KeySpec: "AES_256"}, ec); err != nil {
		t.Fatalf("internal call: %v", err)
	}
	// Anonymous callers never pass.
	if _, err := svc.DescribeKey(via(authn.Anonymous, ""), acct, dk.ID); !errors.Is(err, &kms.Error{Code: CodeAccessDenied}) {
		t.Fatalf("anonymous: %v", err)
	}
	// A customer key with the default policy via S3: the requester's IAM
	// policies decide, with kms:ViaService available to them.
	f.ids[acct+"/alice"] = []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}]}`}
	id := f.createKey(t, rootOf(acct), `{}`)
	alice := userOf(acct, "alice")
	if _, err := svc.GenerateDataKey(via(alice, "s3.us-east-1.amazonaws.com"), acct, id, kms.DataKeyInput{KeySpec: "AES_256"}, ec); err != nil {
		t.Fatalf("customer key via S3: %v", err)
	}
	if _, err := svc.GenerateDataKey(via(alice, ""), acct, id, kms.DataKeyInput{KeySpec: "AES_256"}, ec); kms.ErrorCode(err) != CodeAccessDenied {
		t.Fatalf("customer key directly: %v", err)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// TestGrants checks grants: they allow their operations to their grantee
// (directly, or through IAM for an account grantee), within their
// constraints, until retired or revoked; explicit denies still win.
func TestGrants(t *testing.T) {
	f := newFixture(t)
	root := rootOf(acct)
	carol, erin := userOf(acct, "carol"), userOf(acct, "erin") // no identity policies
	id := f.createKey(t, root, `{}`)
	var enc struct{ CiphertextBlob string }
	f.ok(t, root, "Encrypt", `{"KeyId":"`+id+`","Plaintext":"aGk=","EncryptionContext":{"dept":"eng"}}`, &enc)
	decrypt := func(p *authn.Principal, ec string, tokens string) string {
		body := `{"CiphertextBlob":"` + enc.CiphertextBlob + `","EncryptionContext":` + ec
		if tokens != "" {
			body += `,"GrantTokens":["` + tokens + `"]`
		}
		return f.call(p, "Decrypt", body+"}").ErrorCode
	}
	if code := decrypt(carol, `{"dept":"eng"}`, ""); code != CodeAccessDenied {
		t.Fatalf("before the grant: %q", code)
	}
	var g struct{ GrantToken, GrantId string }
	f.ok(t, root, "CreateGrant", `{"KeyId":"`+id+`","GranteePrincipal":"`+carol.ARN+`","RetiringPrincipal":"`+erin.ARN+`",`+
		`"Operations":["Decrypt","Decrypt"],"Constraints":{"EncryptionContextSubset":{"dept":"eng"}},"Name":"carol-decrypt"}`, &g)
	if len(g.GrantId) != 64 || g.GrantToken == "" {
		t.Fatalf("CreateGrant = %+v", g)
	}
	if code := decrypt(carol, `{"dept":"eng"}`, g.GrantToken); code != "" {
		t.Fatalf("grantee within the constraint: %q", code)
	}
	if code := decrypt(erin, `{"dept":"eng"}`, ""); code != CodeAccessDenied {
		t.Fatalf("not the grantee: %q", code)
	}
	if code := f.call(carol, "Encrypt", `{"KeyId":"`+id+`","Plaintext":"aGk=","EncryptionContext":{"dept":"eng"}}`).ErrorCode; code != CodeAccessDenied {
		t.Fatalf("operation not granted: %q", code)
	}
	var ck struct{ CiphertextBlob string }
	f.ok(t, root, "Encrypt", `{"KeyId":"`+id+`","Plaintext":"aGk=","EncryptionContext":{"dept":"ops"}}`, &ck)
	if code := f.call(carol, "Decrypt", `{"CiphertextBlob":"`+ck.CiphertextBlob+`","EncryptionContext":{"dept":"ops"}}`).ErrorCode; code != CodeAccessDenied {
		t.Fatalf("outside the constraint: %q", code)
	}
	var lg struct {
		Grants []struct {
			KeyId, GrantId, Name, GranteePrincipal, RetiringPrincipal, IssuingAccount string
			Operations                                                                []string
			Constraints                                                               struct{ EncryptionContextSubset map[string]string }
		}
	}
	f.ok(t, root, "ListGrants", `{"KeyId":"`+id+`"}`, &lg)
	if len(lg.Grants) != 1 || lg.Grants[0].GrantId != g.GrantId || lg.Grants[0].Name != "carol-decrypt" ||
		lg.Grants[0].IssuingAccount != root.ARN || len(lg.Grants[0].Operations) != 1 || lg.Grants[0].Constraints.EncryptionContextSubset["dept"] != "eng" ||
		lg.Grants[0].KeyId != "arn:aws:kms:us-east-1:"+acct+":key/"+id {
		t.Fatalf("ListGrants = %+v", lg)
	}
	// An explicit deny in the key policy beats the grant.
	deny := `{"Version":"2012-10-17","Statement":[
 {"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"},
 {"Sid":"No carol","Effect":"Deny","Principal":{"AWS":"` + carol.ARN + `"},"Action":"kms:*","Resource":"*"}]}`
	f.ok(t, root, "PutKeyPolicy", `{"KeyId":"`+id+`","Policy":`+jsonString(deny)+`}`, nil)
	if code := decrypt(carol, `{"dept":"eng"}`, ""); code != CodeAccessDenied {
		t.Fatalf("grant against an explicit deny: %q", code)
	}
	f.ok(t, root, "PutKeyPolicy", `{"KeyId":"`+id+`","Policy":`+jsonString(string(kms.DefaultPolicy(acct)))+`}`, nil)
	// Only the retiring principal (or the grantee with RetireGrant, or
	// the creating account) may retire; carol may not.
	if code := f.call(carol, "RetireGrant", `{"GrantToken":"`+g.GrantToken+`"}`).ErrorCode; code != CodeAccessDenied {
		t.Fatalf("grantee without RetireGrant retiring: %q", code)
	}
	f.ok(t, erin, "RetireGrant", `{"GrantToken":"`+g.GrantToken+`"}`, nil)
	if code := decrypt(carol, `{"dept":"eng"}`, ""); code != CodeAccessDenied {
		t.Fatalf("after retirement: %q", code)
	}
	// An exact-context grant to the account delegates to IAM; revoking
	// ends it.
	f.ids[acct+"/erin"] = []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`}
	other := f.createKey(t, root, `{"Policy":`+jsonString(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+root.ARN+`"},"Action":["kms:CreateGrant","kms:RevokeGrant","kms:ListGrants","kms:Encrypt","kms:PutKeyPolicy"],"Resource":"*"}]}`)+`}`)
	var blob struct{ CiphertextBlob string }
	f.ok(t, root, "Encrypt", `{"KeyId":"`+other+`","Plaintext":"aGk=","EncryptionContext":{"a":"1"}}`, &blob)
	f.ok(t, root, "CreateGrant", `{"KeyId":"`+other+`","GranteePrincipal":"`+root.ARN+`","Operations":["Decrypt"],"Constraints":{"EncryptionContextEquals":{"a":"1"}}}`, &g)
	if code := f.call(erin, "Decrypt", `{"CiphertextBlob":"`+blob.CiphertextBlob+`","EncryptionContext":{"a":"1"}}`).ErrorCode; code != "" {
		t.Fatalf("account grant through IAM: %q", code)
	}
	if code := f.call(carol, "Decrypt", `{"CiphertextBlob":"`+blob.CiphertextBlob+`","EncryptionContext":{"a":"1"}}`).ErrorCode; code != CodeAccessDenied {
		t.Fatalf("account grant without IAM: %q", code)
	}
	f.ok(t, root, "RevokeGrant", `{"KeyId":"`+other+`","GrantId":"`+g.GrantId+`"}`, nil)
	if code := f.call(erin, "Decrypt", `{"CiphertextBlob":"`+blob.CiphertextBlob+`","EncryptionContext":{"a":"1"}}`).ErrorCode; code != CodeAccessDenied {
		t.Fatalf("after revocation: %q", code)
	}
}
