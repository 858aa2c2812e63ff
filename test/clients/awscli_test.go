package clients

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/test/harness"
)

// awsV2Path is where Debian's awscli package (the aws CLI v2) installs.
const awsV2Path = "/usr/bin/aws"

// TestAWSCLIv2 drives Coffer with the aws CLI v2 from Debian.
func TestAWSCLIv2(t *testing.T) {
	t.Parallel()
	requireAWSCLIv2(t)
	if v := awsVersion(awsV2Path); !strings.HasPrefix(v, "aws-cli/2.") {
		missingClient(t, "%s is not the aws CLI v2: %q", awsV2Path, v)
	}
	testAWSCLI(t, awsV2Path, 2)
}

// TestAWSCLIv1 drives Coffer with an aws CLI v1 found on PATH. v1 is
// botocore-based like boto3, and recent releases send every upload as an
// aws-chunked body with a trailing CRC32, unlike Debian's v2.
func TestAWSCLIv1(t *testing.T) {
	t.Parallel()
	bin := awsCLIv1(t)
	testAWSCLI(t, bin, 1)
}

// awsCLIv1 returns the aws CLI v1 on PATH (the pyenv one), or skips or
// fails the test as missingClient decides.
func awsCLIv1(t *testing.T) string {
	t.Helper()
	for _, p := range pathCandidates("aws") {
		if strings.HasPrefix(awsVersion(p), "aws-cli/1.") {
			return p
		}
	}
	missingClient(t, "no aws CLI v1 on PATH")
	return ""
}

// requireAWSCLIv2 skips or fails the test when Debian's aws CLI v2 is
// missing.
func requireAWSCLIv2(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(awsV2Path); err != nil {
		missingClient(t, "aws CLI v2 not installed at %s", awsV2Path)
	}
}

