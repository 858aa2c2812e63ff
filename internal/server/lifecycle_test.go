package server

import (
	"testing"
	"time"
)

func TestLifecycleOptions(t *testing.T) {
	tests := []struct {
		name string
		in   Options
		ok   bool
		want Options // the filled-in settings, when ok
	}{
		{"defaults", Options{}, true, Options{LifecycleInterval: time.Hour, LifecycleDay: 24 * time.Hour, LifecycleRate: 100}},
		{"test settings", Options{LifecycleInterval: time.Second, LifecycleDay: 2 * time.Second, LifecycleRate: 5}, true,
			Options{LifecycleInterval: time.Second, LifecycleDay: 2 * time.Second, LifecycleRate: 5}},
		{"interval too short", Options{LifecycleInterval: 500 * time.Millisecond}, false, Options{}},
		{"interval too long", Options{LifecycleInterval: 25 * time.Hour}, false, Options{}},
		{"negative interval", Options{LifecycleInterval: -time.Second}, false, Options{}},
		{"day too short", Options{LifecycleDay: 100 * time.Millisecond}, false, Options{}},
		{"day not whole seconds", Options{LifecycleDay: 1500 * time.Millisecond}, false, Options{}},
		{"day too long", Options{LifecycleDay: 48 * time.Hour}, false, Options{}},
		{"negative rate", Options{LifecycleRate: -1}, false, Options{}},
		{"rate too high", Options{LifecycleRate: 1_000_000}, false, Options{}},
	}
	for _, tc := range tests {
		o := tc.in
		err := lifecycleOptions(&o)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
			continue
		}
		if tc.ok && (o.LifecycleInterval != tc.want.LifecycleInterval || o.LifecycleDay != tc.want.LifecycleDay || o.LifecycleRate != tc.want.LifecycleRate) {
			t.Errorf("%s: got %v %v %d", tc.name, o.LifecycleInterval, o.LifecycleDay, o.LifecycleRate)
		}
	}
}
