package kmsapi

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestErrors checks the exception names, statuses and messages the front
// door answers, one case per row.
func TestErrors(t *testing.T) {
	f := newFixture(t)
	root := rootOf(acct)
	id := f.createKey(t, root, `{"Description":"k"}`)
	arn := "arn:aws:kms:us-east-1:" + acct + ":key/" + id
	f.ok(t, root, "CreateAlias", `{"AliasName":"alias/app","TargetKeyId":"`+id+`"}`, nil)
	disabled := f.createKey(t, root, `{}`)
	f.ok(t, root, "DisableKey", `{"KeyId":"`+disabled+`"}`, nil)
	pending := f.createKey(t, root, `{}`)
	f.ok(t, root, "ScheduleKeyDeletion", `{"KeyId":"`+pending+`","PendingWindowInDays":7}`, nil)
	var enc struct{ CiphertextBlob []byte }
	f.ok(t, root, "Encrypt", `{"KeyId":"`+id+`","Plaintext":"aGVsbG8=","EncryptionContext":{"a":"b"}}`, &enc)
	blob := base64.StdEncoding.EncodeToString(enc.CiphertextBlob)

	for _, tc := range []struct {
		name, op, body string
		code, msg      string // msg: a substring of the message
	}{
		{"unknown target", "Frobnicate", `{}`, "UnknownOperationException", ""},
		{"retirable grants not served", "ListRetirableGrants", `{"RetiringPrincipal":"arn:aws:iam::` + acct + `:root"}`, "UnsupportedOperationException", "ListRetirableGrants"},
		{"grant without grantee", "CreateGrant", `{"KeyId":"` + id + `","Operations":["Decrypt"]}`, "ValidationException", "GranteePrincipal"},
		{"grant with a group grantee", "CreateGrant", `{"KeyId":"` + id + `","GranteePrincipal":"arn:aws:iam::` + acct + `:group/g","Operations":["Decrypt"]}`, "ValidationException", "GranteePrincipal"},
		{"grant of an asymmetric operation", "CreateGrant", `{"KeyId":"` + id + `","GranteePrincipal":"arn:aws:iam::` + acct + `:root","Operations":["Sign"]}`, "ValidationException", "Sign"},
		{"grant with both constraints", "CreateGrant", `{"KeyId":"` + id + `","GranteePrincipal":"arn:aws:iam::` + acct + `:root","Operations":["Decrypt"],"Constraints":{"EncryptionContextSubset":{"a":"b"},"EncryptionContextEquals":{"a":"b"}}}`, "ValidationException", ""},
		{"grant on an alias", "CreateGrant", `{"KeyId":"alias/app","GranteePrincipal":"arn:aws:iam::` + acct + `:root","Operations":["Decrypt"]}`, "NotFoundException", ""},
		{"revoke a missing grant", "RevokeGrant", `{"KeyId":"` + id + `","GrantId":"` + strings.Repeat("0", 64) + `"}`, "NotFoundException", ""},
		{"retire without token or ids", "RetireGrant", `{}`, "ValidationException", ""},
		{"not json", "DescribeKey", `{"KeyId":`, "SerializationException", ""},
		{"wrong member type", "DescribeKey", `{"KeyId":5}`, "SerializationException", "KeyId"},
		{"unknown member", "DescribeKey", `{"KeyId":"` + id + `","Bogus":1}`, "ValidationException", "Bogus"},
		{"trailing data", "DescribeKey", `{"KeyId":"` + id + `"} {}`, "SerializationException", ""},
		{"bad grant token", "Encrypt", `{"KeyId":"` + id + `","Plaintext":"aA==","GrantTokens":["t"]}`, "InvalidGrantTokenException", ""},
		{"missing key", "DescribeKey", `{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}`, "NotFoundException", "does not exist"},
		{"missing alias", "DescribeKey", `{"KeyId":"alias/none"}`, "NotFoundException", "alias/none"},
		{"empty key id", "DescribeKey", `{}`, "ValidationException", "keyId"},
		{"bad arn", "DescribeKey", `{"KeyId":"arn:aws:s3:::bucket"}`, "InvalidArnException", ""},
		{"alias for key-only op", "GetKeyPolicy", `{"KeyId":"alias/app"}`, "NotFoundException", "alias/app"},
		{"alias arn for key-only op", "EnableKey", `{"KeyId":"arn:aws:kms:us-east-1:` + acct + `:alias/app"}`, "NotFoundException", ""},
		{"other policy name", "GetKeyPolicy", `{"KeyId":"` + id + `","PolicyName":"mine"}`, "NotFoundException", "mine"},
		{"asymmetric key", "CreateKey", `{"KeySpec":"RSA_2048","KeyUsage":"ENCRYPT_DECRYPT"}`, "UnsupportedOperationException", "RSA_2048"},
		{"unknown key spec", "CreateKey", `{"KeySpec":"AES_999"}`, "ValidationException", "AES_999"},
		{"symmetric for signing", "CreateKey", `{"KeyUsage":"SIGN_VERIFY"}`, "ValidationException", "SIGN_VERIFY"},
		{"both specs", "CreateKey", `{"KeySpec":"SYMMETRIC_DEFAULT","CustomerMasterKeySpec":"SYMMETRIC_DEFAULT"}`, "ValidationException", "CustomerMasterKeySpec"},
		{"external origin", "CreateKey", `{"Origin":"EXTERNAL"}`, "UnsupportedOperationException", "EXTERNAL"},
		{"multi-region", "CreateKey", `{"MultiRegion":true}`, "UnsupportedOperationException", ""},
		{"tags", "CreateKey", `{"Tags":[{"TagKey":"a","TagValue":"b"}]}`, "UnsupportedOperationException", "Tags"},
		{"policy without principal", "CreateKey", `{"Policy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"}`, "MalformedPolicyDocumentException", "principal"},
		{"policy not json", "PutKeyPolicy", `{"KeyId":"` + id + `","Policy":"{"}`, "MalformedPolicyDocumentException", ""},
		{"lockout", "PutKeyPolicy", `{"KeyId":"` + id + `","Policy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::` + acct + `:user/x\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"}`, "MalformedPolicyDocumentException", "will not allow you to update the key policy"},
		{"plaintext too long", "Encrypt", `{"KeyId":"` + id + `","Plaintext":"` + base64.StdEncoding.EncodeToString(make([]byte, 4097)) + `"}`, "ValidationException", "plaintext"},
		{"blob not base64", "Decrypt", `{"CiphertextBlob":"%%%"}`, "SerializationException", ""},
		{"wrong context", "Decrypt", `{"CiphertextBlob":"` + blob + `","EncryptionContext":{"a":"c"}}`, "InvalidCiphertextException", ""},
		{"no context", "Decrypt", `{"CiphertextBlob":"` + blob + `"}`, "InvalidCiphertextException", ""},
		{"garbage blob", "Decrypt", `{"CiphertextBlob":"AAAA"}`, "InvalidCiphertextException", ""},
		{"wrong key id", "Decrypt", `{"CiphertextBlob":"` + blob + `","EncryptionContext":{"a":"b"},"KeyId":"` + disabled + `"}`, "IncorrectKeyException", ""},
		{"asymmetric algorithm", "Encrypt", `{"KeyId":"` + id + `","Plaintext":"aA==","EncryptionAlgorithm":"RSAES_OAEP_SHA_1"}`, "InvalidKeyUsageException", ""},
		{"disabled key", "Encrypt", `{"KeyId":"` + disabled + `","Plaintext":"aA=="}`, "DisabledException", "disabled"},
		{"pending deletion", "Encrypt", `{"KeyId":"` + pending + `","Plaintext":"aA=="}`, "KMSInvalidStateException", "pending deletion"},
		{"cancel not pending", "CancelKeyDeletion", `{"KeyId":"` + id + `"}`, "KMSInvalidStateException", ""},
		{"data key spec and bytes", "GenerateDataKey", `{"KeyId":"` + id + `","KeySpec":"AES_256","NumberOfBytes":32}`, "ValidationException", ""},
		{"random too many", "GenerateRandom", `{"NumberOfBytes":1025}`, "ValidationException", "1024"},
		{"random none", "GenerateRandom", `{}`, "ValidationException", "numberOfBytes"},
		{"reserved alias", "CreateAlias", `{"AliasName":"alias/aws/mine","TargetKeyId":"` + id + `"}`, "InvalidAliasNameException", ""},
		{"alias exists", "CreateAlias", `{"AliasName":"alias/app","TargetKeyId":"` + id + `"}`, "AlreadyExistsException", ""},
		{"rotation period", "EnableKeyRotation", `{"KeyId":"` + id + `","RotationPeriodInDays":10}`, "ValidationException", "rotationPeriodInDays"},
		{"dry run", "Encrypt", `{"KeyId":"` + id + `","Plaintext":"aA==","DryRun":true}`, "UnsupportedOperationException", "DryRun"},
		{"other account's key by id", "DescribeKey", `{"KeyId":"` + arn + `"}`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.call(root, tc.op, tc.body)
			if tc.code == "" {
				if res.Status != 200 {
					t.Fatalf("status %d: %s", res.Status, res.Body)
				}
				return
			}
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(res.Body, &e); err != nil {
				t.Fatalf("error body %s: %v", res.Body, err)
			}
			if res.Status != 400 || e.Type != tc.code || res.ErrorCode != tc.code || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("got %d %s %q, want 400 %s containing %q", res.Status, e.Type, e.Message, tc.code, tc.msg)
			}
		})
	}
}

