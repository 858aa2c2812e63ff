package kms

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/policy"
)

// Grant limits.
const (
	// MaxGrantsPerKey bounds a key's grants (AWS allows 50,000; a key
	// record here carries its grants, so fewer keep it small).
	MaxGrantsPerKey   = 500
	maxGrantNameLen   = 256
	grantTokenPrefix  = "cgt1."
	grantIDHexLength  = 64
	maxGrantPrincipal = 256
)

// GrantOperations are the operations a grant may allow on a symmetric
// encryption key.
var GrantOperations = []string{
	"Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
	"ReEncryptFrom", "ReEncryptTo", "CreateGrant", "RetireGrant", "DescribeKey",
}

// asymmetricGrantOperations are AWS grant operations that no key here
// supports.
var asymmetricGrantOperations = []string{
	"Sign", "Verify", "GetPublicKey", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
	"GenerateMac", "VerifyMac", "DeriveSharedSecret",
}

// Grant lets a grantee principal perform some operations on a key,
// optionally only with a matching encryption context. Grants are kept in
// their key's record.
type Grant struct {
	ID                string
	Name              string
	GranteePrincipal  string
	RetiringPrincipal string
	// IssuingAccount is the ARN of the account root that created it.
	IssuingAccount string
	Operations     []string
	// EncryptionContextSubset and EncryptionContextEquals are AWS's grant
	// constraints; nil when absent (an empty Equals requires an empty
	// context).
	EncryptionContextSubset map[string]string
	EncryptionContextEquals map[string]string
	CreationDate            time.Time
}

