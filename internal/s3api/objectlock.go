package s3api

// Object Lock (data-protection spec §5) and MFA Delete (§4). The decision
// whether a version may go, or its protection change, is not made here:
// the metadata store asks package protect inside the transaction. This
// file decodes and validates what requests ask for, marks a request's
// context with an authorized governance bypass, checks MFA, and renders
// the lock state.

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/checksum"
	"github.com/coffer-io/coffer/internal/mfa"
	"github.com/coffer-io/coffer/internal/protect"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Object Lock errors in AWS's words.
var (
	ObjectLockConfigurationNotFound = &s3err.Error{Code: "ObjectLockConfigurationNotFoundError", Status: http.StatusNotFound,
		Message: "Object Lock configuration does not exist for this bucket"}
	NoSuchObjectLockConfiguration = &s3err.Error{Code: "NoSuchObjectLockConfiguration", Status: http.StatusNotFound,
		Message: "The specified object does not have a ObjectLock configuration"}
	InvalidRetentionPeriod = &s3err.Error{Code: "InvalidRetentionPeriod", Status: http.StatusBadRequest,
		Message: "Default retention period must be a positive integer value."}
	errLockNotEnabled   = s3err.InvalidRequest.WithMessage("Bucket is missing Object Lock Configuration")
	errLockNeedsDigest  = s3err.InvalidRequest.WithMessage("Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters")
	errPartNeedsDigest  = s3err.InvalidRequest.WithMessage("Content-MD5 OR x-amz-checksum- HTTP header is required for Put Part requests with Object Lock parameters")
	errMFARequired      = s3err.AccessDenied.WithMessage("Mfa Authentication must be used for this request")
	errMFANotRoot       = s3err.InvalidRequest.WithMessage("DevPay and Mfa are mutually exclusive authorization methods.")
	errMFAInsecure      = s3err.InvalidRequest.WithMessage("Requests specifying x-amz-mfa must be made over a secure connection.")
	errWormConfigLocked = s3err.InvalidBucketState.WithMessage("A WORM configuration is present on this bucket, so the versioning state cannot be changed.")
)

const (
	hdrLockMode   = "X-Amz-Object-Lock-Mode"
	hdrLockUntil  = "X-Amz-Object-Lock-Retain-Until-Date"
	hdrLegalHold  = "X-Amz-Object-Lock-Legal-Hold"
	hdrBypass     = "X-Amz-Bypass-Governance-Retention"
	hdrMFA        = "X-Amz-Mfa"
	maxLockDays   = 36500
	legalHoldOn   = "ON"
	legalHoldOff  = "OFF"
	lockEnabled   = "Enabled"
	retentionTime = time.RFC3339Nano
)

func (h *Handler) dataNow() time.Time { return h.cfg.DataClock.Now() }

// lockRequest is what a write asks for with the x-amz-object-lock-*
// headers.
type lockRequest struct {
	retention *meta.Retention
	legalHold bool
	any       bool // some lock header was sent
}

// parseLockHeaders validates the Object Lock headers of a write to bucket
// b (PutObject, CopyObject, CreateMultipartUpload, POST).
func parseLockHeaders(hdr http.Header, b *meta.Bucket, now time.Time) (lockRequest, error) {
	var lr lockRequest
	mode, until, hold := hdr.Get(hdrLockMode), hdr.Get(hdrLockUntil), hdr.Get(hdrLegalHold)
	lr.any = mode != "" || until != "" || hold != ""
	if !lr.any {
		return lr, nil
	}
	if !b.ObjectLockEnabled {
		return lr, errLockNotEnabled
	}
	if (mode == "") != (until == "") {
		return lr, s3err.InvalidArgument.WithMessage("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied")
	}
	if mode != "" {
		if mode != meta.LockGovernance && mode != meta.LockCompliance {
			return lr, s3err.InvalidArgument.WithMessage("Unknown wormMode directive.").With("ArgumentName", "x-amz-object-lock-mode").With("ArgumentValue", mode)
		}
		t, err := parseRetainUntil(until, now)
		if err != nil {
			return lr, err
		}
		lr.retention = &meta.Retention{Mode: mode, Until: t}
	}
	switch hold {
	case "", legalHoldOff:
	case legalHoldOn:
		lr.legalHold = true
	default:
		return lr, s3err.InvalidArgument.WithMessage("Legal Hold must be either of 'ON' or 'OFF'").With("ArgumentName", "x-amz-object-lock-legal-hold").With("ArgumentValue", hold)
	}
	return lr, nil
}

