package discovery

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sort"
	"unicode/utf8"
)

// state is one Scan call's working set.
type state struct {
	e        *Engine
	ctx      context.Context
	parent   context.Context
	dets     []*Detection
	expanded int64
	entries  int
	scanned  bool // some content was examined
	err      *ObjectError
	det      detector
	kwCache  map[string][]bool
	at       where
}

// where is the location of the value being scanned.
type where struct {
	kind int // 0 cell, 1 record
	cell Cell
	rec  Record
}

func (w *where) put(o *Occurrences) {
	if w.kind == 0 {
		o.Cells = append(o.Cells, w.cell)
	} else {
		o.Records = append(o.Records, w.rec)
	}
}

// ctxKeywords says, per identifier, whether a keyword is in the structural
// context (column name, JSON path), computed once per distinct context.
func (st *state) ctxKeywords(kctx string) []bool {
	if kctx == "" {
		return nil
	}
	if v, ok := st.kwCache[kctx]; ok {
		return v
	}
	v := make([]bool, len(st.e.defs))
	any := false
	for i, d := range st.e.defs {
		for _, k := range d.kw {
			if containsStr(kctx, k) {
				v[i], any = true, true
				break
			}
		}
	}
	if !any {
		v = nil
	}
	if st.kwCache == nil {
		st.kwCache = map[string][]bool{}
	}
	if len(st.kwCache) < 10000 {
		st.kwCache[kctx] = v
	}
	return v
}

// budgetError aborts a reader or parser when a budget is spent.
type budgetError struct{ reason, detail string }

func (b *budgetError) Error() string { return b.reason }

// malformedError marks content a parser could not read.
type malformedError struct{ reason, detail string }

func (m *malformedError) Error() string { return m.reason }

func (e *Engine) scan(ctx context.Context, r io.Reader, name string, size int64) (*Result, error) {
	cctx, cancel := context.WithTimeout(ctx, e.lim.Timeout)
	defer cancel()
	st := &state{e: e, ctx: cctx, parent: ctx, dets: make([]*Detection, len(e.defs))}
	res := &Result{}
	mime, err := st.object(r, name, "", 0)
	res.MIMEType = mime
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		st.fail(err, "")
		if st.err == nil {
			return nil, err
		}
	}
	res.SizeClassified = st.expanded
	for i, d := range st.dets {
		if d == nil {
			continue
		}
		def := e.defs[i]
		if def.custom != nil {
			d.CustomID, d.ARN, d.Name = def.custom.ID, def.custom.ARN, def.custom.Name
		} else {
			d.Type = def.id
		}
		d.Category = def.cat
		if d.Count > int64(d.Occurrences.len()) {
			res.AdditionalOccurrences = true
		}
		res.Detections = append(res.Detections, *d)
	}
	sort.SliceStable(res.Detections, func(i, j int) bool {
		a, b := res.Detections[i], res.Detections[j]
		if (a.Type == "") != (b.Type == "") {
			return a.Type != ""
		}
		return a.Type+a.CustomID < b.Type+b.CustomID
	})
	res.Status = StatusComplete
	if st.err != nil {
		res.Err = st.err
		res.Status = StatusPartial
		if !st.scanned {
			res.Status = StatusSkipped
		}
	}
	return res, nil
}

// fail records the first per-object problem; it returns false for errors
// that are not about the object (the reader failing, the caller cancelling).
func (st *state) fail(err error, entry string) bool {
	var b *budgetError
	var m *malformedError
	var oe *ObjectError
	switch {
	case errors.As(err, &oe):
	case errors.As(err, &b):
		oe = &ObjectError{Kind: ErrBudget, Reason: b.reason, Entry: entry, Detail: b.detail}
	case errors.As(err, &m):
		oe = &ObjectError{Kind: ErrMalformed, Reason: m.reason, Entry: entry, Detail: m.detail}
	case errors.Is(err, context.DeadlineExceeded) && st.parent.Err() == nil:
		oe = &ObjectError{Kind: ErrBudget, Reason: "TIME_LIMIT_EXCEEDED", Entry: entry}
	default:
		return false
	}
	if st.err == nil {
		st.err = oe
	}
	return true
}