func awsVersion(bin string) string {
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// awsCLI runs one aws CLI against one server.
type awsCLI struct{ runner }

// json runs an s3api command and decodes its JSON output into v.
func (a awsCLI) json(t *testing.T, v any, args ...string) {
	t.Helper()
	out := a.run(t, append(args, "--output", "json")...)
	if strings.TrimSpace(out) == "" {
		// The v2 CLI prints nothing when every field of the result is empty.
		out = "{}"
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("aws %s: bad JSON %v:\n%s", strings.Join(args, " "), err, out)
	}
}

// Shapes of the s3api outputs the test reads.
type (
	awsHead struct {
		ContentLength int64
		ContentType   string
		ContentRange  string
		ETag          string
		VersionId     string
		DeleteMarker  bool
		Metadata      map[string]string
		ChecksumCRC32 string
	}
	awsVersionEntry struct {
		Key       string
		VersionId string
		IsLatest  bool
		Size      int64
	}
	awsVersions struct {
		Versions      []awsVersionEntry
		DeleteMarkers []awsVersionEntry
	}
)

func testAWSCLI(t *testing.T, bin string, major int) {
	srv := harness.Start(t)
	ctx := testContext(t)
	t.Logf("client: %s", awsVersion(bin))
	a := awsCLI{runner{ctx: ctx, env: srv.Env(), bin: bin, args: []string{"--endpoint-url", srv.Endpoint}}}
	dir := t.TempDir()
	const (
		b1  = "cli-main"
		b2  = "cli-copy"
		ver = "cli-versions"
	)
	small := filepath.Join(dir, "small.txt")
	smallBody := "hello from the aws cli\n"
	writeFiles(t, dir, map[string]string{"small.txt": smallBody})
	big := filepath.Join(dir, "big.bin")
	bigSum := writeBigFile(t, big, bigSize)

	if !t.Run("mb", func(t *testing.T) {
		for _, b := range []string{b1, b2} {
			out := a.run(t, "s3", "mb", "s3://"+b)
			mustContain(t, "mb", out, "make_bucket: "+b)
		}
		out := a.run(t, "s3", "ls")
		mustContain(t, "ls buckets", out, b1, b2)
	}) {
		return
	}

	t.Run("cp small", func(t *testing.T) {
		out := a.run(t, "s3", "cp", "--no-progress", small, "s3://"+b1+"/small.txt",
			"--content-type", "text/plain", "--metadata", "purpose=e2e")
		mustContain(t, "cp up", out, "upload:", "s3://"+b1+"/small.txt")
		dl := filepath.Join(t.TempDir(), "small.txt")
		a.run(t, "s3", "cp", "--no-progress", "s3://"+b1+"/small.txt", dl)
		checkFiles(t, filepath.Dir(dl), map[string]string{"small.txt": smallBody})
		// Streaming to stdout is a plain GET too.
		out = a.run(t, "s3", "cp", "s3://"+b1+"/small.txt", "-")
		if out != smallBody {
			t.Errorf("cp to stdout: %q", out)
		}
	})

	t.Run("head-object", func(t *testing.T) {
		var h awsHead
		a.json(t, &h, "s3api", "head-object", "--bucket", b1, "--key", "small.txt")
		sum := md5.Sum([]byte(smallBody))
		if h.ContentLength != int64(len(smallBody)) || h.ContentType != "text/plain" ||
			h.ETag != `"`+hex.EncodeToString(sum[:])+`"` || h.Metadata["purpose"] != "e2e" {
			t.Errorf("head-object: %+v", h)
		}
		if _, err := a.runErr(t, "s3api", "head-object", "--bucket", b1, "--key", "absent"); !isExitError(err) {
			t.Errorf("head-object of a missing key: %v", err)
		}
	})

	t.Run("cp multipart", func(t *testing.T) {
		out := a.run(t, "s3", "cp", "--no-progress", big, "s3://"+b1+"/big/big.bin")
		mustContain(t, "cp big", out, "upload:")
		var h awsHead
		a.json(t, &h, "s3api", "head-object", "--bucket", b1, "--key", "big/big.bin")
		// The CLI splits at 8 MiB; a multipart ETag ends in -<parts>.
		wantParts := (bigSize + 8<<20 - 1) / (8 << 20)
		if h.ContentLength != bigSize || !strings.HasSuffix(h.ETag, fmt.Sprintf(`-%d"`, wantParts)) {
			t.Errorf("head big: %+v, want %d bytes in %d parts", h, int64(bigSize), wantParts)
		}
		dl := filepath.Join(t.TempDir(), "big.bin")
		a.run(t, "s3", "cp", "--no-progress", "s3://"+b1+"/big/big.bin", dl)
		checkSameFile(t, dl, bigSum)
	})

	t.Run("get-object range", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "part")
		var h awsHead
		const off, n = 8<<20 - 100, 1000 // straddles the first part boundary
		a.json(t, &h, "s3api", "get-object", "--bucket", b1, "--key", "big/big.bin",
			"--range", fmt.Sprintf("bytes=%d-%d", off, off+n-1), out)
		want := fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, bigSize)
		if h.ContentLength != n || h.ContentRange != want {
			t.Errorf("ranged get-object: %+v, want range %q", h, want)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, readRange(t, big, off, n)) {
			t.Errorf("ranged get-object returned the wrong bytes")
		}
	})

	t.Run("ls prefixes", func(t *testing.T) {
		out := a.run(t, "s3", "ls", "s3://"+b1+"/")
		mustContain(t, "ls root", out, "PRE big/", "small.txt")
		mustNotContain(t, "ls root", out, "big.bin")
		out = a.run(t, "s3", "ls", "s3://"+b1+"/big/")
		mustContain(t, "ls big/", out, fmt.Sprintf("%d big.bin", bigSize))
		mustNotContain(t, "ls big/", out, "small.txt")
		// A prefix that is not a "directory" matches key starts.
		out = a.run(t, "s3", "ls", "s3://"+b1+"/sma")
		mustContain(t, "ls sma", out, "small.txt")
		mustNotContain(t, "ls sma", out, "big")
		out = a.run(t, "s3", "ls", "--recursive", "s3://"+b1)
		mustContain(t, "ls --recursive", out, "big/big.bin", "small.txt")
	})

	// The sync tree includes an empty file and keys that need escaping.
	tree := map[string]string{
		"a.txt":                "alpha\n",
		"b.txt":                "bravo\n",
		"empty":                "",
		"sub/c.txt":            "charlie\n",
		"sub/deep/d.txt":       "delta\n",
		"sub/deep/e f+ü;=.txt": "a key with a space, a plus and more\n",
	}
	t.Run("sync", func(t *testing.T) {
		src := t.TempDir()
		writeFiles(t, src, tree)
		dst := "s3://" + b1 + "/tree/"
		out := a.run(t, "s3", "sync", "--no-progress", src, dst)
		if n := len(linesWith(out, "upload:")); n != len(tree) {
			t.Errorf("first sync up: %d uploads, want %d:\n%s", n, len(tree), out)
		}
		if out := a.run(t, "s3", "sync", "--no-progress", src, dst); strings.TrimSpace(out) != "" {
			t.Errorf("sync up of an unchanged tree did something:\n%s", out)
		}
		down := t.TempDir()
		out = a.run(t, "s3", "sync", "--no-progress", dst, down)
		if n := len(linesWith(out, "download:")); n != len(tree) {
			t.Errorf("first sync down: %d downloads, want %d:\n%s", n, len(tree), out)
		}
		checkFiles(t, down, tree)

		// Change one file (its size too, as sync compares size and time).
		tree["sub/c.txt"] = "charlie, changed\n"
		writeFiles(t, src, map[string]string{"sub/c.txt": tree["sub/c.txt"]})
		out = a.run(t, "s3", "sync", "--no-progress", src, dst)
		if ups := linesWith(out, "upload:"); len(ups) != 1 || !strings.HasSuffix(ups[0], dst+"sub/c.txt") {
			t.Errorf("sync up after a change: want one upload of sub/c.txt:\n%s", out)
		}
		out = a.run(t, "s3", "sync", "--no-progress", dst, down)
		if dls := linesWith(out, "download:"); len(dls) != 1 || !strings.Contains(dls[0], dst+"sub/c.txt") {
			t.Errorf("sync down after a change: want one download of sub/c.txt:\n%s", out)
		}
		checkFiles(t, down, tree)
	})

	t.Run("cp between buckets", func(t *testing.T) {
		out := a.run(t, "s3", "cp", "--no-progress", "s3://"+b1+"/small.txt", "s3://"+b2+"/copied/small.txt")
		mustContain(t, "cp copy", out, "copy: s3://"+b1+"/small.txt to s3://"+b2+"/copied/small.txt")
		var h awsHead
		a.json(t, &h, "s3api", "head-object", "--bucket", b2, "--key", "copied/small.txt")
		if h.ContentLength != int64(len(smallBody)) || h.Metadata["purpose"] != "e2e" {
			t.Errorf("copied object: %+v", h)
		}
		if out := a.run(t, "s3", "cp", "s3://"+b2+"/copied/small.txt", "-"); out != smallBody {
			t.Errorf("copied body: %q", out)
		}
		// Over the 8 MiB threshold the CLI copies with UploadPartCopy.
		a.run(t, "s3", "cp", "--no-progress", "s3://"+b1+"/big/big.bin", "s3://"+b2+"/big.bin")
		a.json(t, &h, "s3api", "head-object", "--bucket", b2, "--key", "big.bin")
		if h.ContentLength != bigSize {
			t.Errorf("multipart copy: %+v", h)
		}
		part := filepath.Join(t.TempDir(), "tail")
		a.json(t, &h, "s3api", "get-object", "--bucket", b2, "--key", "big.bin",
			"--range", "bytes=-4096", part)
		got, err := os.ReadFile(part)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, readRange(t, big, bigSize-4096, 4096)) {
			t.Errorf("multipart copy: tail differs from the source")
		}
		// A recursive copy of a prefix.
		out = a.run(t, "s3", "cp", "--no-progress", "--recursive", "s3://"+b1+"/tree/", "s3://"+b2+"/tree/")
		if n := len(linesWith(out, "copy:")); n != len(tree) {
			t.Errorf("recursive copy: %d copies, want %d:\n%s", n, len(tree), out)
		}
	})

	t.Run("rm recursive", func(t *testing.T) {
		out := a.run(t, "s3", "rm", "--recursive", "s3://"+b1+"/tree/")
		if n := len(linesWith(out, "delete:")); n != len(tree) {
			t.Errorf("rm --recursive: %d deletes, want %d:\n%s", n, len(tree), out)
		}
		out = a.run(t, "s3", "ls", "--recursive", "s3://"+b1)
		mustNotContain(t, "ls after rm", out, "tree/")
		mustContain(t, "ls after rm", out, "small.txt", "big/big.bin")
	})

	t.Run("presign", func(t *testing.T) {
		// The CLI v1 presigns with SigV2 unless told otherwise; Coffer, like
		// S3 for buckets created since 2020, accepts only SigV4, so this is
		// the configuration such users need (v2 ignores it: it always uses
		// SigV4).
		cfg := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(cfg, []byte("[default]\ns3 =\n    signature_version = s3v4\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if major == 1 {
			url := strings.TrimSpace(a.run(t, "s3", "presign", "s3://"+b1+"/small.txt"))
			if code, body := fetch(t, srv, url); code != 400 || !strings.Contains(string(body), "AWS4-HMAC-SHA256") {
				t.Errorf("SigV2 presigned GET: %d %s", code, body)
			}
		}
		v4 := a
		v4.env = append(envWithout(a.env, "AWS_CONFIG_FILE"), "AWS_CONFIG_FILE="+cfg)
		url := strings.TrimSpace(v4.run(t, "s3", "presign", "s3://"+b1+"/small.txt", "--expires-in", "300"))
		if !strings.Contains(url, "X-Amz-Algorithm=AWS4-HMAC-SHA256") {
			t.Errorf("presign did not use SigV4: %s", url)
		}
		if !strings.HasPrefix(url, srv.Endpoint+"/") {
			t.Fatalf("presign: unexpected URL %q", url)
		}
		code, body := fetch(t, srv, url)
		if code != 200 || string(body) != smallBody {
			t.Errorf("presigned GET: %d %q", code, body)
		}
		// A tampered signature must be refused.
		bad := strings.Replace(url, "small.txt", "big/big.bin", 1)
		if code, _ := fetch(t, srv, bad); code != 403 {
			t.Errorf("presigned URL for another key: status %d, want 403", code)
		}
	})

	// Both majors support explicit checksums (v1 through its botocore).
	t.Run("put-object checksum CRC32", func(t *testing.T) {
		body := []byte("checksummed content\n")
		f := filepath.Join(t.TempDir(), "ck")
		if err := os.WriteFile(f, body, 0o644); err != nil {
			t.Fatal(err)
		}
		var h awsHead
		a.json(t, &h, "s3api", "put-object", "--bucket", b1, "--key", "ck.txt", "--body", f,
			"--checksum-algorithm", "CRC32")
		want := crc32Base64(body)
		if h.ChecksumCRC32 != want {
			t.Errorf("put-object CRC32: %q, want %q", h.ChecksumCRC32, want)
		}
		a.json(t, &h, "s3api", "head-object", "--bucket", b1, "--key", "ck.txt", "--checksum-mode", "ENABLED")
		if h.ChecksumCRC32 != want {
			t.Errorf("head-object CRC32: %q, want %q", h.ChecksumCRC32, want)
		}
	})

	t.Run("versioning", func(t *testing.T) {
		a.run(t, "s3", "mb", "s3://"+ver)
		a.run(t, "s3api", "put-bucket-versioning", "--bucket", ver, "--versioning-configuration", "Status=Enabled")
		var vs struct{ Status string }
		a.json(t, &vs, "s3api", "get-bucket-versioning", "--bucket", ver)
		if vs.Status != "Enabled" {
			t.Fatalf("get-bucket-versioning: %+v", vs)
		}
		tmp := t.TempDir()
		writeFiles(t, tmp, map[string]string{"one": "version one\n", "two": "version two, longer\n"})
		var p1, p2 awsHead
		a.json(t, &p1, "s3api", "put-object", "--bucket", ver, "--key", "doc.txt", "--body", filepath.Join(tmp, "one"))
		a.json(t, &p2, "s3api", "put-object", "--bucket", ver, "--key", "doc.txt", "--body", filepath.Join(tmp, "two"))
		if p1.VersionId == "" || p2.VersionId == "" || p1.VersionId == p2.VersionId {
			t.Fatalf("put-object version ids: %q %q", p1.VersionId, p2.VersionId)
		}
		if out := a.run(t, "s3", "cp", "s3://"+ver+"/doc.txt", "-"); out != "version two, longer\n" {
			t.Errorf("current version: %q", out)
		}
		var g awsHead
		old := filepath.Join(tmp, "old")
		a.json(t, &g, "s3api", "get-object", "--bucket", ver, "--key", "doc.txt", "--version-id="+p1.VersionId, old)
		checkFiles(t, tmp, map[string]string{"old": "version one\n"})
		if g.VersionId != p1.VersionId {
			t.Errorf("get-object --version-id: version %q, want %q", g.VersionId, p1.VersionId)
		}

		var l awsVersions
		a.json(t, &l, "s3api", "list-object-versions", "--bucket", ver, "--prefix", "doc.txt")
		if len(l.Versions) != 2 || len(l.DeleteMarkers) != 0 ||
			l.Versions[0].VersionId != p2.VersionId || !l.Versions[0].IsLatest ||
			l.Versions[1].VersionId != p1.VersionId || l.Versions[1].IsLatest {
			t.Errorf("list-object-versions after two puts: %+v", l)
		}

		var d awsHead
		a.json(t, &d, "s3api", "delete-object", "--bucket", ver, "--key", "doc.txt")
		if !d.DeleteMarker || d.VersionId == "" {
			t.Fatalf("delete-object on a versioned bucket: %+v", d)
		}
		l = awsVersions{}
		a.json(t, &l, "s3api", "list-object-versions", "--bucket", ver, "--prefix", "doc.txt")
		if len(l.Versions) != 2 || len(l.DeleteMarkers) != 1 ||
			l.DeleteMarkers[0].VersionId != d.VersionId || !l.DeleteMarkers[0].IsLatest ||
			l.Versions[0].IsLatest || l.Versions[1].IsLatest {
			t.Errorf("list-object-versions after delete: %+v", l)
		}
		out, err := a.runErr(t, "s3api", "head-object", "--bucket", ver, "--key", "doc.txt")
		if !isExitError(err) || !strings.Contains(out, "404") {
			t.Errorf("head-object behind a delete marker: %v\n%s", err, out)
		}
		out = a.run(t, "s3", "ls", "s3://"+ver)
		mustNotContain(t, "ls behind a delete marker", out, "doc.txt")

		// A versioned bucket only empties by deleting every version.
		for _, id := range []string{d.VersionId, p2.VersionId, p1.VersionId} {
			a.run(t, "s3api", "delete-object", "--bucket", ver, "--key", "doc.txt", "--version-id="+id)
		}
		l = awsVersions{}
		a.json(t, &l, "s3api", "list-object-versions", "--bucket", ver)
		if len(l.Versions)+len(l.DeleteMarkers) != 0 {
			t.Errorf("versions left after deleting them all: %+v", l)
		}
		a.run(t, "s3", "rb", "s3://"+ver)
	})

	t.Run("rb force", func(t *testing.T) {
		// rb without --force must refuse a bucket that has objects.
		if out, err := a.runErr(t, "s3", "rb", "s3://"+b2); !isExitError(err) || !strings.Contains(out, "BucketNotEmpty") {
			t.Errorf("rb of a non-empty bucket: %v\n%s", err, out)
		}
		for _, b := range []string{b1, b2} {
			out := a.run(t, "s3", "rb", "--force", "s3://"+b)
			mustContain(t, "rb --force", out, "remove_bucket: "+b)
		}
		out := a.run(t, "s3", "ls")
		mustNotContain(t, "ls after rb", out, b1, b2, ver)
	})
}
