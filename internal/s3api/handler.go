// Package s3api is Coffer's S3 front door. Every S3 request goes through one
// pipeline, in this order and nowhere else:
//
//	classify → authenticate → authorize → handle → audit
//
// Classification maps the request to an Op; authentication checks its
// SigV4 signature (package sigv4) and resolves the principal (package
// authn); authorization asks the configured authz.Authorizer; handlers are
// thin (decode → service call → encode) and return errors, which s3err turns
// into S3 error responses; every request, denied and failed ones included,
// leaves an audit.Event.
package s3api

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coffer-io/coffer/internal/analyze"
	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/clock"
	"github.com/coffer-io/coffer/internal/objects"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Config configures a Handler.
type Config struct {
	Region string
	// BaseDomains are the host names under which virtual-hosted-style
	// requests arrive (bucket.BaseDomain).
	BaseDomains []string
	Objects     *objects.Service
	Keys        *authn.Resolver
	Authorizer  authz.Authorizer
	Audit       audit.Sink
	Admin       AdminService
	// Networks are the configured network endpoints (see
	// NetworkEndpoint).
	Networks []NetworkEndpoint
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Query holds the Query-protocol services (IAM, STS) by SigV4 service
	// name.
	Query map[string]QueryService
	// JSON holds the JSON-protocol services (KMS) by SigV4 service name.
	JSON map[string]JSONService
	// REST holds the REST-JSON services (Macie) by SigV4 service name.
	REST   map[string]RESTService
	Logger *slog.Logger
	// Now is the clock for authentication (never moved by tests).
	Now func() time.Time
	// MaxObjectSize bounds single PUTs (AWS: 5 GiB).
	MaxObjectSize int64
	// KeyUse, if set, is told of every successful authentication with a
	// long-term access key (GetAccessKeyLastUsed). It must not block.
	KeyUse KeyUseRecorder
	// DataClock is the data-protection clock (Object Lock retention);
	// clock.Real if nil. Unlike Now, tests may move it.
	DataClock clock.Clock
	// MFA verifies the account root's MFA codes for MFA Delete; without
	// it, every request needing MFA is refused.
	MFA MFAVerifier
}

// MFAVerifier checks an MFA code of an account root's device, spending
// it: a code verifies once. ok is false for a wrong, reused or unknown
// code or device; err reports a failure to check at all.
type MFAVerifier interface {
	VerifyRootMFA(ctx context.Context, account, serial, code string) (ok bool, err error)
}

// KeyUseRecorder notes access-key uses; iam.KeyUseTracker is one.
type KeyUseRecorder interface {
	Note(account, keyID, service, region string, at time.Time)
}

// AdminService is the account administration behind the admin API.
type AdminService interface {
	// DefaultAccountID is the account whose root may administer.
	DefaultAccountID() string
	CreateAccount(ctx context.Context, name string) (*meta.Account, *meta.AccessKey, error)
	// Analyze reports public and cross-account access to an account's
	// buckets.
	Analyze(ctx context.Context, accountID string) (*analyze.Report, error)
}

// Handler serves S3 requests.
type Handler struct {
	cfg     Config
	obj     *objects.Service
	log     *slog.Logger
	metrics Metrics
	reqSeq  atomic.Uint64
	hostID  string
}

// New returns a Handler.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DataClock == nil {
		cfg.DataClock = clock.Real
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxObjectSize == 0 {
		cfg.MaxObjectSize = 5 << 30
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &Handler{cfg: cfg, obj: cfg.Objects, log: cfg.Logger, hostID: hex.EncodeToString(b[:])}
}

// Metrics returns the handler's counters.
func (h *Handler) Metrics() *Metrics { return &h.metrics }

// request is the per-request state handed along the pipeline.
type request struct {
	id        string
	ctx       context.Context
	op        Op
	t         target
	q         url.Values
	principal *authn.Principal
	authType  string
	// authTime is the signature's timestamp (s3:signatureAge).
	authTime time.Time
	// cond caches the condition-key context (see conditions.go).
	cond map[string][]string
	// bucket is the target bucket's record, loaded before authorization
	// (nil for service-level operations or a missing bucket).
	bucket *meta.Bucket
	// body is the request body after signature/payload verification.
	body io.Reader
	// trailers returns the aws-chunked trailing headers after the body
	// was read to EOF (nil when the body is not chunked).
	trailers func() map[string]string
	// decodedLen is the payload length (Content-Length, or
	// x-amz-decoded-content-length for aws-chunked), -1 if unknown.
	decodedLen int64
	ev         *audit.Event
	// post carries the parsed browser-POST form.
	post *postForm
	// doc and docErr hold a document body read before the handler ran
	// (see requestDoc).
	doc    []byte
	docErr error
	// kctx is the request's context carrying the requester for the KMS
	// (see kmsCtx), built on first use.
	kctx context.Context
	// aclRequired reports that an ACL grant allowed the request (access
	// logs' aclRequired field).
	aclRequired bool
}

