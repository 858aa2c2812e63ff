package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coffer-io/coffer/internal/configrec"
)

// Rule is a configured rule of an account.
type Rule struct {
	Name        string `json:"name"`
	ID          string `json:"id"`
	ARN         string `json:"arn"`
	Description string `json:"description,omitempty"`
	// Owner is "AWS" (a managed rule, Identifier) or "CUSTOM_POLICY"
	// (Expression in CEL).
	Owner      string            `json:"owner"`
	Identifier string            `json:"identifier,omitempty"`
	Expression string            `json:"expression,omitempty"`
	Params     map[string]string `json:"params,omitempty"`
	// RawParams is InputParameters as given, returned as given.
	RawParams string `json:"rawParams,omitempty"`
	// ScopeTypes and ScopeID restrict the resources evaluated.
	ScopeTypes []string `json:"scopeTypes,omitempty"`
	ScopeID    string   `json:"scopeId,omitempty"`
	// Frequency is MaximumExecutionFrequency as given.
	Frequency string `json:"frequency,omitempty"`
	// Pack names the conformance pack that created the rule.
	Pack      string    `json:"pack,omitempty"`
	CreatedBy string    `json:"createdBy,omitempty"`
	Created   time.Time `json:"created"`
	// LastEvaluated is when the rule last finished an evaluation.
	LastEvaluated time.Time `json:"lastEvaluated,omitzero"`
	LastInvoked   time.Time `json:"lastInvoked,omitzero"`
}

// ResourceTypes is what the rule evaluates.
func (r *Rule) ResourceTypes() []string {
	if len(r.ScopeTypes) > 0 {
		return r.ScopeTypes
	}
	if r.Owner == OwnerAWS {
		if m, ok := Lookup(r.Identifier); ok {
			return []string{m.ResourceType}
		}
	}
	return []string{configrec.TypeBucket}
}

// Rule owners.
const (
	OwnerAWS    = "AWS"
	OwnerCustom = "CUSTOM_POLICY"
)

// Result is a rule's verdict on one resource.
type Result struct {
	Rule         string    `json:"rule"`
	ResourceType string    `json:"resourceType"`
	ResourceID   string    `json:"resourceId"`
	Compliance   string    `json:"compliance"`
	Annotation   string    `json:"annotation,omitempty"`
	Recorded     time.Time `json:"recorded"`
	Invoked      time.Time `json:"invoked"`
	// Ordering is the capture time of the item evaluated.
	Ordering time.Time `json:"ordering"`
}

// Alert is what the engine reports to alerting.
type Alert struct {
	Type         string    `json:"type"` // ComplianceChange, BucketPublic, Remediation
	Account      string    `json:"account"`
	Rule         string    `json:"rule,omitempty"`
	Resource     string    `json:"resource"`
	ResourceType string    `json:"resourceType,omitempty"`
	Previous     string    `json:"previous,omitempty"`
	Current      string    `json:"current,omitempty"`
	Detail       string    `json:"detail,omitempty"`
	ChangedBy    string    `json:"changedBy,omitempty"`
	Time         time.Time `json:"time"`
}

// Alert types.
const (
	AlertComplianceChange = "ComplianceChange"
	AlertBucketPublic     = "BucketPublic"
	AlertRemediation      = "Remediation"
)

// Remediator applies a remediation to a bucket.
type Remediator interface {
	Remediate(ctx context.Context, remediation, account, bucket, rule string) error
}

// Engine keeps and evaluates rules.
type Engine struct {
	Store    configrec.Store
	Recorder *configrec.Recorder
	Region   string
	Now      func() time.Time
	Log      *slog.Logger
	// AutoRemediate applies the safe remediations on NON_COMPLIANT.
	AutoRemediate bool
	Remediator    Remediator
	// Alert, if set, is told of alerts; it must not block.
	Alert func(Alert)

	mu sync.Mutex // serializes evaluations (results' read-modify-write)
}

const (
	docRule    = "rule"
	docResult  = "result"
	docHistory = "history"
)

// Errors.
var (
	ErrNoSuchRule       = errors.New("rules: no such rule")
	ErrInvalidParameter = errors.New("rules: invalid parameter")
)

// ParamError is a rule definition refused for a reason the caller sees.
type ParamError struct{ Msg string }