// TestShapes checks the JSON members of successful responses as AWS names
// them: epoch-second timestamps, base64 blobs, key ARNs where AWS gives
// ARNs.
func TestShapes(t *testing.T) {
	f := newFixture(t)
	root := rootOf(acct)
	res := f.call(root, "CreateKey", `{"Description":"shape"}`)
	var km map[string]map[string]any
	if err := json.Unmarshal(res.Body, &km); err != nil {
		t.Fatal(err)
	}
	md := km["KeyMetadata"]
	id, _ := md["KeyId"].(string)
	arn := "arn:aws:kms:us-east-1:" + acct + ":key/" + id
	want := map[string]any{
		"AWSAccountId": acct, "Arn": arn, "CreationDate": float64(fixedTime.Unix()), "Enabled": true,
		"Description": "shape", "KeyUsage": "ENCRYPT_DECRYPT", "KeyState": "Enabled", "Origin": "AWS_KMS",
		"KeyManager": "CUSTOMER", "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT", "KeySpec": "SYMMETRIC_DEFAULT",
		"MultiRegion": false,
	}
	for k, v := range want {
		if md[k] != v {
			t.Errorf("KeyMetadata.%s = %#v, want %#v", k, md[k], v)
		}
	}
	if algs, _ := md["EncryptionAlgorithms"].([]any); len(algs) != 1 || algs[0] != "SYMMETRIC_DEFAULT" {
		t.Errorf("EncryptionAlgorithms = %v", md["EncryptionAlgorithms"])
	}
	for _, absent := range []string{"DeletionDate", "PendingDeletionWindowInDays"} {
		if _, ok := md[absent]; ok {
			t.Errorf("KeyMetadata has %s for an enabled key", absent)
		}
	}

	var sched map[string]any
	f.ok(t, root, "ScheduleKeyDeletion", `{"KeyId":"`+id+`"}`, &sched)
	if sched["KeyId"] != arn || sched["KeyState"] != "PendingDeletion" || sched["PendingWindowInDays"] != float64(30) ||
		sched["DeletionDate"] != float64(fixedTime.Add(30*24*time.Hour).Unix()) {
		t.Errorf("ScheduleKeyDeletion = %v", sched)
	}
	f.ok(t, root, "CancelKeyDeletion", `{"KeyId":"`+id+`"}`, nil)
	f.ok(t, root, "EnableKey", `{"KeyId":"`+id+`"}`, nil)

	var dk map[string]any
	f.ok(t, root, "GenerateDataKey", `{"KeyId":"`+arn+`","NumberOfBytes":16}`, &dk)
	pt, _ := base64.StdEncoding.DecodeString(dk["Plaintext"].(string))
	if len(pt) != 16 || dk["KeyId"] != arn || dk["CiphertextBlob"] == "" {
		t.Errorf("GenerateDataKey = %v", dk)
	}
	var dkw map[string]any
	f.ok(t, root, "GenerateDataKeyWithoutPlaintext", `{"KeyId":"`+id+`","KeySpec":"AES_128"}`, &dkw)
	if _, ok := dkw["Plaintext"]; ok || dkw["KeyId"] != arn {
		t.Errorf("GenerateDataKeyWithoutPlaintext = %v", dkw)
	}
	var pols map[string]any
	f.ok(t, root, "ListKeyPolicies", `{"KeyId":"`+id+`"}`, &pols)
	if names, _ := pols["PolicyNames"].([]any); len(names) != 1 || names[0] != "default" || pols["Truncated"] != false {
		t.Errorf("ListKeyPolicies = %v", pols)
	}
	var pol struct{ Policy, PolicyName string }
	f.ok(t, root, "GetKeyPolicy", `{"KeyId":"`+id+`"}`, &pol)
	if pol.PolicyName != "default" || !strings.Contains(pol.Policy, `"Sid":"Enable IAM User Permissions"`) {
		t.Errorf("GetKeyPolicy = %+v", pol)
	}
	var rot map[string]any
	f.ok(t, root, "EnableKeyRotation", `{"KeyId":"`+id+`","RotationPeriodInDays":90}`, nil)
	f.ok(t, root, "GetKeyRotationStatus", `{"KeyId":"`+id+`"}`, &rot)
	if rot["KeyRotationEnabled"] != true || rot["RotationPeriodInDays"] != float64(90) || rot["KeyId"] != arn ||
		rot["NextRotationDate"] != float64(fixedTime.Add(90*24*time.Hour).Unix()) {
		t.Errorf("GetKeyRotationStatus = %v", rot)
	}
	var od map[string]any
	f.ok(t, root, "RotateKeyOnDemand", `{"KeyId":"`+id+`"}`, &od)
	if od["KeyId"] != id {
		t.Errorf("RotateKeyOnDemand = %v", od)
	}
	f.ok(t, root, "CreateAlias", `{"AliasName":"alias/shape","TargetKeyId":"`+id+`"}`, nil)
	var al struct {
		Aliases   []map[string]any
		Truncated bool
	}
	f.ok(t, root, "ListAliases", `{}`, &al)
	if len(al.Aliases) != 1 || al.Aliases[0]["AliasName"] != "alias/shape" || al.Aliases[0]["TargetKeyId"] != id ||
		al.Aliases[0]["AliasArn"] != "arn:aws:kms:us-east-1:"+acct+":alias/shape" || al.Aliases[0]["CreationDate"] != float64(fixedTime.Unix()) || al.Truncated {
		t.Errorf("ListAliases = %+v", al)
	}
	var lk struct {
		Keys       []struct{ KeyId, KeyArn string }
		NextMarker string
		Truncated  bool
	}
	f.createKey(t, root, `{}`)
	f.ok(t, root, "ListKeys", `{"Limit":1}`, &lk)
	if len(lk.Keys) != 1 || !lk.Truncated || lk.NextMarker == "" {
		t.Errorf("ListKeys page 1 = %+v", lk)
	}
	marker := lk.NextMarker
	lk.Keys, lk.NextMarker, lk.Truncated = nil, "", true
	f.ok(t, root, "ListKeys", `{"Limit":1,"Marker":"`+marker+`"}`, &lk)
	if len(lk.Keys) != 1 || lk.Truncated || lk.NextMarker != "" {
		t.Errorf("ListKeys page 2 = %+v", lk)
	}
	var re map[string]any
	var enc struct{ CiphertextBlob string }
	f.ok(t, root, "Encrypt", `{"KeyId":"alias/shape","Plaintext":"aGk="}`, &enc)
	f.ok(t, root, "ReEncrypt", `{"CiphertextBlob":"`+enc.CiphertextBlob+`","DestinationKeyId":"`+id+`","DestinationEncryptionContext":{"x":"y"}}`, &re)
	if re["SourceKeyId"] != arn || re["KeyId"] != arn || re["SourceEncryptionAlgorithm"] != "SYMMETRIC_DEFAULT" {
		t.Errorf("ReEncrypt = %v", re)
	}
	// An empty body is an empty request.
	if res := f.call(root, "ListKeys", ""); res.Status != 200 {
		t.Errorf("ListKeys with an empty body: %d %s", res.Status, res.Body)
	}
}
