package discovery

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"path"
	"strconv"
	"strings"
	"unsafe"
)

type format int

const (
	fText format = iota
	fCSV
	fTSV
	fJSON
	fJSONL
	fGzip
	fZip
	fTar
	fDocx
	fXlsx
	fPDF
	fParquet
	fBinary
)

var mimes = map[format]string{
	fText: "text/plain", fCSV: "text/csv", fTSV: "text/tab-separated-values", fJSON: "application/json",
	fJSONL: "application/jsonl", fGzip: "application/gzip", fZip: "application/zip", fTar: "application/x-tar",
	fDocx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	fXlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	fPDF:  "application/pdf", fParquet: "application/parquet", fBinary: "application/octet-stream",
}

// sniff picks the format from the first bytes, then from the name.
func sniff(head []byte, name string) format {
	ext := strings.ToLower(path.Ext(name))
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return fGzip
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		switch ext {
		case ".docx":
			return fDocx
		case ".xlsx":
			return fXlsx
		}
		return fZip
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return fPDF
	case bytes.HasPrefix(head, []byte("PAR1")):
		return fParquet
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return fTar
	}
	switch ext {
	case ".csv":
		return fCSV
	case ".tsv", ".tab":
		return fTSV
	case ".json":
		return fJSON
	case ".jsonl", ".ndjson":
		return fJSONL
	case ".tar":
		return fTar
	case ".parquet":
		return fParquet
	}
	// Text unless it looks binary (NUL bytes or mostly invalid UTF-8).
	if bytes.IndexByte(head, 0) >= 0 {
		return fBinary
	}
	return fText
}

// object scans one object or archive member of any supported format.
func (st *state) object(r io.Reader, name, entry string, depth int) (string, error) {
	if depth > st.e.lim.MaxDepth {
		return "", &budgetError{reason: "ARCHIVE_NESTING_LEVEL_OVER_LIMIT"}
	}
	if err := st.ctx.Err(); err != nil {
		return "", err
	}
	br := bufio.NewReaderSize(r, 4096)
	head, _ := br.Peek(512)
	f := sniff(head, name)
	mime := mimes[f]
	var err error
	switch f {
	case fText:
		err = st.text(br, entry, 0)
	case fCSV, fTSV:
		err = st.csv(br, entry, f == fTSV)
	case fJSON:
		err = st.json(br, entry)
	case fJSONL:
		err = st.jsonl(br, entry)
	case fGzip:
		err = st.gzip(br, name, entry, depth)
	case fTar:
		err = st.tar(br, entry, depth)
	case fZip, fDocx, fXlsx:
		err = st.zip(br, f, entry, depth)
	case fPDF:
		err = st.pdf(br, entry)
	case fParquet:
		err = st.parquetFile(br, entry)
	default:
		err = &ObjectError{Kind: ErrUnsupported, Reason: "UNSUPPORTED_FILE_TYPE", Entry: entry}
	}
	return mime, err
}

// member scans an archive member; problems with it are recorded and the
// archive goes on, except budgets that cover the whole object.
func (st *state) member(r io.Reader, name, entry string, depth int) error {
	st.entries++
	if st.entries > st.e.lim.MaxEntries {
		return &budgetError{reason: "ARCHIVE_EXCEEDS_ENTRY_LIMIT"}
	}
	_, err := st.object(r, name, entry, depth)
	if err == nil {
		return nil
	}
	var b *budgetError
	if errors.As(err, &b) && b.reason != "ARCHIVE_NESTING_LEVEL_OVER_LIMIT" && b.reason != "ARCHIVE_EXCEEDS_RATIO_LIMIT" {
		return err
	}
	if st.fail(err, entry) {
		return nil
	}
	return err
}

func join(entry, name string) string {
	if entry == "" {
		return name
	}
	return entry + "/" + name
}

// ratio bounds a decompressor's output against its compressed input.
type ratio struct {
	in    *countIn
	r     io.Reader
	out   int64
	limit int64
}

type countIn struct {
	r io.Reader
	n int64
}

func (c *countIn) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (z *ratio) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	z.out += int64(n)
	if z.out > z.limit*(z.in.n+1)+1<<20 {
		return n, &budgetError{reason: "ARCHIVE_EXCEEDS_RATIO_LIMIT", detail: "compression ratio over the limit"}
	}
	return n, err
}

