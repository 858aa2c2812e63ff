package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"

	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// listParams are the common listing arguments.
type listParams struct {
	prefix, delimiter, encodingType string
	maxKeys                         int
}

func parseListParams(q url.Values) (listParams, error) {
	p := listParams{prefix: q.Get("prefix"), delimiter: q.Get("delimiter"), encodingType: q.Get("encoding-type"), maxKeys: 1000}
	if p.encodingType != "" && p.encodingType != "url" {
		return p, s3err.InvalidArgument.WithMessage("Invalid Encoding Method specified in Request").With("ArgumentName", "encoding-type").With("ArgumentValue", p.encodingType)
	}
	for _, name := range []string{"max-keys", "max-uploads"} {
		if s, ok := q[name]; ok {
			n, err := strconv.Atoi(s[0])
			if err != nil || n < 0 {
				return p, s3err.InvalidArgument.WithMessage("Provided "+name+" not an integer or within integer range").With("ArgumentName", name).With("ArgumentValue", s[0])
			}
			if n < 1000 {
				p.maxKeys = n
			}
		}
	}
	return p, nil
}

// enc applies encoding-type=url.
func (p listParams) enc(s string) string {
	if p.encodingType == "url" {
		return url.QueryEscape(s)
	}
	return s
}

type objectEntry struct {
	Key               string `xml:"Key"`
	LastModified      string `xml:"LastModified"`
	ETag              string `xml:"ETag"`
	ChecksumAlgorithm string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string `xml:"ChecksumType,omitempty"`
	Size              int64  `xml:"Size"`
	Owner             *Owner `xml:"Owner,omitempty"`
	StorageClass      string `xml:"StorageClass"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

type listBucketResult struct {
	XMLName               xml.Name       `xml:"ListBucketResult"`
	Xmlns                 string         `xml:"xmlns,attr"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Marker                *string        `xml:"Marker,omitempty"`
	NextMarker            string         `xml:"NextMarker,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	KeyCount              *int           `xml:"KeyCount,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	Contents              []objectEntry  `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

func (h *Handler) objectEntry(rq *request, p listParams, v *meta.ObjectVersion, withOwner bool) objectEntry {
	e := objectEntry{
		Key: p.enc(v.Key), LastModified: xmlTime(v.LastModified), ETag: v.ETag, Size: v.Size,
		StorageClass: "STANDARD", ChecksumAlgorithm: v.Checksum.Algorithm, ChecksumType: v.Checksum.Type,
	}
	if withOwner {
		o := h.owner(rq, v.Owner)
		e.Owner = &o
	}
	return e
}

func (h *Handler) listObjectsV1(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	p, err := parseListParams(rq.q)
	if err != nil {
		return err
	}
	marker := rq.q.Get("marker")
	res := listBucketResult{Xmlns: s3NS, Name: b.Name, Prefix: p.enc(p.prefix), Marker: ptr(p.enc(marker)),
		MaxKeys: p.maxKeys, Delimiter: p.enc(p.delimiter), EncodingType: p.encodingType}
	lr, err := h.obj.Meta().ListObjects(r.Context(), b.Name, meta.ListOptions{Prefix: p.prefix, Delimiter: p.delimiter, Marker: marker, MaxKeys: p.maxKeys})
	if err != nil {
		return err
	}
	for _, v := range lr.Objects {
		res.Contents = append(res.Contents, h.objectEntry(rq, p, v, true))
	}
	for _, cp := range lr.CommonPrefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{p.enc(cp)})
	}
	res.IsTruncated = lr.IsTruncated
	if lr.IsTruncated && p.delimiter != "" {
		res.NextMarker = p.enc(lr.NextMarker)
	}
	return writeXML(w, &res)
}

func ptr[T any](v T) *T { return &v }

