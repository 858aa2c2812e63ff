package kmsapi

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/kms"
)

// Wire values of the only key kind Coffer has.
const (
	keySpecSymmetric    = "SYMMETRIC_DEFAULT"
	keyUsageEncrypt     = "ENCRYPT_DECRYPT"
	originAWSKMS        = "AWS_KMS"
	encryptionSymmetric = "SYMMETRIC_DEFAULT"
	defaultPolicyName   = "default"
	maxRandomBytes      = 1024
)

// epoch is a timestamp on the wire: seconds since the epoch, a JSON
// number, as AWS's JSON protocol sends it.
type epoch int64

func toEpoch(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t.Unix())
	return &e
}

type keyMetadata struct {
	AWSAccountID                string   `json:"AWSAccountId"`
	KeyID                       string   `json:"KeyId"`
	Arn                         string   `json:"Arn"`
	CreationDate                *epoch   `json:"CreationDate,omitempty"`
	Enabled                     bool     `json:"Enabled"`
	Description                 string   `json:"Description"`
	KeyUsage                    string   `json:"KeyUsage"`
	KeyState                    string   `json:"KeyState"`
	DeletionDate                *epoch   `json:"DeletionDate,omitempty"`
	PendingDeletionWindowInDays int      `json:"PendingDeletionWindowInDays,omitempty"`
	Origin                      string   `json:"Origin"`
	KeyManager                  string   `json:"KeyManager"`
	CustomerMasterKeySpec       string   `json:"CustomerMasterKeySpec"`
	KeySpec                     string   `json:"KeySpec"`
	EncryptionAlgorithms        []string `json:"EncryptionAlgorithms"`
	MultiRegion                 bool     `json:"MultiRegion"`
}

func metadata(k *kms.Key) *keyMetadata {
	return &keyMetadata{
		AWSAccountID: k.AccountID, KeyID: k.ID, Arn: k.ARN, CreationDate: toEpoch(k.CreationDate),
		Enabled: k.Enabled(), Description: k.Description, KeyUsage: keyUsageEncrypt, KeyState: string(k.State),
		DeletionDate: toEpoch(k.DeletionDate), PendingDeletionWindowInDays: k.PendingWindowInDays,
		Origin: originAWSKMS, KeyManager: string(k.KeyManager), CustomerMasterKeySpec: keySpecSymmetric,
		KeySpec: keySpecSymmetric, EncryptionAlgorithms: []string{encryptionSymmetric},
	}
}

type keyMetadataOutput struct {
	KeyMetadata *keyMetadata
}

type tag struct {
	TagKey   string
	TagValue string
}

type createKeyInput struct {
	Description                    string
	KeyUsage                       string
	KeySpec                        string
	CustomerMasterKeySpec          string
	Policy                         *string
	BypassPolicyLockoutSafetyCheck bool
	Tags                           []tag
	Origin                         string
	MultiRegion                    bool
	CustomKeyStoreId               string
	XksKeyId                       string
}

// Key specs and usages AWS knows: others are invalid values; known ones
// other than symmetric encryption are valid but not served here.
var (
	knownKeySpecs = map[string]bool{
		"SYMMETRIC_DEFAULT": true, "RSA_2048": true, "RSA_3072": true, "RSA_4096": true,
		"ECC_NIST_P256": true, "ECC_NIST_P384": true, "ECC_NIST_P521": true, "ECC_SECG_P256K1": true,
		"HMAC_224": true, "HMAC_256": true, "HMAC_384": true, "HMAC_512": true, "SM2": true,
		"ML_DSA_44": true, "ML_DSA_65": true, "ML_DSA_87": true,
	}
	knownKeyUsages = map[string]bool{
		"ENCRYPT_DECRYPT": true, "SIGN_VERIFY": true, "GENERATE_VERIFY_MAC": true, "KEY_AGREEMENT": true,
	}
	knownOrigins = map[string]bool{"AWS_KMS": true, "EXTERNAL": true, "AWS_CLOUDHSM": true, "EXTERNAL_KEY_STORE": true}
)

