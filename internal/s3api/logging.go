package s3api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/accesslog"
	"github.com/coffer-io/coffer/internal/checksum"
	"github.com/coffer-io/coffer/internal/objects"
	"github.com/coffer-io/coffer/internal/policy"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Server access logging (PutBucketLogging, GetBucketLogging) and the S3
// side of log delivery. The configuration is stored as the bucket's
// "logging" configuration; package accesslog formats, spools and
// delivers the lines.

const cfgLogging = "logging"

// loggingPrincipal is the service principal that writes logs: the target
// bucket's policy must let it put objects.
const loggingPrincipal = "logging.s3.amazonaws.com"

var (
	invalidTargetBucket = &s3err.Error{Code: "InvalidTargetBucketForLogging", Status: http.StatusBadRequest}
	errTargetMissing    = invalidTargetBucket.WithMessage("The target bucket for logging does not exist")
	errTargetOwner      = invalidTargetBucket.WithMessage("The owner for the bucket to be logged and the target bucket must be the same.")
	errTargetPerms      = invalidTargetBucket.WithMessage("You must either provide the necessary permissions to the logging service using a bucket policy or give the log-delivery group WRITE and READ_ACP permissions to the target bucket")
	errTargetRetention  = invalidTargetBucket.WithMessage("The target bucket for logging must not have an Object Lock default retention period")
	errCrossLocation    = &s3err.Error{Code: "CrossLocationLoggingProhibited", Status: http.StatusForbidden, Message: "Cross S3 location logging not allowed. "}
	errTargetGrantsBOE  = AccessControlListNotSupported.WithMessage("Target grants not allowed for bucket owner enforced buckets")
)

func (h *Handler) getBucketLogging(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	var t *accesslog.Target
	if raw := b.Configs[cfgLogging]; raw != nil {
		if t, err = accesslog.DecodeTarget(raw); err != nil {
			return err
		}
	}
	return writeXML(w, accesslog.Document(t))
}

