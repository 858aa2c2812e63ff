package s3api

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer-io/coffer/internal/policy"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

// Bucket policies: stored as submitted (after strict validation) in the
// bucket's configuration documents, and handed to the Authorizer with every
// request on the bucket.

const cfgPolicy = "policy"

// maxBucketPolicy is S3's bucket policy size limit.
const maxBucketPolicy = 20 << 10

// NoSuchBucketPolicy is returned when a bucket has no policy.
var NoSuchBucketPolicy = &s3err.Error{Code: "NoSuchBucketPolicy", Status: http.StatusNotFound, Message: "The bucket policy does not exist"}

func (h *Handler) putBucketPolicy(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	if err := ownerOnly(rq, b.Owner); err != nil {
		return err
	}
	if err := confirmRemoveSelfBucketAccess(r.Header); err != nil {
		return err
	}
	if _, err := contentMD5(r.Header); err != nil {
		return err
	}
	doc, err := readAll(rq)
	if err != nil {
		return err
	}
	if len(doc) > maxBucketPolicy {
		return &s3err.Error{Code: "PolicyTooLarge", Status: http.StatusBadRequest, Message: "Policy exceeds the maximum allowed document size."}
	}
	p, err := policy.Parse(doc, policy.Resource)
	if err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return &s3err.Error{Code: pe.Code, Status: http.StatusBadRequest, Message: pe.Message}
		}
		return err
	}
	if p.IsPublic() {
		// BlockPublicPolicy refuses public policies; ones already stored
		// stay (RestrictPublicBuckets is what limits those).
		pab, err := h.effectivePAB(rq, b)
		if err != nil {
			return err
		}
		if pab.BlockPublicPolicy {
			return s3err.AccessDenied
		}
	}
	if err := h.setBucketConfig(rq, cfgPolicy, doc); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ownerOnly enforces that only the bucket owner's account manages the
// bucket policy: S3 answers other accounts with 405, whatever their own
// permissions.
func ownerOnly(rq *request, owner string) error {
	if rq.principal.AccountID != owner {
		return s3err.MethodNotAllowed
	}
	return nil
}

func (h *Handler) getBucketPolicy(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	if err := ownerOnly(rq, b.Owner); err != nil {
		return err
	}
	doc, ok := b.Configs[cfgPolicy]
	if !ok {
		return NoSuchBucketPolicy
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(doc)
	return err
}

func (h *Handler) deleteBucketPolicy(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	if err := ownerOnly(rq, b.Owner); err != nil {
		return err
	}
	if err := h.setBucketConfig(rq, cfgPolicy, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) getBucketPolicyStatus(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	doc, ok := b.Configs[cfgPolicy]
	if !ok {
		return NoSuchBucketPolicy
	}
	p, err := policy.Parse(doc, policy.Resource)
	if err != nil {
		return err
	}
	return writeXML(w, &struct {
		XMLName  xml.Name `xml:"PolicyStatus"`
		Xmlns    string   `xml:"xmlns,attr"`
		IsPublic bool     `xml:"IsPublic"`
	}{Xmlns: s3NS, IsPublic: p.IsPublic()})
}

// confirmHeader is PutBucketPolicy's ConfirmRemoveSelfBucketAccess.
const confirmHeader = "X-Amz-Confirm-Remove-Self-Bucket-Access"

// confirmRemoveSelfBucketAccess checks PutBucketPolicy's
// x-amz-confirm-remove-self-bucket-access header, a boolean.
//
// AWS documents it only as the caller's confirmation that the new policy
// may remove its own permission to change the policy later; it documents
// no refusal when the header is absent, and S3 does not analyse a new
// policy for self-lockout. What keeps a bucket manageable is the rule
// AWS does document: the bucket owner's root may always get, put and
// delete the bucket policy, whatever the policy denies (the policy
// evaluator implements it). So the header is acknowledged, not enforced:
// "true" and "false" (in any case, as S3 parses booleans) are accepted
// and change nothing; any other value is an InvalidArgument, so that a
// client's typo is not silently taken for a confirmation.
func confirmRemoveSelfBucketAccess(h http.Header) error {
	vs := h.Values(confirmHeader)
	if len(vs) == 0 {
		return nil
	}
	v := vs[0]
	if len(vs) == 1 && (strings.EqualFold(v, "true") || strings.EqualFold(v, "false")) {
		return nil
	}
	return s3err.InvalidArgument.With("ArgumentName", strings.ToLower(confirmHeader)).With("ArgumentValue", v)
}
