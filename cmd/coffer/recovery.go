package main

import (
	"context"
	"fmt"
	"os"

	"github.com/coffer-io/coffer/internal/server"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// rootCmd groups the offline recovery commands for an account root whose
// access key or MFA device is lost. They need the data directory, not
// credentials, and refuse while a server holds it.
type rootCmd struct {
	RotateKey rootRotateKeyCmd `cmd:"" name:"rotate-key" help:"Give the account root a new access key and delete its others; prints the new credentials as a [default] section (offline only)."`
	ResetMFA  rootResetMFACmd  `cmd:"" name:"reset-mfa" help:"Deactivate and delete the account root's MFA device so that a new one can be enrolled (offline only)."`
}

// recoveryFlags are the flags the recovery commands share.
type recoveryFlags struct {
	Data    string `help:"Data directory (refused while a server holds it)." required:"" type:"path"`
	Account string `help:"Account name or 12-digit id (default: the default account)."`
}

func (f *recoveryFlags) open() (*server.Stores, error) { return server.OpenDataDir(f.Data) }

type rootRotateKeyCmd struct{ recoveryFlags }

func (c *rootRotateKeyCmd) Run() error {
	st, err := c.open()
	if err != nil {
		return err
	}
	defer st.Close()
	rc := &server.Recovery{Stores: st}
	acct, key, err := rc.RotateRootKey(context.Background(), c.Account)
	if err != nil {
		return err
	}
	// stdout carries only the credentials, so it can be redirected to a
	// credentials file; everything else goes to stderr.
	fmt.Print(server.CredentialsSection("default", &meta.AccessKey{ID: key.AccessKeyID, Secret: key.SecretAccessKey}))
	fmt.Fprintf(os.Stderr, "Rotated the root access key of account %s (%s); its other keys are deleted.\n", acct.Name, acct.ID)
	return nil
}

type rootResetMFACmd struct{ recoveryFlags }

func (c *rootResetMFACmd) Run() error {
	st, err := c.open()
	if err != nil {
		return err
	}
	defer st.Close()
	rc := &server.Recovery{Stores: st}
	acct, serials, err := rc.ResetRootMFA(context.Background(), c.Account)
	if err != nil {
		return err
	}
	for _, s := range serials {
		fmt.Printf("Removed MFA device %s from the root of account %s (%s)\n", s, acct.Name, acct.ID)
	}
	return nil
}
