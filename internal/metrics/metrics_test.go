package metrics

import (
	"strings"
	"testing"
)

func TestRegistryExposition(t *testing.T) {
	var r Registry
	r.GaugeFunc("coffer_trail_delivery_lag_seconds", "Age of the oldest undelivered trail record.", func() float64 { return 2.5 })
	r.Register("coffer_config_noncompliant_resources", "Non-compliant resources by rule.\nSecond line.", Gauge, func(emit Emit) {
		emit([]Label{{"rule", `s3-bucket "x"`}}, 3)
		emit([]Label{{"rule", `a\b`}}, 0)
	})
	r.GaugeFunc("coffer_trail_delivery_lag_seconds", "Replaced.", func() float64 { return 1 })
	var b strings.Builder
	r.WritePrometheus(&b)
	want := `# HELP coffer_config_noncompliant_resources Non-compliant resources by rule.\nSecond line.
# TYPE coffer_config_noncompliant_resources gauge
coffer_config_noncompliant_resources{rule="s3-bucket \"x\""} 3
coffer_config_noncompliant_resources{rule="a\\b"} 0
# HELP coffer_trail_delivery_lag_seconds Replaced.
# TYPE coffer_trail_delivery_lag_seconds gauge
coffer_trail_delivery_lag_seconds 1
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestRegisterInvalidName(t *testing.T) {
	for _, name := range []string{"", "1abc", "a-b", "a b"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", name)
				}
			}()
			var r Registry
			r.GaugeFunc(name, "", func() float64 { return 0 })
		}()
	}
}
