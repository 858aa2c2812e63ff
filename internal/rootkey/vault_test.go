package rootkey_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/internal/rootkey"
	"github.com/coffer-io/coffer/internal/rootkey/vaulttest"
)

func newVault(t *testing.T, fake *vaulttest.Server, mod func(*rootkey.VaultConfig)) *rootkey.Vault {
	t.Helper()
	cfg := rootkey.VaultConfig{
		Address: fake.URL, Key: "coffer", Token: "s.good", CAFile: fake.CAFile,
		WrappedFile: filepath.Join(t.TempDir(), "keys", "root.key.vault"),
	}
	if mod != nil {
		mod(&cfg)
	}
	v, err := rootkey.NewVault(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wrappedFile(t *testing.T, v *rootkey.Vault) string {
	t.Helper()
	// Describe ends with the file's path.
	d := v.Describe()
	return d[strings.LastIndex(d, " ")+1:]
}

func TestVaultStoreLoad(t *testing.T) {
	fake := vaulttest.Start(t)
	fake.AddToken("s.good", "")
	fake.CreateKey("", "transit", "coffer")
	v := newVault(t, fake, nil)
	ctx := context.Background()
	if _, err := v.Load(ctx); !errors.Is(err, rootkey.ErrNotFound) {
		t.Fatalf("Load before Store: %v, want ErrNotFound", err)
	}
	key, _ := rootkey.Generate()
	if err := v.Store(ctx, key); err != nil {
		t.Fatal(err)
	}
	path := wrappedFile(t, v)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), "vault:v1:") || bytes.Contains(raw, []byte(rootkey.Encode(key))) {
		t.Fatalf("wrapped file holds %q", raw)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("wrapped file mode %v", fi.Mode().Perm())
	}
	got, err := v.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, key) {
		t.Fatal("Load returned another key")
	}
}

// Rotating the Transit key keeps the wrapped key readable, Load rewraps
// it to the newest version, and then the old version can be retired.
func TestVaultRotation(t *testing.T) {
	fake := vaulttest.Start(t)
	fake.AddToken("s.good", "")
	fake.CreateKey("", "transit", "coffer")
	v := newVault(t, fake, nil)
	ctx := context.Background()
	key, _ := rootkey.Generate()
	if err := v.Store(ctx, key); err != nil {
		t.Fatal(err)
	}
	if fake.Rotate("", "transit", "coffer") != 2 {
		t.Fatal("rotation did not make version 2")
	}
	got, err := v.Load(ctx)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Load after rotation: %v", err)
	}
	raw, _ := os.ReadFile(wrappedFile(t, v))
	if !strings.HasPrefix(string(raw), "vault:v2:") {
		t.Fatalf("not rewrapped to v2: %q", raw)
	}
	fake.SetMinDecryptionVersion("", "transit", "coffer", 2)
	if got, err := v.Load(ctx); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Load after retiring v1: %v", err)
	}
}

func TestVaultNamespace(t *testing.T) {
	fake := vaulttest.Start(t)
	fake.AddToken("s.ns", "team/a")
	fake.Mount("team/a", "kv/transit")
	fake.CreateKey("team/a", "kv/transit", "coffer")
	ctx := context.Background()
	key, _ := rootkey.Generate()
	v := newVault(t, fake, func(c *rootkey.VaultConfig) {
		c.Token, c.Namespace, c.Mount = "s.ns", "team/a", "kv/transit"
	})
	if err := v.Store(ctx, key); err != nil {
		t.Fatal(err)
	}
	if got, err := v.Load(ctx); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Load in namespace: %v", err)
	}
	if !strings.Contains(v.Describe(), `namespace "team/a"`) {
		t.Errorf("Describe = %s", v.Describe())
	}
}

