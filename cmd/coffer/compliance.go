package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coffer-io/coffer/internal/rules"
	"github.com/coffer-io/coffer/internal/server"
)

// complianceFlags are the server's configuration-recorder, rules and
// alerting settings.
type complianceFlags struct {
	RulesInterval   time.Duration `name:"rules-interval" help:"How often every compliance rule is re-evaluated (rules are also evaluated on every configuration change)." default:"1h" env:"COFFER_RULES_INTERVAL"`
	AutoRemediate   bool          `name:"auto-remediate" help:"Apply the safe remediations automatically when a rule finds a bucket NON_COMPLIANT: bucket Block Public Access, SSE-S3 default encryption, a statement denying requests without TLS." env:"COFFER_AUTO_REMEDIATE"`
	AlertWebhook    string        `name:"alert-webhook" help:"URL that receives alerts (compliance changes, buckets made public, denied-request spikes) as signed JSON POSTs." env:"COFFER_ALERT_WEBHOOK"`
	AlertSecret     string        `name:"alert-secret" help:"HMAC-SHA256 key signing webhook alerts (prefer --alert-secret-file)." env:"COFFER_ALERT_SECRET"`
	AlertSecretFile string        `name:"alert-secret-file" help:"File holding the webhook signing key." env:"COFFER_ALERT_SECRET_FILE" type:"path"`
	AlertRetryBase  time.Duration `name:"alert-retry-base" help:"Delay before the first webhook retry; doubled for each further retry, at most 6 attempts." default:"1s" env:"COFFER_ALERT_RETRY_BASE"`
	DeniedThreshold int           `name:"alert-denied-threshold" help:"Alert when one account's denied requests reach this many within --alert-denied-window (0: off)." default:"100" env:"COFFER_ALERT_DENIED_THRESHOLD"`
	DeniedWindow    time.Duration `name:"alert-denied-window" help:"Window of the denied-request spike alert." default:"5m" env:"COFFER_ALERT_DENIED_WINDOW"`
}

func (f *complianceFlags) options() (server.ComplianceOptions, error) {
	secret := f.AlertSecret
	if f.AlertSecretFile != "" {
		b, err := os.ReadFile(f.AlertSecretFile)
		if err != nil {
			return server.ComplianceOptions{}, err
		}
		secret = strings.TrimSpace(string(b))
	}
	if f.AlertWebhook != "" && secret == "" {
		return server.ComplianceOptions{}, fmt.Errorf("--alert-webhook needs --alert-secret or --alert-secret-file: alerts are always signed")
	}
	return server.ComplianceOptions{RulesInterval: f.RulesInterval, AutoRemediate: f.AutoRemediate, AlertWebhook: f.AlertWebhook,
		AlertSecret: secret, AlertRetryBase: f.AlertRetryBase, DeniedThreshold: f.DeniedThreshold, DeniedWindow: f.DeniedWindow}, nil
}

