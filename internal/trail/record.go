// Package trail turns audit events into CloudTrail records, keeps them in
// a durable journal before requests are acknowledged, answers event
// history lookups, delivers log files of configured trails to buckets or
// directories in CloudTrail's layout, and signs hourly digest files that
// chain those log files together so that tampering can be detected.
package trail

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
)

// EventVersion is the CloudTrail record format version written.
const EventVersion = "1.11"

// Record is one CloudTrail event record. Field order follows AWS's.
type Record struct {
	EventVersion        string         `json:"eventVersion"`
	UserIdentity        UserIdentity   `json:"userIdentity"`
	EventTime           string         `json:"eventTime"`
	EventSource         string         `json:"eventSource"`
	EventName           string         `json:"eventName"`
	AWSRegion           string         `json:"awsRegion"`
	SourceIPAddress     string         `json:"sourceIPAddress"`
	UserAgent           string         `json:"userAgent,omitempty"`
	ErrorCode           string         `json:"errorCode,omitempty"`
	ErrorMessage        string         `json:"errorMessage,omitempty"`
	RequestParameters   map[string]any `json:"requestParameters"`
	ResponseElements    map[string]any `json:"responseElements"`
	AdditionalEventData map[string]any `json:"additionalEventData,omitempty"`
	RequestID           string         `json:"requestID"`
	EventID             string         `json:"eventID"`
	ReadOnly            bool           `json:"readOnly"`
	Resources           []Resource     `json:"resources,omitempty"`
	EventType           string         `json:"eventType"`
	ManagementEvent     bool           `json:"managementEvent"`
	RecipientAccountID  string         `json:"recipientAccountId"`
	SharedEventID       string         `json:"sharedEventID,omitempty"`
	EventCategory       string         `json:"eventCategory"`
	TLSDetails          *TLSDetails    `json:"tlsDetails,omitempty"`
}

// UserIdentity is CloudTrail's userIdentity.
type UserIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
}

// SessionContext is userIdentity.sessionContext of temporary credentials.
type SessionContext struct {
	SessionIssuer  *SessionIssuer    `json:"sessionIssuer,omitempty"`
	Attributes     map[string]string `json:"attributes"`
	SourceIdentity string            `json:"sourceIdentity,omitempty"`
}

// SessionIssuer is the role (or user) that issued a session.
type SessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// Resource is one entry of a record's resources.
type Resource struct {
	Type      string `json:"type"`
	ARN       string `json:"ARN,omitempty"`
	ARNPrefix string `json:"ARNPrefix,omitempty"`
	AccountID string `json:"accountId,omitempty"`
}

// TLSDetails is CloudTrail's tlsDetails.
type TLSDetails struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// eventSources are CloudTrail's eventSource per service.
var eventSources = map[string]string{
	"s3":         "s3.amazonaws.com",
	"s3control":  "s3.amazonaws.com",
	"iam":        "iam.amazonaws.com",
	"sts":        "sts.amazonaws.com",
	"kms":        "kms.amazonaws.com",
	"cloudtrail": "cloudtrail.amazonaws.com",
	"config":     "config.amazonaws.com",
	"admin":      "coffer.amazonaws.com",
}

// eventNames are S3's renamings in CloudTrail.
var eventNames = map[string]string{
	"ListObjectsV2":                   "ListObjects",
	"PutBucketLifecycleConfiguration": "PutBucketLifecycle",
	"GetBucketLifecycleConfiguration": "GetBucketLifecycle",
	"PostObject":                      "PutObject",
}

// maxUserAgent is CloudTrail's bound on userAgent.
const maxUserAgent = 1024

