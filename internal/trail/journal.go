package trail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"github.com/coffer-io/coffer/internal/fsutil"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The journal is the trail's durable record of every request: CloudTrail
// records as JSON lines in segment files named by the journal offset of
// their first byte. Appends are group-committed: the records of all
// requests that arrive while a sync is under way are written and synced
// together by the next one, so a busy server pays one fsync for many
// requests while each request still waits for its own record to be
// durable. Offsets are global byte positions across segments, which
// makes a delivery cursor a single number.
//
// The current segment is preallocated with zeros in large extents, so a
// batch overwrites blocks the file already has and its sync is an
// fdatasync that flushes no metadata. A record never holds a NUL byte
// (JSON escapes it), so the logical end of a segment is found again after
// a crash as the last newline before its first NUL.

// segmentSize is the size after which a new segment starts (a variable
// for tests).
var segmentSize int64 = 64 << 20

// preallocSize is how far ahead of the records the current segment is
// filled with zeros (a variable for tests).
var preallocSize int64 = 4 << 20

const (
	segmentExt = ".jsonl"
	// flushInterval bounds how long a record nobody waits for (best
	// effort) stays in memory.
	flushInterval = time.Second
	// maxSyncs is how many syncs of the journal may run at once.
	maxSyncs = 2
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("trail: journal closed")

// Journal is the append-only record store.
type Journal struct {
	dir        string
	bestEffort bool

	mu      sync.Mutex
	cond    *sync.Cond
	pending [][]byte // lines waiting for the writer
	waiters []chan error
	// flushDue asks the writer to sync pending lines nobody waits for.
	flushDue bool
	closed   bool

	// durable is the offset up to which everything is synced (under mu).
	durable int64
	// Written by the writer goroutine; segBase also under mu.
	seg     *os.File
	segBase int64 // offset of seg's first byte
	segLen  int64
	// alloc is how far seg is filled (records, then zeros): writes
	// below it need no metadata flushed (writer goroutine only).
	alloc  int64
	done   chan struct{}
	onSync func(end int64)
	// failed is the first sync failure; the journal accepts nothing
	// after it (under mu).
	failed error
	// syncSlots bounds the syncs in flight; inflight counts them.
	syncSlots chan struct{}
	inflight  sync.WaitGroup
}

// OpenJournal opens (creating) the journal in dir. With bestEffort,
// Append does not wait for the sync: records reach disk within a second.
func OpenJournal(dir string, bestEffort bool) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("trail: %w", err)
	}
	j := &Journal{dir: dir, bestEffort: bestEffort, done: make(chan struct{}), syncSlots: make(chan struct{}, maxSyncs)}
	j.cond = sync.NewCond(&j.mu)
	segs, err := j.segments()
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		segs = []int64{0}
	}
	last := segs[len(segs)-1]
	f, err := os.OpenFile(j.segPath(last), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("trail: %w", err)
	}
	// A crash can leave a torn last line; it was never acknowledged (its
	// request waited for the sync), so it is cut off, with the zeros
	// after it (the next write preallocates again).
	n, err := completeLength(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Truncate(n); err != nil {
		f.Close()
		return nil, fmt.Errorf("trail: %w", err)
	}
	if _, err := f.Seek(n, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("trail: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("trail: %w", err)
	}
	j.seg, j.segBase, j.segLen, j.alloc = f, last, n, n
	j.durable = last + n
	go j.writer()
	go j.flusher()
	return j, nil
}

// completeLength is the length of f's records: up to and including the
// last newline before the first NUL (the preallocated zeros, or a hole a
// torn write left) or the end of the file.
func completeLength(f *os.File) (int64, error) {
	buf := make([]byte, 256<<10)
	var off, complete int64
	for {
		n, err := f.ReadAt(buf, off)
		b := buf[:n]
		nul := bytes.IndexByte(b, 0)
		if nul >= 0 {
			b = b[:nul]
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			complete = off + int64(i) + 1
		}
		if nul >= 0 || err == io.EOF {
			return complete, nil
		}
		if err != nil {
			return 0, fmt.Errorf("trail: %w", err)
		}
		off += int64(n)
	}
}

func (j *Journal) segPath(base int64) string {
	return filepath.Join(j.dir, fmt.Sprintf("%020d%s", base, segmentExt))
}

// segments lists the segment bases in order.
func (j *Journal) segments() ([]int64, error) {
	ents, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, fmt.Errorf("trail: %w", err)
	}
	var out []int64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segmentExt)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(name, 10, 64)
		if err != nil {
			continue
		}
		out = append(out, n)
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out, nil
}