func enumErr(member, value string, allowed []string) error {
	return &kms.Error{Code: kms.CodeValidation, Message: "1 validation error detected: Value '" + value + "' at '" + member +
		"' failed to satisfy constraint: Member must satisfy enum value set: [" + strings.Join(allowed, ", ") + "]"}
}

func unsupported(format string) error {
	return &kms.Error{Code: kms.CodeUnsupportedOperation, Message: format}
}

func (h *Handler) createKey(c *call) (any, error) {
	var in createKeyInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	spec := in.KeySpec
	if spec == "" {
		spec = in.CustomerMasterKeySpec
	} else if in.CustomerMasterKeySpec != "" {
		return nil, &kms.Error{Code: kms.CodeValidation, Message: "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated."}
	}
	switch {
	case spec != "" && !knownKeySpecs[spec]:
		return nil, enumErr("keySpec", spec, []string{"SYMMETRIC_DEFAULT", "RSA_2048", "..."})
	case in.KeyUsage != "" && !knownKeyUsages[in.KeyUsage]:
		return nil, enumErr("keyUsage", in.KeyUsage, []string{"SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"})
	case in.Origin != "" && !knownOrigins[in.Origin]:
		return nil, enumErr("origin", in.Origin, []string{"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"})
	case (spec == "" || spec == keySpecSymmetric) && in.KeyUsage != "" && in.KeyUsage != keyUsageEncrypt:
		// AWS: a symmetric key is for encryption only.
		return nil, &kms.Error{Code: kms.CodeValidation, Message: "KeyUsage " + in.KeyUsage + " is not compatible with KeySpec SYMMETRIC_DEFAULT"}
	case spec != "" && spec != keySpecSymmetric:
		return nil, unsupported("KeySpec " + spec + " is not supported by this KMS; only SYMMETRIC_DEFAULT keys are.")
	case in.Origin != "" && in.Origin != originAWSKMS:
		return nil, unsupported("Origin " + in.Origin + " is not supported by this KMS.")
	case in.MultiRegion:
		return nil, unsupported("Multi-Region keys are not supported by this KMS.")
	case in.CustomKeyStoreId != "" || in.XksKeyId != "":
		return nil, unsupported("Custom key stores are not supported by this KMS.")
	case len(in.Tags) > 0:
		return nil, unsupported("Tags are not supported by this KMS.")
	}
	ki := kms.CreateKeyInput{Description: in.Description, KeyUsage: in.KeyUsage, KeySpec: spec, BypassPolicyLockoutSafetyCheck: in.BypassPolicyLockoutSafetyCheck}
	if in.Policy != nil {
		ki.Policy = []byte(*in.Policy)
	}
	k, err := h.KMS.CreateKey(c.ctx, c.account, ki)
	if err != nil {
		return nil, err
	}
	c.resource = k.ARN
	return keyMetadataOutput{metadata(k)}, nil
}

type keyInput struct {
	KeyId       string
	GrantTokens []string
}

// decodeKey decodes a request naming a key, with its grant tokens
// checked (grants take effect at once here, so valid tokens change
// nothing; invalid ones are refused as AWS refuses them).
func decodeKey(body []byte, v any, tokens *[]string) error {
	if err := decode(body, v); err != nil {
		return err
	}
	if tokens != nil {
		return kms.CheckGrantTokens(*tokens)
	}
	return nil
}

// keyIDOnly refuses aliases for the operations where AWS accepts only a
// key ID or key ARN.
func keyIDOnly(id string) error {
	if strings.HasPrefix(id, "alias/") || strings.HasPrefix(id, "arn:") && strings.Contains(id, ":alias/") {
		return &kms.Error{Code: kms.CodeNotFound, Message: "Invalid keyId '" + id + "'"}
	}
	return nil
}

