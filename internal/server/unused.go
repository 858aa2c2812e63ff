package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/analyze"
	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/s3api"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// DefaultUnusedWindow is how long access may go unused before it is
// reported (IAM Access Analyzer's default unused access age).
const DefaultUnusedWindow = 90 * 24 * time.Hour

// AnalyzeUnused reports the IAM users', roles' and access keys' access
// not used within window, for one account ("" for every account). Use
// comes from the access keys' last-used records and from the audit log
// at auditPath (a missing log is no use at all).
func AnalyzeUnused(ctx context.Context, m meta.Store, svc *iam.Service, auditPath, account string, now time.Time, window time.Duration) ([]analyze.UnusedFinding, error) {
	accounts := []string{account}
	if account == "" {
		as, err := m.ListAccounts(ctx)
		if err != nil {
			return nil, err
		}
		accounts = accounts[:0]
		for _, a := range as {
			accounts = append(accounts, a.ID)
		}
	}
	var ids []analyze.Identity
	for _, acct := range accounts {
		got, err := identities(ctx, svc, acct)
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	activity, err := readActivity(auditPath, account)
	if err != nil {
		return nil, err
	}
	return analyze.Unused(ids, activity, now, window), nil
}

func identities(ctx context.Context, svc *iam.Service, acct string) ([]analyze.Identity, error) {
	var ids []analyze.Identity
	for marker := ""; ; {
		page, err := svc.ListUsers(ctx, acct, iam.ListOptions{Marker: marker, MaxItems: 1000})
		if err != nil {
			return nil, err
		}
		for _, u := range page.Items {
			pols, _, err := svc.PrincipalPolicies(ctx, acct, u.UserName)
			if err != nil {
				return nil, err
			}
			id := analyze.Identity{Kind: "user", Account: acct, Name: u.UserName, ARN: u.ARN(acct), Created: u.CreateDate, Policies: pols}
			keys, err := svc.ListAccessKeys(ctx, acct, u.UserName, iam.ListOptions{MaxItems: 1000})
			if err != nil {
				return nil, err
			}
			for _, k := range keys.Items {
				key := analyze.Key{ID: k.AccessKeyID, Active: k.Status == "Active", Created: k.CreateDate}
				if k.LastUsed != nil {
					key.LastUsed = k.LastUsed.Date
				}
				id.Keys = append(id.Keys, key)
			}
			ids = append(ids, id)
		}
		if !page.IsTruncated {
			break
		}
		marker = page.Marker
	}
	for marker := ""; ; {
		page, err := svc.ListRoles(ctx, acct, iam.ListOptions{Marker: marker, MaxItems: 1000})
		if err != nil {
			return nil, err
		}
		for _, r := range page.Items {
			pols, _, err := svc.RolePolicies(ctx, acct, r.RoleName)
			if err != nil {
				return nil, err
			}
			ids = append(ids, analyze.Identity{Kind: "role", Account: acct, Name: r.RoleName, ARN: r.ARN(acct), Created: r.CreateDate, Policies: pols})
		}
		if !page.IsTruncated {
			break
		}
		marker = page.Marker
	}
	return ids, nil
}

// readActivity reads the allowed requests of IAM users and role sessions
// from the audit log, streaming it, and keeps the latest use per
// principal and action (older uses tell a finding when access was last
// used).
func readActivity(path, account string) ([]analyze.Activity, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	latest := map[[3]string]time.Time{}
	dec := json.NewDecoder(f)
	for {
		var e audit.Event
		if err := dec.Decode(&e); err != nil {
			if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			// A line cut by a crash ends what can be read.
			var se *json.SyntaxError
			if errors.As(err, &se) {
				break
			}
			return nil, err
		}
		if e.Outcome != audit.OutcomeSuccess || (account != "" && e.AccountID != account) {
			continue
		}
		var principal string
		switch e.PrincipalType {
		case "IAMUser":
			principal = e.PrincipalARN
		case "AssumedRole":
			// arn:aws:sts::ACCT:assumed-role/NAME/SESSION
			_, rest, ok := strings.Cut(e.PrincipalARN, ":assumed-role/")
			if !ok {
				continue
			}
			name, _, _ := strings.Cut(rest, "/")
			principal = "role/" + name
		default:
			continue
		}
		action := e.Service + ":" + e.Operation
		if e.Service == "s3" {
			if action = s3api.IAMActionOf(e.Operation); action == "" {
				continue
			}
		}
		k := [3]string{e.AccountID, principal, action}
		if e.Time.After(latest[k]) {
			latest[k] = e.Time
		}
	}
	out := make([]analyze.Activity, 0, len(latest))
	for k, t := range latest {
		out = append(out, analyze.Activity{Account: k[0], Principal: k[1], Action: k[2], Time: t})
	}
	return out, nil
}

// auditHistory is IAM's service last accessed data source: the audit log.
type auditHistory struct {
	path, region string
}

func (a auditHistory) Activity(_ context.Context, account string) ([]analyze.Activity, error) {
	return readActivity(a.path, account)
}

func (a auditHistory) Region() string { return a.region }
