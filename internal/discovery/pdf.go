package discovery

import (
	"bytes"
	"compress/zlib"
	"io"
	"strconv"
)

// pdf is a bounded text extractor: it finds content streams (raw or
// FlateDecode), runs their text operators (Tj, TJ, ', ") and scans the
// text, one page per content stream that shows text, in file order. It
// does not resolve the page tree, object streams or font encodings
// (CID fonts, ToUnicode maps), so text drawn that way is not seen.
func (st *state) pdf(r io.Reader, entry string) error {
	b, err := st.readAll(r)
	if err != nil {
		return err
	}
	st.scanned = true
	page := int64(0)
	pos := 0
	for {
		k := bytes.Index(b[pos:], []byte("stream"))
		if k < 0 {
			return nil
		}
		s := pos + k
		pos = s + 6
		if s >= 3 && string(b[s-3:s]) == "end" {
			continue
		}
		d := s + 6
		if d < len(b) && b[d] == '\r' {
			d++
		}
		if d < len(b) && b[d] == '\n' {
			d++
		}
		e := bytes.Index(b[d:], []byte("endstream"))
		if e < 0 {
			return &malformedError{reason: "MALFORMED_FILE", detail: "pdf stream without endstream"}
		}
		data := b[d : d+e]
		pos = d + e + 9
		dictStart := bytes.LastIndex(b[max(0, s-1024):s], []byte("<<"))
		dict := b[max(0, s-1024)+max(dictStart, 0) : s]
		if bytes.Contains(dict, []byte("/Filter")) {
			if !bytes.Contains(dict, []byte("/FlateDecode")) || bytes.Contains(dict, []byte("/DecodeParms")) {
				continue // images and other encodings carry no text we read
			}
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				st.fail(&malformedError{reason: "MALFORMED_FILE", detail: "pdf flate stream"}, entry)
				continue
			}
			in := &countIn{r: bytes.NewReader(nil), n: int64(len(data))}
			data, err = st.readAll(&ratio{in: in, r: zr, limit: st.e.lim.MaxRatio})
			if err != nil {
				if _, ok := err.(*budgetError); ok {
					return err
				}
				st.fail(&malformedError{reason: "MALFORMED_FILE", detail: "pdf flate stream"}, entry)
				continue
			}
		}
		if !bytes.Contains(data, []byte("BT")) {
			continue
		}
		text := pdfText(data)
		if len(text) == 0 {
			continue
		}
		page++
		if err := st.text(bytes.NewReader(text), entry, page); err != nil {
			return err
		}
	}
}

// pdfText runs a content stream's text operators: strings shown by Tj, TJ,
// ' and " become text; BT/ET, T*, Td and TD end a line.
func pdfText(c []byte) []byte {
	var out, cur bytes.Buffer
	var pending [][]byte // string operands since the last operator
	for i := 0; i < len(c); {
		ch := c[i]
		switch {
		case ch == '(':
			s, n := pdfLiteral(c[i:])
			pending = append(pending, s)
			i += n
		case ch == '<' && i+1 < len(c) && c[i+1] != '<':
			j := bytes.IndexByte(c[i:], '>')
			if j < 0 {
				return out.Bytes()
			}
			pending = append(pending, pdfHex(c[i+1:i+j]))
			i += j + 1
		case ch == '%':
			for i < len(c) && c[i] != '\n' && c[i] != '\r' {
				i++
			}
		case isAlpha(ch) || ch == '\'' || ch == '"' || ch == '*':
			j := i
			for j < len(c) && (isAlpha(c[j]) || c[j] == '*' || c[j] == '\'' || c[j] == '"') {
				j++
			}
			op := string(c[i:j])
			switch op {
			case "Tj", "TJ", "'", "\"":
				if op == "'" || op == "\"" {
					cur.WriteByte('\n')
				}
				for _, p := range pending {
					cur.Write(p)
				}
			case "T*":
				out.Write(cur.Bytes())
				out.WriteByte('\n')
				cur.Reset()
			case "BT", "ET", "Td", "TD":
				if cur.Len() > 0 {
					out.Write(cur.Bytes())
					out.WriteByte('\n')
					cur.Reset()
				}
			}
			pending = pending[:0]
			i = j
		default:
			i++
		}
	}
	if cur.Len() > 0 {
		out.Write(cur.Bytes())
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// pdfLiteral decodes a (literal string) with escapes and nested parentheses.
func pdfLiteral(c []byte) ([]byte, int) {
	var out []byte
	depth := 0
	i := 0
	for i < len(c) {
		ch := c[i]
		switch {
		case ch == '\\' && i+1 < len(c):
			i++
			switch e := c[i]; e {
			case 'n':
				out = append(out, '\n')
			case 'r', 't', 'b', 'f':
				out = append(out, ' ')
			case '\n', '\r':
			default:
				if e >= '0' && e <= '7' {
					j := i
					for j < len(c) && j < i+3 && c[j] >= '0' && c[j] <= '7' {
						j++
					}
					v, _ := strconv.ParseUint(string(c[i:j]), 8, 8)
					out = append(out, byte(v))
					i = j - 1
				} else {
					out = append(out, e)
				}
			}
		case ch == '(':
			if depth > 0 {
				out = append(out, ch)
			}
			depth++
		case ch == ')':
			depth--
			if depth == 0 {
				return out, i + 1
			}
			out = append(out, ch)
		default:
			out = append(out, ch)
		}
		i++
	}
	return out, i
}

func pdfHex(h []byte) []byte {
	var out []byte
	var v byte
	n := 0
	for _, c := range h {
		var d byte
		switch {
		case isDigit(c):
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			continue
		}
		v = v<<4 | d
		if n++; n == 2 {
			out = append(out, v)
			v, n = 0, 0
		}
	}
	if n == 1 {
		out = append(out, v<<4)
	}
	return out
}