// configCall calls the AWS Config API of a running server.
func (f *remoteFlags) configCall(op string, in, out any) error {
	if f.Endpoint == "" {
		return fmt.Errorf("give --endpoint (AWS_ENDPOINT_URL): this command asks a running server")
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	raw, err := f.signedCall(http.MethodPost, "/", body, "config", map[string]string{
		"X-Amz-Target": "StarlingDoveService." + op, "Content-Type": "application/x-amz-json-1.1"})
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

type configCmd struct {
	History configHistoryCmd `cmd:"" help:"Show the recorded configuration history of a bucket (or, with --type, the account's settings)."`
}

type configHistoryCmd struct {
	Resource string `arg:"" help:"Bucket name (or account ID with --type AWS::S3::AccountPublicAccessBlock)."`
	Type     string `help:"Resource type." default:"AWS::S3::Bucket"`
	Limit    int    `help:"Most items to show (newest first)." default:"100"`
	JSON     bool   `name:"json" help:"Print the configuration items as JSON."`
	remoteFlags
}

type historyItem struct {
	CaptureTime     float64           `json:"configurationItemCaptureTime"`
	Status          string            `json:"configurationItemStatus"`
	StateID         string            `json:"configurationStateId"`
	ChangedBy       string            `json:"changedBy"`
	ChangeOperation string            `json:"changeOperation"`
	Supplementary   map[string]string `json:"supplementaryConfiguration"`
}

func epochTime(f float64) time.Time { return time.UnixMilli(int64(f * 1000)).UTC() }

func (c *configHistoryCmd) Run() error {
	var items []json.RawMessage
	token := ""
	for len(items) < c.Limit {
		var out struct {
			ConfigurationItems []json.RawMessage `json:"configurationItems"`
			NextToken          string            `json:"nextToken"`
		}
		in := map[string]any{"resourceType": c.Type, "resourceId": c.Resource, "limit": min(100, c.Limit-len(items))}
		if token != "" {
			in["nextToken"] = token
		}
		if err := c.configCall("GetResourceConfigHistory", in, &out); err != nil {
			return err
		}
		items = append(items, out.ConfigurationItems...)
		if token = out.NextToken; token == "" {
			break
		}
	}
	if c.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CAPTURED\tSTATUS\tSTATE ID\tCHANGE\tBY")
	for _, raw := range items {
		var it historyItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return err
		}
		by := it.ChangedBy
		if by == "" {
			by = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", epochTime(it.CaptureTime).Format(time.RFC3339), it.Status, it.StateID, it.ChangeOperation, by)
	}
	return tw.Flush()
}

type complianceCmd struct {
	Report  complianceReportCmd  `cmd:"" help:"Report every rule's verdict on every resource: a table on standard output, JSON and Markdown files."`
	Pack    compliancePackCmd    `cmd:"" help:"Install the built-in CIS / Security Hub S3 conformance pack."`
	History complianceHistoryCmd `cmd:"" help:"Show when rules' verdicts on resources changed."`
}

type complianceHistoryCmd struct {
	Rule string `arg:"" optional:"" help:"Rule name (all rules if omitted)."`
	remoteFlags
}

func (c *complianceHistoryCmd) Run() error {
	var out struct {
		EvaluationResults []struct {
			EvaluationResultIdentifier struct {
				EvaluationResultQualifier struct{ ConfigRuleName, ResourceId string }
			}
			ComplianceType, Annotation string
			ResultRecordedTime         float64
		}
	}
	in := map[string]string{}
	if c.Rule != "" {
		in["ConfigRuleName"] = c.Rule
	}
	if err := c.configCall("GetComplianceHistory", in, &out); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RECORDED\tRULE\tRESOURCE\tCOMPLIANCE\tANNOTATION")
	for _, e := range out.EvaluationResults {
		q := e.EvaluationResultIdentifier.EvaluationResultQualifier
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", epochTime(e.ResultRecordedTime).Format(time.RFC3339), q.ConfigRuleName, q.ResourceId, e.ComplianceType, e.Annotation)
	}
	return tw.Flush()
}

type compliancePackCmd struct {
	Name string `help:"Conformance pack name." default:"coffer-cis-securityhub-s3"`
	remoteFlags
}

func (c *compliancePackCmd) Run() error {
	var out struct{ ConformancePackArn string }
	if err := c.configCall("PutConformancePack", map[string]string{"ConformancePackName": c.Name, "TemplateBody": rules.BuiltinPack}, &out); err != nil {
		return err
	}
	fmt.Println(out.ConformancePackArn)
	return nil
}

type complianceReportCmd struct {
	Out string `help:"Directory for compliance-report.json and compliance-report.md." default:"." type:"path"`
	remoteFlags
}

// Report is the compliance report's JSON form.
type Report struct {
	Generated time.Time    `json:"generated"`
	Rules     []ReportRule `json:"rules"`
	Summary   struct {
		Rules, NonCompliantRules, Resources, NonCompliantResources int
	} `json:"summary"`
}

// ReportRule is one rule of the report.
type ReportRule struct {
	Name       string         `json:"name"`
	Identifier string         `json:"identifier"`
	Compliance string         `json:"compliance"`
	Results    []ReportResult `json:"results"`
}

// ReportResult is one rule's verdict on one resource.
type ReportResult struct {
	ResourceType string `json:"resourceType"`
	ResourceID   string `json:"resourceId"`
	Compliance   string `json:"compliance"`
	Annotation   string `json:"annotation,omitempty"`
}

func (c *complianceReportCmd) Run() error {
	rep, err := c.build()
	if err != nil {
		return err
	}
	printComplianceTable(os.Stdout, rep)
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return err
	}
	raw, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(filepath.Join(c.Out, "compliance-report.json"), append(raw, '\n'), 0o644); err != nil {
		return err
	}
	var md strings.Builder
	writeComplianceMarkdown(&md, rep)
	return os.WriteFile(filepath.Join(c.Out, "compliance-report.md"), []byte(md.String()), 0o644)
}

func (c *complianceReportCmd) build() (*Report, error) {
	var rs struct {
		ConfigRules []struct {
			ConfigRuleName string
			Source         struct{ Owner, SourceIdentifier string }
		}
	}
	if err := c.configCall("DescribeConfigRules", map[string]any{}, &rs); err != nil {
		return nil, err
	}
	rep := &Report{Generated: time.Now().UTC().Truncate(time.Second), Rules: []ReportRule{}}
	bad := map[string]bool{}
	all := map[string]bool{}
	for _, r := range rs.ConfigRules {
		rr := ReportRule{Name: r.ConfigRuleName, Identifier: r.Source.SourceIdentifier, Results: []ReportResult{}}
		if r.Source.Owner != "AWS" {
			rr.Identifier = "custom (CEL)"
		}
		token := ""
		for {
			var out struct {
				EvaluationResults []struct {
					EvaluationResultIdentifier struct {
						EvaluationResultQualifier struct{ ResourceType, ResourceId string }
					}
					ComplianceType, Annotation string
				}
				NextToken string
			}
			in := map[string]any{"ConfigRuleName": r.ConfigRuleName}
			if token != "" {
				in["NextToken"] = token
			}
			if err := c.configCall("GetComplianceDetailsByConfigRule", in, &out); err != nil {
				return nil, err
			}
			for _, e := range out.EvaluationResults {
				q := e.EvaluationResultIdentifier.EvaluationResultQualifier
				rr.Results = append(rr.Results, ReportResult{ResourceType: q.ResourceType, ResourceID: q.ResourceId, Compliance: e.ComplianceType, Annotation: e.Annotation})
				all[q.ResourceType+"/"+q.ResourceId] = true
				if e.ComplianceType == rules.NonCompliant {
					bad[q.ResourceType+"/"+q.ResourceId] = true
				}
			}
			if token = out.NextToken; token == "" {
				break
			}
		}
		rr.Compliance = ruleCompliance(rr.Results)
		if rr.Compliance == rules.NonCompliant {
			rep.Summary.NonCompliantRules++
		}
		rep.Rules = append(rep.Rules, rr)
	}
	sort.Slice(rep.Rules, func(i, j int) bool { return rep.Rules[i].Name < rep.Rules[j].Name })
	rep.Summary.Rules, rep.Summary.Resources, rep.Summary.NonCompliantResources = len(rep.Rules), len(all), len(bad)
	return rep, nil
}

func ruleCompliance(rs []ReportResult) string {
	out := rules.InsufficientData
	for _, r := range rs {
		switch r.Compliance {
		case rules.NonCompliant:
			return rules.NonCompliant
		case rules.Compliant:
			out = rules.Compliant
		}
	}
	return out
}

func printComplianceTable(w io.Writer, rep *Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tRESOURCE\tCOMPLIANCE\tANNOTATION")
	for _, r := range rep.Rules {
		if len(r.Results) == 0 {
			fmt.Fprintf(tw, "%s\t-\t%s\t\n", r.Name, r.Compliance)
		}
		for _, x := range r.Results {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, x.ResourceID, x.Compliance, x.Annotation)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d rules, %d non-compliant; %d resources, %d non-compliant\n",
		rep.Summary.Rules, rep.Summary.NonCompliantRules, rep.Summary.Resources, rep.Summary.NonCompliantResources)
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func writeComplianceMarkdown(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "# Compliance report\n\nGenerated %s. %d rules (%d non-compliant), %d resources (%d non-compliant).\n\n",
		rep.Generated.Format(time.RFC3339), rep.Summary.Rules, rep.Summary.NonCompliantRules, rep.Summary.Resources, rep.Summary.NonCompliantResources)
	fmt.Fprintln(w, "| Rule | Managed rule | Compliance |\n|---|---|---|")
	for _, r := range rep.Rules {
		fmt.Fprintf(w, "| %s | %s | %s |\n", mdEscape(r.Name), mdEscape(r.Identifier), r.Compliance)
	}
	for _, r := range rep.Rules {
		fmt.Fprintf(w, "\n## %s\n\n", mdEscape(r.Name))
		if len(r.Results) == 0 {
			fmt.Fprintln(w, "No resources evaluated.")
			continue
		}
		fmt.Fprintln(w, "| Resource | Type | Compliance | Annotation |\n|---|---|---|---|")
		for _, x := range r.Results {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", mdEscape(x.ResourceID), x.ResourceType, x.Compliance, mdEscape(x.Annotation))
		}
	}
}
