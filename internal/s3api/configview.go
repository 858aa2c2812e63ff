package s3api

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"github.com/coffer-io/coffer/internal/accesslog"

	"github.com/coffer-io/coffer/internal/lifecycle"
	"github.com/coffer-io/coffer/internal/policy"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// The configuration recorder and the compliance rules read a bucket's
// configuration as it is stored; the stored forms are this package's, so
// the decoding lives here. Remediations change a configuration through the
// same encoders and validation as the S3 calls that set it.

// BucketState is a bucket's security-relevant configuration, decoded.
type BucketState struct {
	Policy []byte // bucket policy text, nil if none
	// ACL is the bucket's ACL; the default (no stored ACL) is the owner's
	// FULL_CONTROL, given as OwnerFullControl.
	ACL       []StateGrant
	Ownership string // ObjectOwnership ("" if never set)
	// PublicAccessBlock is the bucket's own setting (nil: none).
	PublicAccessBlock *PublicAccessBlockState
	Encryption        EncryptionState
	Lifecycle         []LifecycleRuleState
	HasLifecycle      bool
	// Logging is the server-access-logging target ("" bucket: off).
	LoggingBucket, LoggingPrefix string
	Tags                         map[string]string
	CORSRules                    int
}

// StateGrant is one ACL grant: to a canonical user (ID) or a group (URI).
type StateGrant struct {
	ID, URI, Permission string
}

// Group URIs.
const (
	GroupAllUsers      = groupAllUsers
	GroupAuthenticated = groupAuthenticated
	GroupLogDelivery   = groupLogDelivery
)

// PublicAccessBlockState holds the four Block Public Access settings.
type PublicAccessBlockState struct {
	BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets bool
}

// EncryptionState is the default encryption (every bucket has one).
type EncryptionState struct {
	Algorithm        string // AES256, aws:kms, aws:kms:dsse
	KMSMasterKeyID   string
	BucketKeyEnabled bool
	Stored           bool // false: the implicit SSE-S3 default
}

// LifecycleRuleState is one lifecycle rule, as AWS Config shows it.
type LifecycleRuleState struct {
	ID                                string
	Status                            string
	Prefix                            string
	ExpirationInDays                  int
	ExpirationDate                    string
	ExpiredObjectDeleteMarker         bool
	NoncurrentVersionExpirationInDays int
	AbortIncompleteDays               int
}

// BucketStateOf decodes a bucket record's configuration documents.
func BucketStateOf(b *meta.Bucket) BucketState {
	var s BucketState
	if p, ok := b.Configs[cfgPolicy]; ok && len(p) > 0 {
		s.Policy = append([]byte(nil), p...)
	}
	if g, ok := decodeACL(b.Configs[cfgACL]); ok {
		s.ACL = make([]StateGrant, 0, len(g))
		for _, x := range g {
			s.ACL = append(s.ACL, StateGrant{ID: x.ID, URI: x.URI, Permission: x.Perm})
		}
	}
	s.Ownership = string(b.Configs[cfgOwnership])
	if raw, ok := b.Configs[cfgPublicAccessBlock]; ok {
		p := decodePAB(raw)
		s.PublicAccessBlock = &PublicAccessBlockState{p.BlockPublicAcls, p.IgnorePublicAcls, p.BlockPublicPolicy, p.RestrictPublicBuckets}
	}
	enc := bucketEncryption(b)
	_, s.Encryption.Stored = b.Configs[cfgEncryption]
	if d := enc.rule().Default; d != nil {
		s.Encryption.Algorithm, s.Encryption.KMSMasterKeyID = d.SSEAlgorithm, d.KMSMasterKeyID
	}
	if bk := enc.rule().BucketKeyEnabled; bk != nil {
		s.Encryption.BucketKeyEnabled = *bk
	}
	if raw, ok := b.Configs[lifecycle.ConfigName]; ok {
		var c lifecycle.Configuration
		if xml.Unmarshal(raw, &c) == nil {
			s.HasLifecycle = true
			for _, r := range c.Rules {
				s.Lifecycle = append(s.Lifecycle, lifecycleRuleState(r))
			}
		}
	}
	if raw, ok := b.Configs[cfgLogging]; ok && raw != nil {
		if t, err := accesslog.DecodeTarget(raw); err == nil {
			s.LoggingBucket, s.LoggingPrefix = t.Bucket, t.Prefix
		}
	}
	if raw, ok := b.Configs[cfgTagging]; ok {
		var t Tagging
		if xml.Unmarshal(raw, &t) == nil {
			s.Tags = map[string]string{}
			for _, x := range t.TagSet.Tags {
				s.Tags[x.Key] = x.Value
			}
		}
	}
	if raw, ok := b.Configs[cfgCORS]; ok {
		var c struct {
			Rules []struct{} `xml:"CORSRule"`
		}
		if xml.Unmarshal(raw, &c) == nil {
			s.CORSRules = len(c.Rules)
		}
	}
	return s
}