func (st *state) gzip(r io.Reader, name, entry string, depth int) error {
	in := &countIn{r: r}
	zr, err := gzip.NewReader(in)
	if err != nil {
		return &malformedError{reason: "MALFORMED_ARCHIVE", detail: "gzip header"}
	}
	zr.Multistream(true)
	inner := strings.TrimSuffix(name, path.Ext(name))
	if strings.HasSuffix(strings.ToLower(name), ".tgz") {
		inner = strings.TrimSuffix(name, path.Ext(name)) + ".tar"
	}
	err = st.member(&gzErr{&ratio{in: in, r: zr, limit: st.e.lim.MaxRatio}}, inner, join(entry, path.Base(inner)), depth+1)
	return err
}

// gzErr turns gzip's own errors into malformed-archive errors.
type gzErr struct{ r io.Reader }

func (g *gzErr) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		var b *budgetError
		if !errors.As(err, &b) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			return n, &malformedError{reason: "MALFORMED_ARCHIVE", detail: "gzip stream"}
		}
	}
	return n, err
}

func (st *state) tar(r io.Reader, entry string, depth int) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			st.scanned = true
			return nil
		}
		if err != nil {
			if st.ctx.Err() != nil {
				return st.ctx.Err()
			}
			var b *budgetError
			if errors.As(err, &b) {
				return err
			}
			return &malformedError{reason: "MALFORMED_ARCHIVE", detail: "tar header"}
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if err := st.member(tr, h.Name, join(entry, h.Name), depth+1); err != nil {
			return err
		}
	}
}

// readAll buffers a member that needs random access, within MaxBufferedBytes.
func (st *state) readAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, st.e.lim.MaxBufferedBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > st.e.lim.MaxBufferedBytes {
		return nil, &budgetError{reason: "ARCHIVE_EXCEEDS_SIZE_LIMIT", detail: "member too large to open"}
	}
	return b, nil
}

func (st *state) zip(r io.Reader, f format, entry string, depth int) error {
	b, err := st.readAll(r)
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return &malformedError{reason: "MALFORMED_ARCHIVE", detail: "zip directory"}
	}
	switch f {
	case fDocx:
		return st.docx(zr, entry)
	case fXlsx:
		return st.xlsx(zr, entry)
	}
	st.scanned = true
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			st.fail(&malformedError{reason: "MALFORMED_ARCHIVE", detail: "zip member"}, join(entry, zf.Name))
			continue
		}
		in := &countIn{r: bytes.NewReader(nil), n: int64(zf.CompressedSize64)}
		err = st.member(&zipErr{&ratio{in: in, r: rc, limit: st.e.lim.MaxRatio}}, zf.Name, join(entry, zf.Name), depth+1)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

type zipErr struct{ r io.Reader }

func (z *zipErr) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	if err != nil && err != io.EOF {
		var b *budgetError
		if !errors.As(err, &b) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			return n, &malformedError{reason: "MALFORMED_ARCHIVE", detail: "zip member data"}
		}
	}
	return n, err
}

// lineLimit fails a stream whose lines exceed the budget, so a record
// parser never buffers an unbounded line.
type lineLimit struct {
	r   io.Reader
	max int
	cur int
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, c := range p[:n] {
		if c == '\n' {
			l.cur = 0
		} else if l.cur++; l.cur > l.max {
			return n, &budgetError{reason: "LINE_EXCEEDS_SIZE_LIMIT", detail: "record line over the limit"}
		}
	}
	return n, err
}

func (st *state) csv(r io.Reader, entry string, tsv bool) error {
	mr := &maskReader{r: &lineLimit{r: &counter{st: st, r: r}, max: st.e.lim.MaxLineBytes}}
	cr := csv.NewReader(mr)
	if tsv {
		cr.Comma = '\t'
	}
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	var header []string
	var keys []string
	row := int64(0)
	rowStart := int64(0)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return &malformedError{reason: "MALFORMED_FILE", detail: "csv"}
			}
			return err
		}
		st.scanned = true
		row++
		if row == 1 {
			header = append([]string(nil), rec...)
			for _, h := range header {
				keys = append(keys, norm(h))
			}
		}
		end := cr.InputOffset()
		mask := mr.mask(rowStart, end)
		rowStart = end
		for i, v := range rec {
			name, kctx := "", ""
			if i < len(header) {
				name, kctx = header[i], keys[i]
			}
			if row == 1 {
				kctx = ""
			}
			c := Cell{Row: row, Column: int64(i + 1), ColumnName: name, Entry: entry}
			st.segment(unsafeBytes(v), kctx, mask, where{cell: c})
		}
	}
}

