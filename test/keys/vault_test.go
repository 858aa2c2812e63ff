package keys

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/internal/rootkey/vaulttest"
	"github.com/coffer-io/coffer/test/harness"
)

func vaultArgs(fake *vaulttest.Server, tokenFile string) []string {
	return []string{
		"--root-key-provider", "vault", "--vault-address", fake.URL, "--vault-transit-key", "coffer",
		"--vault-token-file", tokenFile, "--vault-ca-file", fake.CAFile,
	}
}

// The root key lives only wrapped by Vault Transit: the data directory
// holds the ciphertext, every start unwraps it, a rotated Transit key
// keeps working (and the file is rewrapped), and a wrong token or an
// unreachable Vault stops the start without falling back to a local key.
func TestVaultProvider(t *testing.T) {
	fake := vaulttest.Start(t)
	fake.AddToken("s.coffer", "")
	fake.CreateKey("", "transit", "coffer")
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("s.coffer\n"), 0o600)
	dir := t.TempDir()
	args := vaultArgs(fake, tokenFile)

	s := harness.Start(t, harness.WithDir(dir), harness.WithArgs(args...))
	wrapped := filepath.Join(dir, "keys", "root.key.vault")
	raw, err := os.ReadFile(wrapped)
	if err != nil || !strings.HasPrefix(string(raw), "vault:v1:") {
		t.Fatalf("wrapped key: %q %v", raw, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "root.key")); err == nil {
		t.Fatal("a plain root key was written next to the data")
	}
	if strings.Contains(s.Logs(), "stored in the data directory") {
		t.Error("the Vault provider warns about a key in the data directory")
	}
	objs := putObjects(t, s, "vaulted", map[string]int{"small": 100, "big": 300 << 10, "parts": 11 << 20})

	s.Restart()
	checkObjects(t, s, "vaulted", objs)
	s.Stop()
	decrypts := fake.Calls("decrypt")

	// Rotation: the v1 ciphertext still decrypts, and the start rewraps
	// it to v2, after which v1 can be retired.
	fake.Rotate("", "transit", "coffer")
	s.Restart()
	checkObjects(t, s, "vaulted", objs)
	s.Stop()
	if raw, _ := os.ReadFile(wrapped); !strings.HasPrefix(string(raw), "vault:v2:") {
		t.Fatalf("not rewrapped after rotation: %q", raw)
	}
	fake.SetMinDecryptionVersion("", "transit", "coffer", 2)
	s.Restart()
	checkObjects(t, s, "vaulted", objs)
	s.Stop()
	if fake.Calls("decrypt") <= decrypts {
		t.Fatal("starts did not ask Vault to decrypt")
	}

	t.Run("wrong token", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "token")
		os.WriteFile(bad, []byte("s.stolen"), 0o600)
		startFails(t, env(), dir, vaultArgs(fake, bad), "permission denied", "403", "--vault-token-file")
	})
	t.Run("token from VAULT_TOKEN", func(t *testing.T) {
		a := vaultArgs(fake, tokenFile)
		a = a[:len(a)-4] // without --vault-token-file
		a = append(a, "--vault-ca-file", fake.CAFile)
		startFails(t, env("VAULT_TOKEN=s.wrong"), dir, a, "permission denied")
	})
	t.Run("no token", func(t *testing.T) {
		a := []string{"--root-key-provider", "vault", "--vault-address", fake.URL, "--vault-transit-key", "coffer"}
		startFails(t, env(), dir, a, "VAULT_TOKEN")
	})
	t.Run("vault settings without the provider", func(t *testing.T) {
		startFails(t, env(), dir, []string{"--vault-address", fake.URL}, "--root-key-provider")
	})
	t.Run("local provider on a vault directory", func(t *testing.T) {
		startFails(t, env(), dir, nil, "root key of this data directory is missing", "keys import")
	})
	t.Run("vault stopped", func(t *testing.T) {
		fake.Close()
		startFails(t, env(), dir, args, "--vault-address", "unsealed")
	})
	for _, name := range []string{"root.key"} {
		if _, err := os.Stat(filepath.Join(dir, "keys", name)); err == nil {
			t.Fatalf("a failed start left %s", name)
		}
	}
}