// add records one occurrence of identifier idx.
func (st *state) add(idx int, put func(o *Occurrences)) {
	d := st.dets[idx]
	if d == nil {
		d = &Detection{}
		st.dets[idx] = d
	}
	d.Count++
	if d.Occurrences.len() < st.e.max {
		put(&d.Occurrences)
	}
}

// counter counts the content bytes the detectors see against the expansion budget.
type counter struct {
	st *state
	r  io.Reader
}

func (c *counter) Read(p []byte) (int, error) {
	if err := c.st.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.st.expanded += int64(n)
	if c.st.expanded > c.st.e.lim.MaxExpandedBytes {
		return n, &budgetError{reason: "OBJECT_EXCEEDS_SIZE_QUOTA", detail: "expanded content over the limit"}
	}
	return n, err
}

const (
	chunkSize = 256 << 10
	overlap   = 1024 // longest match kept whole across chunk borders
	keepBack  = 64   // context kept before a chunk for keyword lookback
)

type textHit struct{ idx, s, e int }

// text scans a stream as lines of text, in chunks with overlap so that
// matches across chunk borders are found once, in memory bounded by the
// chunk size whatever the line lengths.
func (st *state) text(r io.Reader, entry string, page int64) error {
	r = &counter{st: st, r: r}
	buf := make([]byte, chunkSize+overlap+keepBack)
	n, act := 0, 0
	line := int64(1)      // line number at buf[0]
	lineStart := int64(0) // absolute offset of that line's start
	base := int64(0)      // absolute offset of buf[0]
	var hits []textHit
	det := &detector{e: st.e}
	det.emit = func(idx, s, e int) { hits = append(hits, textHit{idx, s, e}) }
	for {
		eof := false
		for n < len(buf) {
			m, err := r.Read(buf[n:])
			n += m
			if err == io.EOF {
				eof = true
				break
			}
			if err != nil {
				return err
			}
		}
		st.scanned = true
		cut := n
		if !eof {
			cut = n - overlap
		}
		hits = hits[:0]
		det.seg = buf[:n]
		det.mask = anchorMask(det.seg)
		det.run()
		sort.Slice(hits, func(i, j int) bool { return hits[i].s < hits[j].s })
		cur, curLine, curStart := 0, line, lineStart
		for _, h := range hits {
			if h.s < act || h.s >= cut {
				continue
			}
			for {
				k := bytes.IndexByte(buf[cur:h.s], '\n')
				if k < 0 {
					break
				}
				curLine++
				cur += k + 1
				curStart = base + int64(cur)
			}
			cur = h.s
			col := base + int64(h.s) - curStart + 1
			if ls := curStart - base; ls >= 0 {
				col = int64(utf8.RuneCount(buf[ls:h.s])) + 1
			}
			endLine := curLine + int64(bytes.Count(buf[h.s:h.e], []byte{'\n'}))
			lr := LineRange{Start: curLine, End: endLine, StartColumn: col, Entry: entry}
			st.add(h.idx, func(o *Occurrences) {
				if page > 0 {
					l := lr
					o.Pages = append(o.Pages, Page{PageNumber: page, LineRange: &l, Entry: entry})
					return
				}
				o.LineRanges = append(o.LineRanges, lr)
			})
		}
		if eof {
			return nil
		}
		keep := cut - keepBack
		nl := bytes.Count(buf[:keep], []byte{'\n'})
		if nl > 0 {
			line += int64(nl)
			lineStart = base + int64(bytes.LastIndexByte(buf[:keep], '\n')) + 1
		}
		copy(buf, buf[keep:n])
		base += int64(keep)
		n -= keep
		act = cut - keep
	}
}

// segment scans one value (a cell, a JSON string) and reports each match at
// loc; mask is anchorMask of the value or of a record that contains it.
func (st *state) segment(v []byte, kctx string, mask uint32, at where) {
	if len(v) == 0 {
		return
	}
	d := &st.det
	if d.e == nil {
		d.e = st.e
		d.emit = func(idx, s, e int) { st.add(idx, st.at.put) }
	}
	d.seg, d.kctx, d.ctxKW, d.mask = v, kctx, st.ctxKeywords(kctx), mask
	st.at = at
	d.run()
}
