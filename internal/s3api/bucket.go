package s3api

import (
	"encoding/xml"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/coffer-io/coffer/internal/lifecycle"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// needBucket returns the request's bucket or NoSuchBucket.
func needBucket(rq *request) (*meta.Bucket, error) {
	if rq.bucket == nil {
		return nil, s3err.NoSuchBucket
	}
	return rq.bucket, nil
}

func (h *Handler) owner(rq *request, accountID string) Owner {
	if p := rq.principal; p != nil && p.AccountID == accountID {
		return Owner{ID: p.CanonicalID}
	}
	a, err := h.obj.Meta().GetAccount(rqCtx(rq), accountID)
	if err != nil {
		return Owner{ID: accountID}
	}
	return Owner{ID: a.CanonicalID}
}

type listBucketsResult struct {
	XMLName xml.Name `xml:"ListAllMyBucketsResult"`
	Xmlns   string   `xml:"xmlns,attr"`
	Owner   Owner    `xml:"Owner"`
	Buckets struct {
		Bucket []bucketEntry `xml:"Bucket"`
	} `xml:"Buckets"`
	ContinuationToken string `xml:"ContinuationToken,omitempty"`
	Prefix            string `xml:"Prefix,omitempty"`
}

type bucketEntry struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
	BucketRegion string `xml:"BucketRegion"`
}

func (h *Handler) listBuckets(w http.ResponseWriter, r *http.Request, rq *request) error {
	maxBuckets := 10000
	if s := rq.q.Get("max-buckets"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 10000 {
			return s3err.InvalidArgument.WithMessage("Argument max-buckets must be an integer between 1 and 10000").With("ArgumentName", "max-buckets").With("ArgumentValue", s)
		}
		maxBuckets = n
	}
	prefix := rq.q.Get("prefix")
	after := rq.q.Get("continuation-token")
	region := rq.q.Get("bucket-region")
	bs, err := h.obj.Meta().ListBuckets(r.Context(), rq.principal.AccountID)
	if err != nil {
		return err
	}
	res := listBucketsResult{Xmlns: s3NS, Owner: Owner{ID: rq.principal.CanonicalID}, Prefix: prefix}
	res.Buckets.Bucket = []bucketEntry{}
	for _, b := range bs {
		if !strings.HasPrefix(b.Name, prefix) || b.Name <= after || (region != "" && b.Region != region) {
			continue
		}
		if len(res.Buckets.Bucket) == maxBuckets {
			res.ContinuationToken = res.Buckets.Bucket[maxBuckets-1].Name
			break
		}
		res.Buckets.Bucket = append(res.Buckets.Bucket, bucketEntry{Name: b.Name, CreationDate: xmlTime(b.CreatedAt), BucketRegion: b.Region})
	}
	return writeXML(w, &res)
}

type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string   `xml:"LocationConstraint"`
	Location           *struct {
		Name string `xml:"Name"`
		Type string `xml:"Type"`
	} `xml:"Location"`
	Bucket *struct {
		Type string `xml:"Type"`
	} `xml:"Bucket"`
	Tags *struct {
		Tag []Tag `xml:"Tag"`
	} `xml:"Tags"`
}

