// Package lifecycle is S3 lifecycle configuration: the document
// (parsing and AWS's validation rules) and the worker that applies it,
// expiring current versions, noncurrent versions, expired delete markers
// and incomplete multipart uploads as their time comes.
//
// The worker removes nothing itself: it deletes through the object
// service like any S3 request, so Object Lock (package protect, asked by
// the metadata store) keeps every protected version, and it measures time
// on the data-protection clock. Transitions are not supported (Coffer has
// a single storage class) and are refused rather than ignored.
package lifecycle

import (
	"encoding/xml"
	"fmt"
	"math"
	"strings"
	"time"
)

// AWS's limits.
const (
	MaxRules                   = 1000       // rules per configuration
	MaxNewerNoncurrentVersions = 100        // noncurrent versions a rule keeps
	MaxFilterSize              = 1000 << 40 // bytes an object size filter may name
)

// Error is a configuration AWS refuses, with its error code and message.
type Error struct {
	Code    string // MalformedXML, InvalidArgument, InvalidRequest, NotImplemented
	Message string
}

func (e *Error) Error() string { return "lifecycle: " + e.Code + ": " + e.Message }

func malformed() *Error {
	return &Error{Code: "MalformedXML", Message: "The XML you provided was not well-formed or did not validate against our published schema"}
}

func invalidArgument(msg string) *Error { return &Error{Code: "InvalidArgument", Message: msg} }

func invalidRequest(msg string) *Error { return &Error{Code: "InvalidRequest", Message: msg} }

// unknown catches elements the schema does not have: an unknown element
// fails the configuration instead of being ignored.
type unknown struct {
	Elements []struct {
		XMLName xml.Name
	} `xml:",any"`
}

func (u unknown) present() bool { return len(u.Elements) > 0 }

