package audit

import (
	"context"
	"errors"
	"testing"
)

type failing struct {
	closed *[]string
	name   string
}

func (f failing) Record(context.Context, *Event) error { return errors.New(f.name) }
func (f failing) Close() error                         { *f.closed = append(*f.closed, f.name); return nil }

func TestMulti(t *testing.T) {
	var closed []string
	mem := &Memory{}
	m := Multi{mem, failing{&closed, "a"}, failing{&closed, "b"}}
	err := m.Record(t.Context(), &Event{Operation: "PutObject"})
	if err == nil || err.Error() != "a\nb" {
		t.Fatalf("Record error %v, want both sinks' errors", err)
	}
	if got := mem.Events(); len(got) != 1 || got[0].Operation != "PutObject" {
		t.Fatalf("memory sink got %+v", got)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if len(closed) != 2 || closed[0] != "b" || closed[1] != "a" {
		t.Fatalf("closed %v, want last first", closed)
	}
}
