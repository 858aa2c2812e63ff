package parquetrec_test

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/discovery"
	_ "github.com/coffer-io/coffer/internal/discovery/parquetrec"
	"github.com/parquet-go/parquet-go"
)

type person struct {
	Name string `parquet:"name"`
	SSN  string `parquet:"ssn"`
	Age  int64  `parquet:"age"`
	Card int64  `parquet:"card_number,optional"`
}

func parquetOf(rows []person) []byte {
	var out bytes.Buffer
	w := parquet.NewGenericWriter[person](&out)
	w.Write(rows)
	w.Close()
	return out.Bytes()
}

func scan(t testing.TB, data []byte) *discovery.Result {
	t.Helper()
	e, err := discovery.New(discovery.Config{Limits: discovery.Limits{Timeout: 5 * time.Second, MaxBufferedBytes: 4 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Scan(context.Background(), bytes.NewReader(data), "people.parquet", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParquetRecords(t *testing.T) {
	r := scan(t, parquetOf([]person{{"Jane", "123-45-6788", 40, 4532015112830366}, {"x", "", 1, 0}, {"John", "219-09-9998", 50, 0}}))
	if r.Status != discovery.StatusComplete || r.MIMEType != "application/parquet" {
		t.Fatalf("%s %s %v", r.MIMEType, r.Status, r.Err)
	}
	got := map[string][]discovery.Record{}
	for _, d := range r.Detections {
		got[d.Type] = d.Occurrences.Records
	}
	want := map[string][]discovery.Record{
		"USA_SOCIAL_SECURITY_NUMBER": {{RecordIndex: 0, JSONPath: "$.ssn"}, {RecordIndex: 2, JSONPath: "$.ssn"}},
		"CREDIT_CARD_NUMBER":         {{RecordIndex: 0, JSONPath: "$.card_number"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestMalformedParquet(t *testing.T) {
	good := parquetOf([]person{{"Jane", "123-45-6788", 40, 0}})
	for name, data := range map[string][]byte{
		"garbage":   []byte("PAR1\x00\x00garbagePAR1"),
		"truncated": good[:40],
		"no footer": append(append([]byte{}, good[:len(good)-8]...), []byte("xxxxPAR1")...),
	} {
		r := scan(t, data)
		if r.Err == nil || r.Err.Kind != discovery.ErrMalformed || r.Err.Reason != "MALFORMED_FILE" {
			t.Errorf("%s: %s %v", name, r.Status, r.Err)
		}
	}
}

func FuzzParquet(f *testing.F) {
	f.Add(parquetOf([]person{{"Jane", "123-45-6788", 40, 4532015112830366}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, _ := discovery.New(discovery.Config{Limits: discovery.Limits{Timeout: 5 * time.Second, MaxBufferedBytes: 1 << 20, MaxExpandedBytes: 8 << 20}})
		if _, err := e.Scan(context.Background(), bytes.NewReader(data), "a.parquet", int64(len(data))); err != nil {
			t.Fatal(err)
		}
	})
}

// Every single-byte corruption of a small file ends quickly with a result.
func TestCorruptedBytes(t *testing.T) {
	good := parquetOf([]person{{"Jane", "123-45-6788", 40, 4532015112830366}})
	for i := range good {
		for _, v := range []byte{0, 0x7f, 0xff} {
			b := append([]byte{}, good...)
			b[i] = v
			start := time.Now()
			if r := scan(t, b); r.Status == "" {
				t.Fatalf("byte %d: no status", i)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("byte %d = %#x took %v", i, v, d)
			}
		}
	}
}
