package discovery

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func scanBytes(t testing.TB, e *Engine, name string, b []byte) *Result {
	t.Helper()
	r, err := e.Scan(context.Background(), bytes.NewReader(b), name, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const ssnText = "Employee file\nname: Jane Roe, SSN: 123-45-6788\n\nnotes: é SSN 219-09-9998 renewed\n"

func TestLocations(t *testing.T) {
	e := mustEngine(t, Config{})
	csvData := "name,ssn,notes\nJane,123-45-6788,none\nJohn,219-09-9998,x\n"
	tests := []struct {
		name string
		data []byte
		want Occurrences
	}{
		{"people.txt", []byte(ssnText), Occurrences{LineRanges: []LineRange{{Start: 2, End: 2, StartColumn: 22}, {Start: 4, End: 4, StartColumn: 14}}}},
		{"people.csv", []byte(csvData), Occurrences{Cells: []Cell{{Row: 2, Column: 2, ColumnName: "ssn"}, {Row: 3, Column: 2, ColumnName: "ssn"}}}},
		{"people.tsv", []byte(strings.ReplaceAll(csvData, ",", "\t")), Occurrences{Cells: []Cell{{Row: 2, Column: 2, ColumnName: "ssn"}, {Row: 3, Column: 2, ColumnName: "ssn"}}}},
		{"people.json", []byte(`{"people":[{"name":"Jane","ssn":"123-45-6788"},{"name":"John","ids":{"ssn":"219-09-9998"}}]}`),
			Occurrences{Records: []Record{{RecordIndex: 0, JSONPath: "$.people[0].ssn"}, {RecordIndex: 0, JSONPath: "$.people[1].ids.ssn"}}}},
		{"people.jsonl", []byte("{\"name\":\"Jane\",\"ssn\":\"123-45-6788\"}\n{\"name\":\"x\"}\n{\"ssn\":219099998}\n"),
			Occurrences{Records: []Record{{RecordIndex: 0, JSONPath: "$.ssn"}, {RecordIndex: 2, JSONPath: "$.ssn"}}}},
		{"people.txt.gz", gzipOf([]byte(ssnText)), Occurrences{LineRanges: []LineRange{{Start: 2, End: 2, StartColumn: 22, Entry: "people.txt"}, {Start: 4, End: 4, StartColumn: 14, Entry: "people.txt"}}}},
		{"bundle.zip", zipOf(file{"a/people.csv", []byte(csvData)}), Occurrences{Cells: []Cell{{Row: 2, Column: 2, ColumnName: "ssn", Entry: "a/people.csv"}, {Row: 3, Column: 2, ColumnName: "ssn", Entry: "a/people.csv"}}}},
		{"bundle.tar", tarOf(file{"x.txt", []byte("nothing")}, file{"people.txt", []byte(ssnText)}), Occurrences{LineRanges: []LineRange{{Start: 2, End: 2, StartColumn: 22, Entry: "people.txt"}, {Start: 4, End: 4, StartColumn: 14, Entry: "people.txt"}}}},
		{"bundle.tgz", gzipOf(tarOf(file{"people.txt", []byte(ssnText)})), Occurrences{LineRanges: []LineRange{{Start: 2, End: 2, StartColumn: 22, Entry: "bundle.tar/people.txt"}, {Start: 4, End: 4, StartColumn: 14, Entry: "bundle.tar/people.txt"}}}},
		{"letter.docx", docxOf(ssnText), Occurrences{LineRanges: []LineRange{{Start: 2, End: 2, StartColumn: 22}, {Start: 4, End: 4, StartColumn: 14}}}},
		{"scan.pdf", pdfOf("cover page", ssnText), Occurrences{Pages: []Page{{PageNumber: 2, LineRange: &LineRange{Start: 2, End: 2, StartColumn: 22}}, {PageNumber: 2, LineRange: &LineRange{Start: 4, End: 4, StartColumn: 14}}}}},
		{"sheet.xlsx", xlsxOf([][]string{{"name", "ssn"}, {"Jane", "123-45-6788"}}), Occurrences{Cells: []Cell{{Row: 2, Column: 2, ColumnName: "ssn", CellReference: "People!B2"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := scanBytes(t, e, tc.name, tc.data)
			if r.Status != StatusComplete {
				t.Fatalf("status %s: %v", r.Status, r.Err)
			}
			d := found(r, "USA_SOCIAL_SECURITY_NUMBER")
			if d == nil {
				t.Fatalf("no SSN found: %+v", r.Detections)
			}
			if !reflect.DeepEqual(d.Occurrences, tc.want) {
				t.Errorf("occurrences\n got %+v\nwant %+v", d.Occurrences, tc.want)
			}
			if d.Count != 2 && tc.name != "sheet.xlsx" {
				t.Errorf("count %d", d.Count)
			}
		})
	}
}

func TestMIMETypes(t *testing.T) {
	e := mustEngine(t, Config{})
	for name, want := range map[string]string{"a.txt": "text/plain", "a.csv": "text/csv", "a.json": "application/json"} {
		if r := scanBytes(t, e, name, []byte("{}")); r.MIMEType != want {
			t.Errorf("%s: %s", name, r.MIMEType)
		}
	}
}

func TestChunkBorders(t *testing.T) {
	// Values straddling every chunk border are found exactly once.
	e := mustEngine(t, Config{Selection: SelectInclude, ManagedIDs: []string{"USA_SOCIAL_SECURITY_NUMBER"}})
	var b strings.Builder
	want := 0
	for b.Len() < 3*chunkSize {
		b.WriteString(strings.Repeat("x", 7))
		b.WriteString(" SSN 123-45-6788 ")
		want++
	}
	r := scanString(t, e, "big.txt", b.String())
	d := found(r, "USA_SOCIAL_SECURITY_NUMBER")
	if d == nil || d.Count != int64(want) {
		t.Fatalf("got %+v, want %d", d, want)
	}
	if len(d.Occurrences.LineRanges) != 15 || !r.AdditionalOccurrences {
		t.Errorf("kept %d occurrences, additional %v", len(d.Occurrences.LineRanges), r.AdditionalOccurrences)
	}
}

func TestCustomIdentifiers(t *testing.T) {
	cdi := CustomIdentifier{ID: "cdi1", ARN: "arn:aws:macie2:us-east-1:111122223333:custom-data-identifier/cdi1", Name: "employee id",
		Regex: `EMP-\d{6}`, Keywords: []string{"employee"}, IgnoreWords: []string{"EMP-000000"}, MaximumMatchDistance: 20}
	e := mustEngine(t, Config{Selection: SelectNone, Custom: []CustomIdentifier{cdi}})
	tests := []struct {
		text string
		want int64
	}{
		{"employee EMP-123456", 1},
		{"EMPLOYEE: EMP-123456 and EMP-654321", 1}, // second ends beyond 20 characters
		{"EMP-123456 employee", 0},                 // keyword must precede
		{"employee EMP-000000", 0},                 // ignore word
		{"staff EMP-123456", 0},
	}
	for _, tc := range tests {
		r := scanString(t, e, "a.txt", tc.text)
		var got int64
		if d := found(r, "cdi1"); d != nil {
			got = d.Count
			if d.Category != CategoryCustom || d.Name != "employee id" || d.ARN != cdi.ARN {
				t.Errorf("detection %+v", d)
			}
		}
		if got != tc.want {
			t.Errorf("%q: %d matches, want %d", tc.text, got, tc.want)
		}
	}
	// Keyword in a column name.
	r := scanString(t, e, "a.csv", "Employee Number\nEMP-123456\n")
	if d := found(r, "cdi1"); d == nil || d.Occurrences.Cells[0].Row != 2 {
		t.Errorf("csv: %+v", r.Detections)
	}
	// No keywords: the regex alone.
	e2 := mustEngine(t, Config{Selection: SelectNone, Custom: []CustomIdentifier{{ID: "c2", Name: "n", Regex: `EMP-\d{6}`}}})
	if d := found(scanString(t, e2, "a.txt", "EMP-123456 EMP-654321"), "c2"); d == nil || d.Count != 2 {
		t.Errorf("no-keyword cdi: %+v", d)
	}
}

func TestValidation(t *testing.T) {
	long := strings.Repeat("a", 513)
	bad := []Config{
		{Selection: "SOME"},
		{Selection: SelectInclude, ManagedIDs: []string{"NOPE"}},
		{Custom: []CustomIdentifier{{Name: "x", Regex: "("}}},
		{Custom: []CustomIdentifier{{Name: "x", Regex: long}}},
		{Custom: []CustomIdentifier{{Name: "x", Regex: "a", Keywords: []string{"ab"}}}},
		{Custom: []CustomIdentifier{{Name: "x", Regex: "a", IgnoreWords: []string{"abc"}}}},
		{Custom: []CustomIdentifier{{Name: "x", Regex: "a", MaximumMatchDistance: 301}}},
		{Custom: []CustomIdentifier{{Name: "", Regex: "a"}}},
		{AllowLists: []AllowList{{}}},
		{AllowLists: []AllowList{{Regex: "["}}},
	}
	for i, c := range bad {
		if _, err := New(c); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%d: err %v", i, err)
		}
	}
}

func TestAllowLists(t *testing.T) {
	e := mustEngine(t, Config{AllowLists: []AllowList{{Words: []string{"123-45-6788"}}, {Regex: `@example\.com$`}}})
	r := scanString(t, e, "a.txt", "SSN 123-45-6788, SSN 219-09-9998, a@example.com, b@corp.org")
	if d := found(r, "USA_SOCIAL_SECURITY_NUMBER"); d == nil || d.Count != 1 {
		t.Errorf("ssn %+v", d)
	}
	if d := found(r, "EMAIL_ADDRESS"); d == nil || d.Count != 1 {
		t.Errorf("email %+v", d)
	}
}

func TestSelection(t *testing.T) {
	text := "SSN 123-45-6788 mail a@corp.org"
	for _, tc := range []struct {
		cfg  Config
		ssn  bool
		mail bool
	}{
		{Config{}, true, true},
		{Config{Selection: SelectNone}, false, false},
		{Config{Selection: SelectInclude, ManagedIDs: []string{"EMAIL_ADDRESS"}}, false, true},
		{Config{Selection: SelectExclude, ManagedIDs: []string{"EMAIL_ADDRESS"}}, true, false},
		{Config{Selection: SelectRecommended}, true, false},
	} {
		r := scanString(t, mustEngine(t, tc.cfg), "a.txt", text)
		if (found(r, "USA_SOCIAL_SECURITY_NUMBER") != nil) != tc.ssn || (found(r, "EMAIL_ADDRESS") != nil) != tc.mail {
			t.Errorf("%+v: %+v", tc.cfg, r.Detections)
		}
	}
}
