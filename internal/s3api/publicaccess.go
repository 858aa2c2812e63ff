package s3api

// Block Public Access and Object Ownership: the bucket subresources
// ?publicAccessBlock and ?ownershipControls, and the account-level
// setting served as S3 Control's
// /v20180820/configuration/publicAccessBlock.
//
// As in AWS since April 2023, new buckets get an explicit all-true
// PublicAccessBlockConfiguration and BucketOwnerEnforced at CreateBucket,
// and new accounts an all-true account configuration; what is stored is
// what Get returns, so "on by default" is visible and deletable.

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strings"

	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

func init() {
	opTable[OpGetPublicAccessBlock] = opInfo{name: "GetPublicAccessBlock", action: "s3:GetBucketPublicAccessBlock", scope: scopeBucket, readOnly: true}
	opTable[OpPutPublicAccessBlock] = opInfo{name: "PutPublicAccessBlock", action: "s3:PutBucketPublicAccessBlock", scope: scopeBucket, maxBody: docLimit}
	opTable[OpDeletePublicAccessBlock] = opInfo{name: "DeletePublicAccessBlock", action: "s3:PutBucketPublicAccessBlock", scope: scopeBucket}
	opTable[OpGetBucketOwnershipControls] = opInfo{name: "GetBucketOwnershipControls", action: "s3:GetBucketOwnershipControls", scope: scopeBucket, readOnly: true}
	opTable[OpPutBucketOwnershipControls] = opInfo{name: "PutBucketOwnershipControls", action: "s3:PutBucketOwnershipControls", scope: scopeBucket, maxBody: docLimit}
	opTable[OpDeleteBucketOwnershipControls] = opInfo{name: "DeleteBucketOwnershipControls", action: "s3:PutBucketOwnershipControls", scope: scopeBucket}
	opTable[OpGetAccountPublicAccessBlock] = opInfo{name: "GetAccountPublicAccessBlock", action: "s3:GetAccountPublicAccessBlock", scope: scopeService, readOnly: true}
	opTable[OpPutAccountPublicAccessBlock] = opInfo{name: "PutAccountPublicAccessBlock", action: "s3:PutAccountPublicAccessBlock", scope: scopeService, maxBody: docLimit}
	opTable[OpDeleteAccountPublicAccessBlock] = opInfo{name: "DeleteAccountPublicAccessBlock", action: "s3:PutAccountPublicAccessBlock", scope: scopeService}
	// handler.go's init assigns the whole table first (files initialise
	// in name order).
	handlers[OpGetPublicAccessBlock] = (*Handler).getPublicAccessBlock
	handlers[OpPutPublicAccessBlock] = (*Handler).putPublicAccessBlock
	handlers[OpDeletePublicAccessBlock] = (*Handler).deletePublicAccessBlock
	handlers[OpGetBucketOwnershipControls] = (*Handler).getOwnershipControls
	handlers[OpPutBucketOwnershipControls] = (*Handler).putOwnershipControls
	handlers[OpDeleteBucketOwnershipControls] = (*Handler).deleteOwnershipControls
	handlers[OpGetAccountPublicAccessBlock] = (*Handler).getPublicAccessBlock
	handlers[OpPutAccountPublicAccessBlock] = (*Handler).putPublicAccessBlock
	handlers[OpDeleteAccountPublicAccessBlock] = (*Handler).deletePublicAccessBlock
}

func (o Op) isAccountControl() bool {
	return o == OpGetAccountPublicAccessBlock || o == OpPutAccountPublicAccessBlock || o == OpDeleteAccountPublicAccessBlock
}

// controlPrefix starts the S3 Control paths Coffer serves. S3 Control
// names the account in the host (ACCOUNT.s3-control…) and in
// x-amz-account-id; Coffer serves it on its one endpoint and routes on
// the path and the header together, so a bucket that happens to be
// called v20180820 still works for plain S3 requests.
const controlPrefix = "/v20180820/"

func isControlRequest(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, controlPrefix) && r.Header.Get("X-Amz-Account-Id") != ""
}

func classifyControl(r *http.Request) Op {
	if r.URL.Path != controlPrefix+"configuration/publicAccessBlock" {
		return OpUnknown
	}
	switch r.Method {
	case http.MethodGet:
		return OpGetAccountPublicAccessBlock
	case http.MethodPut:
		return OpPutAccountPublicAccessBlock
	case http.MethodDelete:
		return OpDeleteAccountPublicAccessBlock
	}
	return OpUnknown
}

const (
	cfgPublicAccessBlock = "publicAccessBlock"
	cfgOwnership         = "ownershipControls"
	s3ControlNS          = "http://awss3control.amazonaws.com/doc/2018-08-20/"
)