func (h *Handler) describeKey(c *call) (any, error) {
	var in keyInput
	if err := decodeKey(c.body, &in, &in.GrantTokens); err != nil {
		return nil, err
	}
	k, err := h.KMS.DescribeKey(c.ctx, c.account, in.KeyId)
	if err != nil {
		return nil, err
	}
	c.resource = k.ARN
	return keyMetadataOutput{metadata(k)}, nil
}

type pageInput struct {
	Limit  int
	Marker string
}

type listKeysOutput struct {
	Keys       []keyListEntry
	NextMarker string `json:",omitempty"`
	Truncated  bool
}

type keyListEntry struct {
	KeyId  string
	KeyArn string
}

func (h *Handler) listKeys(c *call) (any, error) {
	var in pageInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	keys, next, err := h.KMS.ListKeys(c.ctx, c.account, kms.Page{Limit: in.Limit, Marker: in.Marker})
	if err != nil {
		return nil, err
	}
	out := listKeysOutput{Keys: make([]keyListEntry, len(keys)), NextMarker: next, Truncated: next != ""}
	for i, k := range keys {
		out.Keys[i] = keyListEntry{k.KeyID, k.KeyARN}
	}
	return out, nil
}

type aliasEntry struct {
	AliasName       string
	AliasArn        string
	TargetKeyId     string `json:",omitempty"`
	CreationDate    *epoch `json:",omitempty"`
	LastUpdatedDate *epoch `json:",omitempty"`
}

type listAliasesOutput struct {
	Aliases    []aliasEntry
	NextMarker string `json:",omitempty"`
	Truncated  bool
}

