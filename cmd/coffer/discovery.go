package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coffer-io/coffer/internal/server"
)

// discoveryFlags are the server's sensitive data discovery settings.
type discoveryFlags struct {
	DiscoveryParallel     int           `name:"discovery-parallel" help:"Objects a classification job scans at once (1 to 64)." default:"2" env:"COFFER_DISCOVERY_PARALLEL"`
	DiscoveryJobPoll      time.Duration `name:"discovery-job-poll" help:"How often scheduled classification jobs are checked for being due (1s to 1h)." default:"1m" env:"COFFER_DISCOVERY_JOB_POLL"`
	DiscoveryAutoInterval time.Duration `name:"discovery-auto-interval" help:"Pause between automated sensitive data discovery passes over accounts that enabled it (1s to 24h)." default:"1h" env:"COFFER_DISCOVERY_AUTO_INTERVAL"`
	DiscoveryAutoRate     int           `name:"discovery-auto-rate" help:"Most new or changed objects one automated discovery pass scans per account (1 to 1000000)." default:"1000" env:"COFFER_DISCOVERY_AUTO_RATE"`
}

func (f *discoveryFlags) options() (server.DiscoveryOptions, error) {
	if f.DiscoveryParallel < 1 || f.DiscoveryParallel > 64 {
		return server.DiscoveryOptions{}, fmt.Errorf("--discovery-parallel %d: must be between 1 and 64", f.DiscoveryParallel)
	}
	if f.DiscoveryJobPoll < time.Second || f.DiscoveryJobPoll > time.Hour {
		return server.DiscoveryOptions{}, fmt.Errorf("--discovery-job-poll %v: must be between 1s and 1h", f.DiscoveryJobPoll)
	}
	if f.DiscoveryAutoInterval < time.Second || f.DiscoveryAutoInterval > 24*time.Hour {
		return server.DiscoveryOptions{}, fmt.Errorf("--discovery-auto-interval %v: must be between 1s and 24h", f.DiscoveryAutoInterval)
	}
	if f.DiscoveryAutoRate < 1 || f.DiscoveryAutoRate > 1000000 {
		return server.DiscoveryOptions{}, fmt.Errorf("--discovery-auto-rate %d: must be between 1 and 1000000", f.DiscoveryAutoRate)
	}
	return server.DiscoveryOptions{Parallel: f.DiscoveryParallel, JobPoll: f.DiscoveryJobPoll,
		AutoInterval: f.DiscoveryAutoInterval, AutoRate: f.DiscoveryAutoRate}, nil
}

type discoveryCmd struct {
	Run         discoveryRunCmd         `cmd:"" help:"Run a one-time classification job over buckets, wait for it and summarise its findings."`
	Findings    discoveryFindingsCmd    `cmd:"" help:"List findings (sensitive data and bucket policy), filtered."`
	Finding     discoveryFindingCmd     `cmd:"" help:"Show findings in full (Macie's JSON)."`
	Identifiers discoveryIdentifiersCmd `cmd:"" help:"List custom data identifiers."`
	AllowLists  discoveryAllowListsCmd  `cmd:"" name:"allow-lists" help:"List allow lists."`
}

// macieCall calls Macie's REST-JSON API of a running server.
func (f *remoteFlags) macieCall(method, path string, in, out any) error {
	if f.Endpoint == "" {
		return errors.New("give --endpoint (AWS_ENDPOINT_URL): this command asks a running server")
	}
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = b
	}
	raw, err := f.signedCall(method, path, body, "macie2", map[string]string{"Content-Type": "application/json"})
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

type discoveryRunCmd struct {
	Buckets     []string      `arg:"" help:"Buckets to scan."`
	Name        string        `help:"Job name (default: coffer-discovery-TIME)."`
	Prefix      []string      `help:"Scan only keys starting with one of these prefixes."`
	Sampling    int           `help:"Percentage of objects to scan (1 to 100)." default:"100"`
	Identifiers []string      `name:"custom-identifier" help:"Custom data identifier ids to use too."`
	AllowList   []string      `name:"allow-list" help:"Allow list ids to apply."`
	Managed     string        `help:"Managed identifier selection: ALL, NONE, RECOMMENDED." default:"ALL"`
	Timeout     time.Duration `help:"How long to wait for the job." default:"10m"`
	JSON        bool          `name:"json" help:"Print the job and its findings as JSON."`
	remoteFlags
}

