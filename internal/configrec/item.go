// Package configrec is the configuration recorder: it keeps a history of
// configuration items, in AWS Config's shape, for every bucket
// (AWS::S3::Bucket) and every account's S3 settings
// (AWS::S3::AccountPublicAccessBlock). It learns of changes from audit
// events, reads the current state from the stores, and records an item
// only when the configuration actually changed, with who changed it.
package configrec

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"time"

	"github.com/coffer-io/coffer/internal/s3api"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Resource types.
const (
	TypeBucket        = "AWS::S3::Bucket"
	TypeAccountPAB    = "AWS::S3::AccountPublicAccessBlock"
	itemVersion       = "1.3"
	statusOK          = "OK"
	StatusDiscovered  = "ResourceDiscovered"
	StatusDeleted     = "ResourceDeleted"
	recordingContinue = "CONTINUOUS"
)

// Item is one configuration item, as AWS Config's API returns it.
type Item struct {
	Version                    string            `json:"version"`
	AccountID                  string            `json:"accountId"`
	Status                     string            `json:"configurationItemStatus"`
	StateID                    string            `json:"configurationStateId"`
	MD5Hash                    string            `json:"configurationItemMD5Hash"`
	ARN                        string            `json:"arn"`
	ResourceType               string            `json:"resourceType"`
	ResourceID                 string            `json:"resourceId"`
	ResourceName               string            `json:"resourceName,omitempty"`
	Region                     string            `json:"awsRegion"`
	AvailabilityZone           string            `json:"availabilityZone"`
	Tags                       map[string]string `json:"tags,omitempty"`
	RelatedEvents              []string          `json:"relatedEvents"`
	Relationships              []any             `json:"relationships"`
	Configuration              string            `json:"configuration"`
	SupplementaryConfiguration map[string]string `json:"supplementaryConfiguration"`
	RecordingFrequency         string            `json:"recordingFrequency"`
}

