package macie

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

func findingID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}

// s3Bucket describes a bucket for findings.
func (r *Runner) s3Bucket(ctx context.Context, b *meta.Bucket) (*S3Bucket, BucketAccess) {
	acc := BucketAccess{EncryptionType: "AES256"}
	if r.Access != nil {
		acc = r.Access(ctx, b)
	}
	perm := "NOT_PUBLIC"
	if acc.Public {
		perm = "PUBLIC"
	}
	sb := &S3Bucket{Arn: "arn:aws:s3:::" + b.Name, Name: b.Name,
		Owner:                          &Owner{ID: acc.OwnerCanonicalID, DisplayName: acc.OwnerDisplayName},
		PublicAccess:                   &PublicAccess{EffectivePermission: perm},
		DefaultServerSideEncryption:    &ServerSideEncryption{EncryptionType: acc.EncryptionType, KMSMasterKeyID: acc.EncryptionKey},
		AllowsUnencryptedObjectUploads: "FALSE"}
	if !acc.CreatedAt.IsZero() {
		sb.CreatedAt = timestamp(acc.CreatedAt)
	}
	return sb, acc
}

// rate is a sensitive-data finding's severity: the result's own, one
// level higher when the bucket is public or shared with another account
// (sensitive data that others can read matters most).
func rate(base Severity, acc BucketAccess) Severity {
	if acc.Public || acc.Shared {
		return raise(base)
	}
	return base
}

func (s *Service) customByARN(ctx context.Context, account string) map[string]*CustomDataIdentifier {
	all, _ := listJSON[CustomDataIdentifier](ctx, s.Store, account, KindIdentifier)
	m := map[string]*CustomDataIdentifier{}
	for _, c := range all {
		m[c.Arn] = c
	}
	return m
}

// record creates or updates the sensitive-data finding of one object
// for a job.
func (r *Runner) record(ctx context.Context, account string, j *Job, b *meta.Bucket, v *meta.ObjectVersion, res *ClassificationResult) error {
	typ, base := classify(res, r.Svc.customByARN(ctx, account))
	if typ == "" {
		return nil
	}
	sb, acc := r.s3Bucket(ctx, b)
	jobID, origin := "auto", "AUTOMATED_SENSITIVE_DATA_DISCOVERY"
	if j != nil {
		jobID, origin = j.JobID, "SENSITIVE_DATA_DISCOVERY_JOB"
	}
	id := findingID(account, jobID, b.Name, v.Key, v.VersionID)
	now := timestamp(r.Svc.now())
	f, err := getJSON[Finding](ctx, r.Svc.Store, account, KindFinding, id)
	if errors.Is(err, ErrNotFound) {
		f = &Finding{ID: id, CreatedAt: now}
	} else if err != nil {
		return err
	}
	enc := &ServerSideEncryption{EncryptionType: "NONE"}
	if e := v.Encryption; e != nil {
		enc = &ServerSideEncryption{EncryptionType: e.Algorithm, KMSMasterKeyID: e.KeyID}
		if e.Algorithm == meta.SSEC {
			enc = &ServerSideEncryption{EncryptionType: "SSE-C"}
		}
	}
	var tags []TagValue
	for k, val := range v.Tags {
		tags = append(tags, TagValue{Key: k, Value: val})
	}
	sort.Slice(tags, func(a, b int) bool { return tags[a].Key < tags[b].Key })
	f.AccountID, f.Category, f.Partition, f.Region, f.SchemaVersion = account, "CLASSIFICATION", "aws", r.Svc.Region, "1.0"
	f.Count++
	f.Type, f.Severity, f.UpdatedAt = typ, rate(base, acc), now
	f.ClassificationDetails = &ClassificationDetails{OriginType: origin, Result: *res}
	if j != nil {
		f.ClassificationDetails.JobArn, f.ClassificationDetails.JobID = j.JobArn, j.JobID
	}
	f.ResourcesAffected = ResourcesAffected{S3Bucket: sb, S3Object: &S3Object{BucketArn: sb.Arn, ETag: strings.Trim(v.ETag, `"`),
		Extension: extension(v.Key), Key: v.Key, LastModified: timestamp(v.LastModified), Path: b.Name + "/" + v.Key,
		PublicAccess: acc.Public, ServerSideEncryption: enc, Size: v.Size, StorageClass: storageClass(v), Tags: tags,
		VersionID: versionID(v.VersionID)}}
	f.Title = "The S3 object contains " + titles[typ] + "."
	f.Description = fmt.Sprintf("The object contains %s.", titles[typ])
	if err := putJSON(ctx, r.Svc.Store, account, KindFinding, id, f); err != nil {
		return err
	}
	if r.Publish != nil {
		r.Publish(f)
	}
	return nil
}

