package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/checksum"
	"github.com/coffer-io/coffer/internal/objects"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

func rqCtx(rq *request) context.Context { return rq.ctx }

// defaultChecksum is computed for objects uploaded without one, as S3 has
// done since 2025.
const defaultChecksum = checksum.CRC64NVME

// validVersionID rejects version ids Coffer cannot have issued.
func validVersionID(v string) error {
	if v == meta.NullVersion {
		return nil
	}
	if len(v) != 32 {
		return s3err.InvalidArgument.WithMessage("Invalid version id specified").With("ArgumentName", "versionId").With("ArgumentValue", v)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return s3err.InvalidArgument.WithMessage("Invalid version id specified").With("ArgumentName", "versionId").With("ArgumentValue", v)
		}
	}
	return nil
}

// putPrecondition implements conditional writes (If-Match, If-None-Match: *).
func putPrecondition(hdr http.Header) (meta.Precondition, error) {
	ifMatch := hdr.Get("If-Match")
	ifNone := hdr.Get("If-None-Match")
	if ifNone != "" && ifNone != "*" {
		return nil, s3err.NotImplemented.WithMessage("If-None-Match on writes supports only '*'").With("Header", "If-None-Match")
	}
	if ifMatch == "" && ifNone == "" {
		return nil, nil
	}
	return func(cur *meta.ObjectVersion) error {
		exists := cur != nil && !cur.DeleteMarker
		if ifNone == "*" && exists {
			return s3err.PreconditionFailed.With("Condition", "If-None-Match")
		}
		if ifMatch != "" {
			if !exists {
				return s3err.NoSuchKey
			}
			if !etagMatches(ifMatch, cur.ETag) {
				return s3err.PreconditionFailed.With("Condition", "If-Match")
			}
		}
		return nil
	}, nil
}

// etagMatches compares an If-Match/If-None-Match list with an ETag.
func etagMatches(list, etag string) bool {
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		p = strings.TrimPrefix(p, "W/")
		if p == "*" || p == etag || `"`+p+`"` == etag {
			return true
		}
	}
	return false
}

