package kms

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/policy"
)

// Limits and defaults from AWS KMS.
const (
	DefaultRotationPeriodDays = 365
	MinRotationPeriodDays     = 90
	MaxRotationPeriodDays     = 2560
	DefaultPendingWindowDays  = 30
	MinPendingWindowDays      = 7
	MaxPendingWindowDays      = 30
	MaxOnDemandRotations      = 10
	MaxDescriptionLength      = 8192
	MaxPolicyLength           = 131072
	DefaultListLimit          = 100
	MaxListLimit              = 1000

	// DefaultS3Alias names the AWS-managed key S3 uses when a request or
	// bucket default names no key.
	DefaultS3Alias = "alias/aws/s3"

	day = 24 * time.Hour
)

// Config configures a Service.
type Config struct {
	Store  Store
	Sealer Sealer
	// Region goes into ARNs; ARNs naming another region are not found.
	Region string
	// Now is the clock; time.Now if nil. Tests inject a fake.
	Now func() time.Time
	// Rand is the source of key material, nonces and key IDs;
	// crypto/rand if nil.
	Rand io.Reader
	// DefaultRotationPeriodDays is used when EnableKeyRotation gets no
	// period and for the aws/s3 key; 365 if zero.
	DefaultRotationPeriodDays int
	// Authorize, if set, is called for every operation on a resolved key
	// before the operation has any effect; an error aborts it and is
	// returned as is. It is the place to evaluate key policies. It may be
	// called inside a store transaction, possibly more than once, so it
	// must not call back into the Service.
	Authorize func(ctx context.Context, r *AuthzRequest) error
}

// AuthzRequest is what Config.Authorize decides.
type AuthzRequest struct {
	// Op is the AWS operation, which is also the IAM action without its
	// "kms:" prefix: "Decrypt", "GenerateDataKey", "ReEncryptFrom",
	// "ReEncryptTo", "CreateAlias", "PutKeyPolicy", ...
	Op string
	// Caller is the calling account (the key may be another account's).
	Caller string
	// Key is a copy of the resolved key; its Policy is the policy in
	// force (for AWS-managed keys AWS's managed policy, whatever is
	// stored).
	Key *Key
	// EncryptionContext is the request's encryption context, for the
	// kms:EncryptionContext condition keys (nil when the operation has
	// none).
	EncryptionContext map[string]string
	// Alias is the alias the request named the key by (kms:RequestAlias),
	// "" when it used a key ID or ARN.
	Alias string
	// LockoutCheck marks AWS's policy lockout safety check: Key.Policy is
	// a policy about to be set, and the question is whether it would
	// still let the caller change the key policy (Op "PutKeyPolicy").
	LockoutCheck bool
	// Grants are the key's grants, which allow operations besides the
	// key policy (not for the lockout check).
	Grants []Grant
	// Grant is the grant being created (CreateGrant, for the kms:Grant*
	// condition keys) or retired (RetireGrant, whose permission only the
	// grant itself gives).
	Grant *Grant
}

