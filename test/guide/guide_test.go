// Package guide runs the commands of docs/security-guide.md, in order,
// against a real server with the aws CLI v2 and coffer, so that every
// command the guide shows works and every check it shows holds.
package guide

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-io/coffer/test/harness"
)

// The guide's blocks: ```sh guide-server is the server's command line,
// ```sh guide-test blocks run while it serves, ```sh guide-offline blocks
// after it stopped. A sh block without a marker is an error: the guide
// shows no command that is not run.
type block struct {
	kind string
	line int
	text string
}

func readGuide(t *testing.T) []block {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "docs", "security-guide.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []block
	var cur *block
	for i, l := range strings.Split(string(raw), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(l, "```"):
			info := strings.Fields(strings.TrimPrefix(l, "```"))
			if len(info) == 0 || info[0] != "sh" && info[0] != "bash" && info[0] != "shell" {
				cur = &block{kind: "other", line: i + 1}
				continue
			}
			if len(info) < 2 {
				t.Errorf("line %d: a shell block without guide-server, guide-test or guide-offline", i+1)
				cur = &block{kind: "other", line: i + 1}
				continue
			}
			cur = &block{kind: info[1], line: i + 1}
		case cur != nil && strings.HasPrefix(l, "```"):
			if cur.kind != "other" {
				blocks = append(blocks, *cur)
			}
			cur = nil
		case cur != nil:
			cur.text += l + "\n"
		}
	}
	return blocks
}

// serverArgs turns the guide's `coffer server …` line into harness
// arguments: the harness chooses the data directory and address.
func serverArgs(t *testing.T, b block) []string {
	t.Helper()
	f := strings.Fields(b.text)
	if len(f) < 2 || f[0] != "coffer" || f[1] != "server" {
		t.Fatalf("line %d: the guide-server block is not a coffer server command", b.line)
	}
	var args []string
	for i := 2; i < len(f); i++ {
		switch f[i] {
		case "--data", "--address":
			i++
		default:
			args = append(args, f[i])
		}
	}
	return args
}

func TestSecurityGuide(t *testing.T) {
	if _, err := os.Stat("/usr/bin/aws"); err != nil {
		t.Skip("aws CLI v2 not installed at /usr/bin/aws")
	}
	blocks := readGuide(t)
	var args []string
	var online, offline []block
	for _, b := range blocks {
		switch b.kind {
		case "guide-server":
			args = serverArgs(t, b)
		case "guide-test":
			online = append(online, b)
		case "guide-offline":
			offline = append(offline, b)
		default:
			t.Errorf("line %d: unknown block marker %q", b.line, b.kind)
		}
	}
	if args == nil || len(online) == 0 {
		t.Fatal("the guide has no server or no commands")
	}
	srv := harness.Start(t, harness.WithArgs(args...))
	work := t.TempDir()
	bin := harness.Binary(t)
	env := append(srv.Env(), "PATH="+filepath.Dir(bin)+":/usr/bin:/bin:"+os.Getenv("PATH"), "HOME="+work)
	subst := strings.NewReplacer("https://127.0.0.1:9000", srv.Endpoint, "./coffer-data", srv.Dir)
	script := func(bs []block) string {
		var sb strings.Builder
		// Trace each command so a failure shows where the guide broke.
		sb.WriteString("set -euo pipefail\n")
		for _, b := range bs {
			sb.WriteString("echo '### security-guide.md line " + itoa(b.line) + "' >&2\nset -x\n")
			sb.WriteString(subst.Replace(b.text))
			sb.WriteString("set +x\n")
		}
		return sb.String()
	}
	run := func(what, s string) {
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", "-c", s)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, out)
		}
		t.Logf("%s:\n%s", what, out)
	}
	run("guide commands", script(online))
	srv.Stop()
	if len(offline) > 0 {
		run("guide commands on the stopped server's data", script(offline))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
