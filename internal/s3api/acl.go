package s3api

// S3 access control lists: the canned ACLs, the x-amz-grant-* headers and
// AccessControlPolicy documents all resolve to one list of grants, which
// is stored (bucket: Configs["acl"]; object: ObjectVersion.ACL), rendered
// by GetBucketAcl/GetObjectAcl and turned into a policy.ACLGrant for the
// policy engine. ACLs only matter when the bucket's Object Ownership
// setting allows them (ownership.go); Block Public Access may refuse or
// ignore their public grants (publicaccess.go).

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/policy"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

const cfgACL = "acl"

// The predefined ACL groups.
const (
	groupAllUsers      = "http://acs.amazonaws.com/groups/global/AllUsers"
	groupAuthenticated = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	groupLogDelivery   = "http://acs.amazonaws.com/groups/s3/LogDelivery"
	xsiNS              = "http://www.w3.org/2001/XMLSchema-instance"
)

// ACL permissions.
const (
	permRead        = "READ"
	permWrite       = "WRITE"
	permReadACP     = "READ_ACP"
	permWriteACP    = "WRITE_ACP"
	permFullControl = "FULL_CONTROL"
)

// maxGrants is S3's limit on grants in one ACL.
const maxGrants = 100

// aclGrant is one stored grant: to an account by canonical ID, or to a
// group by URI.
type aclGrant struct {
	ID   string `json:"id,omitempty"`
	URI  string `json:"uri,omitempty"`
	Perm string `json:"p"`
}

// aclDoc is the stored form of an ACL. The owner is not part of it: it is
// the bucket's or the object's owner.
type aclDoc struct {
	Grants []aclGrant `json:"g"`
}

func encodeACL(grants []aclGrant) []byte {
	b, _ := json.Marshal(aclDoc{Grants: grants})
	return b
}

// decodeACL reads a stored ACL; ok is false when none is stored (the
// default ACL: the owner's FULL_CONTROL).
func decodeACL(raw []byte) (grants []aclGrant, ok bool) {
	if len(raw) == 0 {
		return nil, false
	}
	var d aclDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		// A record this build cannot read grants nothing: fail closed.
		return []aclGrant{}, true
	}
	return d.Grants, true
}

// aclRequest is the ACL a request sets, resolved to grants.
type aclRequest struct {
	canned string // the x-amz-acl value, "" for explicit grants
	grants []aclGrant
}

// cannedACL resolves a canned ACL. ownerID is the resource owner's
// canonical ID, bucketOwnerID the bucket owner's (for objects).
func cannedACL(name, ownerID, bucketOwnerID string, object bool) ([]aclGrant, error) {
	g := []aclGrant{{ID: ownerID, Perm: permFullControl}}
	switch name {
	case "private":
	case "public-read":
		g = append(g, aclGrant{URI: groupAllUsers, Perm: permRead})
	case "public-read-write":
		g = append(g, aclGrant{URI: groupAllUsers, Perm: permRead}, aclGrant{URI: groupAllUsers, Perm: permWrite})
	case "authenticated-read":
		g = append(g, aclGrant{URI: groupAuthenticated, Perm: permRead})
	case "aws-exec-read":
		// The EC2 grantee is an AWS service account with no equivalent
		// here: granting nothing more is the safe reading.
	case "bucket-owner-read":
		// Ignored on buckets, as in S3.
		if object && bucketOwnerID != ownerID {
			g = append(g, aclGrant{ID: bucketOwnerID, Perm: permRead})
		}
	case "bucket-owner-full-control":
		if object && bucketOwnerID != ownerID {
			g = append(g, aclGrant{ID: bucketOwnerID, Perm: permFullControl})
		}
	case "log-delivery-write":
		g = append(g, aclGrant{URI: groupLogDelivery, Perm: permWrite}, aclGrant{URI: groupLogDelivery, Perm: permReadACP})
	default:
		return nil, s3err.InvalidArgument.With("ArgumentName", "x-amz-acl").With("ArgumentValue", name)
	}
	return g, nil
}

// grantHeaders maps the x-amz-grant-* headers to their permissions.
var grantHeaders = [...]struct{ header, perm string }{
	{"X-Amz-Grant-Read", permRead},
	{"X-Amz-Grant-Write", permWrite},
	{"X-Amz-Grant-Read-Acp", permReadACP},
	{"X-Amz-Grant-Write-Acp", permWriteACP},
	{"X-Amz-Grant-Full-Control", permFullControl},
}

// errUnresolvableEmail answers grants to e-mail addresses: Coffer has no
// e-mail-to-account directory, as AWS no longer has outside legacy regions.
var errUnresolvableEmail = &s3err.Error{Code: "UnresolvableGrantByEmailAddress", Status: http.StatusBadRequest,
	Message: "The e-mail address you provided does not match any account on record."}