// Service is the KMS. It is safe for concurrent use.
type Service struct {
	cfg Config
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Sealer == nil {
		return nil, errors.New("kms: Config needs a Store and a Sealer")
	}
	if cfg.Region == "" {
		return nil, errors.New("kms: Config needs a Region")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.DefaultRotationPeriodDays == 0 {
		cfg.DefaultRotationPeriodDays = DefaultRotationPeriodDays
	}
	if p := cfg.DefaultRotationPeriodDays; p < MinRotationPeriodDays || p > MaxRotationPeriodDays {
		return nil, fmt.Errorf("kms: DefaultRotationPeriodDays %d outside %d..%d", p, MinRotationPeriodDays, MaxRotationPeriodDays)
	}
	return &Service{cfg: cfg}, nil
}

// now returns the clock truncated to seconds: AWS timestamps travel as
// epoch seconds, and round-tripping through JSON must not change them.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Second) }

func (s *Service) keyARN(account, id string) string {
	return "arn:aws:kms:" + s.cfg.Region + ":" + account + ":key/" + id
}

func (s *Service) aliasARN(account, name string) string {
	return "arn:aws:kms:" + s.cfg.Region + ":" + account + ":" + name
}

func (s *Service) newKeyID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.cfg.Rand, b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// materialAAD binds sealed material to its key and version so a Store
// (or whoever can write to it) cannot move material between keys.
func materialAAD(account, keyID string, version uint32) []byte {
	b := []byte("coffer-kms-material-v1\x00" + account + "\x00" + keyID + "\x00")
	return binary.BigEndian.AppendUint32(b, version)
}

// newMaterial creates, seals and returns material version v of a key.
func (s *Service) newMaterial(account, keyID string, v uint32, now time.Time) (Material, error) {
	raw := make([]byte, 32)
	if _, err := io.ReadFull(s.cfg.Rand, raw); err != nil {
		return Material{}, internalErr(err)
	}
	defer clear(raw)
	sealed, err := s.cfg.Sealer.Seal(raw, materialAAD(account, keyID, v))
	if err != nil {
		return Material{}, internalErr(err)
	}
	return Material{Version: v, Sealed: sealed, Created: now}, nil
}

// addMaterial appends a new current material version (rotation).
func (s *Service) addMaterial(account string, r *KeyRecord, now time.Time) error {
	v := r.Key.CurrentVersion + 1
	m, err := s.newMaterial(account, r.Key.ID, v, now)
	if err != nil {
		return err
	}
	r.Materials = append(r.Materials, m)
	r.Key.CurrentVersion = v
	return nil
}

// unseal returns material version v of r, or InvalidCiphertextException
// if the key has no such version (a forged or foreign blob).
func (s *Service) unseal(r *KeyRecord, v uint32) ([]byte, error) {
	for _, m := range r.Materials {
		if m.Version == v {
			raw, err := s.cfg.Sealer.Open(m.Sealed, materialAAD(r.Key.AccountID, r.Key.ID, v))
			if err != nil {
				return nil, internalErr(err)
			}
			return raw, nil
		}
	}
	return nil, newErr(CodeInvalidCiphertext, "The ciphertext refers to a key material version that does not exist")
}

// keyRef is a parsed key identifier: the account whose store holds the
// key, and either a key ID or an alias name.
type keyRef struct {
	account string
	keyID   string
	alias   string
	raw     string
}

// parseKeyID accepts AWS's four forms: key ID, key ARN, alias name and
// alias ARN. Bare IDs and alias names refer to the caller's account.
func (s *Service) parseKeyID(caller, id string) (keyRef, error) {
	if id == "" {
		return keyRef{}, validationErr("1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(id) > 2048 {
		return keyRef{}, validationErr("1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length less than or equal to 2048")
	}
	if strings.HasPrefix(id, "alias/") {
		return keyRef{account: caller, alias: id, raw: id}, nil
	}
	if !strings.HasPrefix(id, "arn:") {
		return keyRef{account: caller, keyID: id, raw: id}, nil
	}
	parts := strings.SplitN(id, ":", 6)
	if len(parts) != 6 || parts[1] != "aws" || parts[2] != "kms" || parts[4] == "" {
		return keyRef{}, newErr(CodeInvalidArn, "Invalid arn %s", id)
	}
	if parts[3] != s.cfg.Region {
		return keyRef{}, newErr(CodeNotFound, "Key '%s' does not exist", id)
	}
	res := parts[5]
	switch {
	case strings.HasPrefix(res, "key/") && len(res) > 4:
		return keyRef{account: parts[4], keyID: res[4:], raw: id}, nil
	case strings.HasPrefix(res, "alias/") && len(res) > 6:
		return keyRef{account: parts[4], alias: res, raw: id}, nil
	}
	return keyRef{}, newErr(CodeInvalidArn, "Invalid arn %s", id)
}

// resolve finds the key a reference names, in tx of ref.account.
func (s *Service) resolve(tx Tx, ref keyRef) (*KeyRecord, error) {
	keyID := ref.keyID
	if ref.alias != "" {
		a, err := tx.Alias(ref.alias)
		if errors.Is(err, ErrNotFound) {
			return nil, newErr(CodeNotFound, "Alias %s is not found.", s.aliasARN(ref.account, ref.alias))
		}
		if err != nil {
			return nil, internalErr(err)
		}
		keyID = a.TargetKeyID
	}
	r, err := tx.Key(keyID)
	if errors.Is(err, ErrNotFound) {
		return nil, newErr(CodeNotFound, "Key '%s' does not exist", s.keyARN(ref.account, keyID))
	}
	if err != nil {
		return nil, internalErr(err)
	}
	return r, nil
}

// authzError carries an Authorize error through a store transaction so
// storeErr can return it unchanged instead of as an internal error.
type authzError struct{ err error }

func (e *authzError) Error() string { return e.err.Error() }

func (s *Service) authorize(ctx context.Context, op, caller string, r *KeyRecord) error {
	return s.authorizeReq(ctx, &AuthzRequest{Op: op, Caller: caller}, r)
}

// authorizeReq fills in req's key from r and asks the hook.
func (s *Service) authorizeReq(ctx context.Context, req *AuthzRequest, r *KeyRecord) error {
	if s.cfg.Authorize == nil {
		return nil
	}
	req.Key = r.Key.clone()
	req.Grants = cloneGrants(r.Grants)
	if req.Key.KeyManager == KeyManagerAWS {
		req.Key.Policy = s.ManagedPolicy(r.Key.AccountID)
	}
	if err := s.cfg.Authorize(ctx, req); err != nil {
		return &authzError{err}
	}
	return nil
}

// errLockout is AWS's answer when a new key policy would lock the caller
// out of the key.
func errLockout() error {
	return newErr(CodeMalformedPolicyDocument, "The new key policy will not allow you to update the key policy in the future.")
}

// lockoutCheck applies AWS's policy lockout safety check to policy for
// the key of r: the caller must still be allowed kms:PutKeyPolicy.
func (s *Service) lockoutCheck(ctx context.Context, caller string, r *KeyRecord, policy []byte) error {
	if s.cfg.Authorize == nil {
		return nil
	}
	k := r.Key.clone()
	k.Policy = append([]byte(nil), policy...)
	if err := s.cfg.Authorize(ctx, &AuthzRequest{Op: "PutKeyPolicy", Caller: caller, Key: k, LockoutCheck: true}); err != nil {
		return errLockout()
	}
	return nil
}

// storeErr returns Authorize's errors unchanged, passes *Error and context
// errors through, and reports anything else (a Store failure) as an
// internal error.
func storeErr(err error) error {
	var ae *authzError
	if errors.As(err, &ae) {
		return ae.err
	}
	if err == nil || ErrorCode(err) != "" || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return internalErr(err)
}

// withKey runs fn on the key id names, in a transaction of the key's
// account. crossAccount says whether AWS lets the operation name a key of
// another account (by ARN); management operations do not.
func (s *Service) withKey(ctx context.Context, op, caller, id string, write, crossAccount bool, fn func(tx Tx, r *KeyRecord) error) error {
	return s.withKeyEC(ctx, op, caller, id, nil, write, crossAccount, fn)
}

// withKeyEC is withKey for operations with an encryption context, which
// the Authorize hook sees.
func (s *Service) withKeyEC(ctx context.Context, op, caller, id string, ec map[string]string, write, crossAccount bool, fn func(tx Tx, r *KeyRecord) error) error {
	ref, err := s.parseKeyID(caller, id)
	if err != nil {
		return err
	}
	if ref.account != caller && !crossAccount {
		return newErr(CodeNotFound, "Key '%s' does not exist", ref.raw)
	}
	run := s.cfg.Store.View
	if write {
		run = s.cfg.Store.Update
	}
	return storeErr(run(ctx, ref.account, func(tx Tx) error {
		r, err := s.resolve(tx, ref)
		if err != nil {
			return err
		}
		if err := s.authorizeReq(ctx, &AuthzRequest{Op: op, Caller: caller, EncryptionContext: ec, Alias: ref.alias}, r); err != nil {
			return err
		}
		return fn(tx, r)
	}))
}

// errState is the AWS error for using a key in a state that does not
// allow the operation: DisabledException for Disabled keys (where the
// operation lists it) and KMSInvalidStateException otherwise.
func errState(k *Key, disabledCode string) error {
	if k.State == KeyStateDisabled && disabledCode == CodeDisabled {
		return newErr(CodeDisabled, "%s is disabled.", k.ARN)
	}
	return newErr(CodeInvalidState, "%s is %s.", k.ARN, stateWord(k.State))
}

func stateWord(st KeyState) string {
	if st == KeyStatePendingDeletion {
		return "pending deletion"
	}
	return strings.ToLower(string(st))
}

func errAWSManaged(k *Key, op string) error {
	return newErr(CodeUnsupportedOperation, "%s is an AWS managed key; %s is not supported on it.", k.ARN, op)
}

// CreateKeyInput is CreateKey's request. Only symmetric encryption keys
// exist here: KeyUsage and KeySpec may be empty or their defaults.
type CreateKeyInput struct {
	Description string
	Policy      []byte // nil: the default policy delegating to IAM
	KeyUsage    string // "" or ENCRYPT_DECRYPT
	KeySpec     string // "" or SYMMETRIC_DEFAULT
	// BypassPolicyLockoutSafetyCheck skips the check that Policy lets
	// the caller manage the key's policy (AWS's flag of the same name).
	BypassPolicyLockoutSafetyCheck bool
}

// DefaultPolicy returns AWS's default key policy for account: full access
// for the account root, i.e. access is decided by IAM policies.
func DefaultPolicy(account string) []byte {
	p := map[string]any{
		"Version": "2012-10-17",
		"Id":      "key-default-1",
		"Statement": []any{map[string]any{
			"Sid":       "Enable IAM User Permissions",
			"Effect":    "Allow",
			"Principal": map[string]string{"AWS": "arn:aws:iam::" + account + ":root"},
			"Action":    "kms:*",
			"Resource":  "*",
		}},
	}
	b, _ := json.Marshal(p)
	return b
}

// ManagedPolicy returns AWS's key policy for account's AWS-managed aws/s3
// key: use by every principal of the account, but only through S3, and
// key metadata for the account. Customers cannot change it.
func (s *Service) ManagedPolicy(account string) []byte {
	p := map[string]any{
		"Version": "2012-10-17",
		"Id":      "auto-s3-2",
		"Statement": []any{
			map[string]any{
				"Sid":       "Allow access through S3 for all principals in the account that are authorized to use S3",
				"Effect":    "Allow",
				"Principal": map[string]string{"AWS": "*"},
				"Action":    []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"},
				"Resource":  "*",
				"Condition": map[string]any{"StringEquals": map[string]string{
					"kms:CallerAccount": account,
					"kms:ViaService":    "s3." + s.cfg.Region + ".amazonaws.com",
				}},
			},
			map[string]any{
				"Sid":       "Allow direct access to key metadata to the account",
				"Effect":    "Allow",
				"Principal": map[string]string{"AWS": "arn:aws:iam::" + account + ":root"},
				"Action":    []string{"kms:Describe*", "kms:Get*", "kms:List*"},
				"Resource":  "*",
			},
		},
	}
	b, _ := json.Marshal(p)
	return b
}

// validatePolicy parses a key policy with the policy engine's strict
// parser, so that no key carries a policy the engine could not evaluate.
func validatePolicy(p []byte) error {
	if len(p) == 0 || len(p) > MaxPolicyLength {
		return validationErr("1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length between 1 and %d", MaxPolicyLength)
	}
	if _, err := policy.Parse(p, policy.KeyPolicy); err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return newErr(CodeMalformedPolicyDocument, "%s", pe.Message)
		}
		return newErr(CodeMalformedPolicyDocument, "The key policy is not valid.")
	}
	return nil
}