func (g *Grant) clone() Grant {
	c := *g
	c.Operations = slices.Clone(g.Operations)
	c.EncryptionContextSubset = cloneMap(g.EncryptionContextSubset)
	c.EncryptionContextEquals = cloneMap(g.EncryptionContextEquals)
	return c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func cloneGrants(gs []Grant) []Grant {
	if gs == nil {
		return nil
	}
	out := make([]Grant, len(gs))
	for i := range gs {
		out[i] = gs[i].clone()
	}
	return out
}

// CreateGrantInput is CreateGrant's request.
type CreateGrantInput struct {
	KeyID                   string
	GranteePrincipal        string
	RetiringPrincipal       string
	Operations              []string
	EncryptionContextSubset map[string]string
	EncryptionContextEquals map[string]string
	Name                    string
}

// validGrantPrincipal accepts the principals a grant can name: IAM
// account roots, users and roles, role sessions, and service principals.
func validGrantPrincipal(p string) bool {
	if p == "" || len(p) > maxGrantPrincipal {
		return false
	}
	if strings.HasSuffix(p, ".amazonaws.com") && !strings.Contains(p, ":") {
		return true
	}
	for _, pre := range []string{"arn:aws:iam::", "arn:aws:sts::"} {
		if rest, ok := strings.CutPrefix(p, pre); ok {
			acct, res, ok := strings.Cut(rest, ":")
			return ok && len(acct) == 12 && res != "" && !strings.ContainsAny(res, "*?")
		}
	}
	return false
}

func (in *CreateGrantInput) validate() error {
	if !validGrantPrincipal(in.GranteePrincipal) {
		return validationErr("Invalid GranteePrincipal: %s", in.GranteePrincipal)
	}
	if in.RetiringPrincipal != "" && !validGrantPrincipal(in.RetiringPrincipal) {
		return validationErr("Invalid RetiringPrincipal: %s", in.RetiringPrincipal)
	}
	// A grant is evaluated as a key policy statement naming its grantee:
	// the policy parser must accept the grantee as a principal.
	kind := "AWS"
	if strings.HasSuffix(in.GranteePrincipal, ".amazonaws.com") {
		kind = "Service"
	}
	probe, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Principal": map[string]string{kind: in.GranteePrincipal}, "Action": "kms:Decrypt", "Resource": "*"}}})
	if _, err := policy.Parse(probe, policy.KeyPolicy); err != nil {
		return validationErr("Invalid GranteePrincipal: %s", in.GranteePrincipal)
	}
	if len(in.Operations) == 0 {
		return validationErr("1 validation error detected: Value at 'operations' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	for _, op := range in.Operations {
		switch {
		case slices.Contains(GrantOperations, op):
		case slices.Contains(asymmetricGrantOperations, op):
			return validationErr("Grant operation %s is not compatible with a symmetric encryption KMS key", op)
		default:
			return validationErr("1 validation error detected: Value '%s' at 'operations' failed to satisfy constraint: Member must satisfy enum value set", op)
		}
	}
	if in.EncryptionContextSubset != nil && in.EncryptionContextEquals != nil {
		return validationErr("A grant can have either an EncryptionContextSubset or an EncryptionContextEquals constraint, not both")
	}
	if len(in.Name) > maxGrantNameLen {
		return validationErr("1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length less than or equal to %d", maxGrantNameLen)
	}
	return nil
}

// GrantToken returns the token of a grant. Grants take effect at once
// here, so a token only needs to be recognisable: it names the grant.
func GrantToken(account, keyID, grantID string) string {
	return grantTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(account+":"+keyID+":"+grantID))
}

// parseGrantToken returns what a token names, or InvalidGrantTokenException.
func parseGrantToken(tok string) (account, keyID, grantID string, err error) {
	bad := newErr(CodeInvalidGrantToken, "The grant token is not valid.")
	rest, ok := strings.CutPrefix(tok, grantTokenPrefix)
	if !ok {
		return "", "", "", bad
	}
	raw, derr := base64.RawURLEncoding.DecodeString(rest)
	if derr != nil {
		return "", "", "", bad
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || len(parts[2]) != grantIDHexLength {
		return "", "", "", bad
	}
	return parts[0], parts[1], parts[2], nil
}

// CheckGrantTokens validates grant tokens sent with a request; grants
// being immediately effective here, valid tokens change nothing.
func CheckGrantTokens(tokens []string) error {
	if len(tokens) > 10 {
		return validationErr("1 validation error detected: Value at 'grantTokens' failed to satisfy constraint: Member must have length less than or equal to 10")
	}
	for _, t := range tokens {
		if _, _, _, err := parseGrantToken(t); err != nil {
			return err
		}
	}
	return nil
}

// CreateGrant adds a grant to a key (key ID or key ARN; another account's
// key by ARN) and returns its ID and token.
func (s *Service) CreateGrant(ctx context.Context, account string, in CreateGrantInput) (id, token string, err error) {
	if err := in.validate(); err != nil {
		return "", "", err
	}
	var b [32]byte
	if _, err := io.ReadFull(s.cfg.Rand, b[:]); err != nil {
		return "", "", internalErr(err)
	}
	g := Grant{
		ID: hex.EncodeToString(b[:]), Name: in.Name, GranteePrincipal: in.GranteePrincipal,
		RetiringPrincipal: in.RetiringPrincipal, IssuingAccount: "arn:aws:iam::" + account + ":root",
		Operations:              slices.Clone(in.Operations),
		EncryptionContextSubset: cloneMap(in.EncryptionContextSubset),
		EncryptionContextEquals: cloneMap(in.EncryptionContextEquals),
		CreationDate:            s.now(),
	}
	sort.Strings(g.Operations)
	g.Operations = slices.Compact(g.Operations)
	var keyAccount, keyID string
	err = s.withGrantKey(ctx, "CreateGrant", account, in.KeyID, true, &g, func(tx Tx, r *KeyRecord) error {
		if r.Key.State == KeyStatePendingDeletion {
			return errState(&r.Key, "")
		}
		if len(r.Grants) >= MaxGrantsPerKey {
			return newErr(CodeLimitExceeded, "%s has reached the limit of %d grants", r.Key.ARN, MaxGrantsPerKey)
		}
		r.Grants = append(r.Grants, g.clone())
		keyAccount, keyID = r.Key.AccountID, r.Key.ID
		return tx.PutKey(r)
	})
	if err != nil {
		return "", "", err
	}
	return g.ID, GrantToken(keyAccount, keyID, g.ID), nil
}

// withGrantKey is withKey for grant operations, which accept only a key ID
// or key ARN and show the hook the grant concerned.
func (s *Service) withGrantKey(ctx context.Context, op, caller, id string, write bool, g *Grant, fn func(tx Tx, r *KeyRecord) error) error {
	ref, err := s.parseKeyID(caller, id)
	if err != nil {
		return err
	}
	if ref.alias != "" {
		return newErr(CodeNotFound, "Invalid keyId '%s'", id)
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
		req := &AuthzRequest{Op: op, Caller: caller}
		if g != nil {
			c := g.clone()
			req.Grant = &c
		}
		if err := s.authorizeReq(ctx, req, r); err != nil {
			return err
		}
		return fn(tx, r)
	}))
}

