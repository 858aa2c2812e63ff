package discovery

import (
	"archive/zip"
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// nested wraps data in n levels of zip.
func nested(data []byte, n int) []byte {
	for i := 0; i < n; i++ {
		data = zipOf(file{"inner.zip", data})
	}
	return data
}

// zipBomb is one member of zeros that expands far beyond the ratio.
func zipBomb(size int) []byte {
	var out bytes.Buffer
	w := zip.NewWriter(&out)
	fw, _ := w.CreateHeader(&zip.FileHeader{Name: "zeros.txt", Method: zip.Deflate})
	zero := bytes.Repeat([]byte("a"), 1<<20)
	for i := 0; i < size>>20; i++ {
		fw.Write(zero)
	}
	w.Close()
	return out.Bytes()
}

func TestHostileFiles(t *testing.T) {
	e := mustEngine(t, Config{Limits: Limits{MaxDepth: 3, MaxRatio: 100, MaxExpandedBytes: 64 << 20, MaxLineBytes: 1 << 16, MaxEntries: 50, Timeout: 20 * time.Second}})
	many := make([]file, 60)
	for i := range many {
		many[i] = file{name: "f" + colName(i) + ".txt", data: []byte("x")}
	}
	hugeLine := strings.Repeat("A", 8<<20) + " SSN 123-45-6788\n"
	tests := []struct {
		name   string
		data   []byte
		kind   ErrorKind
		reason string
		status Status
	}{
		{"bomb.zip", zipBomb(256 << 20), ErrBudget, "ARCHIVE_EXCEEDS_RATIO_LIMIT", StatusPartial},
		{"bomb.gz", gzipOf(bytes.Repeat([]byte("a"), 128<<20)), ErrBudget, "ARCHIVE_EXCEEDS_RATIO_LIMIT", StatusPartial},
		{"deep.zip", nested([]byte("SSN 123-45-6788"), 6), ErrBudget, "ARCHIVE_NESTING_LEVEL_OVER_LIMIT", StatusPartial},
		{"many.zip", zipOf(many...), ErrBudget, "ARCHIVE_EXCEEDS_ENTRY_LIMIT", StatusPartial},
		{"big.txt", bytes.Repeat([]byte("lorem ipsum\n"), 7<<20), ErrBudget, "OBJECT_EXCEEDS_SIZE_QUOTA", StatusPartial},
		{"huge.jsonl", []byte("{\"a\":\"" + strings.Repeat("x", 1<<17) + "\"}\n"), ErrBudget, "LINE_EXCEEDS_SIZE_LIMIT", StatusSkipped},
		{"huge.csv", []byte("a,b\n" + strings.Repeat("x", 1<<17) + "\n"), ErrBudget, "LINE_EXCEEDS_SIZE_LIMIT", StatusPartial},
		{"bad.json", []byte(`{"a": [1, 2, }`), ErrMalformed, "MALFORMED_FILE", StatusPartial},
		{"bad.zip", []byte("PK\x03\x04garbage"), ErrMalformed, "MALFORMED_ARCHIVE", StatusSkipped},
		{"bad.gz", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}, ErrMalformed, "MALFORMED_ARCHIVE", StatusSkipped},
		{"bad.tar", append(make([]byte, 257), []byte("ustar\x00garbage")...), ErrMalformed, "MALFORMED_ARCHIVE", StatusSkipped},
		{"bad.docx", zipOf(file{"word/document.xml", []byte("<w:document><w:p>")}), ErrMalformed, "MALFORMED_FILE", StatusSkipped},
		{"bad.xlsx", zipOf(file{"xl/worksheets/sheet1.xml", []byte("<worksheet><c r=")}), ErrMalformed, "MALFORMED_FILE", StatusPartial},
		{"data.parquet", []byte("PAR1\x00\x00garbagePAR1"), ErrUnsupported, "UNSUPPORTED_FILE_TYPE", StatusSkipped}, // no reader registered in this package's tests
		{"blob.bin", []byte{0, 1, 2, 3, 0, 0}, ErrUnsupported, "UNSUPPORTED_FILE_TYPE", StatusSkipped},
		{"bad.pdf", []byte("%PDF-1.7\n1 0 obj << /Length 99999 /Filter /FlateDecode >> stream\ngarbage"), ErrMalformed, "MALFORMED_FILE", StatusPartial},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := scanBytes(t, e, tc.name, tc.data)
			if time.Since(start) > 15*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if r.Err == nil || r.Err.Kind != tc.kind || r.Err.Reason != tc.reason || r.Status != tc.status {
				t.Fatalf("status %s, err %v; want %s %s %s", r.Status, r.Err, tc.status, tc.kind, tc.reason)
			}
		})
	}
	// A huge line is scanned in bounded pieces, and its tail is still found.
	r := scanString(t, mustEngine(t, Config{}), "line.txt", hugeLine)
	if d := found(r, "USA_SOCIAL_SECURITY_NUMBER"); d == nil || d.Occurrences.LineRanges[0].Start != 1 {
		t.Errorf("huge line: %+v", r.Detections)
	}
}

func TestTimeBudget(t *testing.T) {
	e := mustEngine(t, Config{Limits: Limits{Timeout: time.Millisecond}})
	r := scanBytes(t, e, "slow.txt", bytes.Repeat([]byte("SSN 123-45-6788 phone +1 415 555 2671\n"), 1<<20))
	if r.Err == nil || r.Err.Reason != "TIME_LIMIT_EXCEEDED" {
		t.Fatalf("%+v", r.Err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Scan(ctx, strings.NewReader("x"), "a.txt", 1); err == nil {
		t.Fatal("cancelled scan returned no error")
	}
}
