// Package metrics is the registry through which packages other than the
// S3 front door expose values on /_coffer/metrics (trail delivery lag,
// non-compliant resources, access-log backlog, …) without knowing of each
// other or of the HTTP endpoint. A collector is called only when the
// endpoint is scraped, so registering one costs nothing on the request
// path.
package metrics

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Kinds of metric, as the Prometheus text format names them.
const (
	Gauge   = "gauge"
	Counter = "counter"
)

// Label is one name="value" pair of a sample.
type Label struct{ Name, Value string }

// Emit reports one sample of a metric; a metric without labels passes nil.
type Emit func(labels []Label, value float64)

type family struct {
	name, help, kind string
	collect          func(Emit)
}

// Registry holds metric families. The zero value is ready to use and safe
// for concurrent use.
type Registry struct {
	mu       sync.Mutex
	families map[string]family
}

// Register adds a metric family; collect emits its current samples when
// the endpoint is scraped and must not block. Registering a name twice
// replaces the first collector (a restarted component re-registers).
// Names must be valid Prometheus names; an invalid one panics, as it is a
// programming error.
func (r *Registry) Register(name, help, kind string, collect func(Emit)) {
	if !validName(name) {
		panic("metrics: invalid metric name " + strconv.Quote(name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.families == nil {
		r.families = map[string]family{}
	}
	r.families[name] = family{name: name, help: help, kind: kind, collect: collect}
}

// GaugeFunc registers a gauge without labels.
func (r *Registry) GaugeFunc(name, help string, value func() float64) {
	r.Register(name, help, Gauge, func(emit Emit) { emit(nil, value()) })
}

// WritePrometheus writes every registered family, by name, in the
// Prometheus text format.
func (r *Registry) WritePrometheus(w io.Writer) {
	r.mu.Lock()
	fams := make([]family, 0, len(r.families))
	for _, f := range r.families {
		fams = append(fams, f)
	}
	r.mu.Unlock()
	sort.Slice(fams, func(i, j int) bool { return fams[i].name < fams[j].name })
	for _, f := range fams {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.kind)
		f.collect(func(labels []Label, v float64) {
			var b strings.Builder
			b.WriteString(f.name)
			if len(labels) > 0 {
				b.WriteByte('{')
				for i, l := range labels {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(l.Name)
					b.WriteString(`="`)
					b.WriteString(escapeValue(l.Value))
					b.WriteByte('"')
				}
				b.WriteByte('}')
			}
			b.WriteByte(' ')
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			b.WriteByte('\n')
			io.WriteString(w, b.String())
		})
	}
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		ok := c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9'
		if !ok {
			return false
		}
	}
	return true
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeValue(s string) string { return valueEscaper.Replace(s) }
