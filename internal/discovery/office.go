package discovery

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
)

func (st *state) openZip(zr *zip.Reader, name string) ([]byte, error) {
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				return nil, &malformedError{reason: "MALFORMED_FILE", detail: name}
			}
			defer rc.Close()
			in := &countIn{r: bytes.NewReader(nil), n: int64(f.CompressedSize64)}
			b, err := st.readAll(&counter{st: st, r: &zipErr{&ratio{in: in, r: rc, limit: st.e.lim.MaxRatio}}})
			return b, err
		}
	}
	return nil, nil
}

func xmlErr(err error, what string) error {
	var b *budgetError
	if errors.As(err, &b) {
		return err
	}
	return &malformedError{reason: "MALFORMED_FILE", detail: what}
}

// docx extracts the text of word/document.xml, one line per paragraph.
func (st *state) docx(zr *zip.Reader, entry string) error {
	b, err := st.openZip(zr, "word/document.xml")
	if err != nil {
		return err
	}
	if b == nil {
		return &malformedError{reason: "MALFORMED_FILE", detail: "docx without document.xml"}
	}
	var out bytes.Buffer
	dec := xml.NewDecoder(bytes.NewReader(b))
	inT := false
	for {
		t, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return xmlErr(err, "docx xml")
		}
		switch v := t.(type) {
		case xml.StartElement:
			switch v.Name.Local {
			case "t":
				inT = true
			case "tab":
				out.WriteByte('\t')
			case "br":
				out.WriteByte('\n')
			}
		case xml.EndElement:
			switch v.Name.Local {
			case "t":
				inT = false
			case "p":
				out.WriteByte('\n')
			case "tc":
				out.WriteByte('\t')
			}
		case xml.CharData:
			if inT {
				out.Write(v)
			}
		}
	}
	st.expanded -= int64(out.Len()) // counted as document.xml already
	return st.text(&out, entry, 0)
}

// xlsx scans every worksheet's cells with Sheet!A1 references; the first
// row gives the column names.
func (st *state) xlsx(zr *zip.Reader, entry string) error {
	shared, err := st.sharedStrings(zr)
	if err != nil {
		return err
	}
	names := st.sheetNames(zr)
	var sheets []string
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, "xl/worksheets/") && strings.HasSuffix(f.Name, ".xml") && !strings.Contains(f.Name[len("xl/worksheets/"):], "/") {
			sheets = append(sheets, f.Name)
		}
	}
	sort.Slice(sheets, func(i, j int) bool { return sheetNum(sheets[i]) < sheetNum(sheets[j]) })
	st.scanned = true
	for i, s := range sheets {
		b, err := st.openZip(zr, s)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(path.Base(s), ".xml")
		if i < len(names) {
			name = names[i]
		}
		if err := st.sheet(b, name, shared, entry); err != nil {
			return err
		}
	}
	return nil
}

func sheetNum(s string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path.Base(s), "sheet"), ".xml"))
	return n
}

func (st *state) sharedStrings(zr *zip.Reader) ([]string, error) {
	b, err := st.openZip(zr, "xl/sharedStrings.xml")
	if err != nil || b == nil {
		return nil, err
	}
	var out []string
	var cur strings.Builder
	inT, inSI := false, false
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		t, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, xmlErr(err, "xlsx shared strings")
		}
		switch v := t.(type) {
		case xml.StartElement:
			if v.Name.Local == "si" {
				inSI = true
				cur.Reset()
			} else if v.Name.Local == "t" {
				inT = true
			}
		case xml.EndElement:
			if v.Name.Local == "si" {
				inSI = false
				out = append(out, cur.String())
			} else if v.Name.Local == "t" {
				inT = false
			}
		case xml.CharData:
			if inSI && inT {
				cur.Write(v)
			}
		}
	}
}

func (st *state) sheetNames(zr *zip.Reader) []string {
	b, err := st.openZip(zr, "xl/workbook.xml")
	if err != nil || b == nil {
		return nil
	}
	var names []string
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		t, err := dec.Token()
		if err != nil {
			return names
		}
		if v, ok := t.(xml.StartElement); ok && v.Name.Local == "sheet" {
			for _, a := range v.Attr {
				if a.Name.Local == "name" {
					names = append(names, a.Value)
				}
			}
		}
	}
}

// cellPos turns "C5" into column 3, row 5.
func cellPos(ref string) (col, row int64) {
	i := 0
	for i < len(ref) && isUpper(ref[i]) {
		col = col*26 + int64(ref[i]-'A'+1)
		i++
	}
	row, _ = strconv.ParseInt(ref[i:], 10, 64)
	return col, row
}

func (st *state) sheet(b []byte, sheet string, shared []string, entry string) error {
	type cell struct {
		ref, val string
		col, row int64
	}
	var cells []cell
	dec := xml.NewDecoder(bytes.NewReader(b))
	var cur cell
	typ := ""
	inV := false
	var val strings.Builder
	for {
		t, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return xmlErr(err, "xlsx sheet")
		}
		switch v := t.(type) {
		case xml.StartElement:
			switch v.Name.Local {
			case "c":
				cur, typ = cell{}, ""
				val.Reset()
				for _, a := range v.Attr {
					switch a.Name.Local {
					case "r":
						cur.ref = a.Value
					case "t":
						typ = a.Value
					}
				}
			case "v", "t":
				inV = true
			}
		case xml.EndElement:
			switch v.Name.Local {
			case "v", "t":
				inV = false
			case "c":
				s := val.String()
				if typ == "s" {
					if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < len(shared) {
						s = shared[n]
					}
				}
				cur.val = s
				cur.col, cur.row = cellPos(cur.ref)
				cells = append(cells, cur)
			}
		case xml.CharData:
			if inV {
				val.Write(v)
			}
		}
	}
	header := map[int64]string{}
	for _, c := range cells {
		if c.row == 1 {
			header[c.col] = c.val
		}
	}
	for _, c := range cells {
		name := header[c.col]
		kctx := norm(name)
		if c.row == 1 {
			kctx = ""
		}
		oc := Cell{Row: c.row, Column: c.col, ColumnName: name, CellReference: sheet + "!" + c.ref, Entry: entry}
		st.segment([]byte(c.val), kctx, mAll, where{cell: oc})
	}
	return nil
}
