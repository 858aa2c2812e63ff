package discovery

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// The fuzz targets feed arbitrary bytes to each format reader: any input
// must end with a result (possibly PARTIAL or SKIPPED), never a panic or a
// hang.

func fuzzFormat(f *testing.F, name string, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	e, err := New(Config{Limits: Limits{MaxExpandedBytes: 8 << 20, MaxBufferedBytes: 4 << 20, MaxLineBytes: 1 << 16, Timeout: 5 * time.Second}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := e.Scan(context.Background(), bytes.NewReader(data), name, int64(len(data)))
		if err != nil {
			t.Fatalf("object problem returned as a call error: %v", err)
		}
		if r.Status == "" {
			t.Fatal("no status")
		}
	})
}

func FuzzText(f *testing.F) {
	fuzzFormat(f, "a.txt", []byte(ssnText), []byte("Authorization: Basic dXNlcjpwYXNz\n-----BEGIN RSA PRIVATE KEY-----"), []byte("DE89370400440532013000 AB123456C 1EG4-TE5-MK73"))
}
func FuzzCSV(f *testing.F) { fuzzFormat(f, "a.csv", []byte("ssn,name\n123-45-6788,\"x\"\"y\"\n")) }
func FuzzJSON(f *testing.F) {
	fuzzFormat(f, "a.json", []byte(`{"a":[{"ssn":"123-45-6788"},1,true,null]}`))
}
func FuzzJSONL(f *testing.F) {
	fuzzFormat(f, "a.jsonl", []byte("{\"ssn\":\"123-45-6788\"}\n[1,2]\n"))
}
func FuzzGzip(f *testing.F) { fuzzFormat(f, "a.gz", gzipOf([]byte(ssnText))) }
func FuzzZip(f *testing.F)  { fuzzFormat(f, "a.zip", zipOf(file{"a.txt", []byte(ssnText)})) }
func FuzzTar(f *testing.F)  { fuzzFormat(f, "a.tar", tarOf(file{"a.txt", []byte(ssnText)})) }
func FuzzDocx(f *testing.F) { fuzzFormat(f, "a.docx", docxOf(ssnText)) }
func FuzzXlsx(f *testing.F) {
	fuzzFormat(f, "a.xlsx", xlsxOf([][]string{{"ssn"}, {"123-45-6788"}}))
}
func FuzzPDF(f *testing.F) { fuzzFormat(f, "a.pdf", pdfOf(ssnText)) }
