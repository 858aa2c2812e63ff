package discovery

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

var words = []string{"the", "report", "quarter", "revenue", "customer", "account", "shipping", "order", "status", "review",
	"meeting", "notes", "project", "timeline", "budget", "approved", "pending", "invoice", "total", "delivery", "team",
	"network", "server", "update", "release", "version", "policy", "contact", "office", "schedule", "and", "of", "to", "in"}

// benchText is prose with figures, dates and a sprinkling of sensitive values.
func benchText(size int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for b.Len() < size {
		n := 8 + rng.IntN(12)
		for i := 0; i < n; i++ {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
			if rng.IntN(10) == 0 {
				fmt.Fprintf(&b, "%d ", rng.IntN(100000))
			}
		}
		switch rng.IntN(40) {
		case 0:
			b.WriteString("SSN 123-45-6788 ")
		case 1:
			b.WriteString("mail jane.doe@example.org ")
		case 2:
			b.WriteString("card 4532015112830366 ")
		case 3:
			b.WriteString("on 2024-03-15 at 10:30 ")
		}
		b.WriteString(".\n")
	}
	return b.Bytes()
}

func benchCSV(size int) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	var b bytes.Buffer
	b.WriteString("id,name,email,city,amount,date,notes\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "%d,%s %s,%s%d@example.org,%s,%d.%02d,2024-%02d-%02d,%s %s %s\n", i, words[rng.IntN(len(words))], words[rng.IntN(len(words))],
			words[rng.IntN(len(words))], i, words[rng.IntN(len(words))], rng.IntN(10000), rng.IntN(100), 1+rng.IntN(12), 1+rng.IntN(28),
			words[rng.IntN(len(words))], words[rng.IntN(len(words))], words[rng.IntN(len(words))])
	}
	return b.Bytes()
}

func benchScan(b *testing.B, name string, data []byte) {
	e, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := e.Scan(context.Background(), bytes.NewReader(data), name, int64(len(data)))
		if err != nil || r.Status != StatusComplete {
			b.Fatal(err, r.Err)
		}
	}
}

func BenchmarkScanText(b *testing.B) { benchScan(b, "doc.txt", benchText(16<<20)) }
func BenchmarkScanCSV(b *testing.B)  { benchScan(b, "table.csv", benchCSV(16<<20)) }
