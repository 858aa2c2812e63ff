// Package archtest enforces the dependency rules of Coffer's architecture
// (docs/ARCHITECTURE.md) as tests, so a violation fails the build rather
// than a review.
package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/coffer-io/coffer/"

// deps lists the transitive imports of a package.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath", mod+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var list []string
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct{ ImportPath string }
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		list = append(list, p.ImportPath)
	}
	return list
}

func TestPurePackages(t *testing.T) {
	// Pure packages: no HTTP stack, no storage, nothing from the server.
	for _, pkg := range []string{"internal/auth/sigv4", "internal/checksum", "internal/mfa", "internal/policy", "internal/analyze", "internal/crypto/stream", "internal/clock", "internal/cse", "internal/discovery"} {
		for _, d := range deps(t, pkg) {
			if d == "net/http" || strings.HasPrefix(d, mod+"internal/storage") || strings.HasPrefix(d, mod+"internal/server") || strings.HasPrefix(d, mod+"internal/s3api") {
				t.Errorf("%s imports %s", pkg, d)
			}
		}
	}
}

// TestProtectSeesOnlyTheModel: the Object Lock guard is called from inside
// the metadata store's transactions, so it must depend on nothing but the
// metadata model (and the standard library): no HTTP, no store, no server.
func TestProtectSeesOnlyTheModel(t *testing.T) {
	for _, d := range deps(t, "internal/protect") {
		if strings.HasPrefix(d, mod) && d != mod+"internal/storage/meta" && d != mod+"internal/protect" {
			t.Errorf("internal/protect imports %s", d)
		}
		if d == "net/http" {
			t.Errorf("internal/protect imports %s", d)
		}
	}
}

func TestOnlyTheCompositionRootKnowsConcreteStores(t *testing.T) {
	concrete := []string{mod + "internal/storage/meta/bolt", mod + "internal/storage/blob/localfs", mod + "internal/configrec/boltstore"}
	for _, pkg := range []string{"internal/s3api", "internal/objects", "internal/authz", "internal/auth/authn", "internal/audit", "internal/iam", "internal/iamapi", "internal/kms", "internal/kmsapi",
		"internal/configrec", "internal/rules", "internal/configapi", "internal/alerts"} {
		for _, d := range deps(t, pkg) {
			for _, c := range concrete {
				if d == c {
					t.Errorf("%s imports the concrete store %s; only internal/server may", pkg, d)
				}
			}
		}
	}
}