// publicAccessBlock is a PublicAccessBlockConfiguration; absent elements
// are false.
type publicAccessBlock struct {
	XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
	Xmlns                 string   `xml:"xmlns,attr,omitempty"`
	BlockPublicAcls       bool     `xml:"BlockPublicAcls"`
	IgnorePublicAcls      bool     `xml:"IgnorePublicAcls"`
	BlockPublicPolicy     bool     `xml:"BlockPublicPolicy"`
	RestrictPublicBuckets bool     `xml:"RestrictPublicBuckets"`
}

// allBlocked is the configuration new buckets and accounts get.
var allBlocked = publicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}

// BlockPublicAccess turns the account-level Block Public Access settings
// all on, as AWS does for new accounts.
func BlockPublicAccess(s *meta.AccountSettings) error {
	if s.Configs == nil {
		s.Configs = map[string][]byte{}
	}
	s.Configs[cfgPublicAccessBlock] = encodePAB(allBlocked)
	return nil
}

func encodePAB(p publicAccessBlock) []byte {
	p.Xmlns = ""
	b, _ := xml.Marshal(&p)
	return b
}

func decodePAB(raw []byte) publicAccessBlock {
	var p publicAccessBlock
	if len(raw) > 0 {
		if err := xml.Unmarshal(raw, &p); err != nil {
			// Unreadable: block everything rather than nothing.
			return allBlocked
		}
	}
	// Only the four settings: comparable with ==.
	p.XMLName, p.Xmlns = xml.Name{}, ""
	return p
}

func (p publicAccessBlock) or(q publicAccessBlock) publicAccessBlock {
	return publicAccessBlock{
		BlockPublicAcls:       p.BlockPublicAcls || q.BlockPublicAcls,
		IgnorePublicAcls:      p.IgnorePublicAcls || q.IgnorePublicAcls,
		BlockPublicPolicy:     p.BlockPublicPolicy || q.BlockPublicPolicy,
		RestrictPublicBuckets: p.RestrictPublicBuckets || q.RestrictPublicBuckets,
	}
}

// NoSuchPublicAccessBlockConfiguration answers a Get with nothing stored.
var NoSuchPublicAccessBlockConfiguration = &s3err.Error{Code: "NoSuchPublicAccessBlockConfiguration", Status: http.StatusNotFound,
	Message: "The public access block configuration was not found"}

// effectivePAB is the Block Public Access setting in force for bucket b:
// the account's and the bucket's, OR-ed, the most restrictive winning.
func (h *Handler) effectivePAB(rq *request, b *meta.Bucket) (publicAccessBlock, error) {
	eff := decodePAB(b.Configs[cfgPublicAccessBlock])
	if eff == allBlocked {
		return eff, nil
	}
	st, err := h.obj.Meta().GetAccountSettings(rqCtx(rq), b.Owner)
	if errors.Is(err, meta.ErrNotFound) {
		return eff, nil
	}
	if err != nil {
		return eff, err
	}
	return eff.or(decodePAB(st.Configs[cfgPublicAccessBlock])), nil
}

// accountForControl checks x-amz-account-id names the caller's account:
// S3 Control acts on one account, and only that account's principals may
// manage it.
func accountForControl(r *http.Request, rq *request) (string, error) {
	id := r.Header.Get("X-Amz-Account-Id")
	if rq.principal.IsAnonymous() || id != rq.principal.AccountID {
		return "", s3err.AccessDenied
	}
	return id, nil
}

func (h *Handler) getPublicAccessBlock(w http.ResponseWriter, r *http.Request, rq *request) error {
	var raw []byte
	ns := s3NS
	if rq.op.isAccountControl() {
		id, err := accountForControl(r, rq)
		if err != nil {
			return err
		}
		st, err := h.obj.Meta().GetAccountSettings(r.Context(), id)
		if err != nil {
			return err
		}
		raw, ns = st.Configs[cfgPublicAccessBlock], s3ControlNS
	} else {
		b, err := needBucket(rq)
		if err != nil {
			return err
		}
		raw = b.Configs[cfgPublicAccessBlock]
	}
	if raw == nil {
		return NoSuchPublicAccessBlockConfiguration
	}
	p := decodePAB(raw)
	p.Xmlns = ns
	return writeXML(w, &p)
}

