package s3api

import (
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/auth/sigv4"
	"github.com/coffer-io/coffer/internal/checksum"
	"github.com/coffer-io/coffer/internal/objects"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Limits on the form fields that precede the file in a browser POST.
const (
	maxPostField  = 64 << 10
	maxPostFields = 1 << 20
)

var errPostPreData = &s3err.Error{Code: "MaxPostPreDataLengthExceeded", Status: 400, Message: "Your POST request fields preceding the upload file were too large."}

type postForm struct {
	fields   map[string]string // lower-case names
	file     io.Reader
	filename string
	minLen   int64
	maxLen   int64
}

// authenticatePost reads the form fields (bounded) up to the file, checks
// the policy's signature and conditions, and leaves the file part as the
// body to stream.
func (h *Handler) authenticatePost(r *http.Request, rq *request) error {
	rq.authType = "post"
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return s3err.MalformedPOSTRequest
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	pf := &postForm{fields: map[string]string{}, maxLen: -1}
	total := 0
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return s3err.InvalidArgument.WithMessage("POST requires exactly one file upload per request.").With("ArgumentName", "file")
		}
		if err != nil {
			return s3err.MalformedPOSTRequest.Wrap(err)
		}
		name := strings.ToLower(part.FormName())
		if name == "file" {
			pf.file, pf.filename = part, part.FileName()
			break
		}
		v, err := io.ReadAll(io.LimitReader(part, maxPostField+1))
		if err != nil {
			return s3err.MalformedPOSTRequest.Wrap(err)
		}
		total += len(v) + len(name)
		if len(v) > maxPostField || total > maxPostFields {
			return errPostPreData
		}
		if _, dup := pf.fields[name]; dup {
			return s3err.InvalidArgument.WithMessage("Bucket POST must contain a field named '"+name+"' only once.").With("ArgumentName", name)
		}
		pf.fields[name] = string(v)
	}
	key, ok := pf.fields["key"]
	if !ok {
		return s3err.InvalidArgument.WithMessage("Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.").With("ArgumentName", "key")
	}
	rq.t.key = strings.ReplaceAll(key, "${filename}", pf.filename)
	pf.fields["key"] = rq.t.key
	pf.fields["bucket"] = rq.t.bucket
	rq.post = pf
	rq.body = pf.file
	if pf.fields["policy"] == "" && pf.fields["x-amz-signature"] == "" && pf.fields["signature"] == "" {
		rq.principal = authn.Anonymous
		rq.authType = "anonymous"
		return nil
	}
	if pf.fields["awsaccesskeyid"] != "" || pf.fields["signature"] != "" {
		return s3err.InvalidArgument.WithMessage("Signature Version 2 is not supported; use AWS4-HMAC-SHA256.").With("ArgumentName", "x-amz-algorithm")
	}
	pa, err := sigv4.ParsePostForm(pf.fields)
	if err != nil {
		return err
	}
	rq.ev.AccessKeyID = pa.AccessKeyID
	if err := pa.CheckScope(h.cfg.Region, "s3"); err != nil {
		return err
	}
	var secret string
	var p *authn.Principal
	if tok := pf.fields["x-amz-security-token"]; tok != "" {
		// Temporary credentials, as for header and query auth.
		if secret, p, err = h.cfg.Keys.LookupSession(r.Context(), pa.AccessKeyID, tok); err != nil {
			return tokenError(OpPostObject, err)
		}
	} else if secret, p, err = h.cfg.Keys.Lookup(r.Context(), pa.AccessKeyID); err != nil {
		if errors.Is(err, authn.ErrUnknownKey) {
			return sigv4.InvalidAccessKeyID(pa.AccessKeyID)
		}
		return err
	}
	pol, err := sigv4.VerifyPostPolicy(pa, pf.fields, rq.t.bucket, secret, h.cfg.Now())
	if err != nil {
		return err
	}
	if pf.fields["x-amz-security-token"] == "" {
		h.noteKeyUse(p, pa.AccessKeyID, pa.Scope.Service, pa.Scope.Region)
	}
	pf.minLen, pf.maxLen = pol.MinLength, pol.MaxLength
	rq.principal = p
	return nil
}

