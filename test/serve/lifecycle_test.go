package serve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/test/harness"
)

// TestLifecycleSettings: --lifecycle-interval, --lifecycle-day and
// --lifecycle-rate come from flags, COFFER_ variables or the configuration
// file, and a value out of range stops the start.
func TestLifecycleSettings(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"interval too short", nil, []string{"--lifecycle-interval", "100ms"}, "--lifecycle-interval"},
		{"day not whole seconds", nil, []string{"--lifecycle-day", "1500ms"}, "--lifecycle-day"},
		{"day from the environment", []string{"COFFER_LIFECYCLE_DAY=48h"}, nil, "--lifecycle-day"},
		{"zero rate", nil, []string{"--lifecycle-rate", "0"}, "--lifecycle-rate"},
		{"zero interval", []string{"COFFER_LIFECYCLE_INTERVAL=0s"}, nil, "--lifecycle-interval"},
		{"rate too high", nil, []string{"--lifecycle-rate", "1000000"}, "--lifecycle-rate"},
		{"not a duration", nil, []string{"--lifecycle-interval", "often"}, "lifecycle-interval"},
	} {
		args := append([]string{"server", "--data", filepath.Join(dir, "d"), "--address", "127.0.0.1:0"}, tc.args...)
		_, stderr, err := coffer(t, append(os.Environ(), tc.env...), args...)
		if err == nil || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: err=%v stderr=%s", tc.name, err, stderr)
		}
	}
	cfg := filepath.Join(dir, "coffer.toml")
	os.WriteFile(cfg, []byte("lifecycle-interval = \"1s\"\nlifecycle-day = \"2s\"\nlifecycle-rate = 10\n"), 0o600)
	s := harness.Start(t, harness.WithArgs("--config", cfg))
	if !strings.Contains(s.Logs(), "lifecycle days are not 24 hours long") || !strings.Contains(s.Logs(), "lifecycle_day=2s") {
		t.Fatalf("the configuration file's lifecycle day was not applied:\n%s", s.Logs())
	}
}