func (h *Handler) putObject(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	wacl, err := h.objectWriteACL(rq, b, r.Header)
	if err != nil {
		return err
	}
	if err := unsupportedObjectHeaders(r.Header, b); err != nil {
		return err
	}
	ws, err := h.writeSSE(r, r.Header, rq, b)
	if err != nil {
		return err
	}
	if rq.decodedLen < 0 {
		return s3err.MissingContentLength
	}
	if rq.decodedLen > h.cfg.MaxObjectSize {
		return s3err.EntityTooLarge.With("ProposedSize", strconv.FormatInt(rq.decodedLen, 10)).With("MaxSizeAllowed", strconv.FormatInt(h.cfg.MaxObjectSize, 10))
	}
	sys, user, err := objectMetadata(r.Header)
	if err != nil {
		return err
	}
	tags, err := parseTaggingHeader(r.Header.Get("X-Amz-Tagging"))
	if err != nil {
		return err
	}
	md5want, err := contentMD5(r.Header)
	if err != nil {
		return err
	}
	cr, err := parseChecksumRequest(r.Header)
	if err != nil {
		return err
	}
	pre, err := putPrecondition(r.Header)
	if err != nil {
		return err
	}
	lock, err := parseLockHeaders(r.Header, b, h.dataNow())
	if err != nil {
		return err
	}
	if lock.needsDigest(b) && !hasDigest(md5want, cr) {
		return errLockNeedsDigest
	}
	alg := defaultChecksum
	if cr != nil {
		alg = cr.alg
	}
	wr, err := h.obj.WriteBlob(h.kmsCtx(r, rq), objects.WriteInput{
		Body: rq.body, Size: rq.decodedLen, MaxSize: h.cfg.MaxObjectSize,
		Algorithms:  []checksum.Algorithm{alg},
		Verify:      verifyChecksums(md5want, cr, rq.trailers),
		AllowInline: true,
		Account:     b.Owner, Bucket: b.Name, Key: rq.t.key, SSE: ws.sse,
	})
	if err != nil {
		return err
	}
	v := &meta.ObjectVersion{
		Bucket: b.Name, Key: rq.t.key, Owner: wacl.owner, ACL: wacl.acl,
		Size: wr.Size(), ETag: wr.ETag(), LastModified: h.obj.Now(),
		Headers: sys, UserMeta: user, Tags: tags,
		Checksum: meta.Checksum{Algorithm: string(alg), Value: wr.Hasher.Checksum(alg), Type: "FULL_OBJECT"},
	}
	v.Blobs, v.Inline = wr.Data()
	v.Encryption = wr.Encryption
	lock.apply(v)
	if _, err := h.obj.PutVersion(r.Context(), v, pre); err != nil {
		return err
	}
	rq.ev.VersionID = v.VersionID
	versionSSEHeaders(w, v, ws.ck, true)
	w.Header().Set("ETag", v.ETag)
	if v.VersionID != meta.NullVersion {
		w.Header().Set("X-Amz-Version-Id", v.VersionID)
	}
	if cr != nil {
		w.Header().Set(alg.HeaderName(), v.Checksum.Value)
		w.Header().Set("X-Amz-Checksum-Type", "FULL_OBJECT")
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

// lookupVersion loads the version a request names (versionId query, or
// the latest), answering as S3 does for delete markers.
func (h *Handler) lookupVersion(r *http.Request, rq *request) (*meta.ObjectVersion, error) {
	if _, err := needBucket(rq); err != nil {
		return nil, err
	}
	vid := rq.q.Get("versionId")
	if _, ok := rq.q["versionId"]; ok {
		if err := validVersionID(vid); err != nil {
			return nil, err
		}
	}
	v, err := h.obj.Meta().GetObject(r.Context(), rq.t.bucket, rq.t.key, vid)
	if err != nil {
		if vid != "" && (errors.Is(err, meta.ErrVersionNotFound) || errors.Is(err, meta.ErrObjectNotFound) || errors.Is(err, meta.ErrNotFound)) {
			return nil, s3err.NoSuchVersion.With("Key", rq.t.key).With("VersionId", vid)
		}
		return nil, err
	}
	if v.DeleteMarker {
		if vid == "" {
			return nil, s3err.NoSuchKey.WithHeader("X-Amz-Delete-Marker", "true").WithHeader("X-Amz-Version-Id", v.VersionID)
		}
		e := s3err.MethodNotAllowed.WithHeader("X-Amz-Delete-Marker", "true").WithHeader("Last-Modified", httpTime(v.LastModified)).WithHeader("Allow", "DELETE")
		if v.VersionID != meta.NullVersion || vid == meta.NullVersion {
			e = e.WithHeader("X-Amz-Version-Id", v.VersionID)
		}
		return nil, e
	}
	return v, nil
}

// evalConditions applies If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since in RFC 7232 order, as S3 does for GET and HEAD.
func evalConditions(hdr http.Header, etag string, mtime time.Time, prefix string) error {
	ifMatch := hdr.Get(prefix + "If-Match")
	ifNone := hdr.Get(prefix + "If-None-Match")
	mtime = mtime.Truncate(time.Second)
	if ifMatch != "" {
		if !etagMatches(ifMatch, etag) {
			return s3err.PreconditionFailed.With("Condition", "If-Match")
		}
	} else if s := hdr.Get(prefix + "If-Unmodified-Since"); s != "" {
		if t, ok := parseHTTPTime(s); ok && mtime.After(t) {
			return s3err.PreconditionFailed.With("Condition", "If-Unmodified-Since")
		}
	}
	notModified := s3err.NotModified
	if prefix != "" {
		// Copy-source conditions fail with 412, never 304.
		notModified = s3err.PreconditionFailed
	}
	if ifNone != "" {
		if etagMatches(ifNone, etag) {
			return notModified.WithHeader("ETag", etag).WithHeader("Last-Modified", httpTime(mtime))
		}
	} else if s := hdr.Get(prefix + "If-Modified-Since"); s != "" {
		if t, ok := parseHTTPTime(s); ok && !mtime.After(t) {
			return notModified.WithHeader("ETag", etag).WithHeader("Last-Modified", httpTime(mtime))
		}
	}
	return nil
}

// parseRange parses a single "bytes=" range. ok is false when the header is
// absent or not a single well-formed range, in which case the whole object
// is returned (HTTP semantics).
func parseRange(s string, size int64) (start, length int64, ok bool, err error) {
	if s == "" || !strings.HasPrefix(s, "bytes=") {
		return 0, 0, false, nil
	}
	spec := strings.TrimSpace(s[len("bytes="):])
	if strings.Contains(spec, ",") {
		return 0, 0, false, nil
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false, nil
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	unsatisfiable := s3err.InvalidRange.WithHeader("Content-Range", "bytes */"+strconv.FormatInt(size, 10)).
		With("RangeRequested", s).With("ActualObjectSize", strconv.FormatInt(size, 10))
	if a == "" {
		n, perr := strconv.ParseInt(b, 10, 64)
		if perr != nil || n < 0 {
			return 0, 0, false, nil
		}
		if n == 0 {
			return 0, 0, false, unsatisfiable
		}
		if n > size {
			n = size
		}
		if size == 0 {
			return 0, 0, false, unsatisfiable
		}
		return size - n, n, true, nil
	}
	first, perr := strconv.ParseInt(a, 10, 64)
	if perr != nil || first < 0 {
		return 0, 0, false, nil
	}
	last := size - 1
	if b != "" {
		l, perr := strconv.ParseInt(b, 10, 64)
		if perr != nil || l < first {
			return 0, 0, false, nil
		}
		if l < last {
			last = l
		}
	}
	if first >= size {
		return 0, 0, false, unsatisfiable
	}
	return first, last - first + 1, true, nil
}

var responseOverrides = [][2]string{
	{"response-content-type", "Content-Type"},
	{"response-content-language", "Content-Language"},
	{"response-expires", "Expires"},
	{"response-cache-control", "Cache-Control"},
	{"response-content-disposition", "Content-Disposition"},
	{"response-content-encoding", "Content-Encoding"},
}

// setObjectHeaders writes the metadata headers of GET/HEAD.
func setObjectHeaders(w http.ResponseWriter, v *meta.ObjectVersion, b *meta.Bucket, ck *customerKey) {
	hd := w.Header()
	hd.Set("Last-Modified", httpTime(v.LastModified))
	hd.Set("ETag", v.ETag)
	hd.Set("Accept-Ranges", "bytes")
	for k, val := range v.Headers {
		hd.Set(k, val)
	}
	for k, val := range v.UserMeta {
		hd["x-amz-meta-"+k] = []string{val} // lower-case, as S3 sends them
	}
	if v.VersionID != meta.NullVersion || b.Versioning != "" {
		hd.Set("X-Amz-Version-Id", v.VersionID)
	}
	if len(v.Tags) > 0 {
		hd.Set("X-Amz-Tagging-Count", strconv.Itoa(len(v.Tags)))
	}
	if len(v.Parts) > 0 {
		hd.Set("X-Amz-Mp-Parts-Count", strconv.Itoa(len(v.Parts)))
	}
	versionSSEHeaders(w, v, ck, false)
}

func (h *Handler) getObject(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := h.lookupVersion(r, rq)
	if err != nil {
		return err
	}
	rq.ev.VersionID = v.VersionID
	if err := refuseReadSSEHeaders(r.Header); err != nil {
		return err
	}
	keys, ck, err := h.readKeys(r, rq, v, "X-Amz-Server-Side-Encryption-Customer-")
	if err != nil {
		return err
	}
	if err := evalConditions(r.Header, v.ETag, v.LastModified, ""); err != nil {
		return err
	}
	for _, o := range responseOverrides {
		if _, ok := rq.q[o[0]]; ok && rq.principal.IsAnonymous() {
			return s3err.InvalidRequest.WithMessage("Request specific response headers cannot be used for anonymous GET requests.")
		}
	}
	start, length, ranged := int64(0), v.Size, false
	partsCount := len(v.Parts)
	if pn := rq.q.Get("partNumber"); pn != "" {
		n, err := strconv.Atoi(pn)
		if err != nil || n < 1 || n > 10000 {
			return s3err.InvalidArgument.WithMessage("Part number must be an integer between 1 and 10000, inclusive").With("ArgumentName", "partNumber").With("ArgumentValue", pn)
		}
		if r.Header.Get("Range") != "" {
			return s3err.InvalidRequest.WithMessage("Cannot specify both Range header and partNumber query parameter")
		}
		switch {
		case partsCount == 0 && n == 1:
		case n > partsCount:
			return s3err.InvalidPartNumber
		default:
			for _, p := range v.Parts[:n-1] {
				start += p.Size
			}
			length = v.Parts[n-1].Size
			ranged = true
		}
	} else {
		var ok bool
		start, length, ok, err = parseRange(r.Header.Get("Range"), v.Size)
		if err != nil {
			return err
		}
		if !ok {
			start, length = 0, v.Size
		}
		ranged = ok
	}
	// The object's headers must not reach an error response: the data
	// key is unsealed (and a KMS refusal found) only when reading starts.
	hd := w.Header()
	before := hd.Clone()
	objectHeadersOff := func() {
		clear(hd)
		for k, vs := range before {
			hd[k] = vs
		}
	}
	setObjectHeaders(w, v, rq.bucket, ck)
	h.setLockHeaders(w, r, rq, v)
	if strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") && v.Checksum.Value != "" && !ranged {
		w.Header().Set(checksum.Algorithm(v.Checksum.Algorithm).HeaderName(), v.Checksum.Value)
		w.Header().Set("X-Amz-Checksum-Type", v.Checksum.Type)
	}
	for _, o := range responseOverrides {
		if val := rq.q.Get(o[0]); val != "" {
			w.Header().Set(o[1], val)
		}
	}
	w.Header().Set("Content-Length", strconv.FormatInt(length, 10))
	status := http.StatusOK
	if ranged {
		w.Header().Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(start+length-1, 10)+"/"+strconv.FormatInt(v.Size, 10))
		status = http.StatusPartialContent
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return nil
	}
	rd, err := h.obj.OpenWith(h.kmsCtx(r, rq), v, keys)
	if err != nil {
		objectHeadersOff()
		return err
	}
	defer rd.Close()
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	// Read (and so decrypt and authenticate) the first chunk before the
	// status line goes out: stored data that fails authentication then
	// gets a clean 500 rather than a cut connection, in the usual case
	// where the damage is near the start or the object is small.
	body := io.NewSectionReader(rd, start, length)
	n, err := io.ReadFull(body, (*buf)[:min(int64(len(*buf)), length)])
	if err != nil {
		objectHeadersOff()
		return err
	}
	w.WriteHeader(status)
	if _, err := w.Write((*buf)[:n]); err != nil {
		h.log.Debug("object body write failed", "request_id", rq.id, "err", err)
		return errAbortResponse
	}
	if _, err := io.CopyBuffer(writerOnly{w}, body, *buf); err != nil {
		// The status line is gone; the client sees a short body.
		h.log.Debug("object body write failed", "request_id", rq.id, "err", err)
		return errAbortResponse
	}
	return nil
}

// writerOnly hides ReadFrom so io.CopyBuffer uses our pooled buffer.
type writerOnly struct{ io.Writer }

func (h *Handler) deleteObject(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	for _, hd := range []string{"X-Amz-If-Match-Last-Modified-Time", "X-Amz-If-Match-Size"} {
		if r.Header.Get(hd) != "" {
			// A condition must never be ignored.
			return s3err.NotImplemented.With("Header", strings.ToLower(hd))
		}
	}
	vid := rq.q.Get("versionId")
	if _, ok := rq.q["versionId"]; ok {
		if err := validVersionID(vid); err != nil {
			return err
		}
	}
	// Permanently deleting a version of an MFA Delete bucket takes the
	// root's MFA code; a delete marker does not.
	if err := h.checkMFA(r, rq, b, vid != "" && mfaDeleteEnabled(b)); err != nil {
		return err
	}
	if im := r.Header.Get("If-Match"); im != "" {
		cur, err := h.obj.Meta().GetObject(r.Context(), rq.t.bucket, rq.t.key, vid)
		if err != nil || cur.DeleteMarker {
			return s3err.NoSuchKey
		}
		if !etagMatches(im, cur.ETag) {
			return s3err.PreconditionFailed.With("Condition", "If-Match")
		}
	}
	res, err := h.obj.DeleteObject(h.protectionContext(r, rq, rq.t.key), rq.t.bucket, rq.t.key, vid)
	if err != nil && !errors.Is(err, meta.ErrVersionNotFound) && !errors.Is(err, meta.ErrObjectNotFound) {
		return err
	}
	if res.DeleteMarker {
		w.Header().Set("X-Amz-Delete-Marker", "true")
	}
	if vid != "" {
		w.Header().Set("X-Amz-Version-Id", vid)
	} else if res.DeleteMarker && res.VersionID != "" {
		w.Header().Set("X-Amz-Version-Id", res.VersionID)
	}
	rq.ev.VersionID = res.VersionID
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   bool     `xml:"Quiet"`
	Objects []struct {
		Key       string `xml:"Key"`
		VersionID string `xml:"VersionId"`
	} `xml:"Object"`
}

type deletedEntry struct {
	Key                   string `xml:"Key"`
	VersionID             string `xml:"VersionId,omitempty"`
	DeleteMarker          bool   `xml:"DeleteMarker,omitempty"`
	DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId,omitempty"`
}

type deleteError struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId,omitempty"`
	Code      string `xml:"Code"`
	Message   string `xml:"Message"`
}

