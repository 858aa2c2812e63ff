package iam

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Quotas are IAM's limits. Zero fields take AWS's default quota.
type Quotas struct {
	Users            int // per account (5000)
	Groups           int // per account (300)
	Roles            int // per account (1000)
	Policies         int // customer managed policies per account (1500)
	GroupsPerUser    int // 10
	AttachedPolicies int // managed policies attached per user, group or role (10)
	AccessKeys       int // access keys per user, and per account root (2)
	PolicyVersions   int // versions kept per managed policy (5)
	Tags             int // tags per user, role or policy (50)
	// Policy sizes in characters excluding white space: the aggregate of
	// a user's, group's or role's inline policies, one managed policy
	// version, one trust policy.
	UserPolicySize    int // 2048
	GroupPolicySize   int // 5120
	RolePolicySize    int // 10240
	ManagedPolicySize int // 6144
	TrustPolicySize   int // 2048
}

// DefaultQuotas are AWS's default IAM quotas.
var DefaultQuotas = Quotas{
	Users: 5000, Groups: 300, Roles: 1000, Policies: 1500,
	GroupsPerUser: 10, AttachedPolicies: 10, AccessKeys: 2, PolicyVersions: 5, Tags: 50,
	UserPolicySize: 2048, GroupPolicySize: 5120, RolePolicySize: 10240,
	ManagedPolicySize: 6144, TrustPolicySize: 2048,
}

// Default values of request parameters.
const (
	DefaultMaxItems           = 100
	MaxMaxItems               = 1000
	DefaultMaxSessionDuration = 3600
	MinMaxSessionDuration     = 3600
	MaxMaxSessionDuration     = 43200
)

// Service is IAM for all accounts; every method acts on one account's
// entities. The zero value is not usable: Store is required. Fields must
// not change once the Service is in use.
type Service struct {
	Store Store
	// Validate checks a policy document of a kind (size quotas and the
	// API's character set are checked before). Its errors become
	// MalformedPolicyDocument with the error's text as the message (a
	// leading "MalformedPolicyDocument: " removed), unless it returns an
	// *Error, which is passed through. Nil checks only that the document
	// is a JSON object.
	Validate func(doc []byte, kind PolicyKind) error
	Quotas   Quotas
	// Now is the clock (time.Now if nil). Dates are kept in UTC with
	// whole seconds, as IAM reports them.
	Now func() time.Time
	// Rand supplies the randomness of ids and secrets (crypto/rand if
	// nil). Tests make it deterministic.
	Rand io.Reader
	// LastUsedResolution is how stale an access key's last-used record
	// may get before RecordAccessKeyUse writes it again (1 minute if
	// zero), so that authentication does not cost a write per request.
	LastUsedResolution time.Duration
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

func (s *Service) rand() io.Reader {
	if s.Rand != nil {
		return s.Rand
	}
	return rand.Reader
}

func (s *Service) newID(prefix string) (string, error) { return newID(s.rand(), prefix, 17) }

// quota returns q's field, or the default when it is zero.
func (s *Service) quota(f func(Quotas) int) int {
	if n := f(s.Quotas); n > 0 {
		return n
	}
	return f(DefaultQuotas)
}

// validate checks a document's text, its size against max (with the
// LimitExceeded message quotaMsg) and then its content.
func (s *Service) validate(field, doc string, kind PolicyKind, max int, quotaMsg string) error {
	if err := checkDocumentText(field, doc); err != nil {
		return err
	}
	if max > 0 && policySize(doc) > max {
		return Errorf(ErrLimitExceeded, "%s", quotaMsg)
	}
	return s.validateContent(doc, kind)
}

func (s *Service) validateContent(doc string, kind PolicyKind) error {
	v := s.Validate
	if v == nil {
		v = wellFormed
	}
	err := v([]byte(doc), kind)
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	// Validators that render their errors as "Code: message" (package
	// policy's do) must not have the code repeated in the message.
	msg, _ := strings.CutPrefix(err.Error(), ErrMalformedPolicyDocument.Error()+": ")
	return Errorf(ErrMalformedPolicyDocument, "%s", msg)
}

// notFound maps a store's ErrNotFound to NoSuchEntity for kind/name and
// passes other errors through.
func notFound(err error, kind Kind, name string) error {
	if errors.Is(err, ErrNotFound) {
		return noSuch(kind, name)
	}
	return err
}

func getUser(tx Tx, name string) (*User, error) {
	u, err := tx.User(name)
	return u, notFound(err, KindUser, name)
}

func getGroup(tx Tx, name string) (*Group, error) {
	g, err := tx.Group(name)
	return g, notFound(err, KindGroup, name)
}

func getRole(tx Tx, name string) (*Role, error) {
	r, err := tx.Role(name)
	return r, notFound(err, KindRole, name)
}

// absent returns EntityAlreadyExists when the lookup found a record, nil
// when it reported ErrNotFound, and any other error as is.
func absent(err error, exists error) error {
	switch {
	case err == nil:
		return exists
	case errors.Is(err, ErrNotFound):
		return nil
	}
	return err
}

// getPolicy finds the customer managed policy an ARN names in account.
// AWS managed policies (account "aws") do not exist in Coffer yet, and
// policies of other accounts cannot be used: both are NoSuchEntity.
func getPolicy(tx Tx, account, arn string) (*Policy, error) {
	pa, err := ParsePolicyARN(arn)
	if err != nil {
		return nil, err
	}
	if pa.Account != account {
		return nil, noSuchPolicy(arn)
	}
	p, err := tx.Policy(pa.Name)
	if errors.Is(err, ErrNotFound) || (err == nil && p.Path != pa.Path) {
		return nil, noSuchPolicy(arn)
	}
	return p, err
}

// checkQuota refuses a new record of kind when the account has max.
func checkQuota(tx Tx, kind Kind, max int, name string) error {
	n, err := tx.Count(kind)
	if err != nil {
		return err
	}
	if n >= max {
		return Errorf(ErrLimitExceeded, "Cannot exceed quota for %s: %d", name, max)
	}
	return nil
}

// matchPath reports whether an entity path is selected by a PathPrefix.
func matchPath(path, prefix string) bool { return prefix == "" || strings.HasPrefix(path, prefix) }

// page cuts one page from items, which are in order of the keys key
// returns; the marker encodes the last key returned.
func page[T any](items []T, key func(T) string, opts ListOptions) (Page[T], error) {
	max, err := maxItems(opts.MaxItems)
	if err != nil {
		return Page[T]{}, err
	}
	start := 0
	if opts.Marker != "" {
		after, err := decodeMarker(opts.Marker)
		if err != nil {
			return Page[T]{}, err
		}
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > after })
	}
	rest := items[start:]
	if len(rest) <= max {
		return Page[T]{Items: rest}, nil
	}
	return Page[T]{Items: rest[:max], IsTruncated: true, Marker: encodeMarker(key(rest[max-1]))}, nil
}

