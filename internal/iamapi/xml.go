package iamapi

import (
	"bytes"
	"encoding/xml"
	"time"

	"github.com/coffer-io/coffer/internal/iam"
)

// Response shapes, with elements in the order of IAM's output shapes.
// Lists are members[T]: <Name><member>…</member>…</Name>, present even
// when empty for lists the shape requires (botocore then yields []
// rather than no key at all).

// members is a Query-protocol list.
type members[T any] []T

// MarshalXML writes the list's wrapper element and one <member> per item.
func (m members[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for i := range m {
		if err := e.EncodeElement(m[i], xml.StartElement{Name: xml.Name{Local: "member"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

type xTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xBoundary struct {
	PermissionsBoundaryType string `xml:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `xml:"PermissionsBoundaryArn"`
}

type xUser struct {
	Path                string        `xml:"Path,omitempty"`
	UserName            string        `xml:"UserName,omitempty"`
	UserID              string        `xml:"UserId"`
	Arn                 string        `xml:"Arn"`
	CreateDate          string        `xml:"CreateDate,omitempty"`
	PermissionsBoundary *xBoundary    `xml:"PermissionsBoundary,omitempty"`
	Tags                members[xTag] `xml:"Tags,omitempty"`
}

type xGroup struct {
	Path       string `xml:"Path"`
	GroupName  string `xml:"GroupName"`
	GroupID    string `xml:"GroupId"`
	Arn        string `xml:"Arn"`
	CreateDate string `xml:"CreateDate"`
}

type xRole struct {
	Path                     string        `xml:"Path"`
	RoleName                 string        `xml:"RoleName"`
	RoleID                   string        `xml:"RoleId"`
	Arn                      string        `xml:"Arn"`
	CreateDate               string        `xml:"CreateDate"`
	AssumeRolePolicyDocument string        `xml:"AssumeRolePolicyDocument,omitempty"`
	Description              string        `xml:"Description,omitempty"`
	MaxSessionDuration       int           `xml:"MaxSessionDuration,omitempty"`
	PermissionsBoundary      *xBoundary    `xml:"PermissionsBoundary,omitempty"`
	Tags                     members[xTag] `xml:"Tags,omitempty"`
	// RoleLastUsed is reported (empty: Coffer has no role sessions yet)
	// by GetRole only.
	RoleLastUsed *struct{} `xml:"RoleLastUsed,omitempty"`
}

type xPolicy struct {
	PolicyName                    string        `xml:"PolicyName"`
	PolicyID                      string        `xml:"PolicyId"`
	Arn                           string        `xml:"Arn"`
	Path                          string        `xml:"Path"`
	DefaultVersionID              string        `xml:"DefaultVersionId"`
	AttachmentCount               int           `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int           `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool          `xml:"IsAttachable"`
	Description                   string        `xml:"Description,omitempty"`
	CreateDate                    string        `xml:"CreateDate"`
	UpdateDate                    string        `xml:"UpdateDate"`
	Tags                          members[xTag] `xml:"Tags,omitempty"`
}

type xPolicyVersion struct {
	Document         string `xml:"Document,omitempty"`
	VersionID        string `xml:"VersionId"`
	IsDefaultVersion bool   `xml:"IsDefaultVersion"`
	CreateDate       string `xml:"CreateDate"`
}

type xAccessKey struct {
	UserName        string `xml:"UserName,omitempty"`
	AccessKeyID     string `xml:"AccessKeyId"`
	Status          string `xml:"Status"`
	SecretAccessKey string `xml:"SecretAccessKey,omitempty"`
	CreateDate      string `xml:"CreateDate"`
}

type xAttachedPolicy struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type xLastUsed struct {
	LastUsedDate string `xml:"LastUsedDate,omitempty"`
	ServiceName  string `xml:"ServiceName"`
	Region       string `xml:"Region"`
}

// page is the tail every paginated result shares.
type page struct {
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

func pageOf[T any](p iam.Page[T]) page { return page{IsTruncated: p.IsTruncated, Marker: p.Marker} }

// Conversions from the model. Dates are ISO 8601 in UTC with whole
// seconds, as IAM writes them.

func isoDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func tagsXML(tags []iam.Tag) members[xTag] {
	var out members[xTag]
	for _, t := range tags {
		out = append(out, xTag{Key: t.Key, Value: t.Value})
	}
	return out
}

func boundaryXML(arn string) *xBoundary {
	if arn == "" {
		return nil
	}
	return &xBoundary{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: arn}
}

// userXML renders a user; full adds what only CreateUser and GetUser
// report (boundary, tags), as IAM's listings leave them out.
func userXML(account string, u *iam.User, full bool) xUser {
	x := xUser{Path: u.Path, UserName: u.UserName, UserID: u.UserID, Arn: u.ARN(account), CreateDate: isoDate(u.CreateDate)}
	if full {
		x.PermissionsBoundary = boundaryXML(u.PermissionsBoundary)
		x.Tags = tagsXML(u.Tags)
	}
	return x
}

func groupXML(account string, g *iam.Group) xGroup {
	return xGroup{Path: g.Path, GroupName: g.GroupName, GroupID: g.GroupID, Arn: g.ARN(account), CreateDate: isoDate(g.CreateDate)}
}

func roleXML(account string, r *iam.Role, full bool) xRole {
	x := xRole{Path: r.Path, RoleName: r.RoleName, RoleID: r.RoleID, Arn: r.ARN(account), CreateDate: isoDate(r.CreateDate),
		AssumeRolePolicyDocument: encodeDocument(r.AssumeRolePolicyDocument), Description: r.Description,
		MaxSessionDuration: r.MaxSessionDuration}
	if full {
		x.PermissionsBoundary = boundaryXML(r.PermissionsBoundary)
		x.Tags = tagsXML(r.Tags)
	}
	return x
}

func policyXML(account string, p *iam.Policy, full bool) xPolicy {
	x := xPolicy{PolicyName: p.PolicyName, PolicyID: p.PolicyID, Arn: p.ARN(account), Path: p.Path,
		DefaultVersionID: p.DefaultVersionID, AttachmentCount: p.AttachmentCount,
		PermissionsBoundaryUsageCount: p.PermissionsBoundaryUsageCount, IsAttachable: true,
		CreateDate: isoDate(p.CreateDate), UpdateDate: isoDate(p.UpdateDate)}
	if full {
		x.Description = p.Description
		x.Tags = tagsXML(p.Tags)
	}
	return x
}

func versionXML(v *iam.PolicyVersion, withDoc bool) xPolicyVersion {
	x := xPolicyVersion{VersionID: v.VersionID, IsDefaultVersion: v.IsDefaultVersion, CreateDate: isoDate(v.CreateDate)}
	if withDoc {
		x.Document = encodeDocument(v.Document)
	}
	return x
}

func keyXML(k *iam.AccessKey) xAccessKey {
	return xAccessKey{UserName: k.UserName, AccessKeyID: k.AccessKeyID, Status: k.Status,
		SecretAccessKey: k.SecretAccessKey, CreateDate: isoDate(k.CreateDate)}
}

// encodeDocument URL-encodes a policy document as IAM returns documents:
// RFC 3986 percent-encoding of the UTF-8 bytes, with only unreserved
// characters left as they are. botocore (and so the AWS CLI and boto3)
// un-quotes and JSON-parses every policy document field of an IAM
// response; a '+' is never used for a space because un-quoting would
// keep it.
func encodeDocument(doc string) string {
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b = append(b, c)
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

// encodeResponse renders a successful response:
//
//	<ActionResponse xmlns="…"><ActionResult>…</ActionResult>
//	<ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></ActionResponse>
//
// Operations without output (result nil) have no ActionResult element.
func encodeResponse(ns, action string, result any, requestID string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<` + action + `Response xmlns="` + ns + `">`)
	if result != nil {
		enc := xml.NewEncoder(&b)
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			return nil, err
		}
		if err := enc.Flush(); err != nil {
			return nil, err
		}
	}
	b.WriteString(`<ResponseMetadata><RequestId>`)
	xmlText(&b, requestID)
	b.WriteString(`</RequestId></ResponseMetadata></` + action + `Response>`)
	return b.Bytes(), nil
}