type deleteResult struct {
	XMLName xml.Name       `xml:"DeleteResult"`
	Xmlns   string         `xml:"xmlns,attr"`
	Deleted []deletedEntry `xml:"Deleted"`
	Errors  []deleteError  `xml:"Error"`
}

func (h *Handler) deleteObjects(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	body, err := checkedDoc(rq, r.Header)
	if err != nil {
		return err
	}
	var req deleteRequest
	if err := unmarshalXML(body, &req); err != nil {
		return err
	}
	if len(req.Objects) == 0 || len(req.Objects) > 1000 {
		return s3err.MalformedXML
	}
	// On an MFA Delete bucket, one entry naming a version makes the root's
	// MFA code necessary for the whole request; an invalid code fails it
	// whatever it deletes.
	versioned := false
	for _, o := range req.Objects {
		versioned = versioned || o.VersionID != ""
	}
	if err := h.checkMFA(r, rq, b, versioned && mfaDeleteEnabled(b)); err != nil {
		return err
	}
	res := deleteResult{Xmlns: s3NS}
	for _, o := range req.Objects {
		if err := validKey(o.Key); err != nil {
			e := s3err.From(err)
			res.Errors = append(res.Errors, deleteError{Key: o.Key, VersionID: o.VersionID, Code: e.Code, Message: e.Message})
			continue
		}
		if o.VersionID != "" {
			if err := validVersionID(o.VersionID); err != nil {
				res.Errors = append(res.Errors, deleteError{Key: o.Key, VersionID: o.VersionID, Code: "NoSuchVersion", Message: "The specified version does not exist."})
				continue
			}
		}
		action := "s3:DeleteObject"
		if o.VersionID != "" {
			action = "s3:DeleteObjectVersion"
		}
		if !h.allowed(r, rq, action, "arn:aws:s3:::"+rq.t.bucket+"/"+o.Key, rq.bucket) {
			res.Errors = append(res.Errors, deleteError{Key: o.Key, VersionID: o.VersionID, Code: s3err.AccessDenied.Code, Message: s3err.AccessDenied.Message})
			continue
		}
		dr, err := h.obj.DeleteObject(h.protectionContext(r, rq, o.Key), rq.t.bucket, o.Key, o.VersionID)
		if err != nil && !errors.Is(err, meta.ErrVersionNotFound) && !errors.Is(err, meta.ErrObjectNotFound) {
			e := s3err.From(err)
			if e.Status >= 500 {
				h.log.Error("delete in DeleteObjects failed", "request_id", rq.id, "key", o.Key, "err", err)
			}
			res.Errors = append(res.Errors, deleteError{Key: o.Key, VersionID: o.VersionID, Code: e.Code, Message: e.Message})
			continue
		}
		if req.Quiet {
			continue
		}
		d := deletedEntry{Key: o.Key, VersionID: o.VersionID}
		if dr.DeleteMarker {
			d.DeleteMarker = true
			if o.VersionID == "" {
				d.DeleteMarkerVersionID = dr.VersionID
			} else {
				d.DeleteMarkerVersionID = o.VersionID
			}
		}
		res.Deleted = append(res.Deleted, d)
	}
	return writeXML(w, &res)
}

