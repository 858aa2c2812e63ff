package rootkey

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Provider names (--root-key-provider).
const (
	ProviderLocal = "local"
	ProviderVault = "vault"
)

// Config selects and configures a provider, from the settings shared by
// `coffer server` and `coffer admin keys`.
type Config struct {
	// Provider is ProviderLocal (default) or ProviderVault.
	Provider string
	// DataDir is the data directory (holding keys/root.key or
	// keys/root.key.vault).
	DataDir string
	// File is --root-key-file; Env the value of COFFER_ROOT_KEY.
	File string
	Env  string
	// Vault configures the Vault provider. Its Token comes from
	// VaultTokenFile or VaultTokenEnv (VAULT_TOKEN), exactly one.
	Vault          VaultConfig
	VaultTokenFile string
	VaultTokenEnv  string
	Logger         *slog.Logger
}

// DefaultFile is where the local provider keeps the key when neither a
// file nor the variable is given.
func DefaultFile(dataDir string) string { return filepath.Join(dataDir, "keys", "root.key") }

// VaultFile is where the Vault provider keeps the wrapped key.
func VaultFile(dataDir string) string { return filepath.Join(dataDir, "keys", "root.key.vault") }

// Open returns the provider cfg selects. Settings of the provider not
// selected are an error rather than ignored, so that a half-done
// configuration never silently uses a local key.
func Open(cfg Config) (Provider, error) {
	vaultSet := cfg.Vault.Address != "" || cfg.Vault.Key != "" || cfg.Vault.Namespace != "" || cfg.Vault.CAFile != "" || cfg.VaultTokenFile != ""
	switch cfg.Provider {
	case "", ProviderLocal:
		if vaultSet {
			return nil, errors.New("--vault-* settings are given but --root-key-provider is not vault")
		}
		if cfg.File != "" && cfg.Env != "" {
			return nil, errors.New("--root-key-file and COFFER_ROOT_KEY are exclusive; give one")
		}
		if cfg.Env != "" {
			return &Env{Name: "COFFER_ROOT_KEY", Value: cfg.Env}, nil
		}
		if cfg.File != "" {
			return &File{Path: cfg.File}, nil
		}
		return &File{Path: DefaultFile(cfg.DataDir), InDataDir: true}, nil
	case ProviderVault:
		if cfg.File != "" || cfg.Env != "" {
			return nil, errors.New("--root-key-provider vault keeps the key wrapped by Vault; --root-key-file and COFFER_ROOT_KEY do not apply")
		}
		vc := cfg.Vault
		switch {
		case cfg.VaultTokenFile != "" && cfg.VaultTokenEnv != "":
			return nil, errors.New("give the Vault token once: VAULT_TOKEN or --vault-token-file")
		case cfg.VaultTokenFile != "":
			raw, err := os.ReadFile(cfg.VaultTokenFile)
			if err != nil {
				return nil, fmt.Errorf("vault: --vault-token-file: %w", err)
			}
			vc.Token = strings.TrimSpace(string(raw))
		default:
			vc.Token = strings.TrimSpace(cfg.VaultTokenEnv)
		}
		vc.WrappedFile = VaultFile(cfg.DataDir)
		vc.Logger = cfg.Logger
		return NewVault(vc)
	default:
		return nil, fmt.Errorf("--root-key-provider %q: want local or vault", cfg.Provider)
	}
}