type postResponse struct {
	XMLName  xml.Name `xml:"PostResponse"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

func (h *Handler) postObject(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	pf := rq.post
	hdr := http.Header{}
	for k, v := range pf.fields {
		hdr.Set(k, v)
	}
	if v := hdr.Get("Acl"); v != "" {
		// The form's acl field is the x-amz-acl header of a PUT.
		hdr.Set("X-Amz-Acl", v)
	}
	wacl, err := h.objectWriteACL(rq, b, hdr)
	if err != nil {
		return err
	}
	if err := unsupportedObjectHeaders(hdr, b); err != nil {
		return err
	}
	ws, err := h.writeSSE(r, hdr, rq, b)
	if err != nil {
		return err
	}
	sys, user, err := objectMetadata(hdr)
	if err != nil {
		return err
	}
	var tags map[string]string
	if t := pf.fields["tagging"]; t != "" {
		var tg Tagging
		if err := unmarshalXML([]byte(t), &tg); err != nil {
			return err
		}
		if tags, err = validateTags(tg.TagSet.Tags, 10); err != nil {
			return err
		}
	}
	md5want, err := contentMD5(hdr)
	if err != nil {
		return err
	}
	cr, err := parseChecksumRequest(hdr)
	if err != nil {
		return err
	}
	lock, err := parseLockHeaders(hdr, b, h.dataNow())
	if err != nil {
		return err
	}
	alg := defaultChecksum
	if cr != nil {
		alg = cr.alg
	}
	max := h.cfg.MaxObjectSize
	if pf.maxLen >= 0 && pf.maxLen < max {
		max = pf.maxLen
	}
	wr, err := h.obj.WriteBlob(h.kmsCtx(r, rq), objects.WriteInput{
		Body: pf.file, Size: -1, MaxSize: max, SSE: ws.sse,
		Algorithms: []checksum.Algorithm{alg},
		Verify: func(hs *checksum.MultiHasher) error {
			if hs.Size() < pf.minLen {
				return s3err.EntityTooSmall
			}
			return verifyChecksums(md5want, cr, nil)(hs)
		},
		Account: b.Owner, Bucket: b.Name, Key: rq.t.key,
	})
	if errors.Is(err, objects.ErrTooLarge) {
		return s3err.EntityTooLarge
	}
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
	if _, err := h.obj.PutVersion(r.Context(), v, nil); err != nil {
		return err
	}
	versionSSEHeaders(w, v, ws.ck, true)
	rq.ev.VersionID = v.VersionID
	w.Header().Set("ETag", v.ETag)
	if v.VersionID != meta.NullVersion {
		w.Header().Set("X-Amz-Version-Id", v.VersionID)
	}
	location := "/" + b.Name + "/" + url.PathEscape(rq.t.key)
	w.Header().Set("Location", location)
	if redirect := pf.fields["success_action_redirect"]; redirect != "" {
		if u, err := url.Parse(redirect); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			q := u.Query()
			q.Set("bucket", b.Name)
			q.Set("key", rq.t.key)
			q.Set("etag", v.ETag)
			u.RawQuery = q.Encode()
			w.Header().Set("Location", u.String())
			w.WriteHeader(http.StatusSeeOther)
			return nil
		}
	}
	status, _ := strconv.Atoi(pf.fields["success_action_status"])
	switch status {
	case http.StatusOK:
		w.WriteHeader(http.StatusOK)
	case http.StatusCreated:
		return writeXMLStatus(w, http.StatusCreated, &postResponse{Location: location, Bucket: b.Name, Key: rq.t.key, ETag: v.ETag})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}