// Configuration is a bucket's lifecycle configuration.
type Configuration struct {
	XMLName xml.Name `xml:"LifecycleConfiguration"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Rules   []Rule   `xml:"Rule"`
	unknown
}

// Rule is one lifecycle rule.
type Rule struct {
	ID                             string                          `xml:"ID,omitempty"`
	Prefix                         *string                         `xml:"Prefix"` // legacy form of Filter
	Filter                         *Filter                         `xml:"Filter"`
	Status                         string                          `xml:"Status"`
	Expiration                     *Expiration                     `xml:"Expiration"`
	Transitions                    []unknown                       `xml:"Transition"`
	NoncurrentVersionTransitions   []unknown                       `xml:"NoncurrentVersionTransition"`
	NoncurrentVersionExpiration    *NoncurrentVersionExpiration    `xml:"NoncurrentVersionExpiration"`
	AbortIncompleteMultipartUpload *AbortIncompleteMultipartUpload `xml:"AbortIncompleteMultipartUpload"`
	unknown
}

// Filter selects the objects a rule applies to: exactly one of its
// fields, or none (every object).
type Filter struct {
	Prefix                *string `xml:"Prefix"`
	Tag                   *Tag    `xml:"Tag"`
	ObjectSizeGreaterThan *int64  `xml:"ObjectSizeGreaterThan"`
	ObjectSizeLessThan    *int64  `xml:"ObjectSizeLessThan"`
	And                   *And    `xml:"And"`
	unknown
}

// And combines conditions of a Filter.
type And struct {
	Prefix                *string `xml:"Prefix"`
	Tags                  []Tag   `xml:"Tag"`
	ObjectSizeGreaterThan *int64  `xml:"ObjectSizeGreaterThan"`
	ObjectSizeLessThan    *int64  `xml:"ObjectSizeLessThan"`
	unknown
}

// Tag is an object tag a filter requires.
type Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// Expiration expires current versions (Days or Date), or removes expired
// object delete markers.
type Expiration struct {
	Days                      *int    `xml:"Days"`
	Date                      *string `xml:"Date"`
	ExpiredObjectDeleteMarker *bool   `xml:"ExpiredObjectDeleteMarker"`
	unknown
}

// NoncurrentVersionExpiration removes versions some days after they
// became noncurrent, keeping the newest NewerNoncurrentVersions.
type NoncurrentVersionExpiration struct {
	NoncurrentDays          *int `xml:"NoncurrentDays"`
	NewerNoncurrentVersions *int `xml:"NewerNoncurrentVersions"`
	unknown
}

// AbortIncompleteMultipartUpload aborts uploads some days after they
// started.
type AbortIncompleteMultipartUpload struct {
	DaysAfterInitiation *int `xml:"DaysAfterInitiation"`
	unknown
}

// Parse decodes and validates a configuration document. Errors are *Error
// (the S3 layer answers XML syntax errors itself before calling Parse).
func Parse(doc []byte) (*Configuration, error) {
	var c Configuration
	if err := xml.Unmarshal(doc, &c); err != nil {
		return nil, malformed()
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate applies AWS's rules to a configuration.
func (c *Configuration) Validate() error {
	if c.present() || len(c.Rules) == 0 {
		return malformed()
	}
	if len(c.Rules) > MaxRules {
		return invalidRequest(fmt.Sprintf("Configuration must not contain more than %d rules", MaxRules))
	}
	ids := map[string]bool{}
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.ID != "" {
			if len(r.ID) > 255 {
				return invalidArgument("ID length should not exceed allowed limit of 255")
			}
			if ids[r.ID] {
				return invalidArgument("Rule ID must be unique. Found same ID for more than one rule")
			}
			ids[r.ID] = true
		}
		if err := r.validate(); err != nil {
			return err
		}
	}
	return nil
}

func (r *Rule) validate() error {
	if r.present() {
		return malformed()
	}
	if r.Status != "Enabled" && r.Status != "Disabled" {
		return malformed()
	}
	if r.Prefix != nil && r.Filter != nil {
		return malformed()
	}
	if r.Filter != nil {
		if err := r.Filter.validate(); err != nil {
			return err
		}
	}
	if len(r.Transitions) > 0 || len(r.NoncurrentVersionTransitions) > 0 {
		return &Error{Code: "NotImplemented", Message: "Coffer has a single storage class, STANDARD: lifecycle transitions are not supported"}
	}
	if r.Expiration == nil && r.NoncurrentVersionExpiration == nil && r.AbortIncompleteMultipartUpload == nil {
		return invalidRequest("At least one action needs to be specified in a rule")
	}
	if e := r.Expiration; e != nil {
		if e.present() {
			return malformed()
		}
		n := 0
		for _, set := range []bool{e.Days != nil, e.Date != nil, e.ExpiredObjectDeleteMarker != nil} {
			if set {
				n++
			}
		}
		switch {
		case n == 0:
			return malformed()
		case n > 1:
			// Days with Date, or either with ExpiredObjectDeleteMarker,
			// which S3 answers as a schema violation.
			return malformed()
		case e.Days != nil && *e.Days <= 0:
			return invalidArgument("'Days' for Expiration action must be a positive integer")
		case e.Date != nil:
			if _, err := ParseDate(*e.Date); err != nil {
				return err
			}
		}
		if e.ExpiredObjectDeleteMarker != nil {
			if err := r.unfiltered("ExpiredObjectDeleteMarker"); err != nil {
				return err
			}
		}
	}
	if nv := r.NoncurrentVersionExpiration; nv != nil {
		if nv.present() || nv.NoncurrentDays == nil {
			return malformed()
		}
		if *nv.NoncurrentDays <= 0 {
			return invalidArgument("'NoncurrentDays' in NoncurrentVersionExpiration action must be a positive integer")
		}
		if n := nv.NewerNoncurrentVersions; n != nil {
			switch {
			case r.Prefix != nil:
				return invalidRequest("NewerNoncurrentVersions element can only be used in Lifecycle V2.")
			case *n < 1:
				return invalidArgument("'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer")
			case *n > MaxNewerNoncurrentVersions:
				return invalidArgument(fmt.Sprintf("'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must not exceed %d", MaxNewerNoncurrentVersions))
			}
		}
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		if a.present() || a.DaysAfterInitiation == nil {
			return malformed()
		}
		if *a.DaysAfterInitiation <= 0 {
			return invalidArgument("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer")
		}
		if err := r.unfiltered("AbortIncompleteMultipartUpload"); err != nil {
			return err
		}
	}
	return nil
}

func (f *Filter) validate() error {
	if f.present() {
		return malformed()
	}
	n := 0
	for _, set := range []bool{f.Prefix != nil, f.Tag != nil, f.ObjectSizeGreaterThan != nil, f.ObjectSizeLessThan != nil, f.And != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return malformed()
	}
	if a := f.And; a != nil {
		if a.present() {
			return malformed()
		}
		// And combines two predicates or more.
		n := len(a.Tags)
		for _, set := range []bool{a.Prefix != nil, a.ObjectSizeGreaterThan != nil, a.ObjectSizeLessThan != nil} {
			if set {
				n++
			}
		}
		if n < 2 {
			return malformed()
		}
		seen := map[string]bool{}
		for _, t := range a.Tags {
			if seen[t.Key] {
				return invalidRequest("Duplicate Tag Keys are not allowed.")
			}
			seen[t.Key] = true
		}
		if err := sizeRange(a.ObjectSizeGreaterThan, a.ObjectSizeLessThan); err != nil {
			return err
		}
	}
	return sizeRange(f.ObjectSizeGreaterThan, f.ObjectSizeLessThan)
}

func sizeRange(gt, lt *int64) error {
	if gt != nil && (*gt < 0 || *gt > MaxFilterSize) {
		return invalidRequest(fmt.Sprintf("'ObjectSizeGreaterThan' should be between 0 and %d.", int64(MaxFilterSize)))
	}
	if lt != nil && (*lt < 1 || *lt > MaxFilterSize) {
		return invalidRequest(fmt.Sprintf("'ObjectSizeLessThan' should be between 1 and %d.", int64(MaxFilterSize)))
	}
	if gt != nil && lt != nil && *gt >= *lt {
		return invalidRequest("'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'.")
	}
	return nil
}

// unfiltered refuses an action S3 does not allow with tag or size
// filters (they describe object versions; uploads and lone delete
// markers have neither tags nor a size).
func (r *Rule) unfiltered(action string) error {
	if r.hasTagFilter() {
		return invalidRequest(action + " cannot be specified with Tags.")
	}
	if r.hasSizeFilter() {
		return invalidRequest(action + " cannot be specified with Object Size.")
	}
	return nil
}

// ParseDate parses an Expiration Date, which AWS requires to be an ISO
// 8601 midnight UTC.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if t, err = time.Parse("2006-01-02", s); err != nil {
			return time.Time{}, invalidArgument("'Date' must be in ISO 8601 format")
		}
	}
	t = t.UTC()
	if !t.Equal(t.Truncate(24 * time.Hour)) {
		return time.Time{}, invalidArgument("'Date' must be at midnight GMT")
	}
	return t, nil
}

func (r *Rule) hasTagFilter() bool {
	f := r.Filter
	return f != nil && (f.Tag != nil || (f.And != nil && len(f.And.Tags) > 0))
}

func (r *Rule) hasSizeFilter() bool {
	f := r.Filter
	return f != nil && (f.ObjectSizeGreaterThan != nil || f.ObjectSizeLessThan != nil ||
		(f.And != nil && (f.And.ObjectSizeGreaterThan != nil || f.And.ObjectSizeLessThan != nil)))
}

// prefix is the key prefix a rule applies to.
func (r *Rule) prefix() string {
	switch f := r.Filter; {
	case r.Prefix != nil:
		return *r.Prefix
	case f == nil:
	case f.Prefix != nil:
		return *f.Prefix
	case f.And != nil && f.And.Prefix != nil:
		return *f.And.Prefix
	}
	return ""
}

// matches reports whether the rule applies to an object version with
// this key, size and tags.
func (r *Rule) matches(key string, size int64, tags map[string]string) bool {
	if !strings.HasPrefix(key, r.prefix()) {
		return false
	}
	f := r.Filter
	if f == nil {
		return true
	}
	var want []Tag
	gt, lt := f.ObjectSizeGreaterThan, f.ObjectSizeLessThan
	if f.Tag != nil {
		want = []Tag{*f.Tag}
	}
	if a := f.And; a != nil {
		want, gt, lt = a.Tags, a.ObjectSizeGreaterThan, a.ObjectSizeLessThan
	}
	for _, t := range want {
		if v, ok := tags[t.Key]; !ok || v != t.Value {
			return false
		}
	}
	return (gt == nil || size > *gt) && (lt == nil || size < *lt)
}

// due is when an action N days after t takes effect: t plus N days,
// rounded up to the next day boundary, as S3 computes it. With 24-hour
// days the boundaries are midnights UTC (time.Truncate counts from
// midnight UTC of year 1); shorter days exist for tests.
func due(t time.Time, days int, day time.Duration) time.Time {
	if int64(days) > math.MaxInt64/int64(day)-1 {
		// Beyond what a Duration holds: never, in practice.
		return time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	}
	d := t.UTC().Add(time.Duration(days) * day)
	if m := d.Truncate(day); !m.Equal(d) {
		return m.Add(day)
	}
	return d
}