// Append adds lines (each one JSON record without its newline) and, unless
// the journal is best effort, returns once they are durable.
func (j *Journal) Append(lines ...[]byte) error { return j.append(!j.bestEffort, lines) }

// AppendNoWait adds lines without waiting for them to be durable: they
// go to disk with the next sync, someone else's or the periodic one
// within a second.
func (j *Journal) AppendNoWait(lines ...[]byte) error { return j.append(false, lines) }

func (j *Journal) append(wait bool, lines [][]byte) error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return ErrClosed
	}
	if j.failed != nil {
		j.mu.Unlock()
		return j.failed
	}
	j.pending = append(j.pending, lines...)
	var ch chan error
	if wait {
		ch = make(chan error, 1)
		j.waiters = append(j.waiters, ch)
		j.cond.Signal()
	}
	j.mu.Unlock()
	if ch == nil {
		return nil
	}
	return <-ch
}

// Durable is the offset up to which the journal is on disk.
func (j *Journal) Durable() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.durable
}

// OnSync sets a function told of every new durable end (delivery wakes
// on it). It must not block.
func (j *Journal) OnSync(f func(end int64)) {
	j.mu.Lock()
	j.onSync = f
	j.mu.Unlock()
}

func (j *Journal) writer() {
	defer close(j.done)
	for {
		j.mu.Lock()
		// Sync when someone waits, when the periodic flush is due, or
		// on close; records nobody waits for ride along.
		for len(j.waiters) == 0 && !(j.flushDue && len(j.pending) > 0) && !j.closed {
			j.cond.Wait()
		}
		if len(j.pending) == 0 && j.closed {
			j.mu.Unlock()
			return
		}
		j.flushDue = false
		lines, waiters := j.pending, j.waiters
		j.pending, j.waiters = nil, nil
		j.mu.Unlock()
		end, f, err := j.write(lines)
		if err != nil {
			for _, w := range waiters {
				w <- err
			}
			continue
		}
		// The sync runs beside the next batch's write (at most
		// maxSyncs at once): a sync covers everything written before it
		// started, so each batch's own sync is enough for its waiters,
		// and a batch no longer waits for the previous one's sync to end
		// before its own can start.
		j.syncSlots <- struct{}{}
		j.inflight.Add(1)
		go func() {
			defer j.inflight.Done()
			err := datasync(f)
			<-j.syncSlots
			if err != nil {
				err = fmt.Errorf("trail: journal sync: %w", err)
			}
			j.mu.Lock()
			if err != nil && j.failed == nil {
				// After a failed sync the kernel may have dropped the
				// data: nothing written since can be called durable.
				j.failed = err
			}
			if err == nil && j.failed != nil {
				err = j.failed
			}
			if err == nil && end > j.durable {
				j.durable = end
			}
			d, onSync := j.durable, j.onSync
			j.mu.Unlock()
			for _, w := range waiters {
				w <- err
			}
			if err == nil && onSync != nil {
				onSync(d)
			}
		}()
	}
}

// flusher makes the writer sync records nobody waits for at least every
// flushInterval.
func (j *Journal) flusher() {
	t := time.NewTicker(flushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			j.mu.Lock()
			if len(j.pending) > 0 {
				j.flushDue = true
				j.cond.Signal()
			}
			j.mu.Unlock()
		case <-j.done:
			return
		}
	}
}

