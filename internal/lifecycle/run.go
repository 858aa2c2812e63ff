package lifecycle

import (
	"context"
	"encoding/xml"
	"errors"
	"log/slog"
	"time"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// ConfigName is the key of the configuration in meta.Bucket.Configs.
const ConfigName = "lifecycle"

// Objects is what the worker needs of the object service: it deletes
// through it, as S3 requests do, so Object Lock applies.
type Objects interface {
	Meta() meta.Store
	DeleteObject(ctx context.Context, bucket, key, versionID string) (meta.DeleteResult, error)
	Free(ctx context.Context, refs []meta.BlobRef)
}

// Report counts what a pass did.
type Report struct {
	Expired, NoncurrentExpired, MarkersRemoved, UploadsAborted int
	// Protected counts removals Object Lock refused.
	Protected int
}

// Worker applies lifecycle configurations.
type Worker struct {
	Objects Objects
	Log     *slog.Logger
}

// Run makes one pass over every bucket with a lifecycle configuration,
// taking the actions due at now (the data-protection clock's time).
func (w *Worker) Run(ctx context.Context, now time.Time) (Report, error) {
	var rep Report
	buckets, err := w.Objects.Meta().ListBuckets(ctx, "")
	if err != nil {
		return rep, err
	}
	for _, b := range buckets {
		raw, ok := b.Configs[ConfigName]
		if !ok {
			continue
		}
		if b.MFADelete == "Enabled" {
			// AWS does not let lifecycle and MFA Delete coexist; a
			// configuration that predates MFA Delete stays inert.
			continue
		}
		var c Configuration
		if err := xml.Unmarshal(raw, &c); err != nil || c.Validate() != nil {
			w.log().Warn("lifecycle: stored configuration does not parse; skipping the bucket", "bucket", b.Name)
			continue
		}
		var rules []*Rule
		for i := range c.Rules {
			if c.Rules[i].Status == "Enabled" {
				rules = append(rules, &c.Rules[i])
			}
		}
		if len(rules) == 0 {
			continue
		}
		if err := w.versions(ctx, b, rules, now, &rep); err != nil {
			return rep, err
		}
		if err := w.uploads(ctx, b, rules, now, &rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}

// versions walks every key's versions (newest first) and applies the
// expiration actions.
func (w *Worker) versions(ctx context.Context, b *meta.Bucket, rules []*Rule, now time.Time, rep *Report) error {
	opts := meta.ListOptions{MaxKeys: 1000}
	var group []*meta.ObjectVersion
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		err := w.key(ctx, b, rules, group, now, rep)
		group = group[:0]
		return err
	}
	for {
		page, err := w.Objects.Meta().ListVersions(ctx, b.Name, opts)
		if err != nil {
			return err
		}
		for _, v := range page.Objects {
			if len(group) > 0 && group[0].Key != v.Key {
				if err := flush(); err != nil {
					return err
				}
			}
			group = append(group, v)
		}
		if !page.IsTruncated {
			return flush()
		}
		opts.Marker, opts.VersionIDMarker = page.NextMarker, page.NextVersionIDMarker
	}
}

// key applies the rules to one key's versions, newest first.
func (w *Worker) key(ctx context.Context, b *meta.Bucket, rules []*Rule, vs []*meta.ObjectVersion, now time.Time, rep *Report) error {
	cur := vs[0]
	for _, r := range rules {
		e := r.Expiration
		switch {
		case e == nil:
		case cur.DeleteMarker:
			// An expired object delete marker: the only thing left of
			// its key.
			if e.ExpiredObjectDeleteMarker != nil && *e.ExpiredObjectDeleteMarker && len(vs) == 1 && r.matches(cur.Key, 0, nil) {
				if done, err := w.expire(ctx, b, cur.Key, cur.VersionID, rep); err != nil || done {
					if done {
						rep.MarkersRemoved++
					}
					return err
				}
			}
		case r.matches(cur.Key, cur.Size, cur.Tags) && expired(e, cur.LastModified, now):
			if done, err := w.expire(ctx, b, cur.Key, "", rep); err != nil || done {
				if done {
					rep.Expired++
				}
				// The key changed; the next pass sees its new state.
				return err
			}
		}
	}
	// Noncurrent versions: each became noncurrent when its successor was
	// written; the newest NewerNoncurrentVersions are kept.
	for i := 1; i < len(vs); i++ {
		v := vs[i]
		for _, r := range rules {
			nv := r.NoncurrentVersionExpiration
			if nv == nil || !r.matches(v.Key, v.Size, v.Tags) {
				continue
			}
			keep := 0
			if nv.NewerNoncurrentVersions != nil {
				keep = *nv.NewerNoncurrentVersions
			}
			if i-1 < keep || now.Before(due(vs[i-1].LastModified, *nv.NoncurrentDays)) {
				continue
			}
			done, err := w.expire(ctx, b, v.Key, v.VersionID, rep)
			if err != nil {
				return err
			}
			if done {
				rep.NoncurrentExpired++
			}
			break
		}
	}
	return nil
}

func expired(e *Expiration, created, now time.Time) bool {
	switch {
	case e.Days != nil:
		return !now.Before(due(created, *e.Days))
	case e.Date != nil:
		d, err := ParseDate(*e.Date)
		return err == nil && !now.Before(d)
	}
	return false
}

// expire deletes a key (versionID "") or one version through the object
// service. A version Object Lock protects is left alone and counted.
func (w *Worker) expire(ctx context.Context, b *meta.Bucket, key, versionID string, rep *Report) (bool, error) {
	_, err := w.Objects.DeleteObject(ctx, b.Name, key, versionID)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, meta.ErrObjectLocked):
		rep.Protected++
		w.log().Debug("lifecycle: version protected by Object Lock", "bucket", b.Name, "key", key, "version", versionID)
		return false, nil
	case errors.Is(err, meta.ErrVersionNotFound), errors.Is(err, meta.ErrObjectNotFound), errors.Is(err, meta.ErrBucketNotFound):
		// Gone meanwhile.
		return false, nil
	}
	return false, err
}

// uploads aborts incomplete multipart uploads past their rule's days.
func (w *Worker) uploads(ctx context.Context, b *meta.Bucket, rules []*Rule, now time.Time, rep *Report) error {
	opts := meta.UploadListOptions{MaxUploads: 1000}
	for {
		page, err := w.Objects.Meta().ListUploads(ctx, b.Name, opts)
		if err != nil {
			return err
		}
		for _, u := range page.Uploads {
			for _, r := range rules {
				a := r.AbortIncompleteMultipartUpload
				if a == nil || !r.matches(u.Key, 0, nil) || now.Before(due(u.Initiated, *a.DaysAfterInitiation)) {
					continue
				}
				freed, err := w.Objects.Meta().AbortUpload(ctx, b.Name, u.Key, u.UploadID)
				if errors.Is(err, meta.ErrUploadNotFound) {
					break
				}
				if err != nil {
					return err
				}
				w.Objects.Free(ctx, freed)
				rep.UploadsAborted++
				break
			}
		}
		if !page.IsTruncated {
			return nil
		}
		opts.KeyMarker, opts.UploadIDMarker = page.NextKeyMarker, page.NextUploadIDMarker
	}
}
