package accesslog

import (
	"encoding/xml"
	"errors"
	"time"
)

// Status is the BucketLoggingStatus document of PutBucketLogging and
// GetBucketLogging. Without LoggingEnabled, logging is off.
type Status struct {
	XMLName xml.Name `xml:"BucketLoggingStatus"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Enabled *Enabled `xml:"LoggingEnabled"`
}

// Enabled says where a bucket's logs go.
type Enabled struct {
	TargetBucket *string      `xml:"TargetBucket"`
	TargetGrants *TargetGrant `xml:"TargetGrants"`
	TargetPrefix *string      `xml:"TargetPrefix"`
	KeyFormat    *KeyFormat   `xml:"TargetObjectKeyFormat"`
}

// TargetGrant holds the grants of log objects. Coffer keeps them only to
// refuse them: see the PutBucketLogging handler.
type TargetGrant struct {
	Grants []struct {
		Inner []byte `xml:",innerxml"`
	} `xml:"Grant"`
}

// KeyFormat is TargetObjectKeyFormat: exactly one of SimplePrefix or
// PartitionedPrefix.
type KeyFormat struct {
	Simple      *struct{}    `xml:"SimplePrefix"`
	Partitioned *Partitioned `xml:"PartitionedPrefix"`
}

// Partitioned is PartitionedPrefix.
type Partitioned struct {
	DateSource string `xml:"PartitionDateSource"`
}

// Partition date sources.
const (
	EventTime    = "EventTime"
	DeliveryTime = "DeliveryTime"
)

// Target is a validated logging destination.
type Target struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
	// Partitioned selects the partitioned key format; DateSource is then
	// EventTime or DeliveryTime.
	Partitioned bool   `json:"partitioned,omitempty"`
	DateSource  string `json:"dateSource,omitempty"`
}

// Errors of Validate. The S3 layer maps them to its error responses.
var (
	ErrMalformed   = errors.New("accesslog: malformed logging status")
	ErrHasGrants   = errors.New("accesslog: target grants")
	ErrPrefixLong  = errors.New("accesslog: target prefix too long")
	ErrBadDateSrc  = errors.New("accesslog: invalid partition date source")
	maxPrefixBytes = 900 // leaves room for the partitioned key within S3's 1024-byte limit
)

// Validate checks a parsed document and returns its target (nil when
// logging is off).
func (s *Status) Validate() (*Target, error) {
	e := s.Enabled
	if e == nil {
		return nil, nil
	}
	if e.TargetBucket == nil || e.TargetPrefix == nil || *e.TargetBucket == "" {
		return nil, ErrMalformed
	}
	if len(*e.TargetPrefix) > maxPrefixBytes {
		return nil, ErrPrefixLong
	}
	t := &Target{Bucket: *e.TargetBucket, Prefix: *e.TargetPrefix}
	if f := e.KeyFormat; f != nil {
		switch {
		case f.Simple != nil && f.Partitioned != nil:
			return nil, ErrMalformed
		case f.Partitioned != nil:
			t.Partitioned = true
			t.DateSource = f.Partitioned.DateSource
			switch t.DateSource {
			case "":
				t.DateSource = EventTime
			case EventTime, DeliveryTime:
			default:
				return nil, ErrBadDateSrc
			}
		}
	}
	if e.TargetGrants != nil && len(e.TargetGrants.Grants) > 0 {
		return t, ErrHasGrants
	}
	return t, nil
}

// Document renders a target as the GetBucketLogging answer.
func Document(t *Target) *Status {
	s := &Status{Xmlns: "http://s3.amazonaws.com/doc/2006-03-01/"}
	if t == nil {
		return s
	}
	b, p := t.Bucket, t.Prefix
	s.Enabled = &Enabled{TargetBucket: &b, TargetPrefix: &p}
	if t.Partitioned {
		s.Enabled.KeyFormat = &KeyFormat{Partitioned: &Partitioned{DateSource: t.DateSource}}
	}
	return s
}

// ObjectKey is the key of a log object: SimplePrefix
// prefix + YYYY-mm-DD-HH-MM-SS-UNIQUE, or PartitionedPrefix
// prefix + account/region/bucket/YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-UNIQUE
// (EventTime partitions by the first event's day with hh-mm-ss 00-00-00).
func (t *Target) ObjectKey(sourceAccount, region, sourceBucket string, delivered, firstEvent time.Time, unique string) string {
	delivered = delivered.UTC()
	if !t.Partitioned {
		return t.Prefix + delivered.Format("2006-01-02-15-04-05") + "-" + unique
	}
	day := delivered
	stamp := delivered.Format("2006-01-02-15-04-05")
	if t.DateSource == EventTime {
		day = firstEvent.UTC()
		stamp = day.Format("2006-01-02") + "-00-00-00"
	}
	return t.Prefix + sourceAccount + "/" + region + "/" + sourceBucket + "/" + day.Format("2006/01/02") + "/" + stamp + "-" + unique
}
