package lifecycle

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// ConfigName is the key of the configuration in meta.Bucket.Configs.
const ConfigName = "lifecycle"

// Audit operations, as AWS names lifecycle actions in server access logs.
const (
	OpExpireObject       = "S3.EXPIRE.OBJECT"       // a version or delete marker removed for good
	OpCreateDeleteMarker = "S3.CREATE.DELETEMARKER" // a current version made noncurrent by a delete marker
	OpDeleteUpload       = "S3.DELETE.UPLOAD"       // an incomplete multipart upload aborted
)

// ServicePrincipal is the principal lifecycle actions are recorded under:
// AWS's service principal for S3 Lifecycle.
const ServicePrincipal = "lifecycle.s3.amazonaws.com"

// DefaultDay is the length of a lifecycle day.
const DefaultDay = 24 * time.Hour

// maxReported bounds the memory of Object Lock refusals already recorded.
const maxReported = 10000

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
	// Incomplete is set when the pass's context ended before it went
	// through every bucket; the next pass resumes where it stopped.
	Incomplete bool
}

// Worker applies lifecycle configurations. Its passes must not run
// concurrently.
type Worker struct {
	Objects Objects
	// Audit receives one event per action (nil: none are recorded).
	Audit audit.Sink
	Log   *slog.Logger
	// Day is the length of a lifecycle day (DefaultDay if zero); shorter
	// days exist for tests.
	Day time.Duration
	// Limit bounds the rate of actions (nil: unbounded).
	Limit *Limiter

	resume   position
	reported map[string]bool
}

// position is where a pass is: the bucket, whether its versions are done,
// the last key whose versions were handled, and the last upload handled.
type position struct {
	bucket              string
	uploads             bool
	key                 string
	uploadKey, uploadID string
}