func checksumAlgs(cr *checksumRequest) []checksum.Algorithm {
	if cr == nil {
		return nil
	}
	return []checksum.Algorithm{cr.alg}
}

// copySource parses x-amz-copy-source.
func copySource(hdr http.Header) (bucket, key, versionID string, err error) {
	src := hdr.Get("X-Amz-Copy-Source")
	path, query, _ := strings.Cut(src, "?")
	if query != "" {
		q, perr := url.ParseQuery(query)
		if perr != nil {
			return "", "", "", s3err.InvalidArgument.WithMessage("Invalid copy source").With("ArgumentName", "x-amz-copy-source")
		}
		for k := range q {
			if k != "versionId" {
				return "", "", "", s3err.InvalidArgument.WithMessage("Invalid copy source").With("ArgumentName", "x-amz-copy-source")
			}
		}
		versionID = q.Get("versionId")
		if err := validVersionID(versionID); err != nil {
			return "", "", "", err
		}
	}
	p, perr := url.PathUnescape(path)
	if perr != nil {
		return "", "", "", s3err.InvalidArgument.WithMessage("Invalid copy source encoding").With("ArgumentName", "x-amz-copy-source")
	}
	p = strings.TrimPrefix(p, "/")
	bucket, key, ok := strings.Cut(p, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", "", s3err.InvalidArgument.WithMessage("Copy Source must mention the source bucket and key: sourcebucket/sourcekey").With("ArgumentName", "x-amz-copy-source")
	}
	if err := validBucketName(bucket, false); err != nil {
		return "", "", "", err
	}
	if err := validKey(key); err != nil {
		return "", "", "", err
	}
	return bucket, key, versionID, nil
}