// Every failure is an error that says what to check; none yields a key.
func TestVaultErrors(t *testing.T) {
	fake := vaulttest.Start(t)
	fake.AddToken("s.good", "")
	fake.AddToken("s.ns", "team/a")
	fake.CreateKey("", "transit", "coffer")
	stopped := vaulttest.Start(t)
	stopped.Close()
	ctx := context.Background()
	key, _ := rootkey.Generate()
	for _, tc := range []struct {
		name   string
		mod    func(*rootkey.VaultConfig)
		status int
		want   []string
	}{
		{"wrong token", func(c *rootkey.VaultConfig) { c.Token = "s.bad" }, 403, []string{"permission denied", "VAULT_TOKEN"}},
		{"token of another namespace", func(c *rootkey.VaultConfig) { c.Token = "s.ns" }, 403, []string{"permission denied"}},
		{"wrong namespace", func(c *rootkey.VaultConfig) { c.Namespace = "team/a" }, 403, []string{"permission denied"}},
		{"unknown mount", func(c *rootkey.VaultConfig) { c.Mount = "nope" }, 404, []string{"--vault-transit-mount"}},
		{"unknown key", func(c *rootkey.VaultConfig) { c.Key = "other" }, 400, []string{"encryption key not found", "--vault-transit-key"}},
		{"stopped", func(c *rootkey.VaultConfig) { c.Address, c.CAFile = stopped.URL, stopped.CAFile }, 0, []string{"--vault-address", "reachable"}},
		{"untrusted certificate", func(c *rootkey.VaultConfig) { c.CAFile = "" }, 0, []string{"certificate", "--vault-ca-file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			good := newVault(t, fake, nil)
			if err := good.Store(ctx, key); err != nil {
				t.Fatal(err)
			}
			wrapped := wrappedFile(t, good)
			v := newVault(t, fake, func(c *rootkey.VaultConfig) { tc.mod(c); c.WrappedFile = wrapped })
			got, err := v.Load(ctx)
			if err == nil || got != nil {
				t.Fatalf("Load succeeded")
			}
			var ve *rootkey.VaultError
			if tc.status != 0 && (!errors.As(err, &ve) || ve.Status != tc.status) {
				t.Fatalf("error %v, want status %d", err, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// A redirect (a standby node) is an error, never followed with the token.
func TestVaultNoRedirect(t *testing.T) {
	fake := vaulttest.Start(t)
	fake.AddToken("s.good", "")
	followed := false
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed = true }))
	defer target.Close()
	standby := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer standby.Close()
	good := newVault(t, fake, nil)
	key, _ := rootkey.Generate()
	if err := good.Store(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	v := newVault(t, fake, func(c *rootkey.VaultConfig) { c.Address, c.WrappedFile = standby.URL, wrappedFile(t, good) })
	_, err := v.Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "redirect") || followed {
		t.Fatalf("Load through a redirecting node: %v (followed %v)", err, followed)
	}
}

func TestVaultBadWrappedFile(t *testing.T) {
	fake := vaulttest.Start(t)
	fake.AddToken("s.good", "")
	fake.CreateKey("", "transit", "coffer")
	v := newVault(t, fake, nil)
	path := wrappedFile(t, v)
	os.MkdirAll(filepath.Dir(path), 0o700)
	for _, content := range []string{"not a ciphertext", "vault:v1:AAAA", "vault:v9:" + strings.Repeat("A", 64)} {
		os.WriteFile(path, []byte(content), 0o600)
		if _, err := v.Load(context.Background()); err == nil {
			t.Errorf("Load of %q succeeded", content)
		}
	}
}

func TestNewVaultChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  rootkey.VaultConfig
		want string
	}{
		{"no address", rootkey.VaultConfig{Key: "k", Token: "t", WrappedFile: "f"}, "--vault-address"},
		{"plain http remote", rootkey.VaultConfig{Address: "http://vault.example:8200", Key: "k", Token: "t", WrappedFile: "f"}, "plain http"},
		{"not a URL", rootkey.VaultConfig{Address: "vault:8200", Key: "k", Token: "t", WrappedFile: "f"}, "not an http(s) URL"},
		{"no key", rootkey.VaultConfig{Address: "https://v", Token: "t", WrappedFile: "f"}, "--vault-transit-key"},
		{"no token", rootkey.VaultConfig{Address: "https://v", Key: "k", WrappedFile: "f"}, "VAULT_TOKEN"},
		{"bad CA", rootkey.VaultConfig{Address: "https://v", Key: "k", Token: "t", WrappedFile: "f", CAFile: "/nonexistent"}, "--vault-ca-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rootkey.NewVault(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want mention of %q", err, tc.want)
			}
		})
	}
	if _, err := rootkey.NewVault(rootkey.VaultConfig{Address: "http://127.0.0.1:8200", Key: "k", Token: "t", WrappedFile: "f"}); err != nil {
		t.Errorf("plain http to loopback: %v", err)
	}
}