// Run makes one pass over every bucket with a lifecycle configuration,
// taking the actions due at now (the data-protection clock's time). A
// pass whose ctx ends stops without error, reports Incomplete, and the
// next pass starts where it stopped; any other error ends the pass and
// the next starts from the beginning.
func (w *Worker) Run(ctx context.Context, now time.Time) (Report, error) {
	var rep Report
	start := w.resume
	w.resume = position{}
	buckets, err := w.Objects.Meta().ListBuckets(ctx, "")
	if err != nil {
		if ctx.Err() != nil {
			w.resume, rep.Incomplete = start, true
			return rep, nil
		}
		return rep, err
	}
	slices.SortFunc(buckets, func(a, b *meta.Bucket) int { return strings.Compare(a.Name, b.Name) })
	for _, b := range buckets {
		if b.Name < start.bucket {
			continue
		}
		rules := w.rules(b)
		if len(rules) == 0 {
			continue
		}
		pos := position{bucket: b.Name}
		if b.Name == start.bucket {
			pos = start
		}
		err := w.bucket(ctx, b, rules, now, &pos, &rep)
		if err != nil && ctx.Err() != nil {
			w.resume, rep.Incomplete = pos, true
			return rep, nil
		}
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// rules returns a bucket's enabled rules.
func (w *Worker) rules(b *meta.Bucket) []*Rule {
	raw, ok := b.Configs[ConfigName]
	if !ok {
		return nil
	}
	if b.MFADelete == "Enabled" {
		// AWS does not let lifecycle and MFA Delete coexist; a
		// configuration that predates MFA Delete stays inert.
		return nil
	}
	var c Configuration
	if err := xml.Unmarshal(raw, &c); err != nil || c.Validate() != nil {
		w.log().Warn("lifecycle: stored configuration does not parse; skipping the bucket", "bucket", b.Name)
		return nil
	}
	var rules []*Rule
	for i := range c.Rules {
		if c.Rules[i].Status == "Enabled" {
			rules = append(rules, &c.Rules[i])
		}
	}
	return rules
}

func (w *Worker) bucket(ctx context.Context, b *meta.Bucket, rules []*Rule, now time.Time, pos *position, rep *Report) error {
	if !pos.uploads {
		if err := w.versions(ctx, b, rules, now, pos, rep); err != nil {
			return err
		}
		pos.uploads = true
	}
	return w.uploads(ctx, b, rules, now, pos, rep)
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}

func (w *Worker) day() time.Duration {
	if w.Day > 0 {
		return w.Day
	}
	return DefaultDay
}

// wait holds an action back to the rate limit.
func (w *Worker) wait(ctx context.Context) error {
	if w.Limit == nil {
		return ctx.Err()
	}
	return w.Limit.Wait(ctx)
}

// versions walks every key's versions (newest first) after pos.key and
// applies the expiration actions, moving pos.key past each key done.
func (w *Worker) versions(ctx context.Context, b *meta.Bucket, rules []*Rule, now time.Time, pos *position, rep *Report) error {
	opts := meta.ListOptions{MaxKeys: 1000, Marker: pos.key}
	var group []*meta.ObjectVersion
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		if err := w.key(ctx, b, rules, group, now, rep); err != nil {
			return err
		}
		pos.key = group[0].Key
		group = group[:0]
		return nil
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
			// An expired object delete marker, the only thing left of
			// its key, goes with ExpiredObjectDeleteMarker, and with
			// Days or Date once it is itself due, as S3 does.
			if len(vs) > 1 || !r.matches(cur.Key, 0, nil) {
				continue
			}
			marker := e.ExpiredObjectDeleteMarker != nil && *e.ExpiredObjectDeleteMarker
			if !marker && !w.expired(e, cur.LastModified, now) {
				continue
			}
			done, err := w.expire(ctx, b, r, cur.Key, cur.VersionID, rep)
			if done {
				rep.MarkersRemoved++
			}
			return err
		case r.matches(cur.Key, cur.Size, cur.Tags) && w.expired(e, cur.LastModified, now):
			done, err := w.expire(ctx, b, r, cur.Key, "", rep)
			if done {
				rep.Expired++
			}
			if err != nil || done {
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
			if i-1 < keep || now.Before(due(vs[i-1].LastModified, *nv.NoncurrentDays, w.day())) {
				continue
			}
			done, err := w.expire(ctx, b, r, v.Key, v.VersionID, rep)
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

func (w *Worker) expired(e *Expiration, created, now time.Time) bool {
	switch {
	case e.Days != nil:
		return !now.Before(due(created, *e.Days, w.day()))
	case e.Date != nil:
		d, err := ParseDate(*e.Date)
		return err == nil && !now.Before(d)
	}
	return false
}

// expire deletes a key (versionID "") or one version through the object
// service, under rule r. A version Object Lock protects is left alone,
// counted, and its refusal recorded once.
func (w *Worker) expire(ctx context.Context, b *meta.Bucket, r *Rule, key, versionID string, rep *Report) (bool, error) {
	if err := w.wait(ctx); err != nil {
		return false, err
	}
	res, err := w.Objects.DeleteObject(ctx, b.Name, key, versionID)
	switch {
	case err == nil:
		op, vid := OpExpireObject, versionID
		if versionID == "" {
			vid = res.VersionID
			if res.DeleteMarker {
				op = OpCreateDeleteMarker
			}
		}
		w.record(ctx, b, r, op, key, vid, "", nil)
		return true, nil
	case errors.Is(err, meta.ErrObjectLocked):
		rep.Protected++
		w.log().Debug("lifecycle: version protected by Object Lock", "bucket", b.Name, "key", key, "version", versionID)
		id := b.Name + "\x00" + key + "\x00" + versionID
		if !w.reported[id] {
			if w.reported == nil || len(w.reported) >= maxReported {
				w.reported = map[string]bool{}
			}
			w.reported[id] = true
			w.record(ctx, b, r, OpExpireObject, key, versionID, "", err)
		}
		return false, nil
	case errors.Is(err, meta.ErrVersionNotFound), errors.Is(err, meta.ErrObjectNotFound), errors.Is(err, meta.ErrBucketNotFound):
		// Gone meanwhile.
		return false, nil
	}
	return false, err
}

// uploads aborts incomplete multipart uploads past their rule's days,
// after the upload pos names, moving pos past each one handled.
func (w *Worker) uploads(ctx context.Context, b *meta.Bucket, rules []*Rule, now time.Time, pos *position, rep *Report) error {
	opts := meta.UploadListOptions{MaxUploads: 1000, KeyMarker: pos.uploadKey, UploadIDMarker: pos.uploadID}
	for {
		page, err := w.Objects.Meta().ListUploads(ctx, b.Name, opts)
		if err != nil {
			return err
		}
		for _, u := range page.Uploads {
			if err := w.upload(ctx, b, rules, u, now, rep); err != nil {
				return err
			}
			pos.uploadKey, pos.uploadID = u.Key, u.UploadID
		}
		if !page.IsTruncated {
			return nil
		}
		opts.KeyMarker, opts.UploadIDMarker = page.NextKeyMarker, page.NextUploadIDMarker
	}
}

func (w *Worker) upload(ctx context.Context, b *meta.Bucket, rules []*Rule, u *meta.Upload, now time.Time, rep *Report) error {
	for _, r := range rules {
		a := r.AbortIncompleteMultipartUpload
		if a == nil || !r.matches(u.Key, 0, nil) || now.Before(due(u.Initiated, *a.DaysAfterInitiation, w.day())) {
			continue
		}
		if err := w.wait(ctx); err != nil {
			return err
		}
		freed, err := w.Objects.Meta().AbortUpload(ctx, b.Name, u.Key, u.UploadID)
		if errors.Is(err, meta.ErrUploadNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		w.Objects.Free(ctx, freed)
		rep.UploadsAborted++
		w.record(ctx, b, r, OpDeleteUpload, u.Key, "", u.UploadID, nil)
		return nil
	}
	return nil
}

// record writes the audit event of one action; refused is the Object
// Lock refusal of a removal, nil for an action taken.
func (w *Worker) record(ctx context.Context, b *meta.Bucket, r *Rule, op, key, versionID, uploadID string, refused error) {
	if w.Audit == nil {
		return
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	ev := &audit.Event{
		// The audit trail keeps real time, whatever the data clock says.
		Time:          time.Now().UTC(),
		RequestID:     strings.ToUpper(hex.EncodeToString(id[:])),
		Service:       "s3",
		Operation:     op,
		PrincipalType: "AWSService",
		InvokedBy:     ServicePrincipal,
		AccountID:     b.Owner,
		Bucket:        b.Name,
		Key:           key,
		VersionID:     versionID,
		UploadID:      uploadID,
		Resource:      "arn:aws:s3:::" + b.Name + "/" + key,
		RuleID:        r.ID,
		Outcome:       audit.OutcomeSuccess,
		Status:        http.StatusNoContent,
	}
	if refused != nil {
		ev.Outcome, ev.Status, ev.ErrorCode = audit.OutcomeDenied, http.StatusForbidden, "AccessDenied"
	}
	if err := w.Audit.Record(ctx, ev); err != nil {
		w.log().Warn("lifecycle: audit record failed", "err", err, "bucket", b.Name, "key", key, "operation", op)
	}
}