// parseRetainUntil parses an ISO 8601 retain-until date, which must lie in
// the future and within AWS's 100-year limit.
func parseRetainUntil(s string, now time.Time) (time.Time, error) {
	t, err := time.Parse(retentionTime, s)
	if err != nil {
		return time.Time{}, s3err.InvalidArgument.WithMessage("The retain until date must be provided in ISO 8601 format").With("ArgumentName", "x-amz-object-lock-retain-until-date").With("ArgumentValue", s)
	}
	if !t.After(now) {
		return time.Time{}, s3err.InvalidArgument.WithMessage("The retain until date must be in the future!").With("ArgumentName", "x-amz-object-lock-retain-until-date").With("ArgumentValue", s)
	}
	if t.After(now.AddDate(protect.MaxRetentionYears, 0, 0)) {
		return time.Time{}, s3err.InvalidArgument.WithMessage("The retain until date is too far in the future.").With("ArgumentName", "x-amz-object-lock-retain-until-date").With("ArgumentValue", s)
	}
	return t.UTC(), nil
}

// apply sets the requested lock on a new version.
func (lr lockRequest) apply(v *meta.ObjectVersion) {
	v.Retention, v.LegalHold = lr.retention, lr.legalHold
}

// needsDigest reports whether a body written to b with these lock headers
// must carry Content-MD5 or a checksum, as AWS demands of anything that
// gets a retention period or a legal hold.
func (lr lockRequest) needsDigest(b *meta.Bucket) bool {
	return lr.any || (b.ObjectLockEnabled && b.DefaultRetention != nil)
}

// hasDigest reports whether a request carries Content-MD5 or a checksum
// value (header or trailer), not just an algorithm name.
func hasDigest(md5 []byte, cr *checksumRequest) bool {
	return md5 != nil || (cr != nil && (cr.value != nil || cr.trailer != ""))
}

// setLockHeaders adds the x-amz-object-lock-* headers of GET and HEAD, each
// only if the caller may read it: lacking s3:GetObjectRetention or
// s3:GetObjectLegalHold omits the header silently, as in AWS.
func (h *Handler) setLockHeaders(w http.ResponseWriter, r *http.Request, rq *request, v *meta.ObjectVersion) {
	if rq.bucket == nil || !rq.bucket.ObjectLockEnabled || (v.Retention == nil && !v.LegalHold) {
		return
	}
	res := "arn:aws:s3:::" + rq.bucket.Name + "/" + v.Key
	if v.Retention != nil && h.allowed(r, rq, "s3:GetObjectRetention", res, rq.bucket) {
		w.Header().Set(hdrLockMode, v.Retention.Mode)
		w.Header().Set(hdrLockUntil, xmlTime(v.Retention.Until))
	}
	if v.LegalHold && h.allowed(r, rq, "s3:GetObjectLegalHold", res, rq.bucket) {
		w.Header().Set(hdrLegalHold, legalHoldOn)
	}
}

// protectionContext is the context a removal or retention change of key
// runs in: marked with the governance bypass when the request asks for it
// (x-amz-bypass-governance-retention: true) and the Authorizer allows
// s3:BypassGovernanceRetention on the key. Otherwise the header changes
// nothing, and package protect refuses what needs the bypass.
func (h *Handler) protectionContext(r *http.Request, rq *request, key string) context.Context {
	ctx := r.Context()
	if !strings.EqualFold(strings.TrimSpace(r.Header.Get(hdrBypass)), "true") || rq.bucket == nil {
		return ctx
	}
	if !h.allowed(r, rq, "s3:BypassGovernanceRetention", "arn:aws:s3:::"+rq.bucket.Name+"/"+key, rq.bucket) {
		return ctx
	}
	return protect.WithGovernanceBypass(ctx)
}

