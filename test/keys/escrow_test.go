package keys

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/internal/rootkey"
	"github.com/coffer-io/coffer/internal/rootkey/vaulttest"
	"github.com/coffer-io/coffer/test/harness"
)

const passphrase = "a long escrow passphrase for tests"

// copyDir copies a stopped server's data directory, leaving out the
// files named in skip (relative paths).
func copyDir(t *testing.T, src string, skip ...string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	for _, s := range skip {
		if err := os.Remove(filepath.Join(dst, s)); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// auditOps returns the operation and outcome of the escrow events in a
// data directory's audit log.
func auditOps(t *testing.T, dir string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "audit", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var ev struct{ Operation, Outcome, ErrorCode, Resource string }
		if json.Unmarshal([]byte(line), &ev) == nil && strings.HasSuffix(ev.Operation, "RootKey") {
			out = append(out, ev.Operation+" "+ev.Outcome+" "+ev.ErrorCode+" "+ev.Resource)
		}
	}
	return out
}

// The escrow round trip on a "fresh machine": export the root key under
// a passphrase, copy the data directory without the key, see the start
// fail, import (a wrong passphrase fails), start, and read every object.
func TestEscrowFreshMachine(t *testing.T) {
	dir := t.TempDir()
	s := harness.Start(t, harness.WithDir(dir))
	objs := putObjects(t, s, "escrowed", map[string]int{
		"empty": 0, "tiny": 1, "inline": 3000, "one-package": 60 << 10, "packages": 1<<20 + 17, "multipart": 12<<20 + 5,
	})
	s.Stop()
	key, err := os.ReadFile(filepath.Join(dir, "keys", "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rootkey.Decode(string(key), "test")
	if err != nil {
		t.Fatal(err)
	}
	fp := rootkey.Fingerprint(rk)
	if raw, _ := os.ReadFile(filepath.Join(dir, "root-key.fingerprint")); strings.TrimSpace(string(raw)) != fp {
		t.Fatalf("recorded fingerprint %q, want %s", raw, fp)
	}

	work := t.TempDir()
	passFile := filepath.Join(work, "pass")
	os.WriteFile(passFile, []byte(passphrase+"\n"), 0o600)
	escrow := filepath.Join(work, "root.escrow")

	// A short passphrase is refused; nothing is written.
	if _, stderr, err := coffer(t, env("COFFER_ESCROW_PASSPHRASE=too short"), "admin", "keys", "export", "--data", dir, "--out", escrow); err == nil || !strings.Contains(stderr, "at least 16") {
		t.Fatalf("short passphrase: %v %s", err, stderr)
	}
	out, stderr, err := coffer(t, env(), "admin", "keys", "export", "--data", dir, "--out", escrow, "--passphrase-file", passFile)
	if err != nil {
		t.Fatalf("export: %v %s", err, stderr)
	}
	if !strings.Contains(out, fp) {
		t.Errorf("export output does not name the fingerprint %s: %s", fp, out)
	}
	file, _ := os.ReadFile(escrow)
	if fi, _ := os.Stat(escrow); fi.Mode().Perm() != 0o600 || !strings.HasPrefix(string(file), "coffer-root-key-escrow: 1\nfingerprint: "+fp+"\n") {
		t.Fatalf("escrow file (mode %v):\n%s", fi.Mode().Perm(), file)
	}
	if strings.Contains(string(file), strings.TrimSpace(string(key))) {
		t.Fatal("the escrow file holds the key in clear")
	}
	if _, _, err := coffer(t, env(), "admin", "keys", "export", "--data", dir, "--out", escrow, "--passphrase-file", passFile); err == nil {
		t.Fatal("export overwrote an existing escrow file without --force")
	}

	fresh := copyDir(t, dir, "keys/root.key")
	startFails(t, env(), fresh, nil, "root key of this data directory is missing", fp, "coffer admin keys import")
	if _, err := os.Stat(filepath.Join(fresh, "keys", "root.key")); err == nil {
		t.Fatal("the failed start created a new root key")
	}

	wrong := filepath.Join(work, "wrong")
	os.WriteFile(wrong, []byte("not the passphrase at all"), 0o600)
	if _, stderr, err := coffer(t, env(), "admin", "keys", "import", "--data", fresh, "--in", escrow, "--passphrase-file", wrong); err == nil || !strings.Contains(stderr, "passphrase is wrong") {
		t.Fatalf("import with a wrong passphrase: %v %s", err, stderr)
	}
	out, stderr, err = coffer(t, env("COFFER_ESCROW_PASSPHRASE="+passphrase), "admin", "keys", "import", "--data", fresh, "--in", escrow)
	if err != nil || !strings.Contains(out, "Restored") {
		t.Fatalf("import: %v %s %s", err, out, stderr)
	}
	if fi, err := os.Stat(filepath.Join(fresh, "keys", "root.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("restored key: %v", err)
	}
	// Again: the same key is in place, nothing to do.
	if out, stderr, err := coffer(t, env(), "admin", "keys", "import", "--data", fresh, "--in", escrow, "--passphrase-file", passFile); err != nil || !strings.Contains(out, "already") {
		t.Fatalf("second import: %v %s %s", err, out, stderr)
	}

	s2 := harness.Start(t, harness.WithDir(fresh))
	checkObjects(t, s2, "escrowed", objs)
	s2.Stop()

	// The short passphrase was refused before anything was read.
	want := []string{
		"ExportRootKey success  root-key/" + fp,
		"ExportRootKey failed Failed root-key/" + fp,
	}
	if got := auditOps(t, dir); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit of the source directory:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	want = append(want,
		"ImportRootKey failed InvalidPassphrase root-key/"+fp,
		"ImportRootKey success  root-key/"+fp,
		"ImportRootKey success  root-key/"+fp,
	)
	if got := auditOps(t, fresh); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit of the copy:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// An escrow file restores only its own directory's key, a different key
// in place is replaced only with --force, and --root-key-file names where
// the key is restored.
func TestEscrowImportGuards(t *testing.T) {
	a := t.TempDir()
	s := harness.Start(t, harness.WithDir(a))
	objs := putObjects(t, s, "guarded", map[string]int{"obj": 70 << 10})
	s.Stop()
	b := t.TempDir()
	harness.Start(t, harness.WithDir(b)).Stop()

	work := t.TempDir()
	passEnv := env("COFFER_ESCROW_PASSPHRASE=" + passphrase)
	escrowA := filepath.Join(work, "a.escrow")
	if _, stderr, err := coffer(t, passEnv, "admin", "keys", "export", "--data", a, "--out", escrowA); err != nil {
		t.Fatalf("export: %v %s", err, stderr)
	}
	// B's directory was set up with another key: A's escrow is refused,
	// even with --force.
	for _, force := range []string{"", "--force"} {
		args := []string{"admin", "keys", "import", "--data", b, "--in", escrowA}
		if force != "" {
			args = append(args, force)
		}
		if _, stderr, err := coffer(t, passEnv, args...); err == nil || !strings.Contains(stderr, "wrong root key for this data directory") {
			t.Fatalf("import of another directory's key (%s): %v %s", force, err, stderr)
		}
	}

	// A's copy with another key in place: refused, then --force.
	copyA := copyDir(t, a)
	other, _ := rootkey.Generate()
	os.WriteFile(filepath.Join(copyA, "keys", "root.key"), []byte(rootkey.Encode(other)), 0o600)
	if _, stderr, err := coffer(t, passEnv, "admin", "keys", "import", "--data", copyA, "--in", escrowA); err == nil || !strings.Contains(stderr, "--force") {
		t.Fatalf("import over another key: %v %s", err, stderr)
	}
	if out, stderr, err := coffer(t, passEnv, "admin", "keys", "import", "--data", copyA, "--in", escrowA, "--force"); err != nil || !strings.Contains(out, "Replaced") {
		t.Fatalf("import --force: %v %s %s", err, out, stderr)
	}
	s2 := harness.Start(t, harness.WithDir(copyA))
	checkObjects(t, s2, "guarded", objs)
	s2.Stop()

	// To an external key file, which the server then uses.
	copy2 := copyDir(t, a, "keys/root.key")
	keyFile := filepath.Join(work, "external", "root.key")
	if _, stderr, err := coffer(t, passEnv, "admin", "keys", "import", "--data", copy2, "--in", escrowA, "--root-key-file", keyFile); err != nil {
		t.Fatalf("import to --root-key-file: %v %s", err, stderr)
	}
	s3 := harness.Start(t, harness.WithDir(copy2), harness.WithArgs("--root-key-file", keyFile))
	checkObjects(t, s3, "guarded", objs)
	s3.Stop()

	// While a server holds the directory, import is refused.
	s4 := harness.Start(t, harness.WithDir(copy2), harness.WithArgs("--root-key-file", keyFile))
	if _, stderr, err := coffer(t, passEnv, "admin", "keys", "import", "--data", copy2, "--in", escrowA, "--root-key-file", keyFile); err == nil || !strings.Contains(stderr, "in use") {
		t.Fatalf("import beside a running server: %v %s", err, stderr)
	}
	// Export works beside it (the fingerprint is recorded).
	if _, stderr, err := coffer(t, passEnv, "admin", "keys", "export", "--data", copy2, "--out", filepath.Join(work, "again"), "--root-key-file", keyFile); err != nil {
		t.Fatalf("export beside a running server: %v %s", err, stderr)
	}
	s4.Stop()
}

// With the Vault provider, export reads the key through Vault and import
// wraps it with Vault again.
func TestEscrowVault(t *testing.T) {
	fake := vaulttest.Start(t)
	fake.AddToken("s.coffer", "")
	fake.CreateKey("", "transit", "coffer")
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("s.coffer"), 0o600)
	args := vaultArgs(fake, tokenFile)
	dir := t.TempDir()
	s := harness.Start(t, harness.WithDir(dir), harness.WithArgs(args...))
	objs := putObjects(t, s, "vaultescrow", map[string]int{"obj": 200 << 10, "parts": 6 << 20})
	s.Stop()

	passEnv := env("COFFER_ESCROW_PASSPHRASE=" + passphrase)
	escrow := filepath.Join(t.TempDir(), "escrow")
	if _, stderr, err := coffer(t, passEnv, append([]string{"admin", "keys", "export", "--data", dir, "--out", escrow}, args...)...); err != nil {
		t.Fatalf("export: %v %s", err, stderr)
	}
	fresh := copyDir(t, dir, "keys/root.key.vault")
	startFails(t, env(), fresh, args, "root key of this data directory is missing")
	if _, stderr, err := coffer(t, passEnv, append([]string{"admin", "keys", "import", "--data", fresh, "--in", escrow}, args...)...); err != nil {
		t.Fatalf("import: %v %s", err, stderr)
	}
	if raw, err := os.ReadFile(filepath.Join(fresh, "keys", "root.key.vault")); err != nil || !strings.HasPrefix(string(raw), "vault:v1:") {
		t.Fatalf("import did not wrap with Vault: %q %v", raw, err)
	}
	if _, err := os.Stat(filepath.Join(fresh, "keys", "root.key")); err == nil {
		t.Fatal("import wrote a plain key")
	}
	s2 := harness.Start(t, harness.WithDir(fresh), harness.WithArgs(args...))
	checkObjects(t, s2, "vaultescrow", objs)
}