func maxItems(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultMaxItems, nil
	case n < 1:
		return 0, validationf("maxItems", itoa(n), "have value greater than or equal to 1")
	case n > MaxMaxItems:
		return 0, validationf("maxItems", itoa(n), "have value less than or equal to %d", MaxMaxItems)
	}
	return n, nil
}

// Markers are opaque to clients; base64 keeps them inside the API's
// marker alphabet whatever the sort key holds.
func encodeMarker(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func decodeMarker(m string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil {
		return "", Errorf(ErrInvalidInput, "Invalid Marker.")
	}
	return string(b), nil
}

// Tag helpers.

// mergeTags adds or replaces tags (keys compare case-insensitively; the
// new spelling wins), keeping the existing order.
func mergeTags(have, add []Tag) []Tag {
	out := append([]Tag(nil), have...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if lower(out[i].Key) == lower(t.Key) {
				out[i] = t
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}

func removeTags(have []Tag, keys []string) []Tag {
	drop := make(map[string]bool, len(keys))
	for _, k := range keys {
		drop[lower(k)] = true
	}
	var out []Tag
	for _, t := range have {
		if !drop[lower(t.Key)] {
			out = append(out, t)
		}
	}
	return out
}

func (s *Service) checkTagCount(tags []Tag) error {
	if len(tags) > s.quota(func(q Quotas) int { return q.Tags }) {
		return Errorf(ErrLimitExceeded, "The number of tags has reached the maximum limit.")
	}
	return nil
}

func checkUntagKeys(keys []string) error {
	if len(keys) == 0 {
		return missing("tagKeys")
	}
	for i, k := range keys {
		if k == "" || len(k) > 128 || !tagKeyRE.MatchString(k) {
			return validationf("tagKeys."+itoa(i+1)+".member", k, `satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
		}
	}
	return nil
}

func sortedTags(tags []Tag) []Tag {
	out := append([]Tag(nil), tags...)
	sort.SliceStable(out, func(i, j int) bool { return lower(out[i].Key) < lower(out[j].Key) })
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

func containsFold(list []string, s string) bool { return indexFold(list, s) >= 0 }

func indexFold(list []string, s string) int {
	for i, v := range list {
		if strings.EqualFold(v, s) {
			return i
		}
	}
	return -1
}

// checkAccount rejects a malformed account id before a Store sees it:
// account ids come from authenticated principals, so a bad one is a bug.
func checkAccount(account string) error {
	if !isAccountID(account) {
		return fmt.Errorf("iam: invalid account id %q", account)
	}
	return nil
}

func (s *Service) update(ctx context.Context, account string, fn func(tx Tx) error) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	return s.Store.Update(ctx, account, fn)
}

func (s *Service) view(ctx context.Context, account string, fn func(tx Tx) error) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	return s.Store.View(ctx, account, fn)
}