func (h *Handler) putBucketLogging(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	var st accesslog.Status
	if err := decodeXML(rq, &st); err != nil {
		return err
	}
	t, verr := st.Validate()
	switch {
	case errors.Is(verr, accesslog.ErrMalformed), errors.Is(verr, accesslog.ErrBadDateSrc):
		return s3err.MalformedXML
	case errors.Is(verr, accesslog.ErrPrefixLong):
		return s3err.InvalidArgument.WithMessage("The target prefix for logging is too long").With("ArgumentName", "TargetPrefix")
	}
	if t == nil {
		if err := h.setBucketConfig(rq, cfgLogging, nil); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	tb, err := h.logTarget(rqCtx(rq), b.Owner, b.Region, t.Bucket)
	if err != nil {
		return err
	}
	if verr != nil { // TargetGrants
		if !aclsEnabled(tb) {
			return errTargetGrantsBOE
		}
		// Grants on log objects are ACLs; Coffer has not built them for
		// logs, and ignoring them would silently withhold access the
		// owner asked for.
		return s3err.NotImplemented.WithMessage("TargetGrants are not implemented; grant access to logs with the target bucket's policy")
	}
	probe := t.ObjectKey(b.Owner, h.cfg.Region, b.Name, time.Now(), time.Now(), "0123456789ABCDEF")
	if !loggingAllowed(tb, b.Owner, b.Name, probe) {
		return errTargetPerms.With("TargetBucket", t.Bucket)
	}
	if err := h.setBucketConfig(rq, cfgLogging, accesslog.EncodeTarget(t)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// logTarget loads a target bucket and checks what AWS requires of it:
// it exists, has the source's owner and region, and has no Object Lock
// default retention.
func (h *Handler) logTarget(ctx context.Context, owner, region, name string) (*meta.Bucket, error) {
	tb, err := h.obj.Meta().GetBucket(ctx, name)
	if errors.Is(err, meta.ErrBucketNotFound) || errors.Is(err, meta.ErrNotFound) {
		return nil, errTargetMissing.With("TargetBucket", name)
	}
	if err != nil {
		return nil, err
	}
	if tb.Owner != owner {
		return nil, errTargetOwner.With("TargetBucket", name)
	}
	if tb.Region != "" && region != "" && tb.Region != region {
		return nil, errCrossLocation.With("TargetBucketLocation", tb.Region)
	}
	if tb.DefaultRetention != nil {
		return nil, errTargetRetention.With("TargetBucket", name)
	}
	return tb, nil
}

// loggingAllowed reports whether the target bucket's policy lets the
// logging service put key on behalf of the source bucket.
func loggingAllowed(tb *meta.Bucket, sourceAccount, sourceBucket, key string) bool {
	raw := tb.Configs[cfgPolicy]
	if len(raw) == 0 {
		return false
	}
	pol, err := policy.Parse(raw, policy.Resource)
	if err != nil {
		return false
	}
	d := policy.Evaluate(&policy.Input{Resource: pol}, &policy.Request{
		Principal:       policy.Principal{Type: policy.Service, ARN: loggingPrincipal},
		Action:          "s3:PutObject",
		Resource:        "arn:aws:s3:::" + tb.Name + "/" + key,
		ResourceAccount: tb.Owner,
		Context: map[string][]string{
			"aws:sourceaccount":   {sourceAccount},
			"aws:sourcearn":       {"arn:aws:s3:::" + sourceBucket},
			"aws:securetransport": {"true"},
		},
	})
	return d.Allowed
}

// LogStore delivers access logs into target buckets through the object
// service (accesslog.Store).
type LogStore struct {
	Objects *objects.Service
}

// PutLog implements accesslog.Store.
func (s *LogStore) PutLog(ctx context.Context, sourceAccount, sourceBucket, targetBucket, key string, body io.Reader, size int64) error {
	src, err := s.Objects.Meta().GetBucket(ctx, sourceBucket)
	region := ""
	if err == nil {
		region = src.Region
	}
	h := &Handler{obj: s.Objects}
	tb, err := h.logTarget(ctx, sourceAccount, region, targetBucket)
	if err != nil {
		var se *s3err.Error
		if errors.As(err, &se) {
			return fmt.Errorf("%w: %s", accesslog.ErrUndeliverable, se.Message)
		}
		return err
	}
	if !loggingAllowed(tb, sourceAccount, sourceBucket, key) {
		return fmt.Errorf("%w: the target bucket's policy does not allow %s to put %s", accesslog.ErrUndeliverable, loggingPrincipal, key)
	}
	wr, err := s.Objects.WriteBlob(ctx, objects.WriteInput{
		Body: body, Size: size, MaxSize: 5 << 30, Algorithms: []checksum.Algorithm{defaultChecksum},
		Verify: func(*checksum.MultiHasher) error { return nil }, AllowInline: true,
		Account: tb.Owner, Bucket: tb.Name, Key: key,
	})
	if err != nil {
		return err
	}
	v := &meta.ObjectVersion{
		Bucket: tb.Name, Key: key, Owner: tb.Owner, Size: wr.Size(), ETag: wr.ETag(), LastModified: s.Objects.Now(),
		Headers:  map[string]string{"Content-Type": "text/plain"},
		Checksum: meta.Checksum{Algorithm: string(defaultChecksum), Value: wr.Hasher.Checksum(defaultChecksum), Type: "FULL_OBJECT"},
	}
	v.Blobs, v.Inline = wr.Data()
	v.Encryption = wr.Encryption
	_, err = s.Objects.PutVersion(ctx, v, nil)
	return err
}

// auditContext is the context the request's audit event is recorded
// with: for a bucket with logging on, it carries what the access log
// line needs beyond the event. A request refused before its bucket was
// loaded (a bad signature) loads it here, so that it is logged too.
func (h *Handler) auditContext(r *http.Request, rq *request, sw *statusWriter, cr *countingReader, start time.Time) context.Context {
	ctx := r.Context()
	b := rq.bucket
	if b == nil && rq.t.bucket != "" && !rq.op.isAdmin() && !rq.op.isQuery() && !rq.op.isJSON() && validBucketName(rq.t.bucket, false) == nil {
		b, _ = h.obj.Meta().GetBucket(ctx, rq.t.bucket)
	}
	if b == nil || b.Configs[cfgLogging] == nil {
		return ctx
	}
	d := &accesslog.Details{
		Method: r.Method, RequestURI: r.RequestURI, Proto: r.Proto, Referer: r.Referer(), Host: r.Host,
		HostID: h.hostID, ObjectSize: -1, TurnAround: -1, ACLRequired: rq.aclRequired,
		BucketOwner: b.Owner, Logging: b.Configs[cfgLogging],
	}
	if !sw.firstByte.IsZero() {
		from := start
		if cr.eof.After(from) {
			from = cr.eof
		}
		if d.TurnAround = sw.firstByte.Sub(from); d.TurnAround < 0 {
			d.TurnAround = 0
		}
	}
	switch rq.op {
	case OpGetObject, OpHeadObject:
		if cr := sw.Header().Get("Content-Range"); cr != "" {
			if _, total, ok := strings.Cut(cr, "/"); ok {
				d.ObjectSize, _ = strconv.ParseInt(total, 10, 64)
			}
		} else if cl := sw.Header().Get("Content-Length"); cl != "" && sw.status < 300 {
			d.ObjectSize, _ = strconv.ParseInt(cl, 10, 64)
		}
	case OpPutObject, OpPostObject, OpUploadPart:
		if rq.decodedLen >= 0 {
			d.ObjectSize = rq.decodedLen
		}
	}
	return accesslog.WithDetails(ctx, d)
}
