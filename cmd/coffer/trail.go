package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coffer-io/coffer/internal/auth/sigv4"
	"github.com/coffer-io/coffer/internal/cloudtrailapi"
	"github.com/coffer-io/coffer/internal/server"
	"github.com/coffer-io/coffer/internal/trail"
)

// trailFlags are the server's trail options.
type trailFlags struct {
	TrailBestEffort       bool          `name:"trail-best-effort" help:"Answer requests before their trail records are on disk (they follow within a second). By default a record is durable before its request is acknowledged." env:"COFFER_TRAIL_BEST_EFFORT"`
	TrailBestEffortReads  bool          `name:"trail-best-effort-reads" help:"Answer read-only requests before their trail records are on disk (they follow with the next write's or within a second); requests that change something still wait." env:"COFFER_TRAIL_BEST_EFFORT_READS"`
	TrailDir              string        `name:"trail-dir" help:"Also write every delivered trail log and digest file to this directory, as DIR/BUCKET/KEY." env:"COFFER_TRAIL_DIR" type:"path"`
	TrailDeliveryInterval time.Duration `name:"trail-delivery-interval" help:"How often trails deliver log files." default:"5m" env:"COFFER_TRAIL_DELIVERY_INTERVAL"`
	TrailDigestInterval   time.Duration `name:"trail-digest-interval" help:"How often trails with log file validation deliver a signed digest file." default:"1h" env:"COFFER_TRAIL_DIGEST_INTERVAL"`
	TrailHistoryRetention time.Duration `name:"trail-history-retention" help:"How long the event history (LookupEvents) keeps management events." default:"2160h" env:"COFFER_TRAIL_HISTORY_RETENTION"`
	InsecureDisableTrail  bool          `name:"insecure-disable-trail" help:"Record no request in the trail. Only for measuring the trail's cost; never for real data." hidden:""`
}

func (f *trailFlags) trailOptions() server.TrailOptions {
	return server.TrailOptions{BestEffort: f.TrailBestEffort, BestEffortReads: f.TrailBestEffortReads, Dir: f.TrailDir, DeliveryInterval: f.TrailDeliveryInterval,
		DigestInterval: f.TrailDigestInterval, HistoryRetention: f.TrailHistoryRetention, InsecureDisabled: f.InsecureDisableTrail}
}

type trailCmd struct {
	Lookup   trailLookupCmd   `cmd:"" help:"Look up events in the event history (management events of the retention window)."`
	Validate trailValidateCmd `cmd:"" help:"Validate a trail's log and digest files: report deleted, modified and inserted files."`
}

type trailLookupCmd struct {
	Data        string    `help:"Read the event history of this data directory offline (every account unless --account). Ignored with --endpoint." default:"./coffer-data" env:"COFFER_DATA" type:"path"`
	Account     string    `help:"Offline: only this account's events."`
	StartTime   time.Time `name:"start-time" help:"Earliest event time (RFC 3339)." format:"2006-01-02T15:04:05Z07:00"`
	EndTime     time.Time `name:"end-time" help:"Latest event time (RFC 3339)." format:"2006-01-02T15:04:05Z07:00"`
	User        string    `help:"User name (IAM user, root, or role session name)."`
	EventName   string    `name:"event-name" help:"Event name, e.g. PutBucketPolicy."`
	Resource    string    `help:"Resource name: a bucket name or an ARN."`
	AccessKey   string    `name:"access-key" help:"Access key ID."`
	EventSource string    `name:"event-source" help:"Event source, e.g. s3.amazonaws.com."`
	Max         int       `help:"At most this many events (newest first)." default:"50"`
	JSON        bool      `name:"json" help:"Print the full CloudTrail records as JSON lines."`
	remoteFlags
}

func (c *trailLookupCmd) attributes() [][2]string {
	var a [][2]string
	for _, kv := range [][2]string{{trail.AttrUsername, c.User}, {trail.AttrEventName, c.EventName}, {trail.AttrResourceName, c.Resource},
		{trail.AttrAccessKeyID, c.AccessKey}, {trail.AttrEventSource, c.EventSource}} {
		if kv[1] != "" {
			a = append(a, kv)
		}
	}
	return a
}