// loadCopySource resolves, authorizes and checks the source of a copy.
// Reading the source is authorized separately from writing the target:
// one request, two authorization decisions, both through the Authorizer.
func (h *Handler) loadCopySource(r *http.Request, rq *request) (*meta.ObjectVersion, error) {
	sb, sk, svid, err := copySource(r.Header)
	if err != nil {
		return nil, err
	}
	srcBucket, err := h.obj.Meta().GetBucket(r.Context(), sb)
	if err != nil {
		if errors.Is(err, meta.ErrBucketNotFound) || errors.Is(err, meta.ErrNotFound) {
			return nil, s3err.NoSuchBucket.With("BucketName", sb)
		}
		return nil, err
	}
	if err := expectedBucketOwner(r.Header, "X-Amz-Source-Expected-Bucket-Owner", srcBucket); err != nil {
		return nil, err
	}
	action := "s3:GetObject"
	if svid != "" {
		action = "s3:GetObjectVersion"
	}
	if err := h.authorizeExtra(r, rq, action, "arn:aws:s3:::"+sb+"/"+sk, srcBucket); err != nil {
		return nil, err
	}
	v, err := h.obj.Meta().GetObject(r.Context(), sb, sk, svid)
	if err != nil {
		if svid != "" {
			return nil, s3err.NoSuchVersion.With("Key", sk).With("VersionId", svid)
		}
		if errors.Is(err, meta.ErrObjectNotFound) || errors.Is(err, meta.ErrNotFound) {
			return nil, s3err.NoSuchKey.With("Key", sk)
		}
		return nil, err
	}
	if v.DeleteMarker {
		if svid != "" {
			return nil, s3err.InvalidRequest.WithMessage("The source of a copy request may not specifically refer to a delete marker by version id.")
		}
		return nil, s3err.NoSuchKey.With("Key", sk)
	}
	v.Bucket = sb
	if err := evalConditions(r.Header, v.ETag, v.LastModified, "X-Amz-Copy-Source-"); err != nil {
		return nil, err
	}
	return v, nil
}

