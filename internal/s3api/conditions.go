package s3api

import (
	"crypto/tls"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/auth/authn"
)

// This file builds what authorization sees of a request: the IAM actions
// an S3 operation needs (access-control spec §4.9) and the condition-key
// values it exposes (§5). A key that does not apply is absent, never an
// empty string, because absence and emptiness evaluate differently.

// actionsFor lists the IAM actions a request needs. Most operations need
// one; writes that also set tags, ACLs or retention need those actions as
// well, and GetObjectAttributes needs two.
func actionsFor(r *http.Request, rq *request) []string {
	info := opTable[rq.op]
	if info.action == "" {
		return nil
	}
	versioned := rq.q.Get("versionId") != ""
	acts := []string{actionFor(rq)}
	switch rq.op {
	case OpGetObjectAttributes:
		if versioned {
			acts = []string{"s3:GetObjectVersion", "s3:GetObjectVersionAttributes"}
		} else {
			acts = []string{"s3:GetObject", "s3:GetObjectAttributes"}
		}
	case OpPutObject, OpCopyObject, OpCreateMultipartUpload, OpPostObject:
		hdr := r.Header
		if rq.op == OpPostObject && rq.post != nil {
			hdr = formHeader(rq.post.fields)
		}
		if hasACLHeaders(hdr) {
			acts = append(acts, "s3:PutObjectAcl")
		}
		if hdr.Get("X-Amz-Tagging") != "" || (rq.op == OpPostObject && hdr.Get("Tagging") != "") {
			acts = append(acts, "s3:PutObjectTagging")
		}
		if hdr.Get("X-Amz-Object-Lock-Mode") != "" || hdr.Get("X-Amz-Object-Lock-Retain-Until-Date") != "" {
			acts = append(acts, "s3:PutObjectRetention")
		}
		if hdr.Get("X-Amz-Object-Lock-Legal-Hold") != "" {
			acts = append(acts, "s3:PutObjectLegalHold")
		}
	case OpCreateBucket:
		if acl := r.Header.Get("X-Amz-Acl"); (acl != "" && acl != "private") || hasGrantHeaders(r.Header) {
			acts = append(acts, "s3:PutBucketAcl")
		}
		if r.Header.Get("X-Amz-Object-Ownership") != "" {
			acts = append(acts, "s3:PutBucketOwnershipControls")
		}
		if strings.EqualFold(r.Header.Get("X-Amz-Bucket-Object-Lock-Enabled"), "true") {
			acts = append(acts, "s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning")
		}
	case OpDeleteObject:
		if strings.EqualFold(r.Header.Get("X-Amz-Bypass-Governance-Retention"), "true") {
			acts = append(acts, "s3:BypassGovernanceRetention")
		}
	}
	return acts
}

func formHeader(fields map[string]string) http.Header {
	h := http.Header{}
	for k, v := range fields {
		h.Set(k, v)
	}
	return h
}

func hasGrantHeaders(h http.Header) bool {
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-grant-") {
			return true
		}
	}
	return false
}

func hasACLHeaders(h http.Header) bool { return h.Get("X-Amz-Acl") != "" || hasGrantHeaders(h) }

// conditionContext returns the condition keys and values of a request,
// computed once per request (DeleteObjects asks for every key).
func (h *Handler) conditionContext(r *http.Request, rq *request) map[string][]string {
	if rq.cond == nil {
		rq.cond = h.buildConditionContext(r, rq)
	}
	return rq.cond
}