func (h *Handler) listObjectsV2(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	p, err := parseListParams(rq.q)
	if err != nil {
		return err
	}
	after := rq.q.Get("start-after")
	token := rq.q.Get("continuation-token")
	if _, ok := rq.q["continuation-token"]; ok {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || token == "" {
			return s3err.InvalidArgument.WithMessage("The continuation token provided is incorrect").With("ArgumentName", "continuation-token")
		}
		after = string(raw)
	}
	res := listBucketResult{Xmlns: s3NS, Name: b.Name, Prefix: p.enc(p.prefix), StartAfter: p.enc(rq.q.Get("start-after")),
		ContinuationToken: token, MaxKeys: p.maxKeys, Delimiter: p.enc(p.delimiter), EncodingType: p.encodingType}
	lr, err := h.obj.Meta().ListObjects(r.Context(), b.Name, meta.ListOptions{Prefix: p.prefix, Delimiter: p.delimiter, Marker: after, MaxKeys: p.maxKeys})
	if err != nil {
		return err
	}
	fetchOwner := rq.q.Get("fetch-owner") == "true"
	for _, v := range lr.Objects {
		res.Contents = append(res.Contents, h.objectEntry(rq, p, v, fetchOwner))
	}
	for _, cp := range lr.CommonPrefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{p.enc(cp)})
	}
	res.KeyCount = ptr(len(lr.Objects) + len(lr.CommonPrefixes))
	res.IsTruncated = lr.IsTruncated
	if lr.IsTruncated {
		res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(lr.NextMarker))
	}
	return writeXML(w, &res)
}

type versionEntry struct {
	XMLName      xml.Name
	Key          string `xml:"Key"`
	VersionID    string `xml:"VersionId"`
	IsLatest     bool   `xml:"IsLatest"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag,omitempty"`
	ChecksumAlg  string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType string `xml:"ChecksumType,omitempty"`
	Size         *int64 `xml:"Size,omitempty"`
	Owner        *Owner `xml:"Owner,omitempty"`
	StorageClass string `xml:"StorageClass,omitempty"`
}

type listVersionsResult struct {
	XMLName             xml.Name       `xml:"ListVersionsResult"`
	Xmlns               string         `xml:"xmlns,attr"`
	Name                string         `xml:"Name"`
	Prefix              string         `xml:"Prefix"`
	KeyMarker           string         `xml:"KeyMarker"`
	VersionIDMarker     string         `xml:"VersionIdMarker"`
	NextKeyMarker       string         `xml:"NextKeyMarker,omitempty"`
	NextVersionIDMarker string         `xml:"NextVersionIdMarker,omitempty"`
	MaxKeys             int            `xml:"MaxKeys"`
	Delimiter           string         `xml:"Delimiter,omitempty"`
	EncodingType        string         `xml:"EncodingType,omitempty"`
	IsTruncated         bool           `xml:"IsTruncated"`
	Entries             []versionEntry `xml:",any"`
	CommonPrefixes      []commonPrefix `xml:"CommonPrefixes"`
}

func (h *Handler) listObjectVersions(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	p, err := parseListParams(rq.q)
	if err != nil {
		return err
	}
	km, vm := rq.q.Get("key-marker"), rq.q.Get("version-id-marker")
	if vm != "" && km == "" {
		return s3err.InvalidArgument.WithMessage("A version-id marker cannot be specified without a key marker.").With("ArgumentName", "version-id-marker")
	}
	if vm != "" {
		if err := validVersionID(vm); err != nil {
			return err
		}
	}
	lr, err := h.obj.Meta().ListVersions(r.Context(), b.Name, meta.ListOptions{Prefix: p.prefix, Delimiter: p.delimiter, Marker: km, VersionIDMarker: vm, MaxKeys: p.maxKeys})
	if err != nil {
		return err
	}
	res := listVersionsResult{Xmlns: s3NS, Name: b.Name, Prefix: p.enc(p.prefix), KeyMarker: p.enc(km), VersionIDMarker: vm,
		MaxKeys: p.maxKeys, Delimiter: p.enc(p.delimiter), EncodingType: p.encodingType, IsTruncated: lr.IsTruncated}
	for _, v := range lr.Objects {
		o := h.owner(rq, v.Owner)
		e := versionEntry{Key: p.enc(v.Key), VersionID: v.VersionID, IsLatest: v.IsLatest, LastModified: xmlTime(v.LastModified), Owner: &o}
		if v.DeleteMarker {
			e.XMLName.Local = "DeleteMarker"
		} else {
			e.XMLName.Local = "Version"
			e.ETag, e.Size, e.StorageClass = v.ETag, ptr(v.Size), "STANDARD"
			e.ChecksumAlg, e.ChecksumType = v.Checksum.Algorithm, v.Checksum.Type
		}
		res.Entries = append(res.Entries, e)
	}
	for _, cp := range lr.CommonPrefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{p.enc(cp)})
	}
	if lr.IsTruncated {
		res.NextKeyMarker = p.enc(lr.NextMarker)
		res.NextVersionIDMarker = lr.NextVersionIDMarker
	}
	return writeXML(w, &res)
}