type handlerFunc func(h *Handler, w http.ResponseWriter, r *http.Request, rq *request) error

var handlers [numAllOps]handlerFunc

func init() {
	handlers = [numAllOps]handlerFunc{
		OpListBuckets:             (*Handler).listBuckets,
		OpCreateBucket:            (*Handler).createBucket,
		OpGetBucketEncryption:     (*Handler).getBucketEncryption,
		OpPutBucketEncryption:     (*Handler).putBucketEncryption,
		OpDeleteBucketEncryption:  (*Handler).deleteBucketEncryption,
		OpHeadBucket:              (*Handler).headBucket,
		OpDeleteBucket:            (*Handler).deleteBucket,
		OpGetBucketLocation:       (*Handler).getBucketLocation,
		OpListObjects:             (*Handler).listObjectsV1,
		OpListObjectsV2:           (*Handler).listObjectsV2,
		OpListObjectVersions:      (*Handler).listObjectVersions,
		OpListMultipartUploads:    (*Handler).listMultipartUploads,
		OpGetBucketVersioning:     (*Handler).getBucketVersioning,
		OpPutBucketVersioning:     (*Handler).putBucketVersioning,
		OpGetBucketTagging:        (*Handler).getBucketTagging,
		OpPutBucketTagging:        (*Handler).putBucketTagging,
		OpDeleteBucketTagging:     (*Handler).deleteBucketTagging,
		OpGetBucketCors:           (*Handler).getBucketCors,
		OpPutBucketCors:           (*Handler).putBucketCors,
		OpDeleteBucketCors:        (*Handler).deleteBucketCors,
		OpGetBucketAcl:            (*Handler).getAcl,
		OpPutBucketAcl:            (*Handler).putAcl,
		OpGetBucketPolicy:         (*Handler).getBucketPolicy,
		OpPutBucketPolicy:         (*Handler).putBucketPolicy,
		OpDeleteBucketPolicy:      (*Handler).deleteBucketPolicy,
		OpGetBucketPolicyStatus:   (*Handler).getBucketPolicyStatus,
		OpDeleteObjects:           (*Handler).deleteObjects,
		OpPostObject:              (*Handler).postObject,
		OpPutObject:               (*Handler).putObject,
		OpCopyObject:              (*Handler).copyObject,
		OpGetObject:               (*Handler).getObject,
		OpHeadObject:              (*Handler).getObject,
		OpDeleteObject:            (*Handler).deleteObject,
		OpGetObjectAttributes:     (*Handler).getObjectAttributes,
		OpGetObjectTagging:        (*Handler).getObjectTagging,
		OpPutObjectTagging:        (*Handler).putObjectTagging,
		OpDeleteObjectTagging:     (*Handler).deleteObjectTagging,
		OpGetObjectAcl:            (*Handler).getAcl,
		OpPutObjectAcl:            (*Handler).putAcl,
		OpCreateMultipartUpload:   (*Handler).createMultipartUpload,
		OpUploadPart:              (*Handler).uploadPart,
		OpUploadPartCopy:          (*Handler).uploadPartCopy,
		OpCompleteMultipartUpload: (*Handler).completeMultipartUpload,
		OpAbortMultipartUpload:    (*Handler).abortMultipartUpload,
		OpListParts:               (*Handler).listParts,
		OpPreflight:               (*Handler).preflight,
		OpNotImplemented:          func(*Handler, http.ResponseWriter, *http.Request, *request) error { return s3err.NotImplemented },
		OpAdminCreateAccount:      (*Handler).adminCreateAccount,
		OpAdminAnalyze:            (*Handler).adminAnalyze,

		// Data protection: Object Lock and lifecycle.
		OpGetObjectLockConfiguration:      (*Handler).getObjectLockConfiguration,
		OpPutObjectLockConfiguration:      (*Handler).putObjectLockConfiguration,
		OpGetObjectRetention:              (*Handler).getObjectRetention,
		OpPutObjectRetention:              (*Handler).putObjectRetention,
		OpGetObjectLegalHold:              (*Handler).getObjectLegalHold,
		OpPutObjectLegalHold:              (*Handler).putObjectLegalHold,
		OpGetBucketLifecycleConfiguration: (*Handler).getBucketLifecycle,
		OpPutBucketLifecycleConfiguration: (*Handler).putBucketLifecycle,
		OpDeleteBucketLifecycle:           (*Handler).deleteBucketLifecycle,

		// Server access logging.
		OpGetBucketLogging: (*Handler).getBucketLogging,
		OpPutBucketLogging: (*Handler).putBucketLogging,
	}
}