func (h *Handler) createBucket(w http.ResponseWriter, r *http.Request, rq *request) error {
	lock := false
	switch v := r.Header.Get("X-Amz-Bucket-Object-Lock-Enabled"); {
	case v == "", strings.EqualFold(v, "false"):
	case strings.EqualFold(v, "true"):
		lock = true
	default:
		return s3err.InvalidArgument.WithMessage("Invalid x-amz-bucket-object-lock-enabled header: "+v).With("ArgumentName", "x-amz-bucket-object-lock-enabled").With("ArgumentValue", v)
	}
	// New buckets start as AWS's have since April 2023: ACLs disabled
	// unless the request asks otherwise, all of Block Public Access on.
	ownership := ownerEnforced
	if v := r.Header.Get("X-Amz-Object-Ownership"); v != "" {
		if !validOwnership(v) {
			return s3err.InvalidArgument.WithMessage("Invalid x-amz-object-ownership header: "+v).With("ArgumentName", "x-amz-object-ownership").With("ArgumentValue", v)
		}
		ownership = v
	}
	creator := rq.principal.CanonicalID
	acl, err := parseRequestACL(r.Header, nil, creator, creator, false)
	if err != nil {
		return err
	}
	if acl != nil {
		switch {
		case ownership == ownerEnforced && !ownerOnlyACL(acl.grants, creator, creator):
			return InvalidBucketAclWithObjectOwnership
		case isPublicACL(acl.grants):
			// The new bucket's own Block Public Access blocks it.
			return InvalidBucketAclWithBlockPublicAccessError
		}
	}
	body, err := readAll(rq)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		var cfg createBucketConfiguration
		if err := unmarshalXML(body, &cfg); err != nil {
			return err
		}
		if cfg.Location != nil || cfg.Bucket != nil || cfg.Tags != nil {
			return s3err.NotImplemented.WithMessage("Directory buckets and bucket tags at creation are not implemented")
		}
		switch lc := cfg.LocationConstraint; {
		case lc == "":
		case lc == h.cfg.Region && lc != "us-east-1":
		case lc == "us-east-1" && h.cfg.Region == "us-east-1":
			return s3err.InvalidLocationConstraint
		default:
			return s3err.IllegalLocationConstraint.WithMessage("The " + lc + " location constraint is incompatible for the region specific endpoint this request was sent to.")
		}
	}
	b := &meta.Bucket{
		Name:      rq.t.bucket,
		Owner:     rq.principal.AccountID,
		Region:    h.cfg.Region,
		CreatedAt: h.obj.Now(),
		Configs: map[string][]byte{
			cfgPublicAccessBlock: encodePAB(allBlocked),
			cfgOwnership:         []byte(ownership),
			cfgEncryption:        defaultEncryptionRaw,
		},
	}
	if acl != nil && ownership != ownerEnforced {
		b.Configs[cfgACL] = encodeACL(acl.grants)
	}
	if lock {
		// Object Lock at creation turns versioning on, for good.
		b.ObjectLockEnabled, b.Versioning = true, meta.VersioningEnabled
	}
	err = h.obj.Meta().CreateBucket(r.Context(), b)
	if errors.Is(err, meta.ErrBucketExists) {
		existing, gerr := h.obj.Meta().GetBucket(r.Context(), b.Name)
		if gerr != nil {
			return gerr
		}
		if existing.Owner != rq.principal.AccountID {
			return s3err.BucketAlreadyExists
		}
		// AWS's us-east-1 answers a repeated create by the owner with
		// success; every other region with BucketAlreadyOwnedByYou.
		if h.cfg.Region != "us-east-1" {
			return s3err.BucketAlreadyOwnedByYou
		}
		err = nil
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/"+b.Name)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) headBucket(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	w.Header().Set("X-Amz-Bucket-Region", b.Region)
	w.Header().Set("X-Amz-Access-Point-Alias", "false")
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteBucket(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := needBucket(rq); err != nil {
		return err
	}
	if err := h.obj.Meta().DeleteBucket(r.Context(), rq.t.bucket, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) getBucketLocation(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	loc := b.Region
	if loc == "us-east-1" {
		// S3 reports us-east-1 as an empty constraint.
		loc = ""
	}
	return writeXML(w, &struct {
		XMLName xml.Name `xml:"LocationConstraint"`
		Xmlns   string   `xml:"xmlns,attr"`
		Value   string   `xml:",chardata"`
	}{Xmlns: s3NS, Value: loc})
}

type versioningConfiguration struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	Xmlns     string   `xml:"xmlns,attr,omitempty"`
	Status    string   `xml:"Status,omitempty"`
	MfaDelete string   `xml:"MfaDelete,omitempty"`
}

func (h *Handler) getBucketVersioning(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	res := versioningConfiguration{Xmlns: s3NS, Status: b.Versioning}
	if b.Versioning != "" {
		res.MfaDelete = b.MFADelete
	}
	return writeXML(w, &res)
}

func (h *Handler) putBucketVersioning(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	var cfg versioningConfiguration
	if err := decodeXML(rq, &cfg); err != nil {
		return err
	}
	switch cfg.MfaDelete {
	case "", "Disabled", "Enabled":
	default:
		return s3err.MalformedXML
	}
	switch cfg.Status {
	case meta.VersioningEnabled, meta.VersioningSuspended:
	case "":
		return s3err.IllegalVersioningConfig
	default:
		return s3err.MalformedXML
	}
	// Only the bucket owner's root may set MFA Delete, with its MFA
	// device; while MFA Delete is on, every change of the versioning
	// state needs that device too.
	if cfg.MfaDelete != "" && !isBucketOwnerRoot(rq, b) {
		return errMFANotRoot
	}
	if err := h.checkMFA(r, rq, b, cfg.MfaDelete != "" || mfaDeleteEnabled(b)); err != nil {
		return err
	}
	err = h.obj.Meta().UpdateBucket(r.Context(), rq.t.bucket, func(b *meta.Bucket) error {
		if b.ObjectLockEnabled && cfg.Status == meta.VersioningSuspended {
			return errWormConfigLocked
		}
		if _, ok := b.Configs[lifecycle.ConfigName]; ok && cfg.MfaDelete == "Enabled" {
			return errLifecycleWithMFADelete
		}
		if mfaDeleteEnabled(b) && cfg.MfaDelete == "" && r.Header.Get(hdrMFA) == "" {
			// MFA Delete was turned on since the check above.
			return errMFARequired
		}
		b.Versioning = cfg.Status
		if cfg.MfaDelete != "" {
			b.MFADelete = cfg.MfaDelete
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// validateTags applies S3's tag rules. maxTags is 50 for buckets, 10 for
// objects.
func validateTags(tags []Tag, maxTags int) (map[string]string, error) {
	if len(tags) > maxTags {
		if maxTags == 10 {
			return nil, s3err.InvalidTag.WithMessage("Object tags cannot be greater than 10")
		}
		return nil, s3err.InvalidTag.WithMessage("Bucket tag count cannot be greater than 50")
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		if n := utf8.RuneCountInString(t.Key); n < 1 || n > 128 || !utf8.ValidString(t.Key) {
			return nil, s3err.InvalidTag.WithMessage("The TagKey you have provided is invalid")
		}
		if utf8.RuneCountInString(t.Value) > 256 || !utf8.ValidString(t.Value) {
			return nil, s3err.InvalidTag.WithMessage("The TagValue you have provided is invalid")
		}
		if !validTagChars(t.Key) {
			return nil, s3err.InvalidTag.WithMessage("The TagKey you have provided is invalid")
		}
		if !validTagChars(t.Value) {
			return nil, s3err.InvalidTag.WithMessage("The TagValue you have provided is invalid")
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, s3err.InvalidTag.WithMessage("System tags cannot be added/updated by requester")
		}
		if _, dup := m[t.Key]; dup {
			return nil, s3err.InvalidTag.WithMessage("Cannot provide multiple Tags with the same key")
		}
		m[t.Key] = t.Value
	}
	return m, nil
}

// validTagChars applies AWS's tag character set: letters, digits, spaces
// and + - = . _ : / @.
func validTagChars(s string) bool {
	for _, c := range s {
		switch {
		case c == ' ', c == '+', c == '-', c == '=', c == '.', c == '_', c == ':', c == '/', c == '@':
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c > 0x7f && (isLetterOrDigit(c) || c == '\u00a0'):
		default:
			return false
		}
	}
	return true
}

func tagsXML(m map[string]string) *Tagging {
	t := &Tagging{Xmlns: s3NS}
	t.TagSet.Tags = make([]Tag, 0, len(m))
	for k, v := range m {
		t.TagSet.Tags = append(t.TagSet.Tags, Tag{Key: k, Value: v})
	}
	sort.Slice(t.TagSet.Tags, func(i, j int) bool { return t.TagSet.Tags[i].Key < t.TagSet.Tags[j].Key })
	return t
}

const cfgTagging = "tagging"

func (h *Handler) getBucketTagging(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	raw, ok := b.Configs[cfgTagging]
	if !ok {
		return s3err.NoSuchTagSet
	}
	var t Tagging
	if err := xml.Unmarshal(raw, &t); err != nil {
		return err
	}
	t.Xmlns = s3NS
	return writeXML(w, &t)
}

func (h *Handler) putBucketTagging(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := needBucket(rq); err != nil {
		return err
	}
	var t Tagging
	if err := decodeXML(rq, &t); err != nil {
		return err
	}
	m, err := validateTags(t.TagSet.Tags, 50)
	if err != nil {
		return err
	}
	raw, err := xml.Marshal(tagsXML(m))
	if err != nil {
		return err
	}
	if err := h.setBucketConfig(rq, cfgTagging, raw); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) deleteBucketTagging(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := needBucket(rq); err != nil {
		return err
	}
	if err := h.setBucketConfig(rq, cfgTagging, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// setBucketConfig stores (or, with nil, removes) a subresource document.
func (h *Handler) setBucketConfig(rq *request, name string, raw []byte) error {
	return h.obj.Meta().UpdateBucket(rqCtx(rq), rq.t.bucket, func(b *meta.Bucket) error {
		if raw == nil {
			delete(b.Configs, name)
			return nil
		}
		if b.Configs == nil {
			b.Configs = map[string][]byte{}
		}
		b.Configs[name] = raw
		return nil
	})
}

type grantee struct {
	XMLNS       string `xml:"xmlns:xsi,attr,omitempty"`
	Type        string `xml:"xsi:type,attr,omitempty"`
	ID          string `xml:"ID,omitempty"`
	DisplayName string `xml:"DisplayName,omitempty"`
	URI         string `xml:"URI,omitempty"`
	Email       string `xml:"EmailAddress,omitempty"`
}

type grant struct {
	Grantee    grantee `xml:"Grantee"`
	Permission string  `xml:"Permission"`
}

type accessControlPolicy struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Owner   Owner    `xml:"Owner"`
	Grants  struct {
		Grant []grant `xml:"Grant"`
	} `xml:"AccessControlList"`
}

// getAcl returns the bucket's or object's ACL. With ACLs disabled
// (BucketOwnerEnforced) that is the bucket owner's FULL_CONTROL; under
// IgnorePublicAcls it is the effective ACL, public grants left out.
func (h *Handler) getAcl(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	ownerAcct, raw := b.Owner, b.Configs[cfgACL]
	if rq.op == OpGetObjectAcl {
		v, err := h.lookupVersion(r, rq)
		if err != nil {
			return err
		}
		ownerAcct, raw = v.Owner, v.ACL
	}
	if !aclsEnabled(b) {
		ownerAcct, raw = b.Owner, nil
	}
	o := h.owner(rq, ownerAcct)
	grants, ok := decodeACL(raw)
	if !ok {
		grants = []aclGrant{{ID: o.ID, Perm: permFullControl}}
	} else if pab, err := h.effectivePAB(rq, b); err != nil {
		return err
	} else if pab.IgnorePublicAcls {
		grants = withoutPublic(grants)
	}
	return writeXML(w, renderACL(o, grants))
}

// putAcl sets the bucket's or object's ACL, from x-amz-acl, the
// x-amz-grant-* headers or an AccessControlPolicy body.
func (h *Handler) putAcl(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	object := rq.op == OpPutObjectAcl
	ownerAcct := b.Owner
	if object {
		v, err := h.lookupVersion(r, rq)
		if err != nil {
			return err
		}
		ownerAcct = v.Owner
		if !aclsEnabled(b) {
			ownerAcct = b.Owner
		}
	}
	body, err := readAll(rq)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = nil
	}
	ownerID, bucketOwnerID := h.owner(rq, ownerAcct).ID, h.owner(rq, b.Owner).ID
	req, err := parseRequestACL(r.Header, body, ownerID, bucketOwnerID, object)
	if err != nil {
		return err
	}
	if req == nil {
		return s3err.MissingSecurityHeader.WithMessage("Your request was missing a required header").With("MissingHeaderName", "x-amz-acl")
	}
	if !aclsEnabled(b) {
		if !ownerOnlyACL(req.grants, ownerID, bucketOwnerID) {
			return AccessControlListNotSupported
		}
		// Nothing to store: ACLs are disabled, and this one says what
		// the disabled state means anyway.
		w.WriteHeader(http.StatusOK)
		return nil
	}
	if isPublicACL(req.grants) {
		pab, err := h.effectivePAB(rq, b)
		if err != nil {
			return err
		}
		if pab.BlockPublicAcls {
			return s3err.AccessDenied
		}
	}
	raw := encodeACL(req.grants)
	if object {
		err = h.obj.Meta().UpdateObject(r.Context(), b.Name, rq.t.key, rq.q.Get("versionId"), func(v *meta.ObjectVersion) error {
			if v.DeleteMarker {
				return s3err.MethodNotAllowed
			}
			v.ACL = raw
			return nil
		})
	} else {
		err = h.setBucketConfig(rq, cfgACL, raw)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