func (h *Handler) putPublicAccessBlock(w http.ResponseWriter, r *http.Request, rq *request) error {
	var p publicAccessBlock
	if rq.op.isAccountControl() {
		id, err := accountForControl(r, rq)
		if err != nil {
			return err
		}
		if err := decodeXML(rq, &p); err != nil {
			return err
		}
		raw := encodePAB(p)
		if err := h.obj.Meta().UpdateAccountSettings(r.Context(), id, func(s *meta.AccountSettings) error {
			if s.Configs == nil {
				s.Configs = map[string][]byte{}
			}
			s.Configs[cfgPublicAccessBlock] = raw
			return nil
		}); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	if _, err := needBucket(rq); err != nil {
		return err
	}
	if err := decodeXML(rq, &p); err != nil {
		return err
	}
	if err := h.setBucketConfig(rq, cfgPublicAccessBlock, encodePAB(p)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deletePublicAccessBlock(w http.ResponseWriter, r *http.Request, rq *request) error {
	if rq.op.isAccountControl() {
		id, err := accountForControl(r, rq)
		if err != nil {
			return err
		}
		if err := h.obj.Meta().UpdateAccountSettings(r.Context(), id, func(s *meta.AccountSettings) error {
			delete(s.Configs, cfgPublicAccessBlock)
			return nil
		}); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if _, err := needBucket(rq); err != nil {
		return err
	}
	if err := h.setBucketConfig(rq, cfgPublicAccessBlock, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Object Ownership settings.
const (
	ownerEnforced  = "BucketOwnerEnforced"
	ownerPreferred = "BucketOwnerPreferred"
	objectWriter   = "ObjectWriter"
)

// ownershipOf is the bucket's Object Ownership. A bucket without
// ownership controls (deleted, or created before Coffer had them) behaves
// as ObjectWriter, as in S3.
func ownershipOf(b *meta.Bucket) string {
	if v := string(b.Configs[cfgOwnership]); v != "" {
		return v
	}
	return objectWriter
}

// aclsEnabled reports whether ACLs take part in authorization.
func aclsEnabled(b *meta.Bucket) bool { return ownershipOf(b) != ownerEnforced }

type ownershipControls struct {
	XMLName xml.Name `xml:"OwnershipControls"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Rules   []struct {
		ObjectOwnership string `xml:"ObjectOwnership"`
	} `xml:"Rule"`
}

var (
	// OwnershipControlsNotFoundError answers a Get with nothing stored.
	OwnershipControlsNotFoundError = &s3err.Error{Code: "OwnershipControlsNotFoundError", Status: http.StatusNotFound,
		Message: "The bucket ownership controls were not found"}
	// AccessControlListNotSupported refuses ACL writes while ACLs are
	// disabled (BucketOwnerEnforced).
	AccessControlListNotSupported = &s3err.Error{Code: "AccessControlListNotSupported", Status: http.StatusBadRequest,
		Message: "The bucket does not allow ACLs"}
	// InvalidBucketAclWithObjectOwnership refuses BucketOwnerEnforced on a
	// bucket whose ACL grants others.
	InvalidBucketAclWithObjectOwnership = &s3err.Error{Code: "InvalidBucketAclWithObjectOwnership", Status: http.StatusBadRequest,
		Message: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"}
	// InvalidBucketAclWithBlockPublicAccessError refuses CreateBucket with
	// a public ACL while Block Public Access blocks public ACLs.
	InvalidBucketAclWithBlockPublicAccessError = &s3err.Error{Code: "InvalidBucketAclWithBlockPublicAccessError", Status: http.StatusBadRequest,
		Message: "Bucket cannot have public ACLs set with BlockPublicAccess enabled"}
)

func validOwnership(v string) bool {
	return v == ownerEnforced || v == ownerPreferred || v == objectWriter
}

// anonymousOwnershipDenied answers anonymous ownership-controls calls as
// S3 does, whatever the bucket policy says.
func anonymousOwnershipDenied(rq *request) error {
	if rq.principal.IsAnonymous() {
		return s3err.AccessDenied.WithMessage(opTable[rq.op].action + " does not support Anonymous requests!")
	}
	return nil
}

func (h *Handler) getOwnershipControls(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := anonymousOwnershipDenied(rq); err != nil {
		return err
	}
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	v := string(b.Configs[cfgOwnership])
	if v == "" {
		return OwnershipControlsNotFoundError
	}
	res := ownershipControls{Xmlns: s3NS}
	res.Rules = append(res.Rules, struct {
		ObjectOwnership string `xml:"ObjectOwnership"`
	}{v})
	return writeXML(w, &res)
}

func (h *Handler) putOwnershipControls(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := anonymousOwnershipDenied(rq); err != nil {
		return err
	}
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	var oc ownershipControls
	if err := decodeXML(rq, &oc); err != nil {
		return err
	}
	if len(oc.Rules) != 1 || !validOwnership(oc.Rules[0].ObjectOwnership) {
		return s3err.MalformedXML
	}
	v := oc.Rules[0].ObjectOwnership
	owner := h.owner(rq, b.Owner).ID
	err = h.obj.Meta().UpdateBucket(r.Context(), b.Name, func(b *meta.Bucket) error {
		if v == ownerEnforced {
			if g, ok := decodeACL(b.Configs[cfgACL]); ok && !ownerOnlyACL(g, owner, owner) {
				return InvalidBucketAclWithObjectOwnership
			}
		}
		if b.Configs == nil {
			b.Configs = map[string][]byte{}
		}
		b.Configs[cfgOwnership] = []byte(v)
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteOwnershipControls(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := anonymousOwnershipDenied(rq); err != nil {
		return err
	}
	if _, err := needBucket(rq); err != nil {
		return err
	}
	if err := h.setBucketConfig(rq, cfgOwnership, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