// statusWriter records the status and bytes written, for audit and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	// firstByte is when the response began (access logs' turn-around
	// time).
	firstByte time.Time
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
		s.firstByte = time.Now()
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
		s.firstByte = time.Now()
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

// ReadFrom keeps io.Copy on the sendfile/splice path where possible.
func (s *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if s.status == 0 {
		s.status = http.StatusOK
		s.firstByte = time.Now()
	}
	n, err := io.Copy(s.ResponseWriter, r)
	s.bytes += n
	return n, err
}

// Flush passes through to the underlying writer.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// countingReader counts request body bytes for audit.
type countingReader struct {
	r io.Reader
	n int64
	// eof is when the body was read to its end (access logs).
	eof time.Time
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err == io.EOF && c.eof.IsZero() {
		c.eof = time.Now()
	}
	return n, err
}

func (h *Handler) newRequestID() string {
	var b [8]byte
	n := h.reqSeq.Add(1)
	for i := 7; i >= 0; i-- {
		b[i] = byte(n)
		n >>= 8
	}
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// ServeHTTP runs the pipeline.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	rq := &request{id: h.newRequestID(), ctx: r.Context(), decodedLen: -1}
	rq.ev = &audit.Event{
		Time:      start.UTC(),
		RequestID: rq.id,
		Service:   "s3",
		SourceIP:  h.sourceIP(r),
		UserAgent: r.UserAgent(),
		TLS:       r.TLS != nil,
	}
	if r.TLS != nil {
		rq.ev.TLSVersion = tls.VersionName(r.TLS.Version)
		rq.ev.CipherSuite = tls.CipherSuiteName(r.TLS.CipherSuite)
	}
	sw.Header().Set("X-Amz-Request-Id", rq.id)
	sw.Header().Set("X-Amz-Id-2", h.hostID)
	sw.Header().Set("Server", "Coffer")
	orig := r.Body
	cr := &countingReader{r: orig}
	r.Body = struct {
		io.Reader
		io.Closer
	}{cr, orig}

	err := h.pipeline(sw, r, rq)
	// Give net/http its own body back before the response goes out: it
	// recognises a body still waiting for "100 Continue" only in its own
	// type, and would otherwise try to drain one the client will never
	// send, hanging clients such as botocore that wait for the answer.
	r.Body = orig
	abort := false
	if err != nil {
		abort = h.writeError(sw, r, rq, err)
	}
	// An unread body is left to net/http, which discards a small rest to
	// keep the connection and knows not to wait for a body it never asked
	// for with 100 Continue. Reading it here would deadlock such a client:
	// the error response is still buffered while we wait for its body.

	ev := rq.ev
	if ev.Operation == "" {
		ev.Operation = rq.op.String()
	}
	ev.Status = sw.status
	if ev.Status == 0 {
		ev.Status = http.StatusOK
	}
	ev.BytesIn = cr.n
	ev.BytesOut = sw.bytes
	ev.Duration = time.Since(start)
	if ev.Outcome == "" {
		if ev.Status >= 300 && ev.Status != http.StatusNotModified {
			ev.Outcome = audit.OutcomeFailed
		} else {
			ev.Outcome = audit.OutcomeSuccess
		}
	}
	h.describeForTrail(r, sw, rq)
	if h.cfg.Audit != nil {
		if err := h.cfg.Audit.Record(h.auditContext(r, rq, sw, cr, start), ev); err != nil {
			h.log.Error("audit record failed", "err", err, "request_id", rq.id)
		}
	}
	h.metrics.observe(rq.op, ev.Status, ev.BytesIn, ev.BytesOut, ev.Duration)
	h.metrics.observeDenial(rq.op, ev.Outcome, ev.Status, ev.ErrorCode)
	if abort {
		// The response was already under way when the request failed:
		// cutting the connection is the only way to tell the client, and
		// it happens after the audit record so no failure goes unrecorded.
		panic(http.ErrAbortHandler)
	}
}