func (c *discoveryRunCmd) Run() error {
	var account string
	if err := c.callerAccount(&account); err != nil {
		return err
	}
	name := c.Name
	if name == "" {
		name = "coffer-discovery-" + time.Now().UTC().Format("20060102T150405Z")
	}
	def := map[string]any{"bucketDefinitions": []any{map[string]any{"accountId": account, "buckets": c.Buckets}}}
	if len(c.Prefix) > 0 {
		def["scoping"] = map[string]any{"includes": map[string]any{"and": []any{map[string]any{
			"simpleScopeTerm": map[string]any{"comparator": "STARTS_WITH", "key": "OBJECT_KEY", "values": c.Prefix}}}}}
	}
	in := map[string]any{"jobType": "ONE_TIME", "name": name, "s3JobDefinition": def, "samplingPercentage": c.Sampling,
		"managedDataIdentifierSelector": c.Managed}
	if len(c.Identifiers) > 0 {
		in["customDataIdentifierIds"] = c.Identifiers
	}
	if len(c.AllowList) > 0 {
		in["allowListIds"] = c.AllowList
	}
	var job struct {
		JobID string `json:"jobId"`
	}
	if err := c.macieCall(http.MethodPost, "/jobs", in, &job); err != nil {
		return err
	}
	deadline := time.Now().Add(c.Timeout)
	var desc map[string]any
	for {
		if err := c.macieCall(http.MethodGet, "/jobs/"+url.PathEscape(job.JobID), nil, &desc); err != nil {
			return err
		}
		if st := desc["jobStatus"]; st != "RUNNING" {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("job %s still running after %v", job.JobID, c.Timeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
	fs, err := listFindings(&c.remoteFlags, map[string]any{"classificationDetails.jobId": map[string]any{"eq": []string{job.JobID}}})
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(map[string]any{"job": desc, "findings": raws(fs)})
	}
	lre, _ := desc["lastRunErrorStatus"].(map[string]any)
	fmt.Printf("job %s (%s): %v, errors: %v\n", job.JobID, name, desc["jobStatus"], lre["code"])
	return printFindings(fs)
}

// callerAccount asks STS who the caller is.
func (f *remoteFlags) callerAccount(acct *string) error {
	raw, err := f.signedCall(http.MethodPost, "/", []byte("Action=GetCallerIdentity&Version=2011-06-15"), "sts",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if err != nil {
		return err
	}
	s := string(raw)
	i, j := strings.Index(s, "<Account>"), strings.Index(s, "</Account>")
	if i < 0 || j < i {
		return errors.New("cannot tell the caller's account")
	}
	*acct = s[i+len("<Account>") : j]
	return nil
}

// finding is what the table shows of a finding.
type finding struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Count    int64  `json:"count"`
	Severity struct {
		Description string `json:"description"`
	} `json:"severity"`
	UpdatedAt         string `json:"updatedAt"`
	ResourcesAffected struct {
		S3Bucket *struct {
			Name         string `json:"name"`
			PublicAccess *struct {
				EffectivePermission string `json:"effectivePermission"`
			} `json:"publicAccess"`
		} `json:"s3Bucket"`
		S3Object *struct {
			Key string `json:"key"`
		} `json:"s3Object"`
	} `json:"resourcesAffected"`
	ClassificationDetails *struct {
		Result struct {
			SensitiveData []struct {
				Detections []struct {
					Type  string `json:"type"`
					Count int64  `json:"count"`
				} `json:"detections"`
			} `json:"sensitiveData"`
			CustomDataIdentifiers struct {
				Detections []struct {
					Name  string `json:"name"`
					Count int64  `json:"count"`
				} `json:"detections"`
			} `json:"customDataIdentifiers"`
		} `json:"result"`
	} `json:"classificationDetails"`
	raw json.RawMessage
}

// listFindings pages through ListFindings, then GetFindings by 50.
func listFindings(f *remoteFlags, criteria map[string]any) ([]*finding, error) {
	var ids []string
	token := ""
	for {
		in := map[string]any{"findingCriteria": map[string]any{"criterion": criteria}, "maxResults": 50}
		if token != "" {
			in["nextToken"] = token
		}
		var out struct {
			FindingIDs []string `json:"findingIds"`
			NextToken  string   `json:"nextToken"`
		}
		if err := f.macieCall(http.MethodPost, "/findings", in, &out); err != nil {
			return nil, err
		}
		ids = append(ids, out.FindingIDs...)
		if token = out.NextToken; token == "" {
			break
		}
	}
	return getFindings(f, ids)
}

func getFindings(f *remoteFlags, ids []string) ([]*finding, error) {
	var all []*finding
	for len(ids) > 0 {
		n := min(50, len(ids))
		var out struct {
			Findings []json.RawMessage `json:"findings"`
		}
		if err := f.macieCall(http.MethodPost, "/findings/describe", map[string]any{"findingIds": ids[:n]}, &out); err != nil {
			return nil, err
		}
		for _, raw := range out.Findings {
			fd := &finding{raw: raw}
			if err := json.Unmarshal(raw, fd); err != nil {
				return nil, err
			}
			all = append(all, fd)
		}
		ids = ids[n:]
	}
	return all, nil
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printFindings(fs []*finding) error {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tTYPE\tBUCKET\tKEY\tPUBLIC\tDETECTIONS\tID")
	for _, f := range fs {
		bucket, key, public := "-", "-", "-"
		if b := f.ResourcesAffected.S3Bucket; b != nil {
			bucket = b.Name
			if b.PublicAccess != nil {
				public = b.PublicAccess.EffectivePermission
			}
		}
		if o := f.ResourcesAffected.S3Object; o != nil {
			key = o.Key
		}
		var det []string
		if cd := f.ClassificationDetails; cd != nil {
			for _, sd := range cd.Result.SensitiveData {
				for _, d := range sd.Detections {
					det = append(det, fmt.Sprintf("%s×%d", d.Type, d.Count))
				}
			}
			for _, d := range cd.Result.CustomDataIdentifiers.Detections {
				det = append(det, fmt.Sprintf("%s×%d", d.Name, d.Count))
			}
		}
		if len(det) == 0 {
			det = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Severity.Description, f.Type, bucket, key, public, strings.Join(det, ","), f.ID)
	}
	return tw.Flush()
}

type discoveryFindingsCmd struct {
	Severity []string `help:"Only these severities (Low, Medium, High)."`
	Bucket   []string `help:"Only findings in these buckets."`
	Type     []string `help:"Only these finding types (e.g. SensitiveData:S3Object/Financial)."`
	Job      string   `help:"Only findings of this job."`
	Archived bool     `help:"Show archived findings (policy findings whose condition ended) instead of current ones."`
	JSON     bool     `name:"json" help:"Print the findings as Macie's JSON."`
	remoteFlags
}

func (c *discoveryFindingsCmd) Run() error {
	crit := map[string]any{"archived": map[string]any{"eq": []string{fmt.Sprint(c.Archived)}}}
	if len(c.Severity) > 0 {
		crit["severity.description"] = map[string]any{"eq": c.Severity}
	}
	if len(c.Bucket) > 0 {
		crit["resourcesAffected.s3Bucket.name"] = map[string]any{"eq": c.Bucket}
	}
	if len(c.Type) > 0 {
		crit["type"] = map[string]any{"eq": c.Type}
	}
	if c.Job != "" {
		crit["classificationDetails.jobId"] = map[string]any{"eq": []string{c.Job}}
	}
	fs, err := listFindings(&c.remoteFlags, crit)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(raws(fs))
	}
	return printFindings(fs)
}

type discoveryFindingCmd struct {
	IDs []string `arg:"" name:"id" help:"Finding ids."`
	remoteFlags
}

func (c *discoveryFindingCmd) Run() error {
	fs, err := getFindings(&c.remoteFlags, c.IDs)
	if err != nil {
		return err
	}
	return printJSON(raws(fs))
}

// raws are the findings as the server sent them.
func raws(fs []*finding) []json.RawMessage {
	out := []json.RawMessage{}
	for _, f := range fs {
		out = append(out, f.raw)
	}
	return out
}

type discoveryIdentifiersCmd struct {
	JSON bool `name:"json" help:"Print JSON."`
	remoteFlags
}

func (c *discoveryIdentifiersCmd) Run() error {
	var items []map[string]any
	token := ""
	for {
		in := map[string]any{"maxResults": 500}
		if token != "" {
			in["nextToken"] = token
		}
		var out struct {
			Items     []map[string]any `json:"items"`
			NextToken string           `json:"nextToken"`
		}
		if err := c.macieCall(http.MethodPost, "/custom-data-identifiers/list", in, &out); err != nil {
			return err
		}
		items = append(items, out.Items...)
		if token = out.NextToken; token == "" {
			break
		}
	}
	if c.JSON {
		return printJSON(items)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tCREATED")
	for _, it := range items {
		fmt.Fprintf(tw, "%v\t%v\t%v\n", it["name"], it["id"], it["createdAt"])
	}
	return tw.Flush()
}

type discoveryAllowListsCmd struct {
	JSON bool `name:"json" help:"Print JSON."`
	remoteFlags
}

func (c *discoveryAllowListsCmd) Run() error {
	var out struct {
		AllowLists []map[string]any `json:"allowLists"`
	}
	if err := c.macieCall(http.MethodGet, "/allow-lists?maxResults=1000", nil, &out); err != nil {
		return err
	}
	if c.JSON {
		return printJSON(out.AllowLists)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tUPDATED")
	for _, it := range out.AllowLists {
		fmt.Fprintf(tw, "%v\t%v\t%v\n", it["name"], it["id"], it["updatedAt"])
	}
	return tw.Flush()
}
