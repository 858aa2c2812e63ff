package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/auth/sigv4"
	"github.com/coffer-io/coffer/internal/awscreds"
	"github.com/coffer-io/coffer/internal/s3api"
	"github.com/coffer-io/coffer/internal/server"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

type adminCmd struct {
	Account           accountCmd `cmd:"" help:"Manage accounts."`
	PublicAccessBlock pabCmd     `cmd:"" name:"public-access-block" help:"Show or set the account's Block Public Access settings (S3 Control API)."`
	Root              rootCmd    `cmd:"" help:"Recover an account root offline (lost access key or MFA device)."`
	Keys              keysCmd    `cmd:"" help:"Escrow the KMS root key: export it under a passphrase, import it back."`
}

type accountCmd struct {
	Create accountCreateCmd `cmd:"" help:"Create an account; prints its root credentials as a [NAME] credentials-file section."`
}

// remoteFlags are shared by commands that talk to a running server.
type remoteFlags struct {
	Endpoint string `help:"Server endpoint, e.g. https://127.0.0.1:9000 (AWS_ENDPOINT_URL)." env:"AWS_ENDPOINT_URL"`
	CABundle string `name:"ca-bundle" help:"PEM file of CAs to trust (AWS_CA_BUNDLE)." env:"AWS_CA_BUNDLE" type:"path"`
	Profile  string `help:"Profile in the shared credentials file." env:"AWS_PROFILE" default:"default"`
	Region   string `help:"Region to sign for." env:"AWS_REGION,AWS_DEFAULT_REGION" default:"us-east-1"`
}

// credentials resolves credentials as the AWS tools do: environment
// variables first, then the shared credentials file.
func (f *remoteFlags) credentials() (string, string, string, error) {
	if id, sec := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"); id != "" && sec != "" {
		return id, sec, os.Getenv("AWS_SESSION_TOKEN"), nil
	}
	// An empty path means $AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials.
	return awscreds.Load("", f.Profile)
}

func (f *remoteFlags) httpClient() (*http.Client, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.CABundle != "" {
		pem, err := os.ReadFile(f.CABundle)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificates", f.CABundle)
		}
		cfg.RootCAs = pool
	}
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: cfg}}, nil
}

type accountCreateCmd struct {
	Name string `arg:"" help:"Account name."`
	Data string `help:"Work offline on this data directory (refused while a server holds it)." type:"path" xor:"target"`
	remoteFlags
}

func (c *accountCreateCmd) Run() error {
	var k *meta.AccessKey
	switch {
	case c.Data != "":
		st, err := server.OpenDataDir(c.Data)
		if err != nil {
			return err
		}
		defer st.Close()
		accts := &server.Accounts{Meta: st.Meta}
		_, key, err := accts.Create(context.Background(), c.Name)
		if err != nil {
			return err
		}
		k = key
	case c.Endpoint != "":
		resp, err := c.remote()
		if err != nil {
			return err
		}
		k = &meta.AccessKey{ID: resp.AccessKeyID, Secret: resp.SecretAccessKey}
	default:
		return errors.New("give --endpoint (a running server) or --data (offline)")
	}
	fmt.Print(server.CredentialsSection(c.Name, k))
	return nil
}

func (c *accountCreateCmd) remote() (*s3api.CreateAccountResponse, error) {
	body, _ := json.Marshal(s3api.CreateAccountRequest{Name: c.Name})
	raw, err := c.call(http.MethodPost, "/_coffer/admin/v1/accounts", body)
	if err != nil {
		return nil, err
	}
	var out s3api.CreateAccountResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// call sends a signed admin API request (SigV4, service "coffer") and
// returns the response body of a 200 answer.
func (f *remoteFlags) call(method, path string, body []byte) ([]byte, error) {
	return f.signedCall(method, path, body, "coffer", nil)
}

// signedCall sends a SigV4-signed request for service with extra headers
// and returns the body of a 2xx answer.
func (f *remoteFlags) signedCall(method, path string, body []byte, service string, hdr map[string]string) ([]byte, error) {
	id, secret, token, err := f.credentials()
	if err != nil {
		return nil, err
	}
	if token != "" {
		return nil, errors.New("administration needs an access key, not session credentials")
	}
	u, err := url.Parse(strings.TrimSuffix(f.Endpoint, "/") + path)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil && service == "coffer" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	sr := &sigv4.Request{Method: req.Method, Host: req.URL.Host, EscapedPath: req.URL.EscapedPath(), RawQuery: req.URL.RawQuery, Header: req.Header}
	sigv4.SignRequest(sr, id, secret, f.Region, service, sigv4.HashHex(body), time.Now())
	hc, err := f.httpClient()
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("server answered %s: %s", resp.Status, strings.TrimSpace(string(raw)))
	}
	return raw, nil
}
