package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/coffer-io/coffer/internal/rootkey"
	"github.com/coffer-io/coffer/internal/server"
)

// rootKeyFlags say where the KMS root key lives; `server` and `admin keys`
// share them so that the escrow commands find (and restore) the key
// exactly where the server will look. The key itself is never a flag
// value (it would show in the process list): a file, COFFER_ROOT_KEY, or
// wrapped by Vault.
type rootKeyFlags struct {
	RootKeyProvider   string `name:"root-key-provider" help:"Where the KMS root key lives: local (--root-key-file, COFFER_ROOT_KEY, else DATA/keys/root.key) or vault (wrapped by a Vault/OpenBao Transit key in DATA/keys/root.key.vault)." default:"local" enum:"local,vault" env:"COFFER_ROOT_KEY_PROVIDER"`
	RootKeyFile       string `name:"root-key-file" help:"File holding the KMS root key (base64 of 32 bytes), which protects all data encrypted at rest. Default: the environment's COFFER_ROOT_KEY, else DATA/keys/root.key, created on first start." type:"path"`
	VaultAddress      string `name:"vault-address" help:"Vault (or OpenBao) address for --root-key-provider vault, e.g. https://vault.example:8200." env:"COFFER_VAULT_ADDRESS"`
	VaultTransitMount string `name:"vault-transit-mount" help:"Mount path of Vault's Transit secrets engine." default:"transit" env:"COFFER_VAULT_TRANSIT_MOUNT"`
	VaultTransitKey   string `name:"vault-transit-key" help:"Name of the Transit key that wraps the root key." env:"COFFER_VAULT_TRANSIT_KEY"`
	VaultTokenFile    string `name:"vault-token-file" help:"File holding the Vault token (default: the environment's VAULT_TOKEN)." env:"COFFER_VAULT_TOKEN_FILE" type:"path"`
	VaultCAFile       string `name:"vault-ca-file" help:"PEM CA bundle to trust for Vault's TLS certificate (default: the system's)." env:"COFFER_VAULT_CA_FILE" type:"path"`
	VaultNamespace    string `name:"vault-namespace" help:"Vault namespace (sent as X-Vault-Namespace)." env:"COFFER_VAULT_NAMESPACE"`
}

func (f *rootKeyFlags) rootKeyConfig(dataDir string) rootkey.Config {
	return rootkey.Config{
		Provider: f.RootKeyProvider, DataDir: dataDir,
		File: f.RootKeyFile, Env: os.Getenv("COFFER_ROOT_KEY"),
		Vault: rootkey.VaultConfig{
			Address: f.VaultAddress, Mount: f.VaultTransitMount, Key: f.VaultTransitKey,
			Namespace: f.VaultNamespace, CAFile: f.VaultCAFile,
		},
		VaultTokenFile: f.VaultTokenFile, VaultTokenEnv: os.Getenv("VAULT_TOKEN"),
	}
}

func (f *rootKeyFlags) provider(dataDir string) (rootkey.Provider, error) {
	cfg := f.rootKeyConfig(dataDir)
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return rootkey.Open(cfg)
}

// keysCmd groups the root-key escrow commands.
type keysCmd struct {
	Export keysExportCmd `cmd:"" help:"Write the data directory's KMS root key, wrapped under a passphrase, to an escrow file."`
	Import keysImportCmd `cmd:"" help:"Restore the KMS root key from an escrow file to where the root-key settings expect it."`
}

// passphraseFlags say where the escrow passphrase comes from.
type passphraseFlags struct {
	PassphraseFile string `name:"passphrase-file" help:"File holding the escrow passphrase (default: COFFER_ESCROW_PASSPHRASE, else a prompt on the terminal)." type:"path"`
}

// passphrase reads the passphrase from the file, the variable or the
// terminal (twice when confirm), in that order.
func (f *passphraseFlags) passphrase(confirm bool) ([]byte, error) {
	var p []byte
	switch {
	case f.PassphraseFile != "":
		raw, err := os.ReadFile(f.PassphraseFile)
		if err != nil {
			return nil, err
		}
		p = trimNewline(raw)
	case os.Getenv("COFFER_ESCROW_PASSPHRASE") != "":
		p = []byte(os.Getenv("COFFER_ESCROW_PASSPHRASE"))
	case isTerminal(os.Stdin):
		var err error
		if p, err = readSecret(os.Stdin, "Escrow passphrase: "); err != nil {
			return nil, err
		}
		if confirm {
			again, err := readSecret(os.Stdin, "Repeat the passphrase: ")
			if err != nil {
				return nil, err
			}
			if !bytes.Equal(p, again) {
				return nil, errors.New("the passphrases differ")
			}
		}
	default:
		return nil, errors.New("no passphrase: give --passphrase-file, set COFFER_ESCROW_PASSPHRASE, or run on a terminal")
	}
	return p, rootkey.CheckPassphrase(p)
}

// trimNewline drops one trailing line end: a passphrase file is text.
func trimNewline(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

type keysExportCmd struct {
	Data  string `help:"Data directory." required:"" type:"path"`
	Out   string `help:"Escrow file to write (0600)." required:"" type:"path"`
	Force bool   `help:"Replace an existing escrow file."`
	passphraseFlags
	rootKeyFlags
}

func (c *keysExportCmd) Run() error {
	p, err := c.provider(c.Data)
	if err != nil {
		return err
	}
	pass, err := c.passphrase(true)
	if err != nil {
		return err
	}
	defer clear(pass)
	ke := &server.KeyEscrow{Dir: c.Data, Provider: p}
	fp, err := ke.Export(context.Background(), pass, c.Out, c.Force)
	if err != nil {
		return err
	}
	fmt.Printf("Wrote the root key (fingerprint %s) from %s to %s.\n", fp, p.Describe(), c.Out)
	fmt.Println("Keep the file and its passphrase apart and safe: together they read every object.")
	return nil
}

type keysImportCmd struct {
	Data  string `help:"Data directory (refused while a server holds it)." required:"" type:"path"`
	In    string `help:"Escrow file to read." required:"" type:"path"`
	Force bool   `help:"Replace a different root key already in place."`
	passphraseFlags
	rootKeyFlags
}

func (c *keysImportCmd) Run() error {
	p, err := c.provider(c.Data)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(c.In)
	if err != nil {
		return err
	}
	pass, err := c.passphrase(false)
	if err != nil {
		return err
	}
	defer clear(pass)
	ke := &server.KeyEscrow{Dir: c.Data, Provider: p}
	res, err := ke.Import(context.Background(), pass, data, c.Force)
	if err != nil {
		return err
	}
	switch {
	case res.Unchanged:
		fmt.Printf("The root key (fingerprint %s) is already in %s; nothing changed.\n", res.Fingerprint, p.Describe())
	case res.Replaced:
		fmt.Printf("Replaced the root key in %s with the escrowed one (fingerprint %s).\n", p.Describe(), res.Fingerprint)
	default:
		fmt.Printf("Restored the root key (fingerprint %s) to %s.\n", res.Fingerprint, p.Describe())
	}
	return nil
}
