package discovery

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"html"
	"strings"
)

// Builders of the supported formats, for the tests and the accuracy corpus.

func gzipOf(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

type file struct {
	name string
	data []byte
}

func zipOf(files ...file) []byte {
	var out bytes.Buffer
	w := zip.NewWriter(&out)
	for _, f := range files {
		fw, _ := w.Create(f.name)
		fw.Write(f.data)
	}
	w.Close()
	return out.Bytes()
}

func tarOf(files ...file) []byte {
	var out bytes.Buffer
	w := tar.NewWriter(&out)
	for _, f := range files {
		w.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg})
		w.Write(f.data)
	}
	w.Close()
	return out.Bytes()
}

// docxOf writes one paragraph per line.
func docxOf(text string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		fmt.Fprintf(&b, `<w:p><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>`, html.EscapeString(l))
	}
	b.WriteString(`</w:body></w:document>`)
	return zipOf(file{"[Content_Types].xml", []byte(`<Types/>`)}, file{"word/document.xml", []byte(b.String())})
}

func colName(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// xlsxOf writes rows into Sheet1 with shared strings.
func xlsxOf(rows [][]string) []byte {
	var shared []string
	var sh strings.Builder
	sh.WriteString(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	for r, row := range rows {
		fmt.Fprintf(&sh, `<row r="%d">`, r+1)
		for c, v := range row {
			fmt.Fprintf(&sh, `<c r="%s%d" t="s"><v>%d</v></c>`, colName(c), r+1, len(shared))
			shared = append(shared, v)
		}
		sh.WriteString(`</row>`)
	}
	sh.WriteString(`</sheetData></worksheet>`)
	var ss strings.Builder
	ss.WriteString(`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	for _, v := range shared {
		fmt.Fprintf(&ss, `<si><t>%s</t></si>`, html.EscapeString(v))
	}
	ss.WriteString(`</sst>`)
	wb := `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="People" sheetId="1"/></sheets></workbook>`
	return zipOf(file{"[Content_Types].xml", []byte(`<Types/>`)}, file{"xl/workbook.xml", []byte(wb)},
		file{"xl/sharedStrings.xml", []byte(ss.String())}, file{"xl/worksheets/sheet1.xml", []byte(sh.String())})
}

// pdfOf writes a minimal PDF with one Flate-compressed content stream per page.
func pdfOf(pages ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	for i, p := range pages {
		var content strings.Builder
		content.WriteString("BT /F1 12 Tf 72 720 Td\n")
		for _, l := range strings.Split(strings.TrimSuffix(p, "\n"), "\n") {
			l = strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(l)
			fmt.Fprintf(&content, "(%s) Tj T*\n", l)
		}
		content.WriteString("ET\n")
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write([]byte(content.String()))
		zw.Close()
		fmt.Fprintf(&b, "%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", i+4, z.Len())
		b.Write(z.Bytes())
		b.WriteString("\nendstream\nendobj\n")
	}
	b.WriteString("trailer\n<< /Root 1 0 R >>\n%%EOF\n")
	return b.Bytes()
}
