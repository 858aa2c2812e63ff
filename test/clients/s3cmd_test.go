package clients

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/test/harness"
)

// TestS3cmd drives Coffer with s3cmd, configured for path-style SigV4
// requests over HTTPS. s3cmd uploads files over 15 MiB in 15 MiB parts and
// keeps each file's MD5 in metadata for sync, which exercises
// user-metadata round trips on multipart objects.
func TestS3cmd(t *testing.T) {
	t.Parallel()
	bin := lookClient(t, "s3cmd")
	srv := harness.Start(t)
	dir := t.TempDir()
	u, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "s3cfg")
	// host_bucket equal to host_base keeps s3cmd on path-style requests.
	conf := fmt.Sprintf(`[default]
access_key = %s
secret_key = %s
host_base = %s
host_bucket = %s
bucket_location = %s
use_https = True
check_ssl_certificate = True
check_ssl_hostname = True
ca_certs_file = %s
signature_v2 = False
`, srv.AccessKey, srv.SecretKey, u.Host, u.Host, srv.Region, srv.CAFile)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	// s3cmd must see only its config file: no AWS_* variables, and a HOME
	// without a ~/.s3cfg.
	env := append(envWithout(srv.Env(), "HOME"), "HOME="+dir)
	env = envWithout(env, "AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE", "AWS_CONFIG_FILE")
	s := runner{ctx: testContext(t), env: env, bin: bin, args: []string{"-c", cfg, "--no-progress"}}
	t.Logf("client: %s", strings.TrimSpace(s.run(t, "--version")))

	const b = "s3cmd-bucket"
	files := t.TempDir()
	smallBody := "hello from s3cmd\n"
	writeFiles(t, files, map[string]string{"small.txt": smallBody})
	big := filepath.Join(files, "big.bin")
	bigSum := writeBigFile(t, big, bigSize)

	if !t.Run("mb", func(t *testing.T) {
		out := s.run(t, "mb", "s3://"+b)
		mustContain(t, "mb", out, "Bucket 's3://"+b+"/' created")
		mustContain(t, "ls", s.run(t, "ls"), "s3://"+b)
	}) {
		return
	}

	t.Run("put get", func(t *testing.T) {
		s.run(t, "put", filepath.Join(files, "small.txt"), "s3://"+b+"/small.txt")
		s.run(t, "put", big, "s3://"+b+"/big/big.bin")
		// ls -l shows the ETag, whose -N suffix proves a multipart upload
		// in s3cmd's 15 MiB parts.
		parts := (bigSize + 15<<20 - 1) / (15 << 20)
		out := s.run(t, "ls", "-l", "s3://"+b+"/big/big.bin")
		mustContain(t, "ls -l big", out, fmt.Sprintf("%d  ", bigSize), fmt.Sprintf("-%d ", parts))

		out = s.run(t, "ls", "s3://"+b+"/")
		mustContain(t, "ls", out, "DIR  s3://"+b+"/big/", "s3://"+b+"/small.txt")
		out = s.run(t, "ls", "--recursive", "s3://"+b+"/")
		mustContain(t, "ls --recursive", out, fmt.Sprintf("%d  s3://%s/big/big.bin", bigSize, b))
		out = s.run(t, "info", "s3://"+b+"/big/big.bin")
		mustContain(t, "info", out, fmt.Sprintf("File size: %d", bigSize))

		down := t.TempDir()
		s.run(t, "get", "s3://"+b+"/small.txt", filepath.Join(down, "small.txt"))
		checkFiles(t, down, map[string]string{"small.txt": smallBody})
		s.run(t, "get", "s3://"+b+"/big/big.bin", filepath.Join(down, "big.bin"))
		checkSameFile(t, filepath.Join(down, "big.bin"), bigSum)
	})

	t.Run("sync", func(t *testing.T) {
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
		dst := "s3://" + b + "/tree/"
		out := s.run(t, "sync", src+"/", dst)
		if n := len(linesWith(out, "upload:")); n != len(tree) {
			t.Errorf("first sync: %d uploads, want %d:\n%s", n, len(tree), out)
		}
		// Same size, different content: s3cmd compares MD5s.
		tree["sub/c.txt"] = "CHARLIE\n"
		writeFiles(t, src, map[string]string{"sub/c.txt": tree["sub/c.txt"]})
		out = s.run(t, "sync", src+"/", dst)
		if ups := linesWith(out, "upload:"); len(ups) != 1 || !strings.Contains(ups[0], dst+"sub/c.txt") {
			t.Errorf("sync after a change: want one upload of sub/c.txt:\n%s", out)
		}
		down := t.TempDir()
		out = s.run(t, "sync", dst, down+"/")
		if n := len(linesWith(out, "download:")); n != len(tree) {
			t.Errorf("sync down: %d downloads, want %d:\n%s", n, len(tree), out)
		}
		checkFiles(t, down, tree)
		// --delete-removed mirrors a local deletion.
		if err := os.Remove(filepath.Join(src, "a.txt")); err != nil {
			t.Fatal(err)
		}
		out = s.run(t, "sync", "--delete-removed", src+"/", dst)
		mustContain(t, "sync --delete-removed", out, "delete: '"+dst+"a.txt'")
		out = s.run(t, "ls", "--recursive", dst)
		mustNotContain(t, "ls after sync --delete-removed", out, "/a.txt")
		mustContain(t, "ls after sync --delete-removed", out, dst+"b.txt", dst+"sub/deep/d.txt")
	})

	t.Run("del rb", func(t *testing.T) {
		out := s.run(t, "del", "s3://"+b+"/small.txt")
		mustContain(t, "del", out, "delete: 's3://"+b+"/small.txt'")
		if out, err := s.runErr(t, "rb", "s3://"+b); !isExitError(err) || !strings.Contains(out, "BucketNotEmpty") {
			t.Errorf("rb of a non-empty bucket: %v\n%s", err, out)
		}
		s.run(t, "del", "--recursive", "--force", "s3://"+b+"/")
		if out := s.run(t, "ls", "--recursive", "s3://"+b+"/"); strings.TrimSpace(out) != "" {
			t.Errorf("objects left after del --recursive:\n%s", out)
		}
		out = s.run(t, "rb", "s3://"+b)
		mustContain(t, "rb", out, "Bucket 's3://"+b+"/' removed")
		mustNotContain(t, "ls after rb", s.run(t, "ls"), b)
	})
}
