package crash

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer-io/coffer/test/harness"
)

// fsckReport is the parsed summary line of `coffer fsck`.
type fsckReport struct {
	out                                                          string
	err                                                          error
	blobs, referenced, unreferenced, leftovers, missing, removed int
}

var (
	fsckSummary = regexp.MustCompile(`blobs: (\d+), referenced: (\d+), unreferenced: (\d+), uncommitted leftovers: (\d+), versions with missing data: (\d+)`)
	fsckRemoved = regexp.MustCompile(`removed (\d+) unreferenced`)
)

// fsck runs `coffer fsck` on dir and returns its output and exit error.
func fsck(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, harness.Binary(t), append([]string{"fsck", "--data", dir}, args...)...)
	// An operator's config file must not redirect the check elsewhere.
	cmd.Env = append(os.Environ(), "COFFER_CONFIG=", "COFFER_DATA=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func runFsck(t *testing.T, dir string, repair bool) fsckReport {
	t.Helper()
	var args []string
	if repair {
		args = append(args, "--repair")
	}
	out, err := fsck(t, dir, args...)
	rep := fsckReport{out: out, err: err}
	m := fsckSummary.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("fsck %v: no summary line in its output (%v):\n%s", args, err, out)
	}
	for i, p := range []*int{&rep.blobs, &rep.referenced, &rep.unreferenced, &rep.leftovers, &rep.missing} {
		*p, _ = strconv.Atoi(m[i+1])
	}
	if repair {
		r := fsckRemoved.FindStringSubmatch(out)
		if r == nil {
			t.Fatalf("fsck --repair: no removal count in its output:\n%s", out)
		}
		rep.removed, _ = strconv.Atoi(r[1])
	}
	return rep
}

// TestFsckRefusesWhileServing checks that fsck, which would otherwise
// remove the temp files of uploads in progress, refuses a directory a live
// server holds, says why, and leaves the server working.
func TestFsckRefusesWhileServing(t *testing.T) {
	srv := harness.Start(t)
	for _, args := range [][]string{nil, {"--repair"}} {
		began := time.Now()
		out, err := fsck(t, srv.Dir, args...)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Fatalf("fsck %v on a served directory: err %v, want a non-zero exit:\n%s", args, err, out)
		}
		for _, want := range []string{srv.Dir, "in use", "stop the server first"} {
			if !strings.Contains(out, want) {
				t.Errorf("fsck %v: message does not mention %q:\n%s", args, want, out)
			}
		}
		if fsckSummary.MatchString(out) {
			t.Errorf("fsck %v ran a check on a served directory:\n%s", args, out)
		}
		if d := time.Since(began); d > 10*time.Second {
			t.Errorf("fsck %v took %v to give up", args, d)
		}
	}
	// The refused fsck must not have disturbed the server or its lock.
	c := newClient(srv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alive")}); err != nil {
		t.Fatalf("server after the refused fsck: %v", err)
	}
	stopServer(srv, c)
	if rep := runFsck(t, srv.Dir, false); rep.err != nil || rep.missing != 0 {
		t.Errorf("fsck after the server stopped: %v\n%s", rep.err, rep.out)
	}
}

// TestFsckWithoutRepairKeepsLeftovers checks that fsck without --repair
// only reports: an uncommitted leftover (a crashed upload's temp file) is
// counted and left in place, and only --repair removes it.
func TestFsckWithoutRepairKeepsLeftovers(t *testing.T) {
	srv := harness.Start(t)
	srv.Stop()
	// A temp file as a writer killed an hour ago leaves it, in the blob
	// store's layout (blobs/tmp/<32 hex digits>).
	leftover := filepath.Join(srv.Dir, "blobs", "tmp", strings.Repeat("ab", 16))
	if err := os.WriteFile(leftover, []byte("half an upload"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(leftover, old, old); err != nil {
		t.Fatal(err)
	}
	rep := runFsck(t, srv.Dir, false)
	if rep.err != nil || rep.leftovers != 1 {
		t.Errorf("fsck: err %v, want one uncommitted leftover reported:\n%s", rep.err, rep.out)
	}
	if _, err := os.Stat(leftover); err != nil {
		t.Errorf("fsck without --repair removed the leftover (%v); the sweep in localfs.Open runs for fsck too", err)
		return
	}
	fix := runFsck(t, srv.Dir, true)
	if fix.err != nil || fix.removed != 1 {
		t.Errorf("fsck --repair: err %v, want 1 removed:\n%s", fix.err, fix.out)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("fsck --repair left the leftover in place (%v)", err)
	}
}
