package s3api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/policy"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// loadsObjectContext lists the operations acting on an existing object,
// whose owner and ACL take part in authorization when ACLs are enabled.
func loadsObjectContext(op Op) bool {
	switch op {
	case OpGetObject, OpHeadObject, OpGetObjectAcl, OpPutObjectAcl, OpGetObjectAttributes,
		OpGetObjectTagging, OpPutObjectTagging, OpDeleteObjectTagging:
		return true
	}
	return false
}

// accessFacts adds to ar what Block Public Access, Object Ownership and
// the ACLs of bucket b (and of the object key, version versionID, when
// withObject) contribute to the decision. Buckets with ACLs disabled and
// no policy, the common case, cost nothing: the account's setting is
// only read when it can matter.
func (h *Handler) accessFacts(rq *request, ar *authz.Request, b *meta.Bucket, key, versionID string, withObject bool) error {
	acls := aclsEnabled(b)
	if !acls && len(b.Configs[cfgPolicy]) == 0 {
		return nil
	}
	pab, err := h.effectivePAB(rq, b)
	if err != nil {
		return err
	}
	ar.RestrictPublicBuckets = pab.RestrictPublicBuckets
	if !acls {
		return nil
	}
	bucketGrants, _ := decodeACL(b.Configs[cfgACL])
	var objectGrants []aclGrant
	if withObject && key != "" {
		v, err := h.obj.Meta().GetObject(rqCtx(rq), b.Name, key, versionID)
		switch {
		case err == nil && !v.DeleteMarker:
			objectGrants, _ = decodeACL(v.ACL)
			if v.Owner != "" && v.Owner != b.Owner {
				ar.ObjectOwner = v.Owner
			}
		case err == nil, errors.Is(err, meta.ErrObjectNotFound), errors.Is(err, meta.ErrVersionNotFound), errors.Is(err, meta.ErrNotFound):
		default:
			return err
		}
	}
	if pab.IgnorePublicAcls {
		bucketGrants, objectGrants = withoutPublic(bucketGrants), withoutPublic(objectGrants)
	}
	p := ar.Principal
	ar.ACL = func(action string) policy.ACLGrant {
		perm, object, ok := aclPermission(action)
		switch {
		case !ok:
			return policy.ACLNone
		case object:
			return aclGrantFor(objectGrants, p, perm)
		}
		return aclGrantFor(bucketGrants, p, perm)
	}
	return nil
}

// keyOfResource returns the object key of an object ARN in bucket.
func keyOfResource(resource, bucket string) string {
	return strings.TrimPrefix(resource, "arn:aws:s3:::"+bucket+"/")
}

// anonymousOwner is the canonical ID S3 gives objects written anonymously
// to a bucket whose ACLs are enabled.
const anonymousOwner = "65a011a29cdf8ec533ec3d1ccaae921c"

// writeACL is who owns an object being written and the ACL it gets.
type writeACL struct {
	owner string // account id
	acl   []byte // nil: the default (owner FULL_CONTROL)
}

// objectWriteACL applies the bucket's Object Ownership and Block Public
// Access to the ACL headers of an object write (PutObject, CopyObject,
// CreateMultipartUpload, POST): BucketOwnerEnforced accepts only ACLs
// giving nothing beyond the owners' full control and makes the bucket
// owner own everything; otherwise the writer owns the object (the bucket
// owner under BucketOwnerPreferred with bucket-owner-full-control) and
// BlockPublicAcls refuses public ACLs.
func (h *Handler) objectWriteACL(rq *request, b *meta.Bucket, hdr http.Header) (writeACL, error) {
	writer := rq.principal.AccountID
	writerID := rq.principal.CanonicalID
	if rq.principal.IsAnonymous() {
		writer, writerID = anonymousOwner, anonymousOwner
	}
	bucketOwnerID := h.owner(rq, b.Owner).ID
	if writer == b.Owner {
		writerID = bucketOwnerID
	}
	req, err := parseRequestACL(hdr, nil, writerID, bucketOwnerID, true)
	if err != nil {
		return writeACL{}, err
	}
	switch ownershipOf(b) {
	case ownerEnforced:
		if req != nil && !ownerOnlyACL(req.grants, writerID, bucketOwnerID) {
			return writeACL{}, AccessControlListNotSupported
		}
		return writeACL{owner: b.Owner}, nil
	case ownerPreferred:
		if req != nil && req.canned == "bucket-owner-full-control" {
			writer = b.Owner
		}
	}
	if req == nil {
		return writeACL{owner: writer}, nil
	}
	if isPublicACL(req.grants) {
		pab, err := h.effectivePAB(rq, b)
		if err != nil {
			return writeACL{}, err
		}
		if pab.BlockPublicAcls {
			return writeACL{}, s3err.AccessDenied
		}
	}
	return writeACL{owner: writer, acl: encodeACL(req.grants)}, nil
}