func (e *ParamError) Error() string { return e.Msg }

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

// Validate checks a rule and fills in its parameters' defaults.
func Validate(r *Rule) error {
	switch r.Owner {
	case OwnerAWS:
		m, ok := Lookup(r.Identifier)
		if !ok {
			return &ParamError{"The sourceIdentifier " + r.Identifier + " is invalid. Please refer to the documentation for a list of valid sourceIdentifiers that can be used when AWS is the Owner."}
		}
		if r.Params == nil {
			r.Params = map[string]string{}
		}
		for k := range r.Params {
			if _, ok := m.Params[k]; !ok {
				return &ParamError{"Unknown parameters provided in the input parameters for the rule " + r.Name + ": " + k + "."}
			}
		}
		for k, def := range m.Params {
			if _, ok := r.Params[k]; !ok && def != "" {
				r.Params[k] = def
			}
		}
		if m.check != nil {
			if msg := m.check(r.Params); msg != "" {
				return &ParamError{msg}
			}
		}
	case OwnerCustom:
		if _, err := CompileCEL(r.Expression); err != nil {
			return &ParamError{"The policy text is not a valid CEL expression: " + err.Error()}
		}
	default:
		return &ParamError{"The owner " + r.Owner + " is not supported; use AWS (managed rules) or CUSTOM_POLICY with the cel runtime."}
	}
	for _, t := range r.ResourceTypes() {
		if t != configrec.TypeBucket && t != configrec.TypeAccountPAB {
			return &ParamError{"The resource type " + t + " is not supported."}
		}
	}
	return nil
}

// PutRule creates or replaces a rule and evaluates it.
func (e *Engine) PutRule(ctx context.Context, account string, r *Rule) (*Rule, error) {
	old, err := e.storeRule(ctx, account, r)
	if err != nil {
		return nil, err
	}
	if old != nil {
		// Results of the old definition no longer hold.
		if err := e.clearResults(ctx, account, r.Name); err != nil {
			return nil, err
		}
	}
	return r, e.EvaluateRules(ctx, account, []string{r.Name})
}

// storeRule validates r and saves it, keeping the ID, ARN and creation
// time of the rule it replaces (returned, nil if new) or assigning new ones.
func (e *Engine) storeRule(ctx context.Context, account string, r *Rule) (old *Rule, err error) {
	if err := Validate(r); err != nil {
		return nil, err
	}
	old, err = e.GetRule(ctx, account, r.Name)
	if err != nil && !errors.Is(err, ErrNoSuchRule) {
		return nil, err
	}
	if old != nil {
		r.ID, r.ARN, r.Created = old.ID, old.ARN, old.Created
	} else {
		r.ID = "config-rule-" + randomID()
		r.ARN = fmt.Sprintf("arn:aws:config:%s:%s:config-rule/%s", e.Region, account, r.ID)
		r.Created = e.now()
	}
	return old, e.saveRule(ctx, account, r)
}

func (e *Engine) saveRule(ctx context.Context, account string, r *Rule) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return e.Store.PutDoc(ctx, docRule, account+"/"+r.Name, raw)
}

// GetRule returns one rule.
func (e *Engine) GetRule(ctx context.Context, account, name string) (*Rule, error) {
	raw, err := e.Store.GetDoc(ctx, docRule, account+"/"+name)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, ErrNoSuchRule
	}
	var r Rule
	return &r, json.Unmarshal(raw, &r)
}