// ListGrants lists a key's grants, oldest first, optionally only one
// grant or one grantee's.
func (s *Service) ListGrants(ctx context.Context, account, keyID, grantID, grantee string, p Page) ([]Grant, string, error) {
	var out []Grant
	err := s.withGrantKey(ctx, "ListGrants", account, keyID, false, nil, func(_ Tx, r *KeyRecord) error {
		out = nil
		for _, g := range r.Grants {
			if (grantID == "" || g.ID == grantID) && (grantee == "" || g.GranteePrincipal == grantee) {
				out = append(out, g.clone())
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	// Grants are listed in creation order, so markers are positions.
	type entry struct {
		pos string
		g   Grant
	}
	items := make([]entry, len(out))
	for i, g := range out {
		items[i] = entry{pos: positionKey(i), g: g}
	}
	page, next, err := page(items, func(e entry) string { return e.pos }, p)
	if err != nil {
		return nil, "", err
	}
	res := make([]Grant, len(page))
	for i, e := range page {
		res[i] = e.g
	}
	return res, next, nil
}

// positionKey is a fixed-width decimal position, ordered as a string.
func positionKey(i int) string {
	const digits = "0123456789"
	b := []byte("000000")
	for j := len(b) - 1; j >= 0 && i > 0; j-- {
		b[j] = digits[i%10]
		i /= 10
	}
	return string(b)
}

// RevokeGrant deletes a grant of a key.
func (s *Service) RevokeGrant(ctx context.Context, account, keyID, grantID string) error {
	return s.withGrantKey(ctx, "RevokeGrant", account, keyID, true, nil, func(tx Tx, r *KeyRecord) error {
		return s.dropGrant(tx, r, grantID)
	})
}

func (s *Service) dropGrant(tx Tx, r *KeyRecord, grantID string) error {
	i := slices.IndexFunc(r.Grants, func(g Grant) bool { return g.ID == grantID })
	if i < 0 {
		return newErr(CodeNotFound, "Grant ID %s not found", grantID)
	}
	r.Grants = slices.Delete(r.Grants, i, i+1)
	return tx.PutKey(r)
}

// RetireGrant deletes a grant named by its token, or by key and grant ID.
// The hook decides who may (Op "RetireGrant" with the grant): AWS allows
// the retiring principal, the grantee if the grant allows RetireGrant,
// and the account that created the grant.
func (s *Service) RetireGrant(ctx context.Context, account, token, keyID, grantID string) error {
	if token != "" {
		acct, kid, gid, err := parseGrantToken(token)
		if err != nil {
			return err
		}
		if keyID == "" {
			keyID = "arn:aws:kms:" + s.cfg.Region + ":" + acct + ":key/" + kid
		}
		if grantID == "" {
			grantID = gid
		}
	}
	if keyID == "" || grantID == "" {
		return validationErr("Either GrantToken or both KeyId and GrantId must be specified")
	}
	ref, err := s.parseKeyID(account, keyID)
	if err != nil {
		return err
	}
	if ref.alias != "" {
		return newErr(CodeNotFound, "Invalid keyId '%s'", keyID)
	}
	return storeErr(s.cfg.Store.Update(ctx, ref.account, func(tx Tx) error {
		r, err := s.resolve(tx, ref)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(r.Grants, func(g Grant) bool { return g.ID == grantID })
		if i < 0 {
			return newErr(CodeNotFound, "Grant ID %s not found", grantID)
		}
		g := r.Grants[i].clone()
		if err := s.authorizeReq(ctx, &AuthzRequest{Op: "RetireGrant", Caller: account, Grant: &g}, r); err != nil {
			return err
		}
		return s.dropGrant(tx, r, grantID)
	}))
}
