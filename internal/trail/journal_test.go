package trail

import (
	"encoding/json"

	"fmt"
	"github.com/coffer-io/coffer/internal/audit"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestJournalGroupCommitAndReopen(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := j.Append([]byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	// A torn tail (a crash mid-write) is cut off on reopening.
	seg := filepath.Join(dir, fmt.Sprintf("%020d%s", 0, segmentExt))
	f, err := os.OpenFile(seg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"torn":`)
	f.Close()
	j, err = OpenJournal(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.Append([]byte(`{"n":"after"}`)); err != nil {
		t.Fatal(err)
	}
	var lines []string
	var prevEnd int64
	if err := j.Scan(0, func(l Line) bool {
		if l.Offset != prevEnd {
			t.Errorf("line at %d, previous ended at %d", l.Offset, prevEnd)
		}
		prevEnd = l.End
		lines = append(lines, string(l.Data))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 51 || lines[50] != `{"n":"after"}` {
		t.Fatalf("got %d lines, last %q", len(lines), lines[len(lines)-1])
	}
	if prevEnd != j.Durable() {
		t.Fatalf("scan ended at %d, durable %d", prevEnd, j.Durable())
	}
	// Scanning from the middle starts at that line.
	var from []string
	_ = j.Scan(prevEnd-int64(len(`{"n":"after"}`)+1), func(l Line) bool { from = append(from, string(l.Data)); return true })
	if len(from) != 1 {
		t.Fatalf("scan from last line got %q", from)
	}
}

func TestJournalBestEffort(t *testing.T) {
	j, err := OpenJournal(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Append([]byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if j.Durable() != 3 {
		t.Fatalf("durable %d after close, want 3", j.Durable())
	}
}

func TestSinkBestEffortReads(t *testing.T) {
	j, err := OpenJournal(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	s := &Sink{J: j, BestEffortReads: true}
	if err := s.Record(t.Context(), &audit.Event{Service: "s3", Operation: "GetObject", ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	// A write waits for its record, and for everything before it.
	if err := s.Record(t.Context(), &audit.Event{Service: "s3", Operation: "PutObject"}); err != nil {
		t.Fatal(err)
	}
	var names []string
	_ = j.Scan(0, func(l Line) bool {
		var r Record
		_ = json.Unmarshal(l.Data, &r)
		names = append(names, r.EventName)
		return true
	})
	if len(names) != 2 || names[0] != "GetObject" || names[1] != "PutObject" {
		t.Fatalf("durable records %v", names)
	}
	j.Close()
}

func TestJournalSegmentsUnderLoad(t *testing.T) {
	defer func(n int64) { segmentSize = n }(segmentSize)
	segmentSize = 4096
	dir := t.TempDir()
	j, err := OpenJournal(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				if err := j.Append([]byte(fmt.Sprintf(`{"w":%d,"i":%d,"pad":"%0100d"}`, w, i, 0))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	if len(segs) < 10 {
		t.Fatalf("%d segments", len(segs))
	}
	j, err = OpenJournal(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	n, prev := 0, int64(0)
	if err := j.Scan(0, func(l Line) bool {
		if l.Offset != prev {
			t.Fatalf("gap at %d (previous line ended at %d)", l.Offset, prev)
		}
		prev = l.End
		var v map[string]any
		if err := json.Unmarshal(l.Data, &v); err != nil {
			t.Fatalf("line %q: %v", l.Data, err)
		}
		n++
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if n != 800 {
		t.Fatalf("%d records, want 800", n)
	}
}

// A crash leaves the preallocated zeros after the records, and a batch
// that was never synced may be torn with holes of zeros in it: recovery
// ends the journal at the last newline before the first NUL.
func TestJournalPreallocatedRecovery(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Append([]byte(`{"n":1}`), []byte(`{"n":2}`)); err != nil {
		t.Fatal(err)
	}
	seg := filepath.Join(dir, fmt.Sprintf("%020d%s", 0, segmentExt))
	fi, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < preallocSize {
		t.Fatalf("segment is %d bytes, want it preallocated to %d", fi.Size(), preallocSize)
	}
	durable := j.Durable()
	// The crash: the journal is not closed (which trims the zeros); a
	// torn batch lands after the records, a hole in its middle.
	f, err := os.OpenFile(seg, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(`{"n":3}`+"\n"+`{"to`), durable+10); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(`{"n":`), durable); err != nil {
		t.Fatal(err)
	}
	f.Close()
	j2, err := OpenJournal(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if j2.Durable() != durable {
		t.Fatalf("recovered end %d, want %d", j2.Durable(), durable)
	}
	if err := j2.Append([]byte(`{"n":4}`)); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := j2.Scan(0, func(l Line) bool { got = append(got, string(l.Data)); return true }); err != nil {
		t.Fatal(err)
	}
	if want := `[{"n":1} {"n":2} {"n":4}]`; fmt.Sprint(got) != want {
		t.Fatalf("records after recovery: %v, want %s", got, want)
	}
	if err := j2.Close(); err != nil {
		t.Fatal(err)
	}
	// Closed, the segment holds its records alone.
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\"n\":1}\n{\"n\":2}\n{\"n\":4}\n"; string(b) != want {
		t.Fatalf("closed segment %q, want %q", b, want)
	}
	// The reader sees the same records while a writer has zeros ahead.
	j3, err := OpenJournal(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer j3.Close()
	if err := j3.Append([]byte(`{"n":5}`)); err != nil {
		t.Fatal(err)
	}
	r, err := OpenJournalReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Durable() != j3.Durable() {
		t.Fatalf("reader's end %d, writer's %d", r.Durable(), j3.Durable())
	}
}