// Rules lists an account's rules by name.
func (e *Engine) Rules(ctx context.Context, account string) ([]*Rule, error) {
	docs, err := e.Store.ListDocs(ctx, docRule, account+"/")
	if err != nil {
		return nil, err
	}
	out := make([]*Rule, 0, len(docs))
	for _, d := range docs {
		var r Rule
		if err := json.Unmarshal(d.Value, &r); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, nil
}

// DeleteRule removes a rule and its results.
func (e *Engine) DeleteRule(ctx context.Context, account, name string) error {
	if _, err := e.GetRule(ctx, account, name); err != nil {
		return err
	}
	if err := e.clearResults(ctx, account, name); err != nil {
		return err
	}
	return e.Store.DeleteDoc(ctx, docRule, account+"/"+name)
}

func (e *Engine) clearResults(ctx context.Context, account, rule string) error {
	docs, err := e.Store.ListDocs(ctx, docResult, account+"/"+rule+"/")
	if err != nil {
		return err
	}
	for _, d := range docs {
		if err := e.Store.DeleteDoc(ctx, docResult, d.Key); err != nil {
			return err
		}
	}
	return nil
}

// Results returns a rule's current results, by resource.
func (e *Engine) Results(ctx context.Context, account, rule string) ([]Result, error) {
	docs, err := e.Store.ListDocs(ctx, docResult, account+"/"+rule+"/")
	if err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(docs))
	for _, d := range docs {
		var r Result
		if err := json.Unmarshal(d.Value, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// History returns the compliance changes of a rule on a resource, oldest
// first (every rule and resource if rule or resource is "").
func (e *Engine) History(ctx context.Context, account, rule string) ([]Result, error) {
	prefix := account + "/"
	if rule != "" {
		prefix += rule + "/"
	}
	docs, err := e.Store.ListDocs(ctx, docHistory, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(docs))
	for _, d := range docs {
		var r Result
		if err := json.Unmarshal(d.Value, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Recorded.Before(out[j].Recorded) })
	return out, nil
}

// EvaluateRules evaluates the named rules (all if names is empty) on
// every current resource of the account.
func (e *Engine) EvaluateRules(ctx context.Context, account string, names []string) error {
	rules, err := e.Rules(ctx, account)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range rules {
		if len(names) > 0 && !contains(names, r.Name) {
			continue
		}
		invoked := e.now()
		for _, t := range r.ResourceTypes() {
			keys, err := e.Store.Resources(ctx, account, t)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if t == configrec.TypeAccountPAB && len(keys) == 0 {
				keys = []configrec.ResourceKey{{Account: account, Type: t, ID: account}}
			}
			for _, k := range keys {
				rec, err := e.Store.Latest(ctx, k)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if err := e.evaluate(ctx, r, k, rec, invoked); err != nil {
					errs = append(errs, err)
				}
			}
		}
		r.LastInvoked, r.LastEvaluated = invoked, e.now()
		if err := e.saveRule(ctx, account, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// EvaluateAll evaluates every rule of every account that has rules.
func (e *Engine) EvaluateAll(ctx context.Context) error {
	docs, err := e.Store.ListDocs(ctx, docRule, "")
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	var errs []error
	for _, d := range docs {
		acct, _, _ := strings.Cut(d.Key, "/")
		if !seen[acct] {
			seen[acct] = true
			if err := e.EvaluateRules(ctx, acct, nil); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// OnChange is the recorder's listener: it evaluates the account's rules
// on the changed resource and raises the public-bucket alert.
func (e *Engine) OnChange(ctx context.Context, prev, cur *configrec.Record) {
	it := &cur.Item
	if it.ResourceType == configrec.TypeBucket && it.Status != configrec.StatusDeleted {
		was := prev != nil && prev.Item.Status != configrec.StatusDeleted && (PublicRead(&prev.Item) || PublicWrite(&prev.Item))
		if !was && (PublicRead(it) || PublicWrite(it)) {
			e.alert(Alert{Type: AlertBucketPublic, Account: it.AccountID, Resource: it.ResourceID, ResourceType: it.ResourceType,
				Detail: "A configuration change made the bucket public (" + cur.Operation + ").", ChangedBy: cur.ChangedBy, Time: cur.CaptureTime})
		}
	}
	rules, err := e.Rules(ctx, it.AccountID)
	if err != nil {
		e.logErr(err)
		return
	}
	k := configrec.ResourceKey{Account: it.AccountID, Type: it.ResourceType, ID: it.ResourceID}
	for _, r := range rules {
		if !contains(r.ResourceTypes(), it.ResourceType) {
			continue
		}
		if err := e.evaluate(ctx, r, k, cur, e.now()); err != nil {
			e.logErr(err)
		}
	}
}

func (e *Engine) logErr(err error) {
	if e.Log != nil {
		e.Log.Error("compliance rules", "err", err)
	}
}

func (e *Engine) alert(a Alert) {
	if e.Alert != nil {
		e.Alert(a)
	}
}

// Evaluate returns a rule's verdict on an item (nil: a resource that does
// not exist, for rules on the account's settings).
func Evaluate(r *Rule, it *configrec.Item) (string, string) {
	if r.ScopeID != "" && it != nil && it.ResourceID != r.ScopeID {
		return NotApplicable, ""
	}
	if r.Owner == OwnerCustom {
		if it == nil {
			return NotApplicable, ""
		}
		return evalCEL(r.Expression, it)
	}
	m, ok := Lookup(r.Identifier)
	if !ok {
		return NotApplicable, ""
	}
	if it == nil {
		it = &configrec.Item{ResourceType: m.ResourceType}
	}
	return m.eval(decode(it), r.Params)
}

func (e *Engine) evaluate(ctx context.Context, r *Rule, k configrec.ResourceKey, rec *configrec.Record, invoked time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := k.Account + "/" + r.Name + "/" + k.Type + "/" + k.ID
	if rec != nil && rec.Item.Status == configrec.StatusDeleted {
		return e.Store.DeleteDoc(ctx, docResult, key)
	}
	var it *configrec.Item
	ordering := invoked
	if rec != nil {
		it, ordering = &rec.Item, rec.CaptureTime
	}
	comp, ann := Evaluate(r, it)
	if it == nil && comp != InsufficientData {
		return nil
	}
	now := e.now()
	res := Result{Rule: r.Name, ResourceType: k.Type, ResourceID: k.ID, Compliance: comp, Annotation: ann, Recorded: now, Invoked: invoked, Ordering: ordering}
	old, err := e.Store.GetDoc(ctx, docResult, key)
	if err != nil {
		return err
	}
	prev := ""
	if old != nil {
		var o Result
		if json.Unmarshal(old, &o) == nil {
			prev = o.Compliance
		}
	}
	raw, _ := json.Marshal(res)
	if err := e.Store.PutDoc(ctx, docResult, key, raw); err != nil {
		return err
	}
	if prev != comp {
		hk := key + "/" + now.Format("20060102T150405.000000000Z")
		if err := e.Store.PutDoc(ctx, docHistory, hk, raw); err != nil {
			return err
		}
		if prev != "" {
			e.alert(Alert{Type: AlertComplianceChange, Account: k.Account, Rule: r.Name, Resource: k.ID, ResourceType: k.Type,
				Previous: prev, Current: comp, Detail: ann, Time: now})
		}
	}
	if comp == NonCompliant && e.AutoRemediate && e.Remediator != nil && k.Type == configrec.TypeBucket && r.Owner == OwnerAWS {
		if m, ok := Lookup(r.Identifier); ok && m.Remediation != "" {
			// Remediations change the bucket through its store; the
			// recorder then records the change and this engine
			// re-evaluates it. Outside the lock: that re-evaluation
			// must not wait for this one.
			go func() {
				err := e.Remediator.Remediate(context.WithoutCancel(ctx), m.Remediation, k.Account, k.ID, r.Name)
				detail := m.Remediation + " applied"
				if err != nil {
					detail = m.Remediation + " failed"
					e.logErr(err)
				}
				e.alert(Alert{Type: AlertRemediation, Account: k.Account, Rule: r.Name, Resource: k.ID, ResourceType: k.Type, Detail: detail, Time: e.now()})
			}()
		}
	}
	return nil
}

// NonCompliantResources counts, per account, the resources some rule
// finds NON_COMPLIANT (the metric).
func (e *Engine) NonCompliantResources(ctx context.Context) (map[string]int, error) {
	docs, err := e.Store.ListDocs(ctx, docResult, "")
	if err != nil {
		return nil, err
	}
	bad := map[string]map[string]bool{}
	for _, d := range docs {
		var r Result
		if json.Unmarshal(d.Value, &r) != nil || r.Compliance != NonCompliant {
			continue
		}
		acct, _, _ := strings.Cut(d.Key, "/")
		if bad[acct] == nil {
			bad[acct] = map[string]bool{}
		}
		bad[acct][r.ResourceType+"/"+r.ResourceID] = true
	}
	out := map[string]int{}
	for a, m := range bad {
		out[a] = len(m)
	}
	return out, nil
}

// Run evaluates every rule every interval until ctx ends.
func (e *Engine) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if e.Recorder != nil {
				e.Recorder.SyncAll()
				e.Recorder.Flush()
			}
			if err := e.EvaluateAll(ctx); err != nil {
				e.logErr(err)
			}
		}
	}
}