// write appends lines to the current segment, rolling over when it is
// full, and returns the journal offset after them and the file to sync.
func (j *Journal) write(lines [][]byte) (int64, *os.File, error) {
	var buf bytes.Buffer
	for _, l := range lines {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	if j.segLen > 0 && j.segLen+int64(buf.Len()) > segmentSize {
		if err := j.roll(); err != nil {
			return 0, nil, err
		}
	}
	if err := j.preallocate(j.segLen + int64(buf.Len())); err != nil {
		return 0, nil, err
	}
	n, err := j.seg.WriteAt(buf.Bytes(), j.segLen)
	if err != nil {
		// Zero the partial write so the next append starts on a line
		// and recovery stops before it.
		_, _ = j.seg.WriteAt(make([]byte, n), j.segLen)
		return 0, nil, fmt.Errorf("trail: journal write: %w", err)
	}
	j.segLen += int64(n)
	return j.segBase + j.segLen, j.seg, nil
}

// preallocate makes sure the current segment is filled up to at least
// end, extending it with zeros by preallocSize at a time and syncing
// the extension (size and block allocation) once, so the syncs of the
// records written into it flush data alone.
func (j *Journal) preallocate(end int64) error {
	if end <= j.alloc {
		return nil
	}
	size := max(end-j.alloc, min(preallocSize, segmentSize-j.alloc))
	zeros := make([]byte, 64<<10)
	for off := j.alloc; off < j.alloc+size; off += int64(len(zeros)) {
		n := min(int64(len(zeros)), j.alloc+size-off)
		if _, err := j.seg.WriteAt(zeros[:n], off); err != nil {
			return fmt.Errorf("trail: journal preallocation: %w", err)
		}
	}
	if err := j.seg.Sync(); err != nil {
		return fmt.Errorf("trail: journal preallocation: %w", err)
	}
	j.alloc += size
	return nil
}

// trimSegment cuts the zeros after the current segment's records, for a
// segment that is written no more (rolled over or closed).
func (j *Journal) trimSegment() {
	if j.alloc > j.segLen {
		if err := j.seg.Truncate(j.segLen); err == nil {
			_ = j.seg.Sync()
		}
	}
}

func (j *Journal) roll() error {
	base := j.segBase + j.segLen
	f, err := os.OpenFile(j.segPath(base), os.O_CREATE|os.O_RDWR|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("trail: %w", err)
	}
	if err := fsutil.SyncDir(j.dir); err != nil {
		f.Close()
		return err
	}
	// The old segment closes once its syncs are done.
	j.inflight.Wait()
	j.trimSegment()
	_ = j.seg.Close()
	j.mu.Lock()
	j.seg, j.segBase, j.segLen, j.alloc = f, base, 0, 0
	j.mu.Unlock()
	return nil
}

// Close writes what is pending and closes the journal.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	j.cond.Signal()
	j.mu.Unlock()
	<-j.done
	j.inflight.Wait()
	j.trimSegment()
	return j.seg.Close()
}

// Line is one journal record with its position.
type Line struct {
	Offset int64 // of the line's first byte
	End    int64 // offset after its newline
	Data   []byte
}

// Scan calls fn for each durable line at or after from, in order, until
// fn returns false or the durable end is reached. Lines are read in
// segments; Data is valid only during the call.
func (j *Journal) Scan(from int64, fn func(Line) bool) error {
	end := j.Durable()
	segs, err := j.segments()
	if err != nil {
		return err
	}
	for i, base := range segs {
		next := end
		if i+1 < len(segs) {
			next = segs[i+1]
		}
		if next <= from || base >= end {
			continue
		}
		cont, err := j.scanSegment(base, max(from, base), min(next, end), fn)
		if err != nil || !cont {
			return err
		}
	}
	return nil
}

func (j *Journal) scanSegment(base, from, end int64, fn func(Line) bool) (bool, error) {
	f, err := os.Open(j.segPath(base))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			// Removed by retention meanwhile.
			return true, nil
		}
		return false, fmt.Errorf("trail: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(io.NewSectionReader(f, from-base, end-from), 256<<10)
	off := from
	for off < end {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: gather it.
			full := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = r.ReadSlice('\n')
				full = append(full, line...)
			}
			line = full
		}
		if err != nil {
			if err == io.EOF {
				return true, nil
			}
			return false, fmt.Errorf("trail: %w", err)
		}
		l := Line{Offset: off, End: off + int64(len(line)), Data: line[:len(line)-1]}
		off = l.End
		if !fn(l) {
			return false, nil
		}
	}
	return true, nil
}

// Prune removes whole segments that end at or before keepFrom and whose
// every record is older than cutoff.
func (j *Journal) Prune(keepFrom int64, cutoff time.Time) error {
	segs, err := j.segments()
	if err != nil {
		return err
	}
	j.mu.Lock()
	cur := j.segBase
	j.mu.Unlock()
	for i := 0; i+1 < len(segs); i++ {
		base, next := segs[i], segs[i+1]
		if next > keepFrom || base >= cur {
			return nil
		}
		fi, err := os.Stat(j.segPath(base))
		if err != nil {
			continue
		}
		// A segment is never written after it rolls over: its
		// modification time is its newest record's.
		if fi.ModTime().After(cutoff) {
			return nil
		}
		if err := os.Remove(j.segPath(base)); err != nil {
			return fmt.Errorf("trail: %w", err)
		}
	}
	return nil
}

// OpenJournalReader opens a journal for reading only, alongside a server
// that may be appending to it: it sees every complete line present now.
func OpenJournalReader(dir string) (*Journal, error) {
	j := &Journal{dir: dir, closed: true, done: make(chan struct{})}
	j.cond = sync.NewCond(&j.mu)
	close(j.done)
	segs, err := j.segments()
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return j, nil
	}
	last := segs[len(segs)-1]
	f, err := os.Open(j.segPath(last))
	if err != nil {
		return nil, fmt.Errorf("trail: %w", err)
	}
	defer f.Close()
	n, err := completeLength(f)
	if err != nil {
		return nil, err
	}
	j.durable = last + n
	return j, nil
}