// FromEvent builds the records of an audited request: one for the
// caller's account and, when the request acted on another account's
// bucket, a copy for the bucket owner sharing its sharedEventID.
func FromEvent(e *audit.Event) []*Record {
	r := &Record{
		EventVersion:        EventVersion,
		UserIdentity:        identity(e),
		EventTime:           e.Time.UTC().Format(time.RFC3339),
		EventSource:         eventSources[e.Service],
		EventName:           e.Operation,
		AWSRegion:           e.Region,
		SourceIPAddress:     e.SourceIP,
		ErrorCode:           e.ErrorCode,
		ErrorMessage:        truncate(e.ErrorMessage, 1024),
		RequestParameters:   e.RequestParameters,
		ResponseElements:    e.ResponseElements,
		AdditionalEventData: e.AdditionalEventData,
		RequestID:           e.RequestID,
		EventID:             newUUID(),
		ReadOnly:            e.ReadOnly,
		EventType:           "AwsApiCall",
		ManagementEvent:     !e.Data,
		EventCategory:       "Management",
	}
	if r.EventSource == "" {
		r.EventSource = e.Service + ".amazonaws.com"
	}
	if n, ok := eventNames[e.Operation]; ok && (e.Service == "s3" || e.Service == "") {
		r.EventName = n
	}
	if e.Data {
		r.EventCategory = "Data"
	}
	if e.Service == "s3" || e.Service == "s3control" {
		// S3 wraps the user agent in brackets.
		r.UserAgent = "[" + truncate(e.UserAgent, maxUserAgent-2) + "]"
	} else {
		r.UserAgent = truncate(e.UserAgent, maxUserAgent)
	}
	if e.ErrorCode == "" && e.Outcome == audit.OutcomeDenied {
		r.ErrorCode = "AccessDenied"
	}
	if e.TLS {
		r.TLSDetails = &TLSDetails{TLSVersion: tlsVersion(e.TLSVersion), CipherSuite: e.CipherSuite, ClientProvidedHostHeader: e.Host}
	}
	if e.Bucket != "" {
		if e.Key != "" {
			r.Resources = append(r.Resources, Resource{Type: "AWS::S3::Object", ARN: "arn:aws:s3:::" + e.Bucket + "/" + e.Key})
		} else if e.Data {
			prefix, _ := e.RequestParameters["prefix"].(string)
			r.Resources = append(r.Resources, Resource{Type: "AWS::S3::Object", ARNPrefix: "arn:aws:s3:::" + e.Bucket + "/" + prefix})
		}
		r.Resources = append(r.Resources, Resource{Type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::" + e.Bucket, AccountID: e.BucketOwner})
	} else if e.Resource != "" && e.Resource != "*" {
		r.Resources = append(r.Resources, Resource{Type: resourceType(e.Service), ARN: e.Resource})
	}
	caller := e.AccountID
	owner := e.BucketOwner
	switch {
	case caller == "" && owner == "":
		// Nobody to deliver to: an unauthenticated call on nothing.
		// It still lands in the installation's history under no
		// account, where lookups by the operator find it.
		return []*Record{r}
	case caller == "" || caller == owner || owner == "":
		if caller == "" {
			caller = owner
		}
		r.RecipientAccountID = caller
		return []*Record{r}
	}
	// Cross-account: the caller's and the owner's copies.
	r.SharedEventID = newUUID()
	r.RecipientAccountID = caller
	c := *r
	c.EventID = newUUID()
	c.RecipientAccountID = owner
	return []*Record{r, &c}
}

func resourceType(service string) string {
	switch service {
	case "kms":
		return "AWS::KMS::Key"
	case "iam":
		return "AWS::IAM::Resource"
	case "cloudtrail":
		return "AWS::CloudTrail::Trail"
	}
	return "AWS::" + service
}

func identity(e *audit.Event) UserIdentity {
	if e.AccountID == "" {
		if e.PrincipalType == "" {
			// Authentication failed before a principal was known.
			return UserIdentity{Type: "Unknown", AccessKeyID: e.AccessKeyID}
		}
		return UserIdentity{Type: "AWSAccount", PrincipalID: "", AccountID: "anonymous"}
	}
	u := UserIdentity{
		Type:        e.PrincipalType,
		PrincipalID: e.PrincipalID,
		ARN:         e.PrincipalARN,
		AccountID:   e.AccountID,
		AccessKeyID: e.AccessKeyID,
		UserName:    e.UserName,
	}
	if s := e.Session; s != nil {
		sc := &SessionContext{Attributes: map[string]string{
			"creationDate":     s.CreationDate.UTC().Format(time.RFC3339),
			"mfaAuthenticated": fmt.Sprint(s.MFAAuthenticated),
		}, SourceIdentity: s.SourceIdentity}
		if s.IssuerARN != "" {
			sc.SessionIssuer = &SessionIssuer{Type: s.IssuerType, PrincipalID: s.IssuerPrincipalID, ARN: s.IssuerARN, AccountID: s.IssuerAccountID, UserName: s.IssuerUserName}
		}
		u.SessionContext = sc
	}
	return u
}

// tlsVersion is CloudTrail's spelling of a TLS version ("TLSv1.3").
func tlsVersion(v string) string {
	switch v {
	case "TLS 1.3":
		return "TLSv1.3"
	case "TLS 1.2":
		return "TLSv1.2"
	}
	return v
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