// checkMFA verifies the request's x-amz-mfa header against the bucket
// owner's root MFA device, spending the code. required says whether a
// missing header is an error; a header that is present is always checked
// (an invalid one fails the request even where MFA was not needed).
func (h *Handler) checkMFA(r *http.Request, rq *request, b *meta.Bucket, required bool) error {
	v := r.Header.Get(hdrMFA)
	if v == "" {
		if required {
			return errMFARequired
		}
		return nil
	}
	if r.TLS == nil {
		return errMFAInsecure
	}
	serial, code, err := mfa.ParseHeader(v)
	if err != nil {
		return s3err.InvalidArgument.WithMessage(mfa.ErrInvalidHeader.Message).With("ArgumentName", "x-amz-mfa")
	}
	if h.cfg.MFA == nil {
		return s3err.AccessDenied
	}
	ok, err := h.cfg.MFA.VerifyRootMFA(r.Context(), b.Owner, serial, code)
	if err != nil {
		return err
	}
	if !ok {
		h.log.Debug("MFA code refused", "request_id", rq.id, "serial", serial)
		return s3err.AccessDenied
	}
	return nil
}

// isBucketOwnerRoot reports whether the request comes from the account
// root of b's owner: the only principal that may change MFA Delete.
func isBucketOwnerRoot(rq *request, b *meta.Bucket) bool {
	p := rq.principal
	return p != nil && p.Type == authn.TypeRoot && p.AccountID == b.Owner
}

// mfaDeleteEnabled reports whether b has MFA Delete on.
func mfaDeleteEnabled(b *meta.Bucket) bool { return b.MFADelete == "Enabled" }

type defaultRetentionXML struct {
	Mode  string `xml:"Mode,omitempty"`
	Days  *int   `xml:"Days"`
	Years *int   `xml:"Years"`
}

type objectLockConfiguration struct {
	XMLName           xml.Name `xml:"ObjectLockConfiguration"`
	Xmlns             string   `xml:"xmlns,attr,omitempty"`
	ObjectLockEnabled string   `xml:"ObjectLockEnabled,omitempty"`
	Rule              *struct {
		DefaultRetention *defaultRetentionXML `xml:"DefaultRetention"`
	} `xml:"Rule"`
}

type retentionXML struct {
	XMLName         xml.Name `xml:"Retention"`
	Xmlns           string   `xml:"xmlns,attr,omitempty"`
	Mode            string   `xml:"Mode,omitempty"`
	RetainUntilDate string   `xml:"RetainUntilDate,omitempty"`
}