type copyObjectResult struct {
	XMLName           xml.Name `xml:"CopyObjectResult"`
	Xmlns             string   `xml:"xmlns,attr"`
	LastModified      string   `xml:"LastModified"`
	ETag              string   `xml:"ETag"`
	ChecksumType      string   `xml:"ChecksumType,omitempty"`
	ChecksumCRC32     string   `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string   `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string   `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string   `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string   `xml:"ChecksumSHA256,omitempty"`
}

func setChecksumField(alg, val string, crc32, crc32c, crc64, sha1, sha256 *string) {
	switch checksum.Algorithm(alg) {
	case checksum.CRC32:
		*crc32 = val
	case checksum.CRC32C:
		*crc32c = val
	case checksum.CRC64NVME:
		*crc64 = val
	case checksum.SHA1:
		*sha1 = val
	case checksum.SHA256:
		*sha256 = val
	}
}

func (h *Handler) copyObject(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	wacl, err := h.objectWriteACL(rq, b, r.Header)
	if err != nil {
		return err
	}
	if err := unsupportedObjectHeaders(r.Header, b); err != nil {
		return err
	}
	ws, err := h.writeSSE(r, r.Header, rq, b)
	if err != nil {
		return err
	}
	src, err := h.loadCopySource(r, rq)
	if err != nil {
		return err
	}
	srcKeys, _, err := h.readKeys(r, rq, src, hdrCopySSEC)
	if err != nil {
		return err
	}
	if src.Size > 5<<30 {
		return s3err.InvalidRequest.WithMessage("The specified copy source is larger than the maximum allowable size for a copy source: 5368709120")
	}
	metaDir := r.Header.Get("X-Amz-Metadata-Directive")
	tagDir := r.Header.Get("X-Amz-Tagging-Directive")
	if (metaDir != "" && metaDir != "COPY" && metaDir != "REPLACE") || (tagDir != "" && tagDir != "COPY" && tagDir != "REPLACE") {
		return s3err.InvalidArgument.WithMessage("Unknown metadata directive.").With("ArgumentName", "x-amz-metadata-directive")
	}
	sys, user := src.Headers, src.UserMeta
	if metaDir == "REPLACE" {
		if sys, user, err = objectMetadata(r.Header); err != nil {
			return err
		}
	}
	tags := src.Tags
	if tagDir == "REPLACE" {
		if tags, err = parseTaggingHeader(r.Header.Get("X-Amz-Tagging")); err != nil {
			return err
		}
	}
	// Copying an object onto itself is only allowed when it changes
	// something, or when it restores a specific older version.
	if src.Bucket == b.Name && src.Key == rq.t.key && metaDir != "REPLACE" && tagDir != "REPLACE" &&
		r.Header.Get("X-Amz-Storage-Class") == "" && r.Header.Get("X-Amz-Website-Redirect-Location") == "" &&
		r.Header.Get(hdrSSE) == "" && r.Header.Get(hdrSSECAlg) == "" && r.Header.Get(hdrSSEBucketKey) == "" &&
		!strings.Contains(r.Header.Get("X-Amz-Copy-Source"), "versionId=") {
		return s3err.InvalidRequest.WithMessage("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	cr, err := parseChecksumRequest(r.Header)
	if err != nil {
		return err
	}
	if cr != nil && cr.value != nil {
		return s3err.InvalidRequest.WithMessage("Checksum values cannot be supplied with CopyObject; use x-amz-checksum-algorithm")
	}
	alg := checksum.Algorithm(src.Checksum.Algorithm)
	if cr != nil {
		alg = cr.alg
	}
	if alg == "" {
		alg = defaultChecksum
	}
	pre, err := putPrecondition(r.Header)
	if err != nil {
		return err
	}
	// The copy's lock comes from the request (or the bucket default),
	// never from the source.
	lock, err := parseLockHeaders(r.Header, b, h.dataNow())
	if err != nil {
		return err
	}
	kctx := h.kmsCtx(r, rq)
	rd, err := h.obj.OpenWith(kctx, src, srcKeys)
	if err != nil {
		return err
	}
	defer rd.Close()
	// The copy is re-encrypted under its own identity and data key, by
	// the destination's rules: the source's encryption is not inherited.
	wr, err := h.obj.WriteBlob(kctx, objects.WriteInput{
		Body: io.NewSectionReader(rd, 0, rd.Size()), Size: rd.Size(), MaxSize: 5 << 30,
		Algorithms: []checksum.Algorithm{alg}, AllowInline: true,
		Account: b.Owner, Bucket: b.Name, Key: rq.t.key, SSE: ws.sse,
	})
	if err != nil {
		return err
	}
	v := &meta.ObjectVersion{
		Bucket: b.Name, Key: rq.t.key, Owner: wacl.owner, ACL: wacl.acl,
		Size: wr.Size(), ETag: wr.ETag(), LastModified: h.obj.Now(),
		Headers: sys, UserMeta: user, Tags: tags,
		Checksum: meta.Checksum{Algorithm: string(alg), Value: wr.Hasher.Checksum(alg), Type: "FULL_OBJECT"},
	}
	v.Blobs, v.Inline = wr.Data()
	v.Encryption = wr.Encryption
	lock.apply(v)
	if _, err := h.obj.PutVersion(r.Context(), v, pre); err != nil {
		return err
	}
	rq.ev.VersionID = v.VersionID
	versionSSEHeaders(w, v, ws.ck, true)
	if v.VersionID != meta.NullVersion {
		w.Header().Set("X-Amz-Version-Id", v.VersionID)
	}
	if src.VersionID != meta.NullVersion {
		w.Header().Set("X-Amz-Copy-Source-Version-Id", src.VersionID)
	}
	res := copyObjectResult{Xmlns: s3NS, LastModified: xmlTime(v.LastModified), ETag: v.ETag}
	if cr != nil || src.Checksum.Algorithm != "" {
		res.ChecksumType = "FULL_OBJECT"
		setChecksumField(string(alg), v.Checksum.Value, &res.ChecksumCRC32, &res.ChecksumCRC32C, &res.ChecksumCRC64NVME, &res.ChecksumSHA1, &res.ChecksumSHA256)
	}
	return writeXML(w, &res)
}

func (h *Handler) getObjectTagging(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := h.lookupVersion(r, rq)
	if err != nil {
		return err
	}
	if v.VersionID != meta.NullVersion || rq.bucket.Versioning != "" {
		w.Header().Set("X-Amz-Version-Id", v.VersionID)
	}
	return writeXML(w, tagsXML(v.Tags))
}

func (h *Handler) putObjectTagging(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := h.lookupVersion(r, rq)
	if err != nil {
		return err
	}
	var t Tagging
	if err := decodeXML(rq, &t); err != nil {
		return err
	}
	tags, err := validateTags(t.TagSet.Tags, 10)
	if err != nil {
		return err
	}
	if err := h.setObjectTags(r, rq, v, tags); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteObjectTagging(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := h.lookupVersion(r, rq)
	if err != nil {
		return err
	}
	if err := h.setObjectTags(r, rq, v, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) setObjectTags(r *http.Request, rq *request, v *meta.ObjectVersion, tags map[string]string) error {
	err := h.obj.Meta().UpdateObject(r.Context(), rq.t.bucket, rq.t.key, v.VersionID, func(cur *meta.ObjectVersion) error {
		cur.Tags = tags
		return nil
	})
	if err != nil {
		return err
	}
	if v.VersionID != meta.NullVersion || rq.bucket.Versioning != "" {
		rq.ev.VersionID = v.VersionID
	}
	return nil
}