// errAbortResponse reports a failure after the response headers were
// sent (a body write failed); the connection must be cut.
var errAbortResponse = errors.New("s3api: response aborted")

// maxHeaderSection is S3's limit on a request's header section.
const maxHeaderSection = 8192

func (h *Handler) pipeline(w http.ResponseWriter, r *http.Request, rq *request) error {
	if n := headerSectionSize(r); n > maxHeaderSection {
		return s3err.RequestHeaderSectionTooLarge.With("MaxSizeAllowed", strconv.Itoa(maxHeaderSection))
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return s3err.InvalidURI.Wrap(err)
	}
	rq.q = q
	rq.t = parseTarget(r, h.cfg.BaseDomains)
	if isControlRequest(r) {
		// S3 Control (account-level settings): not a bucket, whatever
		// the path looks like.
		rq.op = classifyControl(r)
		rq.ev.Service = "s3control"
		rq.t = target{}
	} else if isAdminPath(r.URL.Path) {
		rq.op = classifyAdmin(r)
		rq.ev.Service = "admin"
		rq.t = target{}
	} else if svc := queryServiceOf(r); svc != "" {
		rq.op = serviceOp(svc)
		rq.ev.Service = svc
		rq.t = target{}
	} else {
		rq.op = classify(r, rq.t, q)
	}
	rq.ev.Bucket, rq.ev.Key = rq.t.bucket, rq.t.key
	if rq.op == OpUnknown {
		return s3err.MethodNotAllowed
	}
	if rq.op == OpPostObject {
		// Browser POST carries its credentials in the form, not in
		// headers: parse the form (bounded), then authenticate from it.
		if err := h.authenticatePost(r, rq); err != nil {
			return err
		}
	} else if rq.op == OpPreflight {
		// CORS preflight requests are unauthenticated by design; they
		// only reveal the bucket's CORS rules' verdict.
		rq.principal = authn.Anonymous
		rq.authType = "anonymous"
	} else if err := h.authenticate(r, rq); err != nil {
		return err
	}
	if p := rq.principal; p != nil {
		rq.ev.PrincipalType = p.Type
		rq.ev.AccountID = p.AccountID
		rq.ev.PrincipalARN = p.ARN
		rq.ev.AccessKeyID = p.AccessKeyID
	}
	rq.ev.AuthType = rq.authType
	if err := h.validateTarget(rq); err != nil {
		return err
	}
	// x-amz-expected-bucket-owner guards against writing to, or reading
	// from, a bucket that changed hands: a mismatch is refused before
	// anything else happens.
	if err := expectedBucketOwner(r.Header, "X-Amz-Expected-Bucket-Owner", rq.bucket); err != nil {
		return err
	}
	if err := h.authorize(r, rq); err != nil {
		return err
	}
	if rq.op != OpPreflight && rq.op != OpPostObject && rq.op != OpNotImplemented {
		if max := opTable[rq.op].maxBody; max > 0 {
			if rq.decodedLen > max {
				return s3err.MaxMessageLengthExceeded
			}
			rq.body = io.LimitReader(rq.body, max+1)
		}
	}
	applyCORS(w, r, rq.bucket)
	return handlers[rq.op](h, w, r, rq)
}

// headerSectionSize is the size of the request's header lines as sent.
func headerSectionSize(r *http.Request) int {
	n := len("Host: \r\n") + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(": \r\n") + len(v)
		}
	}
	return n
}

// authorizeExtra authorizes a second resource a request touches (the
// source of a copy) through the same Authorizer.
func (h *Handler) authorizeExtra(r *http.Request, rq *request, action, resource string, b *meta.Bucket) error {
	if d := h.decide(r, rq, action, resource, b); !d.Allowed {
		rq.ev.Outcome = audit.OutcomeDenied
		return accessDenied(rq.principal, resource, d)
	}
	return nil
}

// accessDenied is S3's AccessDenied, with the Authorizer's explanation
// when it gives one, in AWS's words.
func accessDenied(p *authn.Principal, resource string, d authz.Decision) *s3err.Error {
	if d.Why == "" {
		return s3err.AccessDenied
	}
	return s3err.AccessDenied.WithMessage("User: " + p.ARN + " is not authorized to perform: " + d.Action +
		" on resource: \"" + resource + "\" " + d.Why)
}