type legalHoldXML struct {
	XMLName xml.Name `xml:"LegalHold"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Status  string   `xml:"Status"`
}

// checkedDoc reads a request document that AWS requires Content-MD5 or a
// checksum for (the Object Lock configuration, retention and legal hold
// calls, PutBucketEncryption, DeleteObjects) and verifies it.
func checkedDoc(rq *request, hdr http.Header) ([]byte, error) {
	md5want, err := contentMD5(hdr)
	if err != nil {
		return nil, err
	}
	cr, err := parseChecksumRequest(hdr)
	if err != nil {
		return nil, err
	}
	if !hasDigest(md5want, cr) {
		return nil, s3err.InvalidRequest.WithMessage("Missing required header for this request: Content-Md5 OR x-amz-checksum-*")
	}
	body, err := requestDoc(rq)
	if err != nil {
		return nil, err
	}
	hs, err := checksum.NewMultiHasher(checksumAlgs(cr)...)
	if err != nil {
		return nil, err
	}
	hs.Write(body)
	if err := verifyChecksums(md5want, cr, rq.trailers)(hs); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, s3err.MalformedXML
	}
	return body, nil
}

// requestDoc reads the request's document body once: authorization may
// need it first (the s3:object-lock-* condition keys of PutObjectRetention
// and PutObjectLegalHold come from the body), the handler then gets the
// same bytes.
func requestDoc(rq *request) ([]byte, error) {
	if rq.doc != nil || rq.docErr != nil {
		return rq.doc, rq.docErr
	}
	max := opTable[rq.op].maxBody
	body, err := io.ReadAll(io.LimitReader(rq.body, max+1))
	switch {
	case err != nil:
		rq.docErr = err
	case int64(len(body)) > max:
		rq.docErr = s3err.MaxMessageLengthExceeded
	default:
		rq.doc = body
		if rq.doc == nil {
			rq.doc = []byte{}
		}
	}
	return rq.doc, rq.docErr
}

// lockDocConditions adds the s3:object-lock-* condition keys that
// PutObjectRetention and PutObjectLegalHold take from their body.
func lockDocConditions(rq *request, c map[string][]string, now time.Time) {
	body, err := requestDoc(rq)
	if err != nil {
		return
	}
	switch rq.op {
	case OpPutObjectRetention:
		var doc retentionXML
		if xml.Unmarshal(body, &doc) != nil {
			return
		}
		if doc.Mode != "" {
			c["s3:object-lock-mode"] = []string{doc.Mode}
		}
		if doc.RetainUntilDate != "" {
			retentionConditions(c, doc.RetainUntilDate, now)
		}
	case OpPutObjectLegalHold:
		var doc legalHoldXML
		if xml.Unmarshal(body, &doc) == nil && doc.Status != "" {
			c["s3:object-lock-legal-hold"] = []string{doc.Status}
		}
	}
}

// retentionConditions sets s3:object-lock-retain-until-date and the
// whole days from now to it, s3:object-lock-remaining-retention-days.
func retentionConditions(c map[string][]string, until string, now time.Time) {
	c["s3:object-lock-retain-until-date"] = []string{until}
	if t, err := time.Parse(retentionTime, until); err == nil {
		days := int(t.Sub(now).Hours() / 24)
		c["s3:object-lock-remaining-retention-days"] = []string{strconv.Itoa(max(days, 0))}
	}
}

func (h *Handler) getObjectLockConfiguration(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	if !b.ObjectLockEnabled {
		return ObjectLockConfigurationNotFound.With("BucketName", b.Name)
	}
	res := objectLockConfiguration{Xmlns: s3NS, ObjectLockEnabled: lockEnabled}
	if d := b.DefaultRetention; d != nil {
		dr := &defaultRetentionXML{Mode: d.Mode}
		if d.Years > 0 {
			dr.Years = &d.Years
		} else {
			dr.Days = &d.Days
		}
		res.Rule = &struct {
			DefaultRetention *defaultRetentionXML `xml:"DefaultRetention"`
		}{dr}
	}
	return writeXML(w, &res)
}

// parseDefaultRetention validates a configuration's default retention
// (nil when the configuration has no rule).
func parseDefaultRetention(cfg *objectLockConfiguration) (*meta.DefaultRetention, error) {
	if cfg.ObjectLockEnabled != lockEnabled {
		return nil, s3err.MalformedXML
	}
	if cfg.Rule == nil {
		return nil, nil
	}
	d := cfg.Rule.DefaultRetention
	if d == nil || (d.Days == nil) == (d.Years == nil) {
		return nil, s3err.MalformedXML
	}
	if d.Mode != meta.LockGovernance && d.Mode != meta.LockCompliance {
		return nil, s3err.MalformedXML
	}
	out := &meta.DefaultRetention{Mode: d.Mode}
	if d.Days != nil {
		out.Days = *d.Days
		if out.Days <= 0 {
			return nil, InvalidRetentionPeriod
		}
		if out.Days > maxLockDays {
			return nil, s3err.InvalidArgument.WithMessage("Default retention period too large.")
		}
	} else {
		out.Years = *d.Years
		if out.Years <= 0 {
			return nil, InvalidRetentionPeriod
		}
		if out.Years > protect.MaxRetentionYears {
			return nil, s3err.InvalidArgument.WithMessage("Default retention period too large.")
		}
	}
	return out, nil
}

func (h *Handler) putObjectLockConfiguration(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := needBucket(rq); err != nil {
		return err
	}
	body, err := checkedDoc(rq, r.Header)
	if err != nil {
		return err
	}
	var cfg objectLockConfiguration
	if err := unmarshalXML(body, &cfg); err != nil {
		return err
	}
	def, err := parseDefaultRetention(&cfg)
	if err != nil {
		return err
	}
	err = h.obj.Meta().UpdateBucket(r.Context(), rq.t.bucket, func(b *meta.Bucket) error {
		// AWS lets an existing bucket enable Object Lock, but only once
		// its versioning is Enabled; then it never goes away.
		if !b.ObjectLockEnabled && b.Versioning != meta.VersioningEnabled {
			return s3err.InvalidBucketState.WithMessage("Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
		}
		b.ObjectLockEnabled = true
		b.DefaultRetention = def
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// lockedVersion loads the version a retention or legal-hold call names on
// a lock-enabled bucket.
func (h *Handler) lockedVersion(r *http.Request, rq *request) (*meta.ObjectVersion, error) {
	b, err := needBucket(rq)
	if err != nil {
		return nil, err
	}
	if !b.ObjectLockEnabled {
		return nil, errLockNotEnabled
	}
	return h.lookupVersion(r, rq)
}

func (h *Handler) getObjectRetention(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := h.lockedVersion(r, rq)
	if err != nil {
		return err
	}
	if v.Retention == nil {
		return NoSuchObjectLockConfiguration
	}
	return writeXML(w, &retentionXML{Xmlns: s3NS, Mode: v.Retention.Mode, RetainUntilDate: xmlTime(v.Retention.Until)})
}

func (h *Handler) putObjectRetention(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := h.lockedVersion(r, rq)
	if err != nil {
		return err
	}
	body, err := checkedDoc(rq, r.Header)
	if err != nil {
		return err
	}
	var doc retentionXML
	if err := unmarshalXML(body, &doc); err != nil {
		return err
	}
	var ret *meta.Retention
	switch {
	case doc.Mode == "" && doc.RetainUntilDate == "":
		// An empty Retention removes it (protect decides whether it may).
	case doc.Mode != meta.LockGovernance && doc.Mode != meta.LockCompliance, doc.RetainUntilDate == "":
		return s3err.MalformedXML
	default:
		t, err := parseRetainUntil(doc.RetainUntilDate, h.dataNow())
		if err != nil {
			return err
		}
		ret = &meta.Retention{Mode: doc.Mode, Until: t}
	}
	ctx := h.protectionContext(r, rq, rq.t.key)
	err = h.obj.Meta().UpdateObject(ctx, rq.t.bucket, rq.t.key, v.VersionID, func(cur *meta.ObjectVersion) error {
		if cur.DeleteMarker {
			return s3err.MethodNotAllowed
		}
		cur.Retention = ret
		return nil
	})
	if err != nil {
		return err
	}
	rq.ev.VersionID = v.VersionID
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) getObjectLegalHold(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := h.lockedVersion(r, rq)
	if err != nil {
		return err
	}
	status := legalHoldOff
	if v.LegalHold {
		status = legalHoldOn
	}
	return writeXML(w, &legalHoldXML{Xmlns: s3NS, Status: status})
}

func (h *Handler) putObjectLegalHold(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := h.lockedVersion(r, rq)
	if err != nil {
		return err
	}
	body, err := checkedDoc(rq, r.Header)
	if err != nil {
		return err
	}
	var doc legalHoldXML
	if err := unmarshalXML(body, &doc); err != nil {
		return err
	}
	if doc.Status != legalHoldOn && doc.Status != legalHoldOff {
		return s3err.MalformedXML
	}
	err = h.obj.Meta().UpdateObject(r.Context(), rq.t.bucket, rq.t.key, v.VersionID, func(cur *meta.ObjectVersion) error {
		if cur.DeleteMarker {
			return s3err.MethodNotAllowed
		}
		cur.LegalHold = doc.Status == legalHoldOn
		return nil
	})
	if err != nil {
		return err
	}
	rq.ev.VersionID = v.VersionID
	w.WriteHeader(http.StatusOK)
	return nil
}