func (c *trailLookupCmd) Run() error {
	var raws [][]byte
	var err error
	if c.Endpoint != "" {
		raws, err = c.remoteLookup()
	} else {
		raws, err = c.offlineLookup()
	}
	if err != nil {
		return err
	}
	if c.JSON {
		for _, r := range raws {
			fmt.Println(string(r))
		}
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEVENT\tSOURCE\tUSER\tACCESS KEY\tERROR\tRESOURCES")
	for _, raw := range raws {
		var r trail.Record
		if json.Unmarshal(raw, &r) != nil {
			continue
		}
		var res []string
		for _, x := range r.Resources {
			res = append(res, trail.ResourceName(x))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.EventTime, r.EventName, r.EventSource, trail.Username(&r),
			r.UserIdentity.AccessKeyID, r.ErrorCode, strings.Join(res, ","))
	}
	return tw.Flush()
}

func (c *trailLookupCmd) offlineLookup() ([][]byte, error) {
	j, err := trail.OpenJournalReader(filepath.Join(c.Data, "trail", "journal"))
	if err != nil {
		return nil, err
	}
	q := trail.LookupQuery{Account: c.Account, Start: c.StartTime, End: c.EndTime, Attributes: c.attributes(), Management: true}
	var out [][]byte
	for len(out) < c.Max {
		q.MaxResults = min(50, c.Max-len(out))
		res, err := j.Lookup(q, time.Now(), trail.DefaultHistoryRetention)
		if err != nil {
			return nil, err
		}
		out = append(out, res.Raw...)
		if res.NextToken == "" {
			break
		}
		q.NextToken = res.NextToken
	}
	return out, nil
}

// remoteLookup pages through LookupEvents. The API takes one attribute;
// further ones are applied here.
func (c *trailLookupCmd) remoteLookup() ([][]byte, error) {
	attrs := c.attributes()
	in := map[string]any{}
	if len(attrs) > 0 {
		in["LookupAttributes"] = []map[string]string{{"AttributeKey": attrs[0][0], "AttributeValue": attrs[0][1]}}
	}
	if !c.StartTime.IsZero() {
		in["StartTime"] = c.StartTime.Unix()
	}
	if !c.EndTime.IsZero() {
		in["EndTime"] = c.EndTime.Unix()
	}
	var out [][]byte
	for len(out) < c.Max {
		body, _ := json.Marshal(in)
		raw, err := c.trailCall("LookupEvents", body)
		if err != nil {
			return nil, err
		}
		var page struct {
			Events    []struct{ CloudTrailEvent string }
			NextToken string
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, err
		}
		for _, e := range page.Events {
			var r trail.Record
			if json.Unmarshal([]byte(e.CloudTrailEvent), &r) != nil || !matchesAll(&r, attrs[min(1, len(attrs)):]) {
				continue
			}
			if len(out) < c.Max {
				out = append(out, []byte(e.CloudTrailEvent))
			}
		}
		if page.NextToken == "" {
			break
		}
		in["NextToken"] = page.NextToken
	}
	return out, nil
}

func matchesAll(r *trail.Record, attrs [][2]string) bool {
	for _, a := range attrs {
		ok := false
		switch a[0] {
		case trail.AttrUsername:
			ok = trail.Username(r) == a[1]
		case trail.AttrEventName:
			ok = r.EventName == a[1]
		case trail.AttrAccessKeyID:
			ok = r.UserIdentity.AccessKeyID == a[1]
		case trail.AttrEventSource:
			ok = r.EventSource == a[1]
		case trail.AttrResourceName:
			for _, x := range r.Resources {
				ok = ok || trail.ResourceName(x) == a[1] || x.ARN == a[1]
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// trailCall makes one CloudTrail JSON call.
func (f *remoteFlags) trailCall(op string, body []byte) ([]byte, error) {
	resp, raw, err := f.signedDo(http.MethodPost, "/", body, "cloudtrail", map[string]string{
		"X-Amz-Target": cloudtrailapi.TargetPrefix + op, "Content-Type": "application/x-amz-json-1.1"})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s: server answered %s: %s", op, resp.Status, strings.TrimSpace(string(raw)))
	}
	return raw, nil
}

// signedDo sends a SigV4-signed request (session credentials included)
// and returns the response with its body read.
func (f *remoteFlags) signedDo(method, path string, body []byte, service string, hdr map[string]string) (*http.Response, []byte, error) {
	id, secret, token, err := f.credentials()
	if err != nil {
		return nil, nil, err
	}
	u, err := url.Parse(strings.TrimSuffix(f.Endpoint, "/") + path)
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if token != "" {
		req.Header.Set("X-Amz-Security-Token", token)
	}
	sr := &sigv4.Request{Method: req.Method, Host: req.URL.Host, EscapedPath: req.URL.EscapedPath(), RawQuery: req.URL.RawQuery, Header: req.Header}
	sigv4.SignRequest(sr, id, secret, f.Region, service, sigv4.HashHex(body), time.Now())
	hc, err := f.httpClient()
	if err != nil {
		return nil, nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	return resp, raw, err
}

type trailValidateCmd struct {
	TrailARN  string    `name:"trail-arn" required:"" help:"ARN of the trail (arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME)."`
	StartTime time.Time `name:"start-time" required:"" help:"Validate from this time (RFC 3339)." format:"2006-01-02T15:04:05Z07:00"`
	EndTime   time.Time `name:"end-time" help:"Validate up to this time (RFC 3339; default now)." format:"2006-01-02T15:04:05Z07:00"`
	S3Bucket  string    `name:"s3-bucket" help:"Bucket of the files (default: the trail's, from DescribeTrails)."`
	S3Prefix  string    `name:"s3-prefix" help:"Key prefix of the files (default: the trail's)."`
	Dir       string    `help:"Validate the local copies a server writes with --trail-dir instead of the bucket; needs --data for the public keys (and --s3-bucket)." type:"path"`
	Data      string    `help:"Data directory whose public keys validate --dir copies." type:"path"`
	Verbose   bool      `help:"Print every file's verdict, not only invalid ones."`
	remoteFlags
}

func (c *trailValidateCmd) Run() error {
	parts := strings.Split(c.TrailARN, ":")
	if len(parts) != 6 || parts[2] != "cloudtrail" || !strings.HasPrefix(parts[5], "trail/") {
		return fmt.Errorf("invalid trail ARN %q", c.TrailARN)
	}
	in := trail.ValidateInput{Region: parts[3], Account: parts[4], TrailName: strings.TrimPrefix(parts[5], "trail/"),
		Bucket: c.S3Bucket, Prefix: c.S3Prefix, Start: c.StartTime, End: c.EndTime, Keys: map[string][]byte{}}
	if in.End.IsZero() {
		in.End = time.Now()
	}
	var src trail.Source
	switch {
	case c.Dir != "":
		if c.Data == "" || c.S3Bucket == "" {
			return errors.New("--dir needs --data (for the public keys) and --s3-bucket")
		}
		keys, err := trail.OpenKeys(filepath.Join(c.Data, "trail", "keys"))
		if err != nil {
			return err
		}
		for _, k := range keys.Public(time.Time{}, time.Time{}) {
			in.Keys[k.Fingerprint] = k.DER
		}
		src = trail.DirSource(c.Dir)
	case c.Endpoint != "":
		if err := c.remoteSetup(&in); err != nil {
			return err
		}
		src = s3Source{&c.remoteFlags}
	default:
		return errors.New("give --endpoint (validate the bucket through a server) or --dir and --data")
	}
	rep, err := trail.Validate(context.Background(), src, in)
	if err != nil {
		return err
	}
	fmt.Printf("Validating log files for trail %s between %s and %s\n\n", c.TrailARN,
		in.Start.UTC().Format(time.RFC3339), in.End.UTC().Format(time.RFC3339))
	for _, f := range rep.Findings {
		if c.Verbose || !f.Valid {
			fmt.Println(f)
		}
	}
	fmt.Printf("\nResults requested for %s to %s\n", in.Start.UTC().Format(time.RFC3339), in.End.UTC().Format(time.RFC3339))
	fmt.Printf("%d/%d digest files valid", rep.DigestsValid, rep.DigestsSeen)
	if n := rep.DigestsSeen - rep.DigestsValid; n > 0 {
		fmt.Printf(", %d/%d digest files INVALID", n, rep.DigestsSeen)
	}
	fmt.Printf("\n%d/%d log files valid", rep.LogsValid, rep.LogsSeen)
	if n := rep.LogsSeen - rep.LogsValid; n > 0 {
		fmt.Printf(", %d/%d log files INVALID", n, rep.LogsSeen)
	}
	fmt.Println()
	if !rep.OK() {
		return errors.New("trail validation failed")
	}
	return nil
}

// remoteSetup reads the trail's bucket and the public keys from the
// server's CloudTrail API.
func (c *trailValidateCmd) remoteSetup(in *trail.ValidateInput) error {
	if in.Bucket == "" {
		raw, err := c.trailCall("DescribeTrails", []byte(`{"trailNameList":["`+c.TrailARN+`"]}`))
		if err != nil {
			return err
		}
		var out struct {
			TrailList []struct{ S3BucketName, S3KeyPrefix, TrailARN string } `json:"trailList"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return err
		}
		if len(out.TrailList) == 0 {
			return fmt.Errorf("trail %s not found", c.TrailARN)
		}
		in.Bucket, in.Prefix = out.TrailList[0].S3BucketName, out.TrailList[0].S3KeyPrefix
	}
	body, _ := json.Marshal(map[string]int64{"StartTime": in.Start.Add(-time.Hour).Unix(), "EndTime": in.End.Add(2 * time.Hour).Unix()})
	raw, err := c.trailCall("ListPublicKeys", body)
	if err != nil {
		return err
	}
	var keys struct {
		PublicKeyList []struct{ Value, Fingerprint string }
	}
	if err := json.Unmarshal(raw, &keys); err != nil {
		return err
	}
	for _, k := range keys.PublicKeyList {
		der, err := base64.StdEncoding.DecodeString(k.Value)
		if err != nil {
			return err
		}
		in.Keys[k.Fingerprint] = der
	}
	return nil
}

// s3Source reads a bucket through a server's S3 API.
type s3Source struct{ f *remoteFlags }

func (s s3Source) List(_ context.Context, bucket, prefix string) ([]trail.ObjectInfo, error) {
	var out []trail.ObjectInfo
	token := ""
	for {
		q := url.Values{"list-type": {"2"}, "prefix": {prefix}}
		if token != "" {
			q.Set("continuation-token", token)
		}
		resp, raw, err := s.f.signedDo(http.MethodGet, "/"+bucket+"?"+q.Encode(), nil, "s3", nil)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("listing %s: %s", bucket, resp.Status)
		}
		var page struct {
			Contents []struct {
				Key          string
				LastModified time.Time
			}
			IsTruncated           bool
			NextContinuationToken string
		}
		if err := xml.Unmarshal(raw, &page); err != nil {
			return nil, err
		}
		for _, c := range page.Contents {
			out = append(out, trail.ObjectInfo{Key: c.Key, Modified: c.LastModified})
		}
		if !page.IsTruncated {
			return out, nil
		}
		token = page.NextContinuationToken
	}
}

func (s s3Source) Get(_ context.Context, bucket, key string) ([]byte, map[string]string, error) {
	p := "/" + bucket + "/" + (&url.URL{Path: key}).EscapedPath()
	resp, raw, err := s.f.signedDo(http.MethodGet, p, nil, "s3", nil)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil, trail.ErrNotFound
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("reading s3://%s/%s: %s", bucket, key, resp.Status)
	}
	meta := map[string]string{}
	for k, vs := range resp.Header {
		if name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-"); ok && len(vs) > 0 {
			meta[name] = vs[0]
		}
	}
	return raw, meta, nil
}
