package s3api

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

type attrChecksum struct {
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
	ChecksumType      string `xml:"ChecksumType,omitempty"`
}

type attrPart struct {
	PartNumber int   `xml:"PartNumber"`
	Size       int64 `xml:"Size"`
	attrChecksum
}

type getObjectAttributesResult struct {
	XMLName     xml.Name      `xml:"GetObjectAttributesResponse"`
	Xmlns       string        `xml:"xmlns,attr"`
	ETag        string        `xml:"ETag,omitempty"`
	Checksum    *attrChecksum `xml:"Checksum,omitempty"`
	ObjectParts *struct {
		TotalPartsCount      int        `xml:"PartsCount"` // AWS's element name; SDKs call it TotalPartsCount
		PartNumberMarker     int        `xml:"PartNumberMarker"`
		NextPartNumberMarker int        `xml:"NextPartNumberMarker"`
		MaxParts             int        `xml:"MaxParts"`
		IsTruncated          bool       `xml:"IsTruncated"`
		Parts                []attrPart `xml:"Part"`
	} `xml:"ObjectParts,omitempty"`
	StorageClass string `xml:"StorageClass,omitempty"`
	ObjectSize   *int64 `xml:"ObjectSize,omitempty"`
}

func (h *Handler) getObjectAttributes(w http.ResponseWriter, r *http.Request, rq *request) error {
	want := map[string]bool{}
	for _, v := range r.Header.Values("X-Amz-Object-Attributes") {
		for _, a := range strings.Split(v, ",") {
			a = strings.TrimSpace(a)
			switch a {
			case "ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize":
				want[a] = true
			case "":
			default:
				return s3err.InvalidArgument.WithMessage("Invalid attribute name specified.").With("ArgumentName", "x-amz-object-attributes").With("ArgumentValue", a)
			}
		}
	}
	if len(want) == 0 {
		return s3err.InvalidArgument.WithMessage("Empty attribute specified").With("ArgumentName", "x-amz-object-attributes")
	}
	v, err := h.lookupVersion(r, rq)
	if err != nil {
		return err
	}
	// An SSE-C object's attributes need its key, as its data does.
	if _, _, err := h.readKeys(r, rq, v, "X-Amz-Server-Side-Encryption-Customer-"); err != nil {
		return err
	}
	if err := evalConditions(r.Header, v.ETag, v.LastModified, ""); err != nil {
		return err
	}
	res := getObjectAttributesResult{Xmlns: s3NS}
	if want["ETag"] {
		res.ETag = strings.Trim(v.ETag, `"`)
	}
	if want["Checksum"] && v.Checksum.Value != "" {
		c := &attrChecksum{ChecksumType: v.Checksum.Type}
		setChecksumField(v.Checksum.Algorithm, v.Checksum.Value, &c.ChecksumCRC32, &c.ChecksumCRC32C, &c.ChecksumCRC64NVME, &c.ChecksumSHA1, &c.ChecksumSHA256)
		res.Checksum = c
	}
	if want["StorageClass"] {
		res.StorageClass = "STANDARD"
	}
	if want["ObjectSize"] {
		res.ObjectSize = ptr(v.Size)
	}
	if want["ObjectParts"] && len(v.Parts) > 0 {
		max, marker := 1000, 0
		if s := r.Header.Get("X-Amz-Max-Parts"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return s3err.InvalidArgument.WithMessage("Invalid max-parts").With("ArgumentName", "x-amz-max-parts")
			}
			if n < max {
				max = n
			}
		}
		if s := r.Header.Get("X-Amz-Part-Number-Marker"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return s3err.InvalidArgument.WithMessage("Invalid part-number-marker").With("ArgumentName", "x-amz-part-number-marker")
			}
			marker = n
		}
		op := &res.ObjectParts
		*op = &struct {
			TotalPartsCount      int        `xml:"PartsCount"`
			PartNumberMarker     int        `xml:"PartNumberMarker"`
			NextPartNumberMarker int        `xml:"NextPartNumberMarker"`
			MaxParts             int        `xml:"MaxParts"`
			IsTruncated          bool       `xml:"IsTruncated"`
			Parts                []attrPart `xml:"Part"`
		}{TotalPartsCount: len(v.Parts), PartNumberMarker: marker, MaxParts: max}
		for _, p := range v.Parts {
			if p.Number <= marker {
				continue
			}
			if len((*op).Parts) == max {
				(*op).IsTruncated = true
				break
			}
			ap := attrPart{PartNumber: p.Number, Size: p.Size}
			if v.Checksum.Type == "COMPOSITE" {
				setChecksumField(p.Checksum.Algorithm, p.Checksum.Value, &ap.ChecksumCRC32, &ap.ChecksumCRC32C, &ap.ChecksumCRC64NVME, &ap.ChecksumSHA1, &ap.ChecksumSHA256)
			}
			(*op).Parts = append((*op).Parts, ap)
			(*op).NextPartNumberMarker = p.Number
		}
	}
	w.Header().Set("Last-Modified", httpTime(v.LastModified))
	if v.VersionID != "null" || rq.bucket.Versioning != "" {
		w.Header().Set("X-Amz-Version-Id", v.VersionID)
	}
	return writeXML(w, &res)
}