func (h *Handler) buildConditionContext(r *http.Request, rq *request) map[string][]string {
	c := map[string][]string{}
	set := func(k, v string) { c[k] = []string{v} }
	now := h.cfg.Now().UTC()

	// Global keys present on every request.
	set("aws:SecureTransport", strconv.FormatBool(r.TLS != nil))
	set("aws:CurrentTime", now.Format(time.RFC3339))
	set("aws:EpochTime", strconv.FormatInt(now.Unix(), 10))
	if ne := h.endpointFor(rq.ev.SourceIP); ne != nil {
		// Through a network endpoint, as through a VPC endpoint:
		// aws:SourceIp is absent and the private address is
		// aws:VpcSourceIp.
		set("aws:SourceVpce", ne.ID)
		if ne.VPC != "" {
			set("aws:SourceVpc", ne.VPC)
		}
		set("aws:VpcSourceIp", rq.ev.SourceIP)
	} else {
		set("aws:SourceIp", rq.ev.SourceIP)
	}
	set("aws:UserAgent", r.UserAgent())
	set("aws:RequestedRegion", h.cfg.Region)
	set("aws:ViaAWSService", "false")
	if ref := r.Header.Get("Referer"); ref != "" {
		set("aws:Referer", ref)
	}
	principalKeys(c, rq.principal)
	sessionKeys(c, rq.principal, now)
	if rq.bucket != nil {
		set("aws:ResourceAccount", rq.bucket.Owner)
		set("s3:ResourceAccount", rq.bucket.Owner)
		if raw, ok := rq.bucket.Configs[cfgTagging]; ok {
			var t Tagging
			if xml.Unmarshal(raw, &t) == nil {
				for _, tag := range t.TagSet.Tags {
					set("s3:BucketTag/"+tag.Key, tag.Value)
					set("aws:ResourceTag/"+tag.Key, tag.Value)
				}
			}
		}
	}

	// Signature keys, for authenticated requests.
	if !rq.principal.IsAnonymous() {
		switch rq.authType {
		case "header":
			set("s3:authType", "REST-HEADER")
			if v := r.Header.Get("X-Amz-Content-Sha256"); v != "" {
				set("s3:x-amz-content-sha256", v)
			}
		case "presigned":
			set("s3:authType", "REST-QUERY-STRING")
		case "post":
			set("s3:authType", "POST")
		}
		set("s3:signatureversion", "AWS4-HMAC-SHA256")
		if !rq.authTime.IsZero() {
			set("s3:signatureAge", strconv.FormatInt(now.Sub(rq.authTime).Milliseconds(), 10))
		}
	}
	if r.TLS != nil {
		switch r.TLS.Version {
		case tls.VersionTLS12:
			set("s3:TlsVersion", "1.2")
		case tls.VersionTLS13:
			set("s3:TlsVersion", "1.3")
		}
	}

	// Operation-specific keys.
	hdr := r.Header
	if rq.op == OpPostObject && rq.post != nil {
		hdr = formHeader(rq.post.fields)
	}
	if v := rq.q.Get("versionId"); v != "" {
		set("s3:VersionId", v)
	}
	switch rq.op {
	case OpListObjects, OpListObjectsV2, OpListObjectVersions:
		if _, ok := rq.q["prefix"]; ok {
			set("s3:prefix", rq.q.Get("prefix"))
		}
		if _, ok := rq.q["delimiter"]; ok {
			set("s3:delimiter", rq.q.Get("delimiter"))
		}
		maxKeys := "1000"
		if v := rq.q.Get("max-keys"); v != "" {
			maxKeys = v
		}
		set("s3:max-keys", maxKeys)
	case OpPutObject, OpCopyObject, OpCreateMultipartUpload, OpPostObject:
		for _, k := range []string{
			"x-amz-acl", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp",
			"x-amz-grant-full-control", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
			"x-amz-server-side-encryption-customer-algorithm", "x-amz-storage-class", "x-amz-website-redirect-location",
		} {
			if v := hdr.Get(k); v != "" {
				set("s3:"+k, v)
			}
		}
		if v := hdr.Get(hdrSSEKMSKeyID); v != "" {
			// Policies compare the key by ARN, whatever form named it.
			set("s3:x-amz-server-side-encryption-aws-kms-key-id", h.kmsKeyARN(r, rq, v))
		}
		if v := hdr.Get("X-Amz-Object-Lock-Mode"); v != "" {
			set("s3:object-lock-mode", v)
		}
		if v := hdr.Get("X-Amz-Object-Lock-Retain-Until-Date"); v != "" {
			// Retention is measured on the data-protection clock.
			retentionConditions(c, v, h.dataNow())
		}
		if v := hdr.Get("X-Amz-Object-Lock-Legal-Hold"); v != "" {
			set("s3:object-lock-legal-hold", v)
		}
		if v := hdr.Get("If-Match"); v != "" {
			set("s3:if-match", v)
		}
		if v := hdr.Get("If-None-Match"); v != "" {
			set("s3:if-none-match", v)
		}
		set("s3:ObjectCreationOperation", "true")
		if tags, err := url.ParseQuery(hdr.Get("X-Amz-Tagging")); err == nil && len(tags) > 0 {
			requestTags(c, tags)
		}
		if rq.op == OpCopyObject {
			if src := hdr.Get("X-Amz-Copy-Source"); src != "" {
				set("s3:x-amz-copy-source", normalizeCopySource(src))
			}
			if v := hdr.Get("X-Amz-Metadata-Directive"); v != "" {
				set("s3:x-amz-metadata-directive", v)
			}
		}
	case OpPutObjectRetention, OpPutObjectLegalHold:
		lockDocConditions(rq, c, h.dataNow())
	case OpUploadPartCopy:
		if src := hdr.Get("X-Amz-Copy-Source"); src != "" {
			set("s3:x-amz-copy-source", normalizeCopySource(src))
		}
	case OpDeleteObject:
		if v := hdr.Get("If-Match"); v != "" {
			set("s3:if-match", v)
		}
	case OpPutObjectAcl, OpPutBucketAcl:
		for _, k := range []string{"x-amz-acl", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp", "x-amz-grant-full-control"} {
			if v := hdr.Get(k); v != "" {
				set("s3:"+k, v)
			}
		}
	case OpCreateBucket:
		for _, k := range []string{"x-amz-acl", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp", "x-amz-grant-full-control", "x-amz-object-ownership"} {
			if v := hdr.Get(k); v != "" {
				set("s3:"+k, v)
			}
		}
	}
	return c
}