// parseGrantHeaders reads the x-amz-grant-* headers: comma-separated
// key="value" grantees, keys id, uri or emailAddress.
func parseGrantHeaders(hdr http.Header) ([]aclGrant, error) {
	var out []aclGrant
	for _, gh := range grantHeaders {
		for _, v := range hdr.Values(gh.header) {
			for _, item := range strings.Split(v, ",") {
				item = strings.TrimSpace(item)
				if item == "" {
					continue
				}
				k, val, ok := strings.Cut(item, "=")
				val = strings.TrimSpace(val)
				if !ok || len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
					return nil, s3err.InvalidArgument.WithMessage("Invalid grant header format").With("ArgumentName", strings.ToLower(gh.header)).With("ArgumentValue", v)
				}
				val = val[1 : len(val)-1]
				g, err := makeGrant(strings.ToLower(strings.TrimSpace(k)), val, gh.perm)
				if err != nil {
					return nil, err
				}
				out = append(out, g)
			}
		}
	}
	return out, nil
}

// makeGrant validates one grantee.
func makeGrant(kind, value, perm string) (aclGrant, error) {
	switch kind {
	case "id":
		if !validCanonicalID(value) {
			return aclGrant{}, s3err.InvalidArgument.WithMessage("Invalid id").With("ArgumentName", "CanonicalUser/ID").With("ArgumentValue", value)
		}
		return aclGrant{ID: value, Perm: perm}, nil
	case "uri":
		switch value {
		case groupAllUsers, groupAuthenticated, groupLogDelivery:
			return aclGrant{URI: value, Perm: perm}, nil
		}
		return aclGrant{}, s3err.InvalidArgument.WithMessage("Invalid group uri").With("ArgumentName", "Group/URI").With("ArgumentValue", value)
	case "emailaddress":
		return aclGrant{}, errUnresolvableEmail
	}
	return aclGrant{}, s3err.InvalidArgument.WithMessage("Argument format not recognized").With("ArgumentName", kind)
}