// allowed asks the Authorizer about one action on one resource of bucket b.
func (h *Handler) allowed(r *http.Request, rq *request, action, resource string, b *meta.Bucket) bool {
	return h.decide(r, rq, action, resource, b).Allowed
}

// decide asks the Authorizer about one action on one resource of bucket b.
func (h *Handler) decide(r *http.Request, rq *request, action, resource string, b *meta.Bucket) authz.Decision {
	ar := &authz.Request{
		Principal: rq.principal, Actions: []string{action}, Resource: resource, ResourceOwner: b.Owner,
		Conditions: h.conditionContext(r, rq), ResourcePolicy: b.Configs[cfgPolicy],
	}
	_, objectPerm, _ := aclPermission(action)
	if err := h.accessFacts(rq, ar, b, keyOfResource(resource, b.Name), "", objectPerm); err != nil {
		h.log.Error("loading access control facts failed; denying", "request_id", rq.id, "err", err)
		return authz.Decision{Reason: "access control facts unavailable"}
	}
	return h.cfg.Authorizer.Authorize(r.Context(), ar)
}

// validateTarget checks bucket and key syntax and loads the bucket.
func (h *Handler) validateTarget(rq *request) error {
	if rq.t.bucket == "" {
		return nil
	}
	if err := validBucketName(rq.t.bucket, rq.op == OpCreateBucket); err != nil {
		return err
	}
	if rq.t.key != "" || opTable[rq.op].scope == scopeObject {
		if err := validKey(rq.t.key); err != nil {
			return err
		}
	}
	b, err := h.obj.Meta().GetBucket(rq.ctx, rq.t.bucket)
	switch {
	case err == nil:
		rq.bucket = b
	case errors.Is(err, meta.ErrBucketNotFound), errors.Is(err, meta.ErrNotFound):
	default:
		return err
	}
	return nil
}

// authorize builds the authorization request and asks the Authorizer.
func (h *Handler) authorize(r *http.Request, rq *request) error {
	if rq.op == OpPreflight || rq.op.isQuery() || rq.op.isJSON() || rq.op == OpDeleteObjects || rq.op == OpNotImplemented {
		// Query calls are authorized in serveQuery, once the form names
		// the action; DeleteObjects key by key, as S3 reports denials
		// per key inside a successful response. NotImplemented answers
		// the same to everyone and touches nothing.
		return nil
	}
	// S3 answers an anonymous request naming a bucket that does not exist
	// with NoSuchBucket (404), not AccessDenied: there is no bucket whose
	// policy could grant or deny it. Bucket names are a public namespace.
	if rq.principal.IsAnonymous() && rq.t.bucket != "" && rq.bucket == nil && rq.op != OpCreateBucket && !rq.op.isAdmin() {
		return s3err.NoSuchBucket
	}
	info := opTable[rq.op]
	ar := &authz.Request{Principal: rq.principal, Resource: "*", Actions: actionsFor(r, rq)}
	switch {
	case rq.t.bucket != "" && info.scope == scopeObject:
		ar.Resource = "arn:aws:s3:::" + rq.t.bucket + "/" + rq.t.key
	case rq.t.bucket != "":
		ar.Resource = "arn:aws:s3:::" + rq.t.bucket
	}
	rq.ev.Resource = ar.Resource
	// CreateBucket asks for a new bucket: an existing one of the same name
	// is not its resource, and S3 answers another owner's name with
	// BucketAlreadyExists (409), not AccessDenied.
	if rq.bucket != nil && rq.op != OpCreateBucket {
		ar.ResourceOwner = rq.bucket.Owner
		ar.ResourcePolicy = rq.bucket.Configs[cfgPolicy]
		if err := h.accessFacts(rq, ar, rq.bucket, rq.t.key, rq.q.Get("versionId"), loadsObjectContext(rq.op)); err != nil {
			return err
		}
	}
	switch rq.op {
	case OpAdminCreateAccount:
		// Accounts are the installation's: its default account owns them.
		ar.ResourceOwner = h.cfg.Admin.DefaultAccountID()
	case OpAdminAnalyze:
		// An account analyzes its own buckets.
		ar.ResourceOwner = rq.principal.AccountID
	}
	ar.Conditions = h.conditionContext(r, rq)
	d := h.cfg.Authorizer.Authorize(r.Context(), ar)
	rq.aclRequired = strings.HasPrefix(d.Reason, "AllowedByACL")
	if !d.Allowed {
		rq.ev.Outcome = audit.OutcomeDenied
		h.log.Debug("access denied", "request_id", rq.id, "op", rq.op.String(), "reason", d.Reason)
		return accessDenied(rq.principal, ar.Resource, d)
	}
	return nil
}