var titles = map[string]string{
	"SensitiveData:S3Object/Credentials":      "credentials data",
	"SensitiveData:S3Object/Financial":        "financial information",
	"SensitiveData:S3Object/Personal":         "personal information",
	"SensitiveData:S3Object/CustomIdentifier": "text that matches custom data identifiers",
	"SensitiveData:S3Object/Multiple":         "more than one type of sensitive information",
}

func storageClass(v *meta.ObjectVersion) string {
	if v.StorageClass == "" {
		return "STANDARD"
	}
	return v.StorageClass
}

// Policy finding types.
const (
	PolicyPublic        = "Policy:IAMUser/S3BucketPublic"
	PolicyShared        = "Policy:IAMUser/S3BucketSharedExternally"
	PolicyEncryptionOff = "Policy:IAMUser/S3BucketEncryptionDisabled"
	PolicyBPADisabled   = "Policy:IAMUser/S3BlockPublicAccessDisabled"
)

// BucketChanged re-evaluates a bucket after its policy, ACL or Block
// Public Access changed: its policy findings, and the severity and
// public access of its sensitive-data findings.
func (r *Runner) BucketChanged(ctx context.Context, name string) error {
	b, err := r.Objects.GetBucket(ctx, name)
	if err != nil {
		return nil // deleted: its findings stay as they were
	}
	account := b.Owner
	sb, acc := r.s3Bucket(ctx, b)
	if err := r.policyFindings(ctx, account, b, sb, acc); err != nil {
		return err
	}
	fs, err := listJSON[Finding](ctx, r.Svc.Store, account, KindFinding)
	if err != nil {
		return err
	}
	custom := r.Svc.customByARN(ctx, account)
	for _, f := range fs {
		rb := f.ResourcesAffected.S3Bucket
		if f.Category != "CLASSIFICATION" || rb == nil || rb.Name != name || f.ClassificationDetails == nil {
			continue
		}
		_, base := classify(&f.ClassificationDetails.Result, custom)
		sev := rate(base, acc)
		if sev == f.Severity && rb.PublicAccess != nil && rb.PublicAccess.EffectivePermission == sb.PublicAccess.EffectivePermission {
			continue
		}
		f.Severity = sev
		f.ResourcesAffected.S3Bucket = sb
		if o := f.ResourcesAffected.S3Object; o != nil {
			o.PublicAccess = acc.Public
		}
		f.UpdatedAt = timestamp(r.Svc.now())
		if err := putJSON(ctx, r.Svc.Store, account, KindFinding, f.ID, f); err != nil {
			return err
		}
		if r.Publish != nil {
			r.Publish(f)
		}
	}
	return nil
}

// policyFindings creates, updates or archives a bucket's policy
// findings from its posture.
func (r *Runner) policyFindings(ctx context.Context, account string, b *meta.Bucket, sb *S3Bucket, acc BucketAccess) error {
	for _, p := range []struct {
		typ  string
		on   bool
		sev  string
		text string
	}{
		{PolicyPublic, acc.Public, "High", "The S3 bucket is publicly accessible."},
		{PolicyShared, acc.Shared, "High", "The S3 bucket is shared with an external AWS account."},
		{PolicyEncryptionOff, acc.EncryptionType == "NONE", "Low", "Default encryption is disabled for the S3 bucket."},
		{PolicyBPADisabled, !acc.BlockPublicAccess, "Medium", "All bucket-level block public access settings were disabled for the S3 bucket."},
	} {
		id := findingID(account, p.typ, b.Name)
		f, err := getJSON[Finding](ctx, r.Svc.Store, account, KindFinding, id)
		if errors.Is(err, ErrNotFound) {
			if !p.on {
				continue
			}
			f = &Finding{ID: id, CreatedAt: timestamp(r.Svc.now())}
		} else if err != nil {
			return err
		}
		changed := f.Archived == p.on || f.Type == ""
		if !changed {
			continue
		}
		// A condition that ends archives its finding; one that returns
		// makes it current again with one more occurrence.
		f.Archived = !p.on
		if p.on {
			f.Count++
		}
		f.AccountID, f.Category, f.Partition, f.Region, f.SchemaVersion = account, "POLICY", "aws", r.Svc.Region, "1.0"
		f.Type, f.Severity, f.Title, f.Description = p.typ, severity(p.sev), p.text, p.text
		f.ResourcesAffected = ResourcesAffected{S3Bucket: sb}
		f.UpdatedAt = timestamp(r.Svc.now())
		if err := putJSON(ctx, r.Svc.Store, account, KindFinding, id, f); err != nil {
			return err
		}
		if r.Publish != nil && p.on {
			r.Publish(f)
		}
	}
	return nil
}

// versionID is an object's version id as findings show it: none for an
// object written while versioning was never enabled.
func versionID(id string) string {
	if id == "null" {
		return ""
	}
	return id
}
