// Package protect is the one place that decides whether an object version
// may be removed or overwritten, and whether its Object Lock protection
// may be changed. The metadata store asks it inside the transaction that
// would remove, replace or update a version, so no caller (an S3 request,
// an admin command, fsck, garbage collection, lifecycle expiration) can go
// around it: the store-level removal is the only way a version record
// goes away, and blobs are only ever freed once no record refers to them.
//
// The rules are AWS's (data-protection spec §5): a version under an
// unexpired retention period or a legal hold cannot be removed; GOVERNANCE
// retention yields only to a request that carries
// x-amz-bypass-governance-retention: true and is authorized for
// s3:BypassGovernanceRetention (the S3 layer marks such a request's
// context with WithGovernanceBypass); COMPLIANCE retention yields to
// nobody, the account root included, and can only be extended.
package protect

import (
	"context"
	"fmt"
	"time"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// MaxRetentionYears is the longest retention AWS allows.
const MaxRetentionYears = 100

type bypassKey struct{}

// WithGovernanceBypass marks ctx as carrying an authorized governance
// bypass. Only the S3 layer calls it, after the Authorizer allowed
// s3:BypassGovernanceRetention for a request that asked for the bypass.
func WithGovernanceBypass(ctx context.Context) context.Context {
	return context.WithValue(ctx, bypassKey{}, true)
}

// GovernanceBypass reports whether ctx carries an authorized bypass.
func GovernanceBypass(ctx context.Context) bool {
	b, _ := ctx.Value(bypassKey{}).(bool)
	return b
}

// Active reports whether v's retention is in force at now.
func Active(r *meta.Retention, now time.Time) bool {
	return r != nil && now.Before(r.Until)
}

// CheckRemoval decides whether v may be removed (a version deleted, a null
// version replaced) at now. The error wraps meta.ErrObjectLocked. Delete
// markers carry no protection.
func CheckRemoval(ctx context.Context, now time.Time, v *meta.ObjectVersion) error {
	if v == nil || v.DeleteMarker {
		return nil
	}
	if v.LegalHold {
		// A legal hold blocks even with a governance bypass.
		return fmt.Errorf("%w: %s@%s is under a legal hold", meta.ErrObjectLocked, v.Key, v.VersionID)
	}
	if !Active(v.Retention, now) {
		return nil
	}
	if v.Retention.Mode == meta.LockGovernance && GovernanceBypass(ctx) {
		return nil
	}
	return fmt.Errorf("%w: %s@%s is retained in %s mode until %s", meta.ErrObjectLocked,
		v.Key, v.VersionID, v.Retention.Mode, v.Retention.Until.UTC().Format(time.RFC3339))
}

// CheckChange decides whether a version's record may change from old to
// updated at now. Data and identity never change in place (the store
// keeps them); legal holds may be set and cleared freely (permission is
// the Authorizer's business); retention may be extended, and otherwise
// changed only when none is in force, or, for GOVERNANCE, with an
// authorized bypass.
func CheckChange(ctx context.Context, now time.Time, old, updated *meta.ObjectVersion) error {
	o, n := old.Retention, updated.Retention
	if !Active(o, now) || sameRetention(o, n) {
		return nil
	}
	extends := n != nil && n.Mode == o.Mode && !n.Until.Before(o.Until)
	if extends {
		return nil
	}
	if o.Mode == meta.LockGovernance && GovernanceBypass(ctx) {
		return nil
	}
	return fmt.Errorf("%w: %s@%s: %s retention until %s cannot be shortened, removed or changed", meta.ErrObjectLocked,
		old.Key, old.VersionID, o.Mode, o.Until.UTC().Format(time.RFC3339))
}

func sameRetention(a, b *meta.Retention) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Mode == b.Mode && a.Until.Equal(b.Until)
}

// ApplyDefault prepares a new version of bucket b: a version written
// without retention gets the bucket's default (creation time plus the
// default period), and lock settings on a bucket without Object Lock are
// refused, whoever asks.
func ApplyDefault(b *meta.Bucket, v *meta.ObjectVersion, now time.Time) error {
	if v.DeleteMarker {
		if v.Retention != nil || v.LegalHold {
			return fmt.Errorf("%w: delete markers cannot be locked", meta.ErrObjectLocked)
		}
		return nil
	}
	if !b.ObjectLockEnabled {
		if v.Retention != nil || v.LegalHold {
			return fmt.Errorf("%w: bucket %s does not have Object Lock enabled", meta.ErrObjectLocked, b.Name)
		}
		return nil
	}
	if v.Retention != nil || b.DefaultRetention == nil {
		return nil
	}
	created := v.LastModified
	if created.IsZero() {
		created = now
	}
	d := b.DefaultRetention
	v.Retention = &meta.Retention{Mode: d.Mode, Until: created.UTC().AddDate(d.Years, 0, d.Days)}
	return nil
}

// CheckBucketChange decides whether a bucket's record may change from old
// to updated: Object Lock, once enabled, stays enabled, and so does the
// versioning it depends on.
func CheckBucketChange(old, updated *meta.Bucket) error {
	if !old.ObjectLockEnabled {
		return nil
	}
	if !updated.ObjectLockEnabled || updated.Versioning != meta.VersioningEnabled {
		return fmt.Errorf("%w: bucket %s has Object Lock enabled", meta.ErrObjectLocked, old.Name)
	}
	return nil
}