// actionFor refines the IAM action for operations whose action depends on
// their arguments (acting on a specific version).
func actionFor(rq *request) string {
	a := opTable[rq.op].action
	if rq.q.Get("versionId") == "" {
		return a
	}
	switch rq.op {
	case OpGetObject, OpHeadObject:
		return "s3:GetObjectVersion"
	case OpDeleteObject:
		return "s3:DeleteObjectVersion"
	case OpGetObjectTagging:
		return "s3:GetObjectVersionTagging"
	case OpPutObjectTagging:
		return "s3:PutObjectVersionTagging"
	case OpDeleteObjectTagging:
		return "s3:DeleteObjectVersionTagging"
	case OpGetObjectAcl:
		return "s3:GetObjectVersionAcl"
	case OpPutObjectAcl:
		return "s3:PutObjectVersionAcl"
	case OpGetObjectAttributes:
		return "s3:GetObjectVersionAttributes"
	}
	return a
}

// sourceIP is the client's address: the TCP peer, unless the peer is a
// configured trusted proxy, in which case X-Forwarded-For is read from the
// right, skipping trusted proxies, and the first other address is the
// client. Forwarded headers from anyone else are ignored: they are
// attacker-controlled, and aws:SourceIp must not be.
func (h *Handler) sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(h.cfg.TrustedProxies) == 0 || !h.trustedProxy(host) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		addr, err := netip.ParseAddr(hop)
		if err != nil {
			// A malformed entry ends the trustworthy part of the chain.
			return host
		}
		if !h.trustedProxy(addr.String()) {
			return addr.Unmap().String()
		}
		host = addr.Unmap().String()
	}
	return host
}

func (h *Handler) trustedProxy(ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range h.cfg.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// writeError sends an S3 error response. It reports true when the response
// had already started, so the caller must abort the connection.
func (h *Handler) writeError(w *statusWriter, r *http.Request, rq *request, err error) bool {
	if errors.Is(err, errAbortResponse) {
		rq.ev.Outcome = audit.OutcomeFailed
		return true
	}
	e := s3err.From(err)
	// NotImplemented (501) is a refusal of an unbuilt feature, not a
	// server failure: it must not page anyone.
	if e.Status >= 500 && e.Status != http.StatusNotImplemented {
		h.log.Error("request failed", "request_id", rq.id, "op", rq.op.String(), "err", err)
	} else if c := errors.Unwrap(e); c != nil {
		h.log.Debug("request error", "request_id", rq.id, "op", rq.op.String(), "code", e.Code, "err", err)
	}
	rq.ev.ErrorCode = e.Code
	if w.status != 0 {
		// Headers already went out (a failure mid-body): all we can do
		// is cut the connection so the client sees a truncated body.
		rq.ev.Outcome = audit.OutcomeFailed
		return true
	}
	for k, vs := range e.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	rq.ev.ErrorMessage = e.Message
	if e.Status == http.StatusNotModified || r.Method == http.MethodHead {
		w.Header().Del("Content-Type")
		w.WriteHeader(e.Status)
		return false
	}
	var body []byte
	if rq.op == OpMacie {
		e = restWireError(e)
		rq.ev.ErrorCode = e.Code
		body = encodeJSONError(e)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", e.Code)
	} else if rq.op.isJSON() {
		e = jsonWireError(e)
		rq.ev.ErrorCode = e.Code
		body = encodeJSONError(e)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	} else if svc := h.cfg.Query[rq.op.service()]; rq.op.isQuery() && svc != nil {
		if e.Code == s3err.InvalidAccessKeyID.Code {
			// IAM and STS name an unknown key differently from S3.
			e = queryError("InvalidClientTokenId", 403, "The security token included in the request is invalid.")
			rq.ev.ErrorCode = e.Code
		}
		body = encodeQueryError(e, svc.Namespace(), rq.id)
		w.Header().Set("Content-Type", "text/xml")
	} else {
		body = encodeError(e, r, rq, h.hostID)
		w.Header().Set("Content-Type", "application/xml")
	}
	rq.ev.ErrorMessage = e.Message
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
	return false
}
