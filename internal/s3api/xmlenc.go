package s3api

import (
	"strconv"
	"unicode/utf8"
)

// Hand-written encoders for the hot listing responses. encoding/xml spends
// most of a 1000-key listing in reflection; these append directly and are
// checked byte for byte against encoding/xml by TestListEncodersMatchXML.

// xmlAppender is implemented by responses that encode themselves.
type xmlAppender interface {
	appendXML(b []byte) []byte
}

// appendEscaped escapes s exactly as xml.EscapeText does.
func appendEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var esc string
			switch c {
			case '"':
				esc = "&#34;"
			case '\'':
				esc = "&#39;"
			case '&':
				esc = "&amp;"
			case '<':
				esc = "&lt;"
			case '>':
				esc = "&gt;"
			case '\t':
				esc = "&#x9;"
			case '\n':
				esc = "&#xA;"
			case '\r':
				esc = "&#xD;"
			default:
				if c < 0x20 {
					esc = "\uFFFD"
				}
			}
			if esc != "" {
				b = append(b, s[last:i]...)
				b = append(b, esc...)
				last = i + 1
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || !isInCharacterRange(r) {
			b = append(b, s[last:i]...)
			b = append(b, "\uFFFD"...)
			last = i + n
		}
		i += n
	}
	return append(b, s[last:]...)
}

// isInCharacterRange is XML's Char production, as encoding/xml applies it.
func isInCharacterRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

func appendElem(b []byte, name, value string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = appendEscaped(b, value)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

func appendElemOmit(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	return appendElem(b, name, value)
}

func appendInt(b []byte, name string, n int64) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = strconv.AppendInt(b, n, 10)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

func appendBool(b []byte, name string, v bool) []byte {
	if v {
		return appendElem(b, name, "true")
	}
	return appendElem(b, name, "false")
}

func appendOwner(b []byte, name string, o *Owner) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = appendElem(b, "ID", o.ID)
	b = appendElemOmit(b, "DisplayName", o.DisplayName)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

func appendPrefixes(b []byte, cps []commonPrefix) []byte {
	for _, cp := range cps {
		b = append(b, "<CommonPrefixes>"...)
		b = appendElem(b, "Prefix", cp.Prefix)
		b = append(b, "</CommonPrefixes>"...)
	}
	return b
}

func (r *listBucketResult) appendXML(b []byte) []byte {
	b = append(b, `<ListBucketResult xmlns="`...)
	b = appendEscaped(b, r.Xmlns)
	b = append(b, `">`...)
	b = appendElem(b, "Name", r.Name)
	b = appendElem(b, "Prefix", r.Prefix)
	if r.Marker != nil {
		b = appendElem(b, "Marker", *r.Marker)
	}
	b = appendElemOmit(b, "NextMarker", r.NextMarker)
	b = appendElemOmit(b, "StartAfter", r.StartAfter)
	b = appendElemOmit(b, "ContinuationToken", r.ContinuationToken)
	b = appendElemOmit(b, "NextContinuationToken", r.NextContinuationToken)
	if r.KeyCount != nil {
		b = appendInt(b, "KeyCount", int64(*r.KeyCount))
	}
	b = appendInt(b, "MaxKeys", int64(r.MaxKeys))
	b = appendElemOmit(b, "Delimiter", r.Delimiter)
	b = appendElemOmit(b, "EncodingType", r.EncodingType)
	b = appendBool(b, "IsTruncated", r.IsTruncated)
	for i := range r.Contents {
		e := &r.Contents[i]
		b = append(b, "<Contents>"...)
		b = appendElem(b, "Key", e.Key)
		b = appendElem(b, "LastModified", e.LastModified)
		b = appendElem(b, "ETag", e.ETag)
		b = appendElemOmit(b, "ChecksumAlgorithm", e.ChecksumAlgorithm)
		b = appendElemOmit(b, "ChecksumType", e.ChecksumType)
		b = appendInt(b, "Size", e.Size)
		if e.Owner != nil {
			b = appendOwner(b, "Owner", e.Owner)
		}
		b = appendElem(b, "StorageClass", e.StorageClass)
		b = append(b, "</Contents>"...)
	}
	b = appendPrefixes(b, r.CommonPrefixes)
	return append(b, "</ListBucketResult>"...)
}

func (r *listVersionsResult) appendXML(b []byte) []byte {
	b = append(b, `<ListVersionsResult xmlns="`...)
	b = appendEscaped(b, r.Xmlns)
	b = append(b, `">`...)
	b = appendElem(b, "Name", r.Name)
	b = appendElem(b, "Prefix", r.Prefix)
	b = appendElem(b, "KeyMarker", r.KeyMarker)
	b = appendElem(b, "VersionIdMarker", r.VersionIDMarker)
	b = appendElemOmit(b, "NextKeyMarker", r.NextKeyMarker)
	b = appendElemOmit(b, "NextVersionIdMarker", r.NextVersionIDMarker)
	b = appendInt(b, "MaxKeys", int64(r.MaxKeys))
	b = appendElemOmit(b, "Delimiter", r.Delimiter)
	b = appendElemOmit(b, "EncodingType", r.EncodingType)
	b = appendBool(b, "IsTruncated", r.IsTruncated)
	for i := range r.Entries {
		e := &r.Entries[i]
		b = append(b, '<')
		b = append(b, e.XMLName.Local...)
		b = append(b, '>')
		b = appendElem(b, "Key", e.Key)
		b = appendElem(b, "VersionId", e.VersionID)
		b = appendBool(b, "IsLatest", e.IsLatest)
		b = appendElem(b, "LastModified", e.LastModified)
		b = appendElemOmit(b, "ETag", e.ETag)
		b = appendElemOmit(b, "ChecksumAlgorithm", e.ChecksumAlg)
		b = appendElemOmit(b, "ChecksumType", e.ChecksumType)
		if e.Size != nil {
			b = appendInt(b, "Size", *e.Size)
		}
		if e.Owner != nil {
			b = appendOwner(b, "Owner", e.Owner)
		}
		b = appendElemOmit(b, "StorageClass", e.StorageClass)
		b = append(b, "</"...)
		b = append(b, e.XMLName.Local...)
		b = append(b, '>')
	}
	b = appendPrefixes(b, r.CommonPrefixes)
	return append(b, "</ListVersionsResult>"...)
}
