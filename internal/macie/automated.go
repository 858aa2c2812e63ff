package macie

import (
	"context"
	"errors"
	"strings"

	"github.com/coffer-io/coffer/internal/discovery"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// AutomatedConfig is an account's automated sensitive data discovery
// setting (GetAutomatedDiscoveryConfiguration). It is off until enabled.
type AutomatedConfig struct {
	AutoEnableOrganizationMembers string `json:"autoEnableOrganizationMembers"`
	DisabledAt                    string `json:"disabledAt,omitempty"`
	FirstEnabledAt                string `json:"firstEnabledAt,omitempty"`
	LastUpdatedAt                 string `json:"lastUpdatedAt,omitempty"`
	Status                        string `json:"status"`
}

const autoID = "automated"

func (s *Service) automatedConfig(ctx context.Context, account string) (*AutomatedConfig, error) {
	c, err := getJSON[AutomatedConfig](ctx, s.Store, account, KindSession, autoID)
	if errors.Is(err, ErrNotFound) {
		return &AutomatedConfig{AutoEnableOrganizationMembers: "NONE", Status: "DISABLED"}, nil
	}
	return c, err
}

func (s *Service) updateAutomated(ctx context.Context, account string, body []byte) error {
	var in struct {
		AutoEnableOrganizationMembers string `json:"autoEnableOrganizationMembers"`
		Status                        string `json:"status"`
	}
	if err := decode(body, &in); err != nil {
		return err
	}
	if in.Status != "ENABLED" && in.Status != "DISABLED" {
		return validation("status must be ENABLED or DISABLED.")
	}
	c, err := s.automatedConfig(ctx, account)
	if err != nil {
		return err
	}
	now := timestamp(s.now())
	if in.Status == "ENABLED" && c.FirstEnabledAt == "" {
		c.FirstEnabledAt = now
	}
	if in.Status == "DISABLED" && c.Status == "ENABLED" {
		c.DisabledAt = now
	}
	c.Status, c.LastUpdatedAt = in.Status, now
	if in.AutoEnableOrganizationMembers != "" {
		c.AutoEnableOrganizationMembers = in.AutoEnableOrganizationMembers
	}
	if err := putJSON(ctx, s.Store, account, KindSession, autoID, c); err != nil {
		return err
	}
	if s.Jobs != nil && c.Status == "ENABLED" {
		s.Jobs.Wake()
	}
	return nil
}

// autoFingerprint marks results of automated discovery (every managed
// identifier, no custom ones).
const autoFingerprint = "automated"

// Automated runs one pass of automated discovery for every account that
// enabled it: objects new or changed since their last scan are scanned,
// at most AutoRate per account and pass, so a large store is covered
// over several passes without a burst.
func (r *Runner) Automated(ctx context.Context) {
	accounts, err := r.Objects.ListAccounts(ctx)
	if err != nil {
		r.logErr("automated discovery", err)
		return
	}
	eng, err := discovery.New(discovery.Config{Selection: discovery.SelectAll})
	if err != nil {
		r.logErr("automated discovery", err)
		return
	}
	for _, acct := range accounts {
		if ctx.Err() != nil {
			return
		}
		sess, err := r.Svc.Session(ctx, acct)
		if err != nil || sess.Status != "ENABLED" {
			continue
		}
		c, err := r.Svc.automatedConfig(ctx, acct)
		if err != nil || c.Status != "ENABLED" {
			continue
		}
		if err := r.automatedAccount(ctx, acct, eng); err != nil && ctx.Err() == nil {
			r.logErr("automated discovery of "+acct, err)
		}
	}
}

func (r *Runner) automatedAccount(ctx context.Context, account string, eng *discovery.Engine) error {
	buckets, err := r.Objects.ListBuckets(ctx, account)
	if err != nil {
		return err
	}
	budget := r.AutoRate
	for _, b := range buckets {
		marker := ""
		for budget > 0 {
			res, err := r.Objects.ListObjects(ctx, b.Name, meta.ListOptions{Marker: marker, MaxKeys: 1000})
			if err != nil {
				return err
			}
			for _, v := range res.Objects {
				if budget == 0 || ctx.Err() != nil {
					break
				}
				if v.DeleteMarker {
					continue
				}
				if v.Bucket == "" {
					v.Bucket = b.Name
				}
				rec, err := getJSON[scanRecord](ctx, r.Svc.Store, account, KindScan, ScanKey(b.Name, v.Key, v.VersionID)+"\x00"+autoFingerprint)
				if err == nil && rec.ETag == v.ETag && rec.Fingerprint == autoFingerprint {
					continue // unchanged since its last scan
				}
				budget--
				_ = r.scanOne(ctx, account, nil, eng, autoFingerprint, b, v)
			}
			if !res.IsTruncated {
				break
			}
			marker = res.NextMarker
		}
	}
	return nil
}

// testIdentifier is TestCustomDataIdentifier: how many times a custom
// identifier matches sample text, with the engine that jobs use.
func (s *Service) testIdentifier(ctx context.Context, body []byte) (any, error) {
	var in struct {
		IgnoreWords          []string `json:"ignoreWords"`
		Keywords             []string `json:"keywords"`
		MaximumMatchDistance int      `json:"maximumMatchDistance"`
		Regex                string   `json:"regex"`
		SampleText           string   `json:"sampleText"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Regex == "" || len(in.Regex) > maxRegexLen {
		return nil, validation("regex must be 1 to 512 characters.")
	}
	if in.SampleText == "" || len(in.SampleText) > 1000 {
		return nil, validation("sampleText must be 1 to 1000 characters.")
	}
	eng, err := discovery.New(discovery.Config{Selection: discovery.SelectNone, Custom: []discovery.CustomIdentifier{{
		ID: "test", ARN: "test", Name: "test", Regex: in.Regex, Keywords: in.Keywords, IgnoreWords: in.IgnoreWords,
		MaximumMatchDistance: in.MaximumMatchDistance}}})
	if err != nil {
		return nil, validation("The custom data identifier is not valid.")
	}
	res, err := eng.Scan(ctx, strings.NewReader(in.SampleText), "sample.txt", int64(len(in.SampleText)))
	if err != nil {
		return nil, err
	}
	return map[string]int64{"matchCount": res.Total(discovery.CategoryCustom)}, nil
}
