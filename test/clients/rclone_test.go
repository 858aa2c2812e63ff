package clients

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/test/harness"
)

// TestRclone drives Coffer with rclone's S3 backend (remote "C:",
// configured only through RCLONE_CONFIG_C_* variables). rclone sends
// x-amz-acl: private on writes, keeps modification times and MD5s in user
// metadata, and verifies hashes on check.
func TestRclone(t *testing.T) {
	t.Parallel()
	bin := lookClient(t, "rclone")
	srv := harness.Start(t)
	dir := t.TempDir()
	// An empty config file keeps rclone from reading or writing the user's.
	rcfg := filepath.Join(dir, "rclone.conf")
	if err := os.WriteFile(rcfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// rclone 1.60 fails to start when AWS_CA_BUNDLE is set, so the CA goes
	// in --ca-cert instead; the credentials go in the remote's config.
	env := envWithout(srv.Env(), "AWS_CA_BUNDLE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE")
	env = append(env,
		"RCLONE_CONFIG="+rcfg,
		"RCLONE_CONFIG_C_TYPE=s3",
		"RCLONE_CONFIG_C_PROVIDER=Other",
		"RCLONE_CONFIG_C_ENDPOINT="+srv.Endpoint,
		"RCLONE_CONFIG_C_REGION="+srv.Region,
		"RCLONE_CONFIG_C_FORCE_PATH_STYLE=true",
		"RCLONE_CONFIG_C_ACCESS_KEY_ID="+srv.AccessKey,
		"RCLONE_CONFIG_C_SECRET_ACCESS_KEY="+srv.SecretKey,
		// rclone only goes multipart above 200 MiB by default; lower the
		// cutoff so the big file is uploaded in 16 MiB parts.
		"RCLONE_CONFIG_C_UPLOAD_CUTOFF=16Mi",
		"RCLONE_CONFIG_C_CHUNK_SIZE=16Mi",
	)
	r := runner{ctx: testContext(t), env: env, bin: bin, args: []string{"--ca-cert", srv.CAFile, "--retries", "1", "--low-level-retries", "1"}}
	t.Logf("client: %s", strings.SplitN(r.run(t, "version"), "\n", 2)[0])

	const b = "rclone-bucket"
	src := t.TempDir()
	tree := map[string]string{
		"a.txt":          "alpha\n",
		"b.txt":          "bravo\n",
		"sub/c.txt":      "charlie\n",
		"sub/deep/d.txt": "delta\n",
		// An empty file and a key that needs escaping.
		"empty":           "",
		"sub/e f+ü;=.txt": "escaped key\n",
	}
	writeFiles(t, src, tree)
	bigSum := writeBigFile(t, filepath.Join(src, "big.bin"), bigSize)
	all := []string{"big.bin"}
	for name := range tree {
		all = append(all, name)
	}
	sort.Strings(all)
	remote := "C:" + b + "/data"

	if !t.Run("mkdir", func(t *testing.T) {
		r.run(t, "mkdir", "C:"+b)
		out := r.run(t, "lsd", "C:")
		mustContain(t, "lsd", out, b)
	}) {
		return
	}

	t.Run("copy ls check", func(t *testing.T) {
		out := r.run(t, "copy", "-vv", src, remote)
		if n := len(linesWith(out, "Copied (new)")); n != len(all) {
			t.Errorf("copy: %d new files, want %d:\n%s", n, len(all), out)
		}
		// The debug log names each part it uploads.
		if parts := (bigSize + 16<<20 - 1) / (16 << 20); len(linesWith(out, "big.bin: multipart upload starting chunk")) != parts {
			t.Errorf("copy: big.bin not uploaded in %d parts:\n%s", parts, out)
		}
		if got := lsf(t, r, remote); strings.Join(got, ",") != strings.Join(all, ",") {
			t.Errorf("lsf -R: %v, want %v", got, all)
		}
		out = r.run(t, "ls", remote)
		mustContain(t, "ls", out, fmt.Sprintf("%d big.bin", bigSize), "8 sub/c.txt")
		out = r.run(t, "lsd", "C:"+b+"/data")
		mustContain(t, "lsd", out, " sub")
		// check compares sizes and MD5s (for the multipart object, the
		// MD5 rclone stored in its metadata).
		out = r.run(t, "check", src, remote)
		mustContain(t, "check", out, "0 differences found")
		// --download compares the content itself.
		out = r.run(t, "check", "--download", "--include", "big.bin", src, remote)
		mustContain(t, "check --download", out, "0 differences found", "1 matching files")
		down := t.TempDir()
		r.run(t, "copy", remote, down)
		checkFiles(t, down, tree)
		checkSameFile(t, filepath.Join(down, "big.bin"), bigSum)
	})

	t.Run("sync", func(t *testing.T) {
		// Same size, different content, newer time: rclone compares
		// size and modification time, kept in x-amz-meta-mtime.
		writeFiles(t, src, map[string]string{"sub/c.txt": "CHARLIE\n"})
		tree["sub/c.txt"] = "CHARLIE\n"
		if err := os.Remove(filepath.Join(src, "b.txt")); err != nil {
			t.Fatal(err)
		}
		delete(tree, "b.txt")
		out := r.run(t, "sync", "-v", src, remote)
		copied := linesWith(out, ": Copied")
		if len(copied) != 1 || !strings.Contains(copied[0], "sub/c.txt: Copied (replaced existing)") {
			t.Errorf("sync: want only sub/c.txt copied:\n%s", out)
		}
		if del := linesWith(out, ": Deleted"); len(del) != 1 || !strings.Contains(del[0], "b.txt: Deleted") {
			t.Errorf("sync: want only b.txt deleted:\n%s", out)
		}
		out = r.run(t, "check", src, remote)
		mustContain(t, "check after sync", out, "0 differences found")
		if out, err := r.runErr(t, "cat", remote+"/sub/c.txt"); err != nil || out != "CHARLIE\n" {
			t.Errorf("cat after sync: %v %q", err, out)
		}
	})

	t.Run("delete purge rmdir", func(t *testing.T) {
		r.run(t, "delete", "--include", "*.txt", remote)
		if got := lsf(t, r, remote); strings.Join(got, ",") != "big.bin,empty" {
			t.Errorf("lsf after delete --include *.txt: %v", got)
		}
		// rmdir refuses a bucket that still has objects.
		if _, err := r.runErr(t, "rmdir", "C:"+b); !isExitError(err) {
			t.Errorf("rmdir of a non-empty bucket: %v", err)
		}
		r.run(t, "purge", remote)
		if got := lsf(t, r, "C:"+b); len(got) != 0 {
			t.Errorf("objects left after purge: %v", got)
		}
		r.run(t, "rmdir", "C:"+b)
		mustNotContain(t, "lsd after rmdir", r.run(t, "lsd", "C:"), b)
	})
}

// lsf lists the files under a remote path, recursively and sorted.
func lsf(t *testing.T, r runner, path string) []string {
	t.Helper()
	var files []string
	for _, l := range strings.Split(r.run(t, "lsf", "-R", "--files-only", path), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			files = append(files, l)
		}
	}
	sort.Strings(files)
	return files
}