// CreateKey creates an Enabled customer managed key with one material
// version and rotation disabled.
func (s *Service) CreateKey(ctx context.Context, account string, in CreateKeyInput) (*Key, error) {
	if in.KeyUsage != "" && in.KeyUsage != "ENCRYPT_DECRYPT" {
		return nil, newErr(CodeUnsupportedOperation, "KeyUsage %s is not supported", in.KeyUsage)
	}
	if in.KeySpec != "" && in.KeySpec != "SYMMETRIC_DEFAULT" {
		return nil, newErr(CodeUnsupportedOperation, "KeySpec %s is not supported", in.KeySpec)
	}
	if len(in.Description) > MaxDescriptionLength {
		return nil, validationErr("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to %d", MaxDescriptionLength)
	}
	policy := in.Policy
	if policy == nil {
		policy = DefaultPolicy(account)
	} else if err := validatePolicy(policy); err != nil {
		return nil, err
	}
	r, err := s.newKeyRecord(account, in.Description, KeyManagerCustomer, policy)
	if err != nil {
		return nil, err
	}
	if in.Policy != nil && !in.BypassPolicyLockoutSafetyCheck {
		if err := s.lockoutCheck(ctx, account, r, policy); err != nil {
			return nil, err
		}
	}
	err = s.cfg.Store.Update(ctx, account, func(tx Tx) error {
		// A UUID collision is practically impossible, but overwriting a
		// key would destroy data, so it costs one lookup to rule it out.
		if _, err := tx.Key(r.Key.ID); !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("kms: key ID %s already in use or unreadable: %v", r.Key.ID, err)
		}
		return tx.PutKey(r)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return r.Key.clone(), nil
}

func (s *Service) newKeyRecord(account, desc string, mgr KeyManager, policy []byte) (*KeyRecord, error) {
	id, err := s.newKeyID()
	if err != nil {
		return nil, internalErr(err)
	}
	now := s.now()
	m, err := s.newMaterial(account, id, 1, now)
	if err != nil {
		return nil, err
	}
	return &KeyRecord{
		Key: Key{
			AccountID:            account,
			ID:                   id,
			ARN:                  s.keyARN(account, id),
			Description:          desc,
			State:                KeyStateEnabled,
			KeyManager:           mgr,
			CreationDate:         now,
			RotationPeriodInDays: s.cfg.DefaultRotationPeriodDays,
			CurrentVersion:       1,
			Policy:               append([]byte(nil), policy...),
		},
		Materials: []Material{m},
	}, nil
}

// DefaultKey returns account's AWS-managed aws/s3 key, creating it (with
// its alias and yearly rotation) on first use, as S3 does when an SSE-KMS
// request names no key.
func (s *Service) DefaultKey(ctx context.Context, account string) (*Key, error) {
	var out *Key
	err := s.cfg.Store.Update(ctx, account, func(tx Tx) error {
		out = nil
		a, err := tx.Alias(DefaultS3Alias)
		if err == nil {
			r, err := tx.Key(a.TargetKeyID)
			if err != nil {
				return err
			}
			out = r.Key.clone()
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		r, err := s.newKeyRecord(account, "Default key that protects my S3 objects when no other key is defined", KeyManagerAWS, s.ManagedPolicy(account))
		if err != nil {
			return err
		}
		r.Key.RotationEnabled = true
		r.Key.NextRotation = r.Key.CreationDate.Add(time.Duration(r.Key.RotationPeriodInDays) * day)
		if err := tx.PutKey(r); err != nil {
			return err
		}
		now := r.Key.CreationDate
		if err := tx.PutAlias(&Alias{Name: DefaultS3Alias, ARN: s.aliasARN(account, DefaultS3Alias), TargetKeyID: r.Key.ID, CreationDate: now, LastUpdatedDate: now}); err != nil {
			return err
		}
		out = r.Key.clone()
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return out, nil
}

// DescribeKey returns a key's metadata, in any state; id may name a key of
// another account by ARN.
func (s *Service) DescribeKey(ctx context.Context, account, id string) (*Key, error) {
	var out *Key
	err := s.withKey(ctx, "DescribeKey", account, id, false, true, func(_ Tx, r *KeyRecord) error {
		out = r.Key.clone()
		return nil
	})
	return out, err
}

// Page is a list request's paging: Limit 1..1000 (0 means 100) and the
// NextMarker of the previous page.
type Page struct {
	Limit  int
	Marker string
}

// page applies p to items ordered by name; markers are the last returned
// name, prefixed so that hand-made or stale markers are recognised.
func page[T any](items []T, name func(T) string, p Page) ([]T, string, error) {
	limit := p.Limit
	if limit == 0 {
		limit = DefaultListLimit
	}
	if limit < 1 || limit > MaxListLimit {
		return nil, "", validationErr("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", p.Limit, MaxListLimit)
	}
	start := 0
	if p.Marker != "" {
		after, ok := strings.CutPrefix(p.Marker, "m1:")
		if !ok || after == "" {
			return nil, "", newErr(CodeInvalidMarker, "Invalid marker")
		}
		for start < len(items) && name(items[start]) <= after {
			start++
		}
	}
	items = items[start:]
	if len(items) > limit {
		return items[:limit], "m1:" + name(items[limit-1]), nil
	}
	return items, "", nil
}

// KeyListEntry is one ListKeys entry.
type KeyListEntry struct {
	KeyID  string
	KeyARN string
}

// ListKeys lists account's keys in every state, ordered by ID. A non-empty
// next marker means the list is truncated.
func (s *Service) ListKeys(ctx context.Context, account string, p Page) ([]KeyListEntry, string, error) {
	var recs []*KeyRecord
	err := s.cfg.Store.View(ctx, account, func(tx Tx) error {
		var err error
		recs, err = tx.Keys()
		return err
	})
	if err != nil {
		return nil, "", storeErr(err)
	}
	recs, next, err := page(recs, func(r *KeyRecord) string { return r.Key.ID }, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]KeyListEntry, len(recs))
	for i, r := range recs {
		out[i] = KeyListEntry{KeyID: r.Key.ID, KeyARN: r.Key.ARN}
	}
	return out, next, nil
}

// ListAliases lists account's aliases ordered by name, only those of one
// key if keyID is not empty (a key ID or key ARN of this account).
func (s *Service) ListAliases(ctx context.Context, account, keyID string, p Page) ([]*Alias, string, error) {
	var out []*Alias
	err := s.cfg.Store.View(ctx, account, func(tx Tx) error {
		var err error
		out, err = tx.Aliases()
		if err != nil || keyID == "" {
			return err
		}
		ref, err := s.parseKeyID(account, keyID)
		if err != nil {
			return err
		}
		if ref.alias != "" || ref.account != account {
			return newErr(CodeInvalidArn, "KeyId must be a key ID or key ARN of this account: %s", keyID)
		}
		r, err := s.resolve(tx, ref)
		if err != nil {
			return err
		}
		filtered := out[:0]
		for _, a := range out {
			if a.TargetKeyID == r.Key.ID {
				filtered = append(filtered, a)
			}
		}
		out = filtered
		return nil
	})
	if err != nil {
		return nil, "", storeErr(err)
	}
	return page(out, func(a *Alias) string { return a.Name }, p)
}

// EnableKey sets a key Enabled; enabling an enabled key is a no-op.
func (s *Service) EnableKey(ctx context.Context, account, id string) error {
	return s.withKey(ctx, "EnableKey", account, id, true, false, func(tx Tx, r *KeyRecord) error {
		return s.setEnabled(tx, r, true)
	})
}

// DisableKey sets a key Disabled; cryptographic use then fails with
// DisabledException.
func (s *Service) DisableKey(ctx context.Context, account, id string) error {
	return s.withKey(ctx, "DisableKey", account, id, true, false, func(tx Tx, r *KeyRecord) error {
		return s.setEnabled(tx, r, false)
	})
}

func (s *Service) setEnabled(tx Tx, r *KeyRecord, on bool) error {
	if r.Key.KeyManager == KeyManagerAWS {
		return errAWSManaged(&r.Key, map[bool]string{true: "EnableKey", false: "DisableKey"}[on])
	}
	if r.Key.State == KeyStatePendingDeletion {
		return errState(&r.Key, "")
	}
	r.Key.State = map[bool]KeyState{true: KeyStateEnabled, false: KeyStateDisabled}[on]
	return tx.PutKey(r)
}

// PutKeyPolicy replaces a key's policy ("default" is the only policy name
// AWS has, so none is taken), with the policy lockout safety check.
func (s *Service) PutKeyPolicy(ctx context.Context, account, id string, policy []byte) error {
	return s.PutKeyPolicyWithOptions(ctx, account, id, policy, false)
}

// PutKeyPolicyWithOptions is PutKeyPolicy, skipping the lockout safety
// check when bypassLockoutCheck is set (BypassPolicyLockoutSafetyCheck).
func (s *Service) PutKeyPolicyWithOptions(ctx context.Context, account, id string, policy []byte, bypassLockoutCheck bool) error {
	if err := validatePolicy(policy); err != nil {
		return err
	}
	return s.withKey(ctx, "PutKeyPolicy", account, id, true, false, func(tx Tx, r *KeyRecord) error {
		if r.Key.KeyManager == KeyManagerAWS {
			return errAWSManaged(&r.Key, "PutKeyPolicy")
		}
		if !bypassLockoutCheck {
			if err := s.lockoutCheck(ctx, account, r, policy); err != nil {
				return err
			}
		}
		r.Key.Policy = append([]byte(nil), policy...)
		return tx.PutKey(r)
	})
}

// GetKeyPolicy returns a key's policy; for the AWS-managed key, AWS's
// managed policy.
func (s *Service) GetKeyPolicy(ctx context.Context, account, id string) ([]byte, error) {
	var out []byte
	err := s.withKey(ctx, "GetKeyPolicy", account, id, false, false, func(_ Tx, r *KeyRecord) error {
		out = r.Key.Policy
		if r.Key.KeyManager == KeyManagerAWS {
			out = s.ManagedPolicy(r.Key.AccountID)
		}
		return nil
	})
	return out, err
}

// ListKeyPolicies lists a key's policy names: always just "default".
func (s *Service) ListKeyPolicies(ctx context.Context, account, id string) ([]string, error) {
	err := s.withKey(ctx, "ListKeyPolicies", account, id, false, false, func(Tx, *KeyRecord) error { return nil })
	if err != nil {
		return nil, err
	}
	return []string{"default"}, nil
}