// Record is a stored item and the change that produced it.
type Record struct {
	Item Item `json:"item"`
	// The times live here, not in Item: the API renders them in its own
	// format (seconds since the epoch).
	CaptureTime  time.Time `json:"captureTime"`
	CreationTime time.Time `json:"creationTime,omitzero"`
	// ChangedBy is the principal ARN whose request changed the
	// configuration ("" for the baseline); Operation and RequestID name
	// that request.
	ChangedBy string `json:"changedBy,omitempty"`
	Operation string `json:"operation,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// ResourceKey names one recorded resource.
type ResourceKey struct {
	Account, Type, ID string
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain data is marshalled
	}
	return string(b)
}

// Supplementary configuration value shapes (AWS Config's, camelCase).
type (
	// PABConfig is PublicAccessBlockConfiguration.
	PABConfig struct {
		BlockPublicAcls       bool `json:"blockPublicAcls"`
		IgnorePublicAcls      bool `json:"ignorePublicAcls"`
		BlockPublicPolicy     bool `json:"blockPublicPolicy"`
		RestrictPublicBuckets bool `json:"restrictPublicBuckets"`
	}
	// PolicyConfig is BucketPolicy.
	PolicyConfig struct {
		PolicyText *string `json:"policyText"`
	}
	// ACLConfig is AccessControlList.
	ACLConfig struct {
		GrantSet  any        `json:"grantSet"`
		GrantList []ACLGrant `json:"grantList"`
		Owner     struct {
			DisplayName *string `json:"displayName"`
			ID          string  `json:"id"`
		} `json:"owner"`
		IsRequesterCharged bool `json:"isRequesterCharged"`
	}
	// ACLGrant is one grant: Grantee is a group name ("AllUsers",
	// "AuthenticatedUsers", "LogDelivery") or {"id": canonical ID}.
	ACLGrant struct {
		Grantee    any    `json:"grantee"`
		Permission string `json:"permission"`
	}
	// EncryptionConfig is ServerSideEncryptionConfiguration.
	EncryptionConfig struct {
		Rules []EncryptionRule `json:"rules"`
	}
	// EncryptionRule is one default-encryption rule.
	EncryptionRule struct {
		ApplyServerSideEncryptionByDefault struct {
			SSEAlgorithm   string  `json:"sseAlgorithm"`
			KMSMasterKeyID *string `json:"kmsMasterKeyID"`
		} `json:"applyServerSideEncryptionByDefault"`
		BucketKeyEnabled bool `json:"bucketKeyEnabled"`
	}
	// VersioningConfig is BucketVersioningConfiguration.
	VersioningConfig struct {
		Status             string `json:"status"`
		IsMfaDeleteEnabled *bool  `json:"isMfaDeleteEnabled"`
	}
	// LoggingConfig is BucketLoggingConfiguration.
	LoggingConfig struct {
		DestinationBucketName *string `json:"destinationBucketName"`
		LogFilePrefix         *string `json:"logFilePrefix"`
	}
	// LockConfig is ObjectLockConfiguration.
	LockConfig struct {
		ObjectLockEnabled string `json:"objectLockEnabled"`
		Rule              *struct {
			DefaultRetention struct {
				Mode  string `json:"mode"`
				Days  int    `json:"days"`
				Years int    `json:"years"`
			} `json:"defaultRetention"`
		} `json:"rule"`
	}
	// LifecycleConfig is BucketLifecycleConfiguration.
	LifecycleConfig struct {
		Rules []LifecycleRule `json:"rules"`
	}
	// LifecycleRule is one lifecycle rule.
	LifecycleRule struct {
		ID                                string `json:"id"`
		Status                            string `json:"status"`
		Prefix                            string `json:"prefix,omitempty"`
		ExpirationInDays                  int    `json:"expirationInDays"`
		ExpirationDate                    string `json:"expirationDate,omitempty"`
		ExpiredObjectDeleteMarker         bool   `json:"expiredObjectDeleteMarker"`
		NoncurrentVersionExpirationInDays int    `json:"noncurrentVersionExpirationInDays"`
		Transitions                       []any  `json:"transitions"`
		AbortIncompleteMultipartUpload    *struct {
			DaysAfterInitiation int `json:"daysAfterInitiation"`
		} `json:"abortIncompleteMultipartUpload"`
	}
	// TaggingConfig is BucketTaggingConfiguration.
	TaggingConfig struct {
		TagSets []struct {
			Tags map[string]string `json:"tags"`
		} `json:"tagSets"`
	}
)

// Supplementary configuration keys.
const (
	SupACL        = "AccessControlList"
	SupPolicy     = "BucketPolicy"
	SupPAB        = "PublicAccessBlockConfiguration"
	SupEncryption = "ServerSideEncryptionConfiguration"
	SupVersioning = "BucketVersioningConfiguration"
	SupLogging    = "BucketLoggingConfiguration"
	SupLock       = "ObjectLockConfiguration"
	SupLifecycle  = "BucketLifecycleConfiguration"
	SupTagging    = "BucketTaggingConfiguration"
	SupOwnership  = "BucketOwnershipControls"
)

var groupNames = map[string]string{
	s3api.GroupAllUsers:      "AllUsers",
	s3api.GroupAuthenticated: "AuthenticatedUsers",
	s3api.GroupLogDelivery:   "LogDelivery",
}

var permNames = map[string]string{
	"READ": "Read", "WRITE": "Write", "READ_ACP": "ReadAcp", "WRITE_ACP": "WriteAcp", "FULL_CONTROL": "FullControl",
}

// BucketItem builds the configuration item of a bucket. ownerCanonical
// is the owning account's canonical user ID (the ACL's owner).
func BucketItem(b *meta.Bucket, ownerCanonical string) Item {
	s := s3api.BucketStateOf(b)
	it := newItem(b.Owner, TypeBucket, b.Name, b.Region)
	it.ResourceName = b.Name
	it.ARN = "arn:aws:s3:::" + b.Name
	it.Configuration = mustJSON(map[string]any{
		"name": b.Name, "owner": map[string]any{"displayName": nil, "id": ownerCanonical},
		"creationDate": b.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
	})
	if len(s.Tags) > 0 {
		it.Tags = s.Tags
	}
	sup := it.SupplementaryConfiguration

	var acl ACLConfig
	acl.Owner.ID = ownerCanonical
	grants := s.ACL
	if grants == nil {
		grants = []s3api.StateGrant{{ID: ownerCanonical, Permission: "FULL_CONTROL"}}
	}
	acl.GrantList = []ACLGrant{}
	for _, g := range grants {
		var who any = map[string]any{"id": g.ID, "displayName": nil}
		if g.URI != "" {
			who = groupNames[g.URI]
			if who == "" {
				who = g.URI
			}
		}
		acl.GrantList = append(acl.GrantList, ACLGrant{Grantee: who, Permission: permNames[g.Permission]})
	}
	// AWS Config encodes this one value twice.
	sup[SupACL] = mustJSON(mustJSON(acl))

	pol := PolicyConfig{}
	if s.Policy != nil {
		t := string(s.Policy)
		pol.PolicyText = &t
	}
	sup[SupPolicy] = mustJSON(pol)

	if p := s.PublicAccessBlock; p != nil {
		sup[SupPAB] = mustJSON(PABConfig{p.BlockPublicAcls, p.IgnorePublicAcls, p.BlockPublicPolicy, p.RestrictPublicBuckets})
	}
	var enc EncryptionRule
	enc.ApplyServerSideEncryptionByDefault.SSEAlgorithm = s.Encryption.Algorithm
	if s.Encryption.KMSMasterKeyID != "" {
		k := s.Encryption.KMSMasterKeyID
		enc.ApplyServerSideEncryptionByDefault.KMSMasterKeyID = &k
	}
	enc.BucketKeyEnabled = s.Encryption.BucketKeyEnabled
	sup[SupEncryption] = mustJSON(EncryptionConfig{Rules: []EncryptionRule{enc}})

	ver := VersioningConfig{Status: "Off"}
	if b.Versioning != "" {
		ver.Status = b.Versioning
	}
	if b.Versioning != "" {
		m := b.MFADelete == "Enabled"
		ver.IsMfaDeleteEnabled = &m
	}
	sup[SupVersioning] = mustJSON(ver)

	var lg LoggingConfig
	if s.LoggingBucket != "" {
		lg.DestinationBucketName, lg.LogFilePrefix = &s.LoggingBucket, &s.LoggingPrefix
	}
	sup[SupLogging] = mustJSON(lg)

	if b.ObjectLockEnabled {
		var lc LockConfig
		lc.ObjectLockEnabled = "Enabled"
		if r := b.DefaultRetention; r != nil {
			lc.Rule = &struct {
				DefaultRetention struct {
					Mode  string `json:"mode"`
					Days  int    `json:"days"`
					Years int    `json:"years"`
				} `json:"defaultRetention"`
			}{}
			lc.Rule.DefaultRetention.Mode = r.Mode
			lc.Rule.DefaultRetention.Days = r.Days
			lc.Rule.DefaultRetention.Years = r.Years
		}
		sup[SupLock] = mustJSON(lc)
	}
	if s.HasLifecycle {
		lc := LifecycleConfig{Rules: []LifecycleRule{}}
		for _, r := range s.Lifecycle {
			lr := LifecycleRule{ID: r.ID, Status: r.Status, Prefix: r.Prefix, ExpirationInDays: r.ExpirationInDays,
				ExpirationDate: r.ExpirationDate, ExpiredObjectDeleteMarker: r.ExpiredObjectDeleteMarker,
				NoncurrentVersionExpirationInDays: r.NoncurrentVersionExpirationInDays, Transitions: []any{}}
			if r.AbortIncompleteDays > 0 {
				lr.AbortIncompleteMultipartUpload = &struct {
					DaysAfterInitiation int `json:"daysAfterInitiation"`
				}{r.AbortIncompleteDays}
			}
			lc.Rules = append(lc.Rules, lr)
		}
		sup[SupLifecycle] = mustJSON(lc)
	}
	if len(s.Tags) > 0 {
		var tc TaggingConfig
		tc.TagSets = append(tc.TagSets, struct {
			Tags map[string]string `json:"tags"`
		}{s.Tags})
		sup[SupTagging] = mustJSON(tc)
	}
	if s.Ownership != "" {
		sup[SupOwnership] = mustJSON(map[string]any{"rules": []any{map[string]string{"objectOwnership": s.Ownership}}})
	}
	sup["IsRequesterPaysEnabled"] = "false"
	return it
}

// AccountItem builds the item of an account's Block Public Access
// setting; ok is false when the account has none.
func AccountItem(account, region string, st *meta.AccountSettings) (Item, bool) {
	p := s3api.AccountPublicAccessBlockOf(st)
	if p == nil {
		return Item{}, false
	}
	it := newItem(account, TypeAccountPAB, account, region)
	it.Configuration = mustJSON(PABConfig{p.BlockPublicAcls, p.IgnorePublicAcls, p.BlockPublicPolicy, p.RestrictPublicBuckets})
	return it, true
}

// DeletedItem is the item recorded when a resource goes away.
func DeletedItem(prev Item) Item {
	it := newItem(prev.AccountID, prev.ResourceType, prev.ResourceID, prev.Region)
	it.ResourceName, it.ARN = prev.ResourceName, prev.ARN
	it.Status = StatusDeleted
	it.Configuration = ""
	it.SupplementaryConfiguration = map[string]string{}
	return it
}

func newItem(account, typ, id, region string) Item {
	return Item{
		Version: itemVersion, AccountID: account, Status: statusOK, ResourceType: typ, ResourceID: id,
		Region: region, AvailabilityZone: "Regional", RelatedEvents: []string{}, Relationships: []any{},
		SupplementaryConfiguration: map[string]string{}, RecordingFrequency: recordingContinue,
	}
}

// Fingerprint is a digest of what an item says about the configuration
// (not when it was captured): two items with equal fingerprints record
// the same state.
func (it *Item) Fingerprint() string {
	keys := make([]string, 0, len(it.SupplementaryConfiguration))
	for k := range it.SupplementaryConfiguration {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := md5.New()
	w := func(s string) { h.Write([]byte(strconv.Itoa(len(s)) + ":" + s)) }
	st := it.Status
	if st == StatusDiscovered {
		st = statusOK // a first item says the same as a later one
	}
	w(st)
	w(it.Configuration)
	for _, k := range keys {
		w(k)
		w(it.SupplementaryConfiguration[k])
	}
	tk := make([]string, 0, len(it.Tags))
	for k := range it.Tags {
		tk = append(tk, k)
	}
	sort.Strings(tk)
	for _, k := range tk {
		w(k)
		w(it.Tags[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}