// jsonValue walks a decoded token stream and scans every string and number
// with its JSON path.
func (st *state) jsonDoc(dec *json.Decoder, entry string, rec int64) error {
	type frame struct {
		obj   bool
		key   string
		index int
		want  bool // object: next token is a key
	}
	var stack []frame
	pathOf := func() string {
		var b strings.Builder
		b.WriteByte('$')
		for _, f := range stack {
			if f.obj {
				b.WriteByte('.')
				b.WriteString(f.key)
			} else {
				b.WriteByte('[')
				b.WriteString(strconv.Itoa(f.index))
				b.WriteByte(']')
			}
		}
		return b.String()
	}
	afterValue := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].obj {
				stack[n-1].want = true
			} else {
				stack[n-1].index++
			}
		}
	}
	for {
		if err := st.ctx.Err(); err != nil {
			return err
		}
		t, err := dec.Token()
		if err == io.EOF {
			if len(stack) != 0 {
				return &malformedError{reason: "MALFORMED_FILE", detail: "json"}
			}
			return nil
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
				return &malformedError{reason: "MALFORMED_FILE", detail: "json"}
			}
			return err
		}
		st.scanned = true
		if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].want {
			if k, ok := t.(string); ok {
				stack[n-1].key = k
				stack[n-1].want = false
				continue
			}
		}
		switch v := t.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, frame{obj: true, want: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
				afterValue()
			}
			if len(stack) > 1000 {
				return &budgetError{reason: "NESTING_LEVEL_OVER_LIMIT"}
			}
			continue
		case string:
			p := pathOf()
			st.segment([]byte(v), norm(p), mAll, where{kind: 1, rec: Record{RecordIndex: rec, JSONPath: p, Entry: entry}})
		case json.Number:
			p := pathOf()
			st.segment([]byte(v), norm(p), mAll, where{kind: 1, rec: Record{RecordIndex: rec, JSONPath: p, Entry: entry}})
		}
		afterValue()
	}
}

func (st *state) json(r io.Reader, entry string) error {
	b, err := st.readAll(&counter{st: st, r: r})
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return st.jsonDoc(dec, entry, 0)
}

func (st *state) jsonl(r io.Reader, entry string) error {
	br := bufio.NewReaderSize(&counter{st: st, r: r}, 64<<10)
	var line []byte
	rec := int64(0)
	for {
		part, err := br.ReadSlice('\n')
		line = append(line, part...)
		if len(line) > st.e.lim.MaxLineBytes {
			return &budgetError{reason: "LINE_EXCEEDS_SIZE_LIMIT", detail: "record line over the limit"}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if len(bytes.TrimSpace(line)) > 0 {
			dec := json.NewDecoder(bytes.NewReader(line))
			dec.UseNumber()
			if derr := st.jsonDoc(dec, entry, rec); derr != nil {
				var m *malformedError
				if !errors.As(derr, &m) {
					return derr
				}
				st.fail(derr, entry)
			}
			rec++
		}
		line = line[:0]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// unsafeBytes views a string's bytes without copying; the detectors only read.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// maskReader computes the anchor prefilter once per block read rather
// than once per row: a row's mask is the union of the blocks it spans
// (each block's mask also covers anchors straddling its start).
type maskReader struct {
	r      io.Reader
	off    int64
	tail   []byte
	blocks []maskBlock
}

type maskBlock struct {
	start, end int64
	m          uint32
}

func (m *maskReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	if n > 0 {
		b := p[:n]
		mask := anchorMask(b)
		if len(m.tail) > 0 {
			j := append(m.tail, b[:min(n, 32)]...)
			mask |= anchorMask(j)
		}
		m.tail = append(m.tail[:0], b[max(0, n-32):]...)
		m.blocks = append(m.blocks, maskBlock{m.off, m.off + int64(n), mask})
		m.off += int64(n)
	}
	return n, err
}

func (m *maskReader) mask(start, end int64) uint32 {
	var out uint32
	k := 0
	for i, b := range m.blocks {
		if b.end <= start {
			k = i + 1
			continue
		}
		if b.start >= end {
			break
		}
		out |= b.m
	}
	if k > 0 {
		m.blocks = append(m.blocks[:0], m.blocks[k:]...)
	}
	return out
}
