// Package analyze reports who can reach each bucket, as IAM Access
// Analyzer does for S3: public access and access from other accounts, with
// the policy statements that grant it, and a review that flags overly
// broad statements with a narrower alternative. It reads policies only; it
// changes nothing.
package analyze

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/coffer-io/coffer/internal/policy"
)

// Bucket is what the analysis needs of a bucket.
type Bucket struct {
	Name   string
	Owner  string // account id
	Policy []byte // bucket policy document, nil if none
}

// Finding is one access path to a bucket.
type Finding struct {
	Bucket string `json:"bucket"`
	// Kind is "public" or "cross-account".
	Kind string `json:"kind"`
	// Accounts lists the other accounts granted access (cross-account).
	Accounts []string `json:"accounts,omitempty"`
	// Statements identifies the granting statements (Sid or index).
	Statements []string `json:"statements"`
	Actions    []string `json:"actions"`
}

// Warning is a statement the review considers too broad.
type Warning struct {
	Bucket    string `json:"bucket"`
	Statement string `json:"statement"`
	Problem   string `json:"problem"`
	// Suggestion is a narrower statement to consider, as JSON.
	Suggestion string `json:"suggestion,omitempty"`
}

// Report is the result of an analysis.
type Report struct {
	Buckets  int       `json:"buckets"`
	Findings []Finding `json:"findings"`
	Warnings []Warning `json:"warnings"`
	// Unused lists access not used within UnusedWindow (see Unused),
	// when the analysis looked for it.
	Unused       []UnusedFinding `json:"unused,omitempty"`
	UnusedWindow string          `json:"unusedWindow,omitempty"`
}

// statement is the part of a policy statement the review looks at.
type statement struct {
	Sid       string          `json:"Sid"`
	Effect    string          `json:"Effect"`
	Principal json.RawMessage `json:"Principal"`
	Action    json.RawMessage `json:"Action"`
	Resource  json.RawMessage `json:"Resource"`
	Condition json.RawMessage `json:"Condition"`
}

type document struct {
	Statement json.RawMessage `json:"Statement"`
}

// strings returns a JSON string-or-array as a list.
func stringList(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}

func statements(doc []byte) []statement {
	var d document
	if json.Unmarshal(doc, &d) != nil {
		return nil
	}
	var list []statement
	if json.Unmarshal(d.Statement, &list) == nil {
		return list
	}
	var one statement
	if json.Unmarshal(d.Statement, &one) == nil {
		return []statement{one}
	}
	return nil
}

func label(s statement, i int) string {
	if s.Sid != "" {
		return s.Sid
	}
	return fmt.Sprintf("Statement[%d]", i)
}

// principalIsEveryone reports whether a Principal element names everyone.
func principalIsEveryone(raw json.RawMessage) bool {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		return star == "*"
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for _, v := range m {
		for _, p := range stringList(v) {
			if p == "*" {
				return true
			}
		}
	}
	return false
}

// Analyze examines the buckets' policies.
func Analyze(buckets []Bucket) *Report {
	rep := &Report{Buckets: len(buckets), Findings: []Finding{}, Warnings: []Warning{}}
	for _, b := range buckets {
		if len(b.Policy) == 0 {
			continue
		}
		p, err := policy.Parse(b.Policy, policy.Resource)
		if err != nil {
			rep.Warnings = append(rep.Warnings, Warning{Bucket: b.Name, Problem: "stored policy does not parse: " + err.Error()})
			continue
		}
		stmts := statements(b.Policy)
		if p.IsPublic() {
			f := Finding{Bucket: b.Name, Kind: "public"}
			for i, s := range stmts {
				if s.Effect == "Allow" && principalIsEveryone(s.Principal) {
					f.Statements = append(f.Statements, label(s, i))
					f.Actions = append(f.Actions, stringList(s.Action)...)
				}
			}
			rep.Findings = append(rep.Findings, f)
		}
		if accts := p.GrantsCrossAccount(b.Owner); len(accts) > 0 {
			f := Finding{Bucket: b.Name, Kind: "cross-account", Accounts: accts}
			for i, s := range stmts {
				if s.Effect != "Allow" || principalIsEveryone(s.Principal) {
					continue
				}
				for _, a := range accts {
					if strings.Contains(string(s.Principal)+string(s.Condition), a) {
						f.Statements = append(f.Statements, label(s, i))
						f.Actions = append(f.Actions, stringList(s.Action)...)
						break
					}
				}
			}
			rep.Findings = append(rep.Findings, f)
		}
		for i, s := range stmts {
			rep.Warnings = append(rep.Warnings, review(b, s, i)...)
		}
	}
	sort.SliceStable(rep.Findings, func(i, j int) bool { return rep.Findings[i].Bucket < rep.Findings[j].Bucket })
	return rep
}

// readActions is the narrower set suggested in place of s3:* for readers.
var readActions = []string{"s3:GetObject", "s3:ListBucket"}

// review flags broad Allow statements.
func review(b Bucket, s statement, i int) []Warning {
	if s.Effect != "Allow" {
		return nil
	}
	var out []Warning
	actions := stringList(s.Action)
	wildAction := false
	for _, a := range actions {
		if a == "*" || a == "s3:*" {
			wildAction = true
		}
	}
	everyone := principalIsEveryone(s.Principal)
	noCondition := len(s.Condition) == 0 || string(s.Condition) == "{}"
	suggest := func(actions []string, cond map[string]any) string {
		st := map[string]any{
			"Effect":   "Allow",
			"Action":   actions,
			"Resource": []string{"arn:aws:s3:::" + b.Name, "arn:aws:s3:::" + b.Name + "/*"},
		}
		if everyone {
			st["Principal"] = "*"
		} else {
			st["Principal"] = json.RawMessage(s.Principal)
		}
		if cond != nil {
			st["Condition"] = cond
		}
		raw, _ := json.Marshal(st)
		return string(raw)
	}
	if wildAction {
		out = append(out, Warning{Bucket: b.Name, Statement: label(s, i),
			Problem:    "grants every S3 action; list the actions the grantee needs",
			Suggestion: suggest(readActions, nil)})
	}
	if everyone && noCondition {
		out = append(out, Warning{Bucket: b.Name, Statement: label(s, i),
			Problem:    "grants access to everyone, without conditions",
			Suggestion: suggest(actions, map[string]any{"IpAddress": map[string]string{"aws:SourceIp": "192.0.2.0/24"}})})
	}
	return out
}