func lifecycleRuleState(r lifecycle.Rule) LifecycleRuleState {
	out := LifecycleRuleState{ID: r.ID, Status: r.Status}
	switch {
	case r.Prefix != nil:
		out.Prefix = *r.Prefix
	case r.Filter != nil && r.Filter.Prefix != nil:
		out.Prefix = *r.Filter.Prefix
	case r.Filter != nil && r.Filter.And != nil && r.Filter.And.Prefix != nil:
		out.Prefix = *r.Filter.And.Prefix
	}
	if e := r.Expiration; e != nil {
		if e.Days != nil {
			out.ExpirationInDays = *e.Days
		}
		if e.Date != nil {
			out.ExpirationDate = *e.Date
		}
		if e.ExpiredObjectDeleteMarker != nil {
			out.ExpiredObjectDeleteMarker = *e.ExpiredObjectDeleteMarker
		}
	}
	if n := r.NoncurrentVersionExpiration; n != nil && n.NoncurrentDays != nil {
		out.NoncurrentVersionExpirationInDays = *n.NoncurrentDays
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil && a.DaysAfterInitiation != nil {
		out.AbortIncompleteDays = *a.DaysAfterInitiation
	}
	return out
}

// AccountPublicAccessBlockOf decodes an account's Block Public Access
// setting (nil: none stored).
func AccountPublicAccessBlockOf(st *meta.AccountSettings) *PublicAccessBlockState {
	if st == nil {
		return nil
	}
	raw, ok := st.Configs[cfgPublicAccessBlock]
	if !ok {
		return nil
	}
	p := decodePAB(raw)
	return &PublicAccessBlockState{p.BlockPublicAcls, p.IgnorePublicAcls, p.BlockPublicPolicy, p.RestrictPublicBuckets}
}

// Remediations. Each is a whole-configuration change a bucket owner could
// make with one S3 call, applied in one metadata transaction.

// RemediateBlockPublicAccess turns on all four of the bucket's Block
// Public Access settings (PutPublicAccessBlock).
func RemediateBlockPublicAccess(ctx context.Context, st meta.Store, bucket string) error {
	return st.UpdateBucket(ctx, bucket, func(b *meta.Bucket) error {
		if b.Configs == nil {
			b.Configs = map[string][]byte{}
		}
		b.Configs[cfgPublicAccessBlock] = encodePAB(allBlocked)
		return nil
	})
}

// RemediateDefaultEncryption sets SSE-S3 default encryption
// (PutBucketEncryption), keeping any SSE-C block the bucket had.
func RemediateDefaultEncryption(ctx context.Context, st meta.Store, bucket string) error {
	return st.UpdateBucket(ctx, bucket, func(b *meta.Bucket) error {
		cur := bucketEncryption(b)
		f := false
		next := &encConfig{Rules: []encRule{{Default: &encDefault{SSEAlgorithm: sseAlgAES256}, BucketKeyEnabled: &f, Blocked: cur.rule().Blocked}}}
		if b.Configs == nil {
			b.Configs = map[string][]byte{}
		}
		b.Configs[cfgEncryption] = encodeEncryption(next)
		return nil
	})
}

// DenyInsecureTransportSid names the statement RemediateSecureTransport adds.
const DenyInsecureTransportSid = "CofferDenyInsecureTransport"

// RemediateSecureTransport adds to the bucket policy a statement denying
// every request not made over TLS (PutBucketPolicy). The resulting policy
// is validated like one a client puts; a bucket whose Block Public Access
// refuses public policies is unaffected, as the statement is a Deny.
func RemediateSecureTransport(ctx context.Context, st meta.Store, bucket string) error {
	return st.UpdateBucket(ctx, bucket, func(b *meta.Bucket) error {
		doc := map[string]any{"Version": "2012-10-17"}
		var stmts []any
		if raw := b.Configs[cfgPolicy]; len(raw) > 0 {
			if err := json.Unmarshal(raw, &doc); err != nil {
				return fmt.Errorf("remediate %s: stored policy: %w", bucket, err)
			}
			switch s := doc["Statement"].(type) {
			case []any:
				stmts = s
			case map[string]any:
				stmts = []any{s}
			}
		}
		for _, st := range stmts {
			if m, ok := st.(map[string]any); ok && m["Sid"] == DenyInsecureTransportSid {
				return nil // already there: a remediation never repeats itself
			}
		}
		stmts = append(stmts, map[string]any{
			"Sid": DenyInsecureTransportSid, "Effect": "Deny", "Principal": "*", "Action": "s3:*",
			"Resource":  []string{"arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"},
			"Condition": map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}},
		})
		doc["Statement"] = stmts
		raw, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		p, err := policy.Parse(raw, policy.Resource)
		if err != nil {
			return fmt.Errorf("remediate %s: %w", bucket, err)
		}
		if err := p.CheckBucket(bucket); err != nil {
			return fmt.Errorf("remediate %s: %w", bucket, err)
		}
		if len(raw) > maxBucketPolicy {
			return errors.New("remediate " + bucket + ": policy would exceed the size limit")
		}
		if b.Configs == nil {
			b.Configs = map[string][]byte{}
		}
		b.Configs[cfgPolicy] = raw
		return nil
	})
}