// requestTags sets s3:RequestObjectTag/<k> and s3:RequestObjectTagKeys.
func requestTags(c map[string][]string, tags url.Values) {
	keys := make([]string, 0, len(tags))
	for k, vs := range tags {
		keys = append(keys, k)
		if len(vs) > 0 {
			c["s3:RequestObjectTag/"+k] = []string{vs[0]}
		}
	}
	c["s3:RequestObjectTagKeys"] = keys
}

// normalizeCopySource gives s3:x-amz-copy-source's value: bucket/key,
// URL-decoded, without a leading slash or a versionId.
func normalizeCopySource(src string) string {
	p, _, _ := strings.Cut(src, "?")
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	return strings.TrimPrefix(p, "/")
}

// principalKeys sets the principal-derived keys of §5.1.
func principalKeys(c map[string][]string, p *authn.Principal) {
	if p.IsAnonymous() {
		c["aws:PrincipalType"] = []string{"Anonymous"}
		c["aws:userid"] = []string{"anonymous"}
		return
	}
	c["aws:PrincipalAccount"] = []string{p.AccountID}
	c["aws:PrincipalArn"] = []string{p.ARN}
	c["aws:PrincipalIsAWSService"] = []string{"false"}
	switch p.Type {
	case authn.TypeRoot:
		c["aws:PrincipalType"] = []string{"Account"}
		c["aws:userid"] = []string{p.AccountID}
	case authn.TypeIAMUser:
		c["aws:PrincipalType"] = []string{"User"}
		c["aws:username"] = []string{p.UserName}
		if p.UserID != "" {
			c["aws:userid"] = []string{p.UserID}
		}
	case authn.TypeAssumedRole:
		// aws:PrincipalArn is the role's ARN, not the session's [§5.1].
		c["aws:PrincipalType"] = []string{"AssumedRole"}
		c["aws:userid"] = []string{p.UserID}
		if p.Session != nil {
			c["aws:PrincipalArn"] = []string{p.Session.RoleARN}
		}
	}
}

// sessionKeys sets the keys only temporary credentials have [§5.2]:
// aws:MultiFactorAuthPresent (true or false; long-term keys have none, so
// that BoolIfExists can tell them apart), aws:MultiFactorAuthAge when MFA
// was used, aws:TokenIssueTime and aws:SourceIdentity.
func sessionKeys(c map[string][]string, p *authn.Principal, now time.Time) {
	if p.IsAnonymous() || p.Session == nil {
		return
	}
	s := p.Session
	c["aws:MultiFactorAuthPresent"] = []string{strconv.FormatBool(s.MFA)}
	if s.MFA {
		age := max(0, int64(now.Sub(s.MFATime)/time.Second))
		c["aws:MultiFactorAuthAge"] = []string{strconv.FormatInt(age, 10)}
	}
	c["aws:TokenIssueTime"] = []string{s.IssuedAt.UTC().Format(time.RFC3339)}
	if s.SourceIdentity != "" {
		c["aws:SourceIdentity"] = []string{s.SourceIdentity}
	}
}

// kmsKeyARN turns a KMS key identifier from a request into the key's ARN
// for condition keys: a bare key ID names a key of the requester's
// account, an alias is resolved. What cannot be resolved is passed as
// given (the write then fails with the KMS's error).
func (h *Handler) kmsKeyARN(r *http.Request, rq *request, id string) string {
	account := requesterAccount(rq, rq.bucket)
	switch {
	case strings.HasPrefix(id, "arn:") && strings.Contains(id, ":key/"):
		return id
	case !strings.HasPrefix(id, "arn:") && !strings.HasPrefix(id, "alias/"):
		return "arn:aws:kms:" + h.cfg.Region + ":" + account + ":key/" + id
	}
	if h.obj == nil || !h.obj.Encrypting() {
		return id
	}
	arn, err := h.obj.KeyARN(r.Context(), account, id)
	if err != nil {
		return id
	}
	return arn
}
