package s3api

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// timeFormat is how S3 writes timestamps in XML.
const timeFormat = "2006-01-02T15:04:05.000Z"

func xmlTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// encodeError renders an S3 error document.
func encodeError(e *s3err.Error, r *http.Request, rq *request, hostID string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Error><Code>")
	xml.EscapeText(&b, []byte(e.Code))
	b.WriteString("</Code><Message>")
	xml.EscapeText(&b, []byte(e.Message))
	b.WriteString("</Message>")
	for _, f := range e.Fields {
		b.WriteString("<" + f[0] + ">")
		xml.EscapeText(&b, []byte(f[1]))
		b.WriteString("</" + f[0] + ">")
	}
	if rq != nil {
		if e.Code == "NoSuchKey" && rq.t.key != "" {
			b.WriteString("<Key>")
			xml.EscapeText(&b, []byte(rq.t.key))
			b.WriteString("</Key>")
		}
		if (e.Code == "NoSuchBucket" || e.Code == "BucketNotEmpty" || e.Code == "BucketAlreadyOwnedByYou" || e.Code == "BucketAlreadyExists") && rq.t.bucket != "" {
			b.WriteString("<BucketName>")
			xml.EscapeText(&b, []byte(rq.t.bucket))
			b.WriteString("</BucketName>")
		}
		b.WriteString("<RequestId>" + rq.id + "</RequestId>")
	}
	b.WriteString("<HostId>" + hostID + "</HostId></Error>")
	return b.Bytes()
}

// writeXML sends a 200 response with an XML document.
func writeXML(w http.ResponseWriter, v any) error { return writeXMLStatus(w, http.StatusOK, v) }

// writeXMLStatus sends an XML document with the given status.
func writeXMLStatus(w http.ResponseWriter, status int, v any) error {
	var body []byte
	if a, ok := v.(xmlAppender); ok {
		body = a.appendXML(append(make([]byte, 0, 64<<10), xml.Header...))
	} else {
		var b bytes.Buffer
		b.WriteString(xml.Header)
		if err := xml.NewEncoder(&b).Encode(v); err != nil {
			return err
		}
		body = b.Bytes()
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// decodeXML parses a bounded request document into v. Any syntax error,
// trailing garbage or an empty body is MalformedXML; encoding/xml never
// expands external entities or fetches DTDs.
func decodeXML(rq *request, v any) error {
	body, err := readAll(rq)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return s3err.MalformedXML
	}
	return unmarshalXML(body, v)
}

func unmarshalXML(body []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	if err := d.Decode(v); err != nil {
		return s3err.MalformedXML.Wrap(err)
	}
	// Nothing but whitespace, comments or processing instructions may
	// follow the document element.
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return s3err.MalformedXML.Wrap(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return s3err.MalformedXML
			}
		case xml.Comment, xml.ProcInst:
		default:
			return s3err.MalformedXML
		}
	}
}

// Owner is the S3 owner element.
type Owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName,omitempty"`
}

// Tag is one S3 tag.
type Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// Tagging is the tagging document for buckets and objects.
type Tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	TagSet  struct {
		Tags []Tag `xml:"Tag"`
	} `xml:"TagSet"`
}
