package trail

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Event history: every account's management events of the retention
// window (90 days by default, as in AWS), read straight from the journal,
// newest first, as LookupEvents returns them.

// DefaultHistoryRetention is CloudTrail's event history window.
const DefaultHistoryRetention = 90 * 24 * time.Hour

// Lookup attribute keys (LookupEvents' AttributeKey).
const (
	AttrEventID      = "EventId"
	AttrEventName    = "EventName"
	AttrReadOnly     = "ReadOnly"
	AttrUsername     = "Username"
	AttrResourceType = "ResourceType"
	AttrResourceName = "ResourceName"
	AttrEventSource  = "EventSource"
	AttrAccessKeyID  = "AccessKeyId"
)

// ErrInvalidLookup reports an unknown attribute key or a bad token.
var ErrInvalidLookup = errors.New("trail: invalid lookup")

// LookupQuery selects events of one account.
type LookupQuery struct {
	// Account is the recipient account ("" for every account: the
	// operator's offline lookups).
	Account    string
	Start, End time.Time // zero: unbounded (within retention)
	// Attributes are (key, value) pairs that must all match.
	Attributes [][2]string
	MaxResults int    // 1..50; 0 means 50
	NextToken  string // from a previous page
	// Management limits results to management events (the event
	// history); data events are kept only for trails.
	Management bool
}

// LookupResult is one page.
type LookupResult struct {
	Events    []*Record
	Raw       [][]byte // each event's record as stored
	NextToken string
}

// Lookup reads the event history. now and retention bound how far back it
// looks.
func (j *Journal) Lookup(q LookupQuery, now time.Time, retention time.Duration) (*LookupResult, error) {
	if q.MaxResults <= 0 || q.MaxResults > 50 {
		q.MaxResults = 50
	}
	for _, a := range q.Attributes {
		switch a[0] {
		case AttrEventID, AttrEventName, AttrReadOnly, AttrUsername, AttrResourceType, AttrResourceName, AttrEventSource, AttrAccessKeyID:
		default:
			return nil, ErrInvalidLookup
		}
	}
	before := int64(-1)
	if q.NextToken != "" {
		n, err := strconv.ParseInt(q.NextToken, 10, 64)
		if err != nil || n < 0 {
			return nil, ErrInvalidLookup
		}
		before = n
	}
	oldest := now.Add(-retention)
	if q.Start.After(oldest) {
		oldest = q.Start
	}
	acct := []byte(`"recipientAccountId":"` + q.Account + `"`)
	type hit struct {
		off int64
		rec *Record
		raw []byte
	}
	// Keep the newest MaxResults+1 matches (one more tells whether a
	// further page exists).
	var ring []hit
	err := j.Scan(0, func(l Line) bool {
		if before >= 0 && l.Offset >= before {
			return false
		}
		if q.Account != "" && !bytes.Contains(l.Data, acct) {
			return true
		}
		var r Record
		if json.Unmarshal(l.Data, &r) != nil {
			return true
		}
		t, err := time.Parse(time.RFC3339, r.EventTime)
		if err != nil || t.Before(oldest) || (!q.End.IsZero() && t.After(q.End)) {
			return true
		}
		if q.Management && !r.ManagementEvent {
			return true
		}
		for _, a := range q.Attributes {
			if !matches(&r, a[0], a[1]) {
				return true
			}
		}
		ring = append(ring, hit{l.Offset, &r, append([]byte(nil), l.Data...)})
		if len(ring) > q.MaxResults+1 {
			ring = ring[1:]
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	res := &LookupResult{}
	if len(ring) > q.MaxResults {
		ring = ring[1:]
		res.NextToken = strconv.FormatInt(ring[0].off, 10)
	}
	for i := len(ring) - 1; i >= 0; i-- {
		res.Events = append(res.Events, ring[i].rec)
		res.Raw = append(res.Raw, ring[i].raw)
	}
	return res, nil
}

// Username is LookupEvents' Username of a record: the IAM user name,
// "root", or a role session's name.
func Username(r *Record) string {
	u := r.UserIdentity
	switch {
	case u.UserName != "":
		return u.UserName
	case u.Type == "Root":
		return "root"
	case u.Type == "AssumedRole":
		return u.ARN[strings.LastIndexByte(u.ARN, '/')+1:]
	}
	return ""
}

func matches(r *Record, key, value string) bool {
	switch key {
	case AttrEventID:
		return r.EventID == value
	case AttrEventName:
		return r.EventName == value
	case AttrReadOnly:
		return strconv.FormatBool(r.ReadOnly) == value
	case AttrUsername:
		return Username(r) == value
	case AttrEventSource:
		return r.EventSource == value
	case AttrAccessKeyID:
		return r.UserIdentity.AccessKeyID == value
	case AttrResourceType, AttrResourceName:
		for _, res := range r.Resources {
			if key == AttrResourceType && res.Type == value {
				return true
			}
			if key == AttrResourceName && (res.ARN == value || res.ARNPrefix == value || ResourceName(res) == value) {
				return true
			}
		}
	}
	return false
}

// ResourceName is how LookupEvents names a resource: a bucket by its
// name, anything else by its ARN.
func ResourceName(res Resource) string {
	arn := res.ARN
	if arn == "" {
		arn = res.ARNPrefix
	}
	if res.Type == "AWS::S3::Bucket" {
		return strings.TrimPrefix(arn, "arn:aws:s3:::")
	}
	return arn
}
