package analyze

import (
	"sort"
	"strings"
	"time"
)

// Unused access, as IAM Access Analyzer's unused access findings: IAM
// roles nobody used, access keys nobody used, and permissions granted by
// identity policies that were not used, within a window. What was used
// comes from the access keys' last-used records and from the audit log
// (every allowed request names its principal and operation).

// Finding types, as Access Analyzer names them.
const (
	UnusedIAMRole          = "UnusedIAMRole"
	UnusedIAMUserAccessKey = "UnusedIAMUserAccessKey"
	UnusedPermission       = "UnusedPermission"
)

// Identity is an IAM user or role with what it is granted.
type Identity struct {
	// Kind is "user" or "role".
	Kind    string
	Account string
	Name    string
	ARN     string
	Created time.Time
	// Policies are its identity-based policy documents (inline, attached
	// and its groups').
	Policies [][]byte
	// Keys are a user's access keys.
	Keys []Key
}

// Key is an access key and its last use (zero: never used).
type Key struct {
	ID       string
	Active   bool
	Created  time.Time
	LastUsed time.Time
}

// Activity is one allowed request: the principal (a user's ARN, or for a
// role session the role's account and name) and the IAM action.
type Activity struct {
	Account string
	// Principal is a user's ARN, or "role/NAME" for a role session.
	Principal string
	Action    string
	Time      time.Time
}

// UnusedFinding is one piece of unused access.
type UnusedFinding struct {
	Type        string `json:"findingType"`
	Principal   string `json:"principal"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	// Service and Actions name unused permissions: the granted action
	// patterns of the service that no request used within the window.
	Service      string     `json:"serviceNamespace,omitempty"`
	Actions      []string   `json:"actions,omitempty"`
	LastAccessed *time.Time `json:"lastAccessed,omitempty"`
}

// Unused reports the access of ids that was not used within window before
// now. Identities and keys younger than the window are not reported: they
// have not had the chance to be used.
func Unused(ids []Identity, activity []Activity, now time.Time, window time.Duration) []UnusedFinding {
	cutoff := now.Add(-window)
	type use struct {
		last      time.Time            // any action
		byService map[string]time.Time // service → last use
		byAction  map[string]time.Time // action (lower case) → last use
	}
	uses := map[string]*use{}
	for _, a := range activity {
		k := a.Account + "\x00" + a.Principal
		u := uses[k]
		if u == nil {
			u = &use{byService: map[string]time.Time{}, byAction: map[string]time.Time{}}
			uses[k] = u
		}
		act := strings.ToLower(a.Action)
		svc, _, _ := strings.Cut(act, ":")
		if a.Time.After(u.last) {
			u.last = a.Time
		}
		if a.Time.After(u.byService[svc]) {
			u.byService[svc] = a.Time
		}
		if a.Time.After(u.byAction[act]) {
			u.byAction[act] = a.Time
		}
	}
	var out []UnusedFinding
	for _, id := range ids {
		principal := id.ARN
		key := id.Account + "\x00" + id.ARN
		if id.Kind == "role" {
			key = id.Account + "\x00role/" + id.Name
		}
		u := uses[key]
		if u == nil {
			u = &use{byService: map[string]time.Time{}, byAction: map[string]time.Time{}}
		}
		for _, k := range id.Keys {
			if k.Active && k.Created.Before(cutoff) && k.LastUsed.Before(cutoff) {
				out = append(out, UnusedFinding{Type: UnusedIAMUserAccessKey, Principal: principal, AccessKeyID: k.ID, LastAccessed: timePtr(k.LastUsed)})
			}
		}
		if !id.Created.Before(cutoff) {
			continue
		}
		if id.Kind == "role" && u.last.Before(cutoff) {
			// An unused role is one finding; its permissions are moot.
			out = append(out, UnusedFinding{Type: UnusedIAMRole, Principal: principal, LastAccessed: timePtr(u.last)})
			continue
		}
		for _, g := range Grants(id.Policies) {
			last := u.byService[g.Service]
			if g.Service == "*" {
				last = u.last
			}
			var unused []string
			if last.Before(cutoff) {
				unused = g.Patterns
			} else {
				// The service is in use: report the named actions that
				// were not (a wildcard counts as used once its service
				// is).
				for _, p := range g.Patterns {
					if !strings.ContainsAny(p, "*?") && u.byAction[strings.ToLower(p)].Before(cutoff) {
						unused = append(unused, p)
					}
				}
			}
			if len(unused) > 0 {
				f := UnusedFinding{Type: UnusedPermission, Principal: principal, Service: g.Service, Actions: unused}
				if t, ok := lastMatching(u.byAction, g.Service); ok {
					f.LastAccessed = &t
				}
				out = append(out, f)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Principal != b.Principal {
			return a.Principal < b.Principal
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Service+a.AccessKeyID < b.Service+b.AccessKeyID
	})
	return out
}

// Grant is what identity policies allow in one service: the action
// patterns as written ("s3:Get*"). Service "*" stands for a bare "*".
type Grant struct {
	Service  string
	Patterns []string
}

// Grants lists the action patterns the Allow statements of docs grant,
// grouped by service, in service order. NotAction statements grant
// everything but some actions; they count as "*".
func Grants(docs [][]byte) []Grant {
	by := map[string]map[string]bool{}
	add := func(svc, p string) {
		if by[svc] == nil {
			by[svc] = map[string]bool{}
		}
		by[svc][p] = true
	}
	for _, doc := range docs {
		for _, s := range statements(doc) {
			if s.Effect != "Allow" {
				continue
			}
			acts := stringList(s.Action)
			if len(s.Action) == 0 {
				acts = []string{"*"}
			}
			for _, a := range acts {
				if a == "*" {
					add("*", "*")
					continue
				}
				svc, _, _ := strings.Cut(strings.ToLower(a), ":")
				add(svc, a)
			}
		}
	}
	out := make([]Grant, 0, len(by))
	for svc, ps := range by {
		g := Grant{Service: svc}
		for p := range ps {
			g.Patterns = append(g.Patterns, p)
		}
		sort.Strings(g.Patterns)
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out
}

func lastMatching(byAction map[string]time.Time, service string) (time.Time, bool) {
	var last time.Time
	for a, t := range byAction {
		if (service == "*" || strings.HasPrefix(a, service+":")) && t.After(last) {
			last = t
		}
	}
	return last, !last.IsZero()
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