func (h *Handler) listAliases(c *call) (any, error) {
	var in struct {
		KeyId string
		pageInput
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	as, next, err := h.KMS.ListAliases(c.ctx, c.account, in.KeyId, kms.Page{Limit: in.Limit, Marker: in.Marker})
	if err != nil {
		return nil, err
	}
	out := listAliasesOutput{Aliases: make([]aliasEntry, len(as)), NextMarker: next, Truncated: next != ""}
	for i, a := range as {
		out.Aliases[i] = aliasEntry{a.Name, a.ARN, a.TargetKeyID, toEpoch(a.CreationDate), toEpoch(a.LastUpdatedDate)}
	}
	return out, nil
}

type aliasInput struct {
	AliasName   string
	TargetKeyId string
}

func (h *Handler) createAlias(c *call) (any, error) {
	var in aliasInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	return nil, h.KMS.CreateAlias(c.ctx, c.account, in.AliasName, in.TargetKeyId)
}

func (h *Handler) updateAlias(c *call) (any, error) {
	var in aliasInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	return nil, h.KMS.UpdateAlias(c.ctx, c.account, in.AliasName, in.TargetKeyId)
}

func (h *Handler) deleteAlias(c *call) (any, error) {
	var in struct{ AliasName string }
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	return nil, h.KMS.DeleteAlias(c.ctx, c.account, in.AliasName)
}

// keyOp runs an operation that takes only a key ID or key ARN.
func (h *Handler) keyOp(c *call, fn func(id string) error) error {
	var in struct{ KeyId string }
	if err := decode(c.body, &in); err != nil {
		return err
	}
	if err := keyIDOnly(in.KeyId); err != nil {
		return err
	}
	return fn(in.KeyId)
}

func (h *Handler) enableKey(c *call) (any, error) {
	return nil, h.keyOp(c, func(id string) error { return h.KMS.EnableKey(c.ctx, c.account, id) })
}

func (h *Handler) disableKey(c *call) (any, error) {
	return nil, h.keyOp(c, func(id string) error { return h.KMS.DisableKey(c.ctx, c.account, id) })
}

// checkAlgorithm accepts only symmetric encryption.
func checkAlgorithm(member, v string) error {
	switch v {
	case "", encryptionSymmetric:
		return nil
	case "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE":
		return &kms.Error{Code: "InvalidKeyUsageException", Message: "The key does not support the " + v + " encryption algorithm."}
	}
	return enumErr(member, v, []string{"SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"})
}

func (h *Handler) encrypt(c *call) (any, error) {
	var in struct {
		KeyId               string
		Plaintext           []byte
		EncryptionContext   map[string]string
		GrantTokens         []string
		EncryptionAlgorithm string
		DryRun              bool
	}
	if err := decodeKey(c.body, &in, &in.GrantTokens); err != nil {
		return nil, err
	}
	if err := checkAlgorithm("encryptionAlgorithm", in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, unsupported("DryRun is not supported by this KMS.")
	}
	out, err := h.KMS.Encrypt(c.ctx, c.account, in.KeyId, in.Plaintext, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	c.resource = out.KeyID
	return struct {
		CiphertextBlob      []byte
		KeyId               string
		EncryptionAlgorithm string
	}{out.CiphertextBlob, out.KeyID, encryptionSymmetric}, nil
}

func (h *Handler) decrypt(c *call) (any, error) {
	var in struct {
		CiphertextBlob      []byte
		EncryptionContext   map[string]string
		GrantTokens         []string
		KeyId               string
		EncryptionAlgorithm string
		Recipient           any
		DryRun              bool
	}
	if err := decodeKey(c.body, &in, &in.GrantTokens); err != nil {
		return nil, err
	}
	if err := checkAlgorithm("encryptionAlgorithm", in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	if in.Recipient != nil {
		return nil, unsupported("Recipient (Nitro Enclaves attestation) is not supported by this KMS.")
	}
	if in.DryRun {
		return nil, unsupported("DryRun is not supported by this KMS.")
	}
	out, err := h.KMS.Decrypt(c.ctx, c.account, in.CiphertextBlob, in.KeyId, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	c.resource = out.KeyID
	return struct {
		KeyId               string
		Plaintext           []byte
		EncryptionAlgorithm string
	}{out.KeyID, out.Plaintext, encryptionSymmetric}, nil
}

func (h *Handler) reEncrypt(c *call) (any, error) {
	var in struct {
		CiphertextBlob                 []byte
		SourceEncryptionContext        map[string]string
		SourceKeyId                    string
		DestinationKeyId               string
		DestinationEncryptionContext   map[string]string
		SourceEncryptionAlgorithm      string
		DestinationEncryptionAlgorithm string
		GrantTokens                    []string
		DryRun                         bool
	}
	if err := decodeKey(c.body, &in, &in.GrantTokens); err != nil {
		return nil, err
	}
	if err := checkAlgorithm("sourceEncryptionAlgorithm", in.SourceEncryptionAlgorithm); err != nil {
		return nil, err
	}
	if err := checkAlgorithm("destinationEncryptionAlgorithm", in.DestinationEncryptionAlgorithm); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, unsupported("DryRun is not supported by this KMS.")
	}
	out, err := h.KMS.ReEncrypt(c.ctx, c.account, kms.ReEncryptInput{
		CiphertextBlob: in.CiphertextBlob, SourceEncryptionContext: in.SourceEncryptionContext, SourceKeyID: in.SourceKeyId,
		DestinationKeyID: in.DestinationKeyId, DestinationEncryptionContext: in.DestinationEncryptionContext,
	})
	if err != nil {
		return nil, err
	}
	c.resource = out.KeyID
	return struct {
		CiphertextBlob                 []byte
		SourceKeyId                    string
		KeyId                          string
		SourceEncryptionAlgorithm      string
		DestinationEncryptionAlgorithm string
	}{out.CiphertextBlob, out.SourceKeyID, out.KeyID, encryptionSymmetric, encryptionSymmetric}, nil
}

type dataKeyInput struct {
	KeyId             string
	EncryptionContext map[string]string
	NumberOfBytes     int
	KeySpec           string
	GrantTokens       []string
	Recipient         any
	DryRun            bool
}

func (h *Handler) dataKey(c *call, withPlaintext bool) (*kms.DataKeyOutput, error) {
	var in dataKeyInput
	if err := decodeKey(c.body, &in, &in.GrantTokens); err != nil {
		return nil, err
	}
	if in.Recipient != nil {
		return nil, unsupported("Recipient (Nitro Enclaves attestation) is not supported by this KMS.")
	}
	if in.DryRun {
		return nil, unsupported("DryRun is not supported by this KMS.")
	}
	spec := kms.DataKeyInput{KeySpec: in.KeySpec, NumberOfBytes: in.NumberOfBytes}
	var out *kms.DataKeyOutput
	var err error
	if withPlaintext {
		out, err = h.KMS.GenerateDataKey(c.ctx, c.account, in.KeyId, spec, in.EncryptionContext)
	} else {
		out, err = h.KMS.GenerateDataKeyWithoutPlaintext(c.ctx, c.account, in.KeyId, spec, in.EncryptionContext)
	}
	if err != nil {
		return nil, err
	}
	c.resource = out.KeyID
	return out, nil
}

func (h *Handler) generateDataKey(c *call) (any, error) {
	out, err := h.dataKey(c, true)
	if err != nil {
		return nil, err
	}
	return struct {
		CiphertextBlob []byte
		Plaintext      []byte
		KeyId          string
	}{out.CiphertextBlob, out.Plaintext, out.KeyID}, nil
}

func (h *Handler) generateDataKeyWithoutPlaintext(c *call) (any, error) {
	out, err := h.dataKey(c, false)
	if err != nil {
		return nil, err
	}
	return struct {
		CiphertextBlob []byte
		KeyId          string
	}{out.CiphertextBlob, out.KeyID}, nil
}

func (h *Handler) generateRandom(c *call) (any, error) {
	var in struct {
		NumberOfBytes    *int
		CustomKeyStoreId string
		Recipient        any
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if in.CustomKeyStoreId != "" {
		return nil, unsupported("Custom key stores are not supported by this KMS.")
	}
	if in.Recipient != nil {
		return nil, unsupported("Recipient (Nitro Enclaves attestation) is not supported by this KMS.")
	}
	if in.NumberOfBytes == nil || *in.NumberOfBytes < 1 || *in.NumberOfBytes > maxRandomBytes {
		n := 0
		if in.NumberOfBytes != nil {
			n = *in.NumberOfBytes
		}
		return nil, &kms.Error{Code: kms.CodeValidation, Message: "1 validation error detected: Value '" + itoa(n) +
			"' at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024"}
	}
	b := make([]byte, *in.NumberOfBytes)
	if _, err := io.ReadFull(h.rand(), b); err != nil {
		return nil, err
	}
	return struct{ Plaintext []byte }{b}, nil
}

func (h *Handler) enableKeyRotation(c *call) (any, error) {
	var in struct {
		KeyId                string
		RotationPeriodInDays int
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if err := keyIDOnly(in.KeyId); err != nil {
		return nil, err
	}
	return nil, h.KMS.EnableKeyRotation(c.ctx, c.account, in.KeyId, in.RotationPeriodInDays)
}

func (h *Handler) disableKeyRotation(c *call) (any, error) {
	return nil, h.keyOp(c, func(id string) error { return h.KMS.DisableKeyRotation(c.ctx, c.account, id) })
}

func (h *Handler) getKeyRotationStatus(c *call) (any, error) {
	var st *kms.RotationStatus
	err := h.keyOp(c, func(id string) error {
		var err error
		st, err = h.KMS.GetKeyRotationStatus(c.ctx, c.account, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.resource = st.KeyID
	return struct {
		KeyRotationEnabled   bool
		KeyId                string
		RotationPeriodInDays int    `json:",omitempty"`
		NextRotationDate     *epoch `json:",omitempty"`
	}{st.RotationEnabled, st.KeyID, st.RotationPeriodInDays, toEpoch(st.NextRotationDate)}, nil
}

func (h *Handler) rotateKeyOnDemand(c *call) (any, error) {
	var k *kms.Key
	err := h.keyOp(c, func(id string) error {
		var err error
		k, err = h.KMS.RotateKeyOnDemand(c.ctx, c.account, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.resource = k.ARN
	return struct{ KeyId string }{k.ID}, nil
}

func (h *Handler) scheduleKeyDeletion(c *call) (any, error) {
	var in struct {
		KeyId               string
		PendingWindowInDays int
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if err := keyIDOnly(in.KeyId); err != nil {
		return nil, err
	}
	k, err := h.KMS.ScheduleKeyDeletion(c.ctx, c.account, in.KeyId, in.PendingWindowInDays)
	if err != nil {
		return nil, err
	}
	c.resource = k.ARN
	return struct {
		KeyId               string
		DeletionDate        *epoch
		KeyState            string
		PendingWindowInDays int
	}{k.ARN, toEpoch(k.DeletionDate), string(k.State), k.PendingWindowInDays}, nil
}

func (h *Handler) cancelKeyDeletion(c *call) (any, error) {
	var k *kms.Key
	err := h.keyOp(c, func(id string) error {
		var err error
		k, err = h.KMS.CancelKeyDeletion(c.ctx, c.account, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.resource = k.ARN
	return struct{ KeyId string }{k.ARN}, nil
}

// checkPolicyName accepts AWS's only key policy name.
func checkPolicyName(name string) error {
	if name != "" && name != defaultPolicyName {
		return &kms.Error{Code: kms.CodeNotFound, Message: "Policy " + name + " not found"}
	}
	return nil
}

func (h *Handler) getKeyPolicy(c *call) (any, error) {
	var in struct {
		KeyId      string
		PolicyName string
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if err := keyIDOnly(in.KeyId); err != nil {
		return nil, err
	}
	if err := checkPolicyName(in.PolicyName); err != nil {
		return nil, err
	}
	p, err := h.KMS.GetKeyPolicy(c.ctx, c.account, in.KeyId)
	if err != nil {
		return nil, err
	}
	return struct {
		Policy     string
		PolicyName string
	}{string(p), defaultPolicyName}, nil
}

func (h *Handler) putKeyPolicy(c *call) (any, error) {
	var in struct {
		KeyId                          string
		PolicyName                     string
		Policy                         string
		BypassPolicyLockoutSafetyCheck bool
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if err := keyIDOnly(in.KeyId); err != nil {
		return nil, err
	}
	if err := checkPolicyName(in.PolicyName); err != nil {
		return nil, err
	}
	return nil, h.KMS.PutKeyPolicyWithOptions(c.ctx, c.account, in.KeyId, []byte(in.Policy), in.BypassPolicyLockoutSafetyCheck)
}

func (h *Handler) listKeyPolicies(c *call) (any, error) {
	var in struct {
		KeyId string
		pageInput
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if err := keyIDOnly(in.KeyId); err != nil {
		return nil, err
	}
	if in.Limit < 0 || in.Limit > kms.MaxListLimit {
		return nil, &kms.Error{Code: kms.CodeValidation, Message: "1 validation error detected: Value '" + itoa(in.Limit) + "' at 'limit' failed to satisfy constraint: Member must have value between 1 and 1000"}
	}
	names, err := h.KMS.ListKeyPolicies(c.ctx, c.account, in.KeyId)
	if err != nil {
		return nil, err
	}
	return struct {
		PolicyNames []string
		Truncated   bool
	}{names, false}, nil
}

func itoa(n int) string { return strconv.Itoa(n) }

type grantConstraints struct {
	EncryptionContextSubset map[string]string `json:",omitempty"`
	EncryptionContextEquals map[string]string `json:",omitempty"`
}

func (h *Handler) createGrant(c *call) (any, error) {
	var in struct {
		KeyId             string
		GranteePrincipal  string
		RetiringPrincipal string
		Operations        []string
		Constraints       *grantConstraints
		GrantTokens       []string
		Name              string
		DryRun            bool
	}
	if err := decodeKey(c.body, &in, &in.GrantTokens); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, unsupported("DryRun is not supported by this KMS.")
	}
	gi := kms.CreateGrantInput{KeyID: in.KeyId, GranteePrincipal: in.GranteePrincipal, RetiringPrincipal: in.RetiringPrincipal,
		Operations: in.Operations, Name: in.Name}
	if in.Constraints != nil {
		gi.EncryptionContextSubset, gi.EncryptionContextEquals = in.Constraints.EncryptionContextSubset, in.Constraints.EncryptionContextEquals
		if gi.EncryptionContextSubset == nil && gi.EncryptionContextEquals == nil {
			return nil, &kms.Error{Code: kms.CodeValidation, Message: "Constraints must have EncryptionContextSubset or EncryptionContextEquals"}
		}
	}
	id, token, err := h.KMS.CreateGrant(c.ctx, c.account, gi)
	if err != nil {
		return nil, err
	}
	return struct{ GrantToken, GrantId string }{token, id}, nil
}

type grantEntry struct {
	KeyId             string
	GrantId           string
	Name              string `json:",omitempty"`
	CreationDate      *epoch
	GranteePrincipal  string
	RetiringPrincipal string `json:",omitempty"`
	IssuingAccount    string
	Operations        []string
	Constraints       *grantConstraints `json:",omitempty"`
}

func (h *Handler) listGrants(c *call) (any, error) {
	var in struct {
		KeyId            string
		GrantId          string
		GranteePrincipal string
		pageInput
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	gs, next, err := h.KMS.ListGrants(c.ctx, c.account, in.KeyId, in.GrantId, in.GranteePrincipal, kms.Page{Limit: in.Limit, Marker: in.Marker})
	if err != nil {
		return nil, err
	}
	keyARN := in.KeyId
	if !strings.HasPrefix(keyARN, "arn:") {
		keyARN = "arn:aws:kms:" + h.Region + ":" + c.account + ":key/" + in.KeyId
	}
	out := struct {
		Grants     []grantEntry
		NextMarker string `json:",omitempty"`
		Truncated  bool
	}{Grants: make([]grantEntry, len(gs)), NextMarker: next, Truncated: next != ""}
	for i, g := range gs {
		e := grantEntry{KeyId: keyARN, GrantId: g.ID, Name: g.Name, CreationDate: toEpoch(g.CreationDate), GranteePrincipal: g.GranteePrincipal,
			RetiringPrincipal: g.RetiringPrincipal, IssuingAccount: g.IssuingAccount, Operations: g.Operations}
		if g.EncryptionContextSubset != nil || g.EncryptionContextEquals != nil {
			e.Constraints = &grantConstraints{g.EncryptionContextSubset, g.EncryptionContextEquals}
		}
		out.Grants[i] = e
	}
	return out, nil
}

func (h *Handler) retireGrant(c *call) (any, error) {
	var in struct {
		GrantToken string
		KeyId      string
		GrantId    string
		DryRun     bool
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, unsupported("DryRun is not supported by this KMS.")
	}
	return nil, h.KMS.RetireGrant(c.ctx, c.account, in.GrantToken, in.KeyId, in.GrantId)
}

func (h *Handler) revokeGrant(c *call) (any, error) {
	var in struct {
		KeyId   string
		GrantId string
		DryRun  bool
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, unsupported("DryRun is not supported by this KMS.")
	}
	return nil, h.KMS.RevokeGrant(c.ctx, c.account, in.KeyId, in.GrantId)
}