// validCanonicalID accepts S3's canonical user IDs: 64 hex digits.
func validCanonicalID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// aclBody is an AccessControlPolicy as received: the grantee type is the
// namespaced xsi:type attribute, which the rendering struct cannot read.
type aclBody struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Owner   *struct {
		ID string `xml:"ID"`
	} `xml:"Owner"`
	Grants []struct {
		Grantee *struct {
			Type  string `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
			ID    string `xml:"ID"`
			URI   string `xml:"URI"`
			Email string `xml:"EmailAddress"`
		} `xml:"Grantee"`
		Permission string `xml:"Permission"`
	} `xml:"AccessControlList>Grant"`
}

// parseACLBody reads a PutBucketAcl/PutObjectAcl document.
func parseACLBody(body []byte) ([]aclGrant, error) {
	var doc aclBody
	if err := unmarshalXML(body, &doc); err != nil {
		return nil, s3err.MalformedACLError.Wrap(err)
	}
	if doc.Owner == nil || len(doc.Grants) > maxGrants {
		return nil, s3err.MalformedACLError
	}
	out := make([]aclGrant, 0, len(doc.Grants))
	for _, g := range doc.Grants {
		switch g.Permission {
		case permRead, permWrite, permReadACP, permWriteACP, permFullControl:
		default:
			return nil, s3err.MalformedACLError
		}
		if g.Grantee == nil {
			return nil, s3err.MalformedACLError
		}
		kind := ""
		switch {
		case g.Grantee.Type == "CanonicalUser" || g.Grantee.Type == "" && g.Grantee.ID != "":
			kind = "id"
		case g.Grantee.Type == "Group" || g.Grantee.Type == "" && g.Grantee.URI != "":
			kind = "uri"
		case g.Grantee.Type == "AmazonCustomerByEmail" || g.Grantee.Type == "" && g.Grantee.Email != "":
			kind = "emailaddress"
		default:
			return nil, s3err.MalformedACLError
		}
		gr, err := makeGrant(kind, g.Grantee.ID+g.Grantee.URI+g.Grantee.Email, g.Permission)
		if err != nil {
			return nil, err
		}
		out = append(out, gr)
	}
	return out, nil
}

// parseRequestACL reads the ACL a request sets through its headers (and,
// for PutBucketAcl/PutObjectAcl, its body): nil when it sets none.
func parseRequestACL(hdr http.Header, body []byte, ownerID, bucketOwnerID string, object bool) (*aclRequest, error) {
	canned := hdr.Get("X-Amz-Acl")
	grants, err := parseGrantHeaders(hdr)
	if err != nil {
		return nil, err
	}
	if canned != "" && hasGrantHeaders(hdr) {
		return nil, s3err.InvalidRequest.WithMessage("Specifying both Canned ACLs and Header Grants is not allowed")
	}
	if len(body) > 0 {
		if canned != "" || hasGrantHeaders(hdr) {
			return nil, s3err.UnexpectedContent
		}
		g, err := parseACLBody(body)
		if err != nil {
			return nil, err
		}
		return &aclRequest{grants: g}, nil
	}
	if canned != "" {
		g, err := cannedACL(canned, ownerID, bucketOwnerID, object)
		if err != nil {
			return nil, err
		}
		return &aclRequest{canned: canned, grants: g}, nil
	}
	if hasGrantHeaders(hdr) {
		if len(grants) > maxGrants {
			return nil, s3err.MalformedACLError
		}
		return &aclRequest{grants: grants}, nil
	}
	return nil, nil
}

// isPublicACL reports whether grants give anything to AllUsers or
// AuthenticatedUsers, which is what Block Public Access calls public.
func isPublicACL(grants []aclGrant) bool {
	for _, g := range grants {
		if g.URI == groupAllUsers || g.URI == groupAuthenticated {
			return true
		}
	}
	return false
}

// ownerOnlyACL reports whether grants give nothing beyond FULL_CONTROL to
// the object's owner and the bucket owner: the only ACLs a bucket with
// BucketOwnerEnforced accepts (private, bucket-owner-full-control, or the
// equivalent explicit grants).
func ownerOnlyACL(grants []aclGrant, ownerID, bucketOwnerID string) bool {
	for _, g := range grants {
		if g.URI != "" || g.Perm != permFullControl || (g.ID != ownerID && g.ID != bucketOwnerID) {
			return false
		}
	}
	return true
}

// withoutPublic drops the public grants, which IgnorePublicAcls makes
// ineffective (and invisible in GetBucketAcl/GetObjectAcl).
func withoutPublic(grants []aclGrant) []aclGrant {
	out := make([]aclGrant, 0, len(grants))
	for _, g := range grants {
		if g.URI != groupAllUsers && g.URI != groupAuthenticated {
			out = append(out, g)
		}
	}
	return out
}

// renderACL builds the AccessControlPolicy response.
func renderACL(owner Owner, grants []aclGrant) *accessControlPolicy {
	res := &accessControlPolicy{Xmlns: s3NS, Owner: owner}
	res.Grants.Grant = make([]grant, 0, len(grants))
	for _, g := range grants {
		ge := grantee{XMLNS: xsiNS, Type: "CanonicalUser", ID: g.ID}
		if g.URI != "" {
			ge = grantee{XMLNS: xsiNS, Type: "Group", URI: g.URI}
		}
		res.Grants.Grant = append(res.Grants.Grant, grant{Grantee: ge, Permission: g.Perm})
	}
	return res
}

// aclPermission maps an action to the ACL permission that grants it and
// whether that is an object-ACL (rather than bucket-ACL) permission. ok is
// false for actions no ACL can grant.
func aclPermission(action string) (perm string, object, ok bool) {
	switch strings.ToLower(action) {
	case "s3:listbucket", "s3:listbucketversions", "s3:listbucketmultipartuploads":
		return permRead, false, true
	case "s3:putobject":
		return permWrite, false, true
	case "s3:getbucketacl":
		return permReadACP, false, true
	case "s3:putbucketacl":
		return permWriteACP, false, true
	case "s3:getobject", "s3:getobjectversion":
		return permRead, true, true
	case "s3:getobjectacl", "s3:getobjectversionacl":
		return permReadACP, true, true
	case "s3:putobjectacl", "s3:putobjectversionacl":
		return permWriteACP, true, true
	}
	return "", false, false
}

// aclGrantFor says what grants give principal p for permission perm:
// AllUsers (and AuthenticatedUsers for a signed request) act like a
// policy naming "*", a canonical-ID grant like one naming the account.
func aclGrantFor(grants []aclGrant, p *authn.Principal, perm string) policy.ACLGrant {
	best := policy.ACLNone
	for _, g := range grants {
		if g.Perm != perm && g.Perm != permFullControl {
			continue
		}
		switch {
		case g.URI == groupAllUsers, g.URI == groupAuthenticated && !p.IsAnonymous():
			return policy.ACLEveryone
		case g.ID != "" && !p.IsAnonymous() && strings.EqualFold(g.ID, p.CanonicalID):
			best = policy.ACLAccount
		}
	}
	return best
}
