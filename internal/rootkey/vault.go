package rootkey

import (
	"bytes"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/coffer-io/coffer/internal/fsutil"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// VaultConfig configures the Vault (or OpenBao) Transit provider.
type VaultConfig struct {
	// Address is Vault's base URL, e.g. https://vault.example:8200.
	// Plain http is accepted only for a loopback address: the root key
	// travels in the requests.
	Address string
	// Mount is the Transit secrets engine's mount path ("transit").
	Mount string
	// Key is the Transit key's name.
	Key string
	// Token authenticates to Vault (X-Vault-Token).
	Token string
	// Namespace, if set, is sent as X-Vault-Namespace (Vault
	// Enterprise, HCP Vault, OpenBao namespaces).
	Namespace string
	// CAFile is a PEM bundle trusted for Vault's TLS certificate;
	// without it the system roots are used.
	CAFile string
	// Timeout bounds each request (10 s if zero).
	Timeout time.Duration
	// WrappedFile holds the root key's Transit ciphertext
	// (vault:vN:...); it is the only place the key is stored.
	WrappedFile string
	// Logger receives rewrap notices (slog.Default if nil).
	Logger *slog.Logger
}

// Vault keeps the root key wrapped by a Vault Transit key: the data
// directory holds only the ciphertext, and every start asks Vault to
// decrypt it. Rotating the Transit key keeps older ciphertexts
// decryptable; Load rewraps the file to the newest key version when the
// token may.
type Vault struct {
	cfg  VaultConfig
	base *url.URL
	hc   *http.Client
	log  *slog.Logger
}

// NewVault checks cfg and returns the provider. It does not contact
// Vault.
func NewVault(cfg VaultConfig) (*Vault, error) {
	if cfg.Address == "" {
		return nil, errors.New("vault: --vault-address is required")
	}
	u, err := url.Parse(strings.TrimSuffix(cfg.Address, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("vault: --vault-address %q is not an http(s) URL", cfg.Address)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("vault: --vault-address %q uses plain http to a non-loopback host; the root key would travel unencrypted (use https)", cfg.Address)
	}
	if cfg.Mount == "" {
		cfg.Mount = "transit"
	}
	cfg.Mount = strings.Trim(cfg.Mount, "/")
	if cfg.Key == "" {
		return nil, errors.New("vault: --vault-transit-key is required")
	}
	if strings.Contains(cfg.Key, "/") {
		return nil, fmt.Errorf("vault: --vault-transit-key %q: a key name has no '/'", cfg.Key)
	}
	if cfg.Token == "" {
		return nil, errors.New("vault: no token (set VAULT_TOKEN or give --vault-token-file)")
	}
	if cfg.WrappedFile == "" {
		return nil, errors.New("vault: no file for the wrapped root key")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("vault: --vault-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("vault: --vault-ca-file %s holds no PEM certificate", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	tr := &http.Transport{
		TLSClientConfig:     tc,
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout}).DialContext,
		TLSHandshakeTimeout: cfg.Timeout,
	}
	hc := &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		// A redirect would carry the token (and the key) to wherever
		// it points; answer it as an error instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Vault{cfg: cfg, base: u, hc: hc, log: log}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Describe implements Provider.
func (v *Vault) Describe() string {
	d := fmt.Sprintf("Vault Transit key %q at %s (mount %q", v.cfg.Key, v.base, v.cfg.Mount)
	if v.cfg.Namespace != "" {
		d += fmt.Sprintf(", namespace %q", v.cfg.Namespace)
	}
	return d + "), wrapped in " + v.cfg.WrappedFile
}

// Generates implements Provider: a new data directory gets a new random
// key, stored only wrapped.
func (v *Vault) Generates() bool { return true }

// Load implements Provider: it decrypts the wrapped file through Transit.
func (v *Vault) Load(ctx context.Context) ([]byte, error) {
	raw, err := os.ReadFile(v.cfg.WrappedFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", v.cfg.WrappedFile, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the wrapped root key: %w", err)
	}
	ct := strings.TrimSpace(string(raw))
	ver, ok := ciphertextVersion(ct)
	if !ok {
		return nil, fmt.Errorf("%s does not hold a Vault Transit ciphertext (vault:vN:...)", v.cfg.WrappedFile)
	}
	key, err := v.Decrypt(ctx, ct)
	if err != nil {
		return nil, err
	}
	if len(key) != Size {
		clear(key)
		return nil, fmt.Errorf("the root key unwrapped by Vault from %s has %d bytes, want %d", v.cfg.WrappedFile, len(key), Size)
	}
	v.rewrap(ctx, ct, ver)
	return key, nil
}

// rewrap moves the wrapped key to the Transit key's newest version, so
// that old versions can later be retired (min_decryption_version). It is
// best effort: the token may lack the rewrap permission.
func (v *Vault) rewrap(ctx context.Context, ct string, ver int) {
	var out struct {
		Ciphertext string `json:"ciphertext"`
	}
	if err := v.call(ctx, "rewrap", map[string]string{"ciphertext": ct}, &out); err != nil {
		v.log.Warn("could not rewrap the root key to the newest Vault Transit key version (it still works)", "err", err)
		return
	}
	nv, ok := ciphertextVersion(out.Ciphertext)
	if !ok || nv <= ver {
		return
	}
	if err := fsutil.WriteFileAtomic(v.cfg.WrappedFile, []byte(out.Ciphertext+"\n"), 0o600); err != nil {
		v.log.Warn("could not write the rewrapped root key (the old one still works)", "path", v.cfg.WrappedFile, "err", err)
		return
	}
	v.log.Info("rewrapped the root key to a newer Vault Transit key version", "from", ver, "to", nv, "path", v.cfg.WrappedFile)
}

// Store implements Provider: the key is encrypted by Transit, the
// ciphertext decrypted again to prove the token can unwrap it at the
// next start, and only then written (atomically, 0600).
func (v *Vault) Store(ctx context.Context, key []byte) error {
	ct, err := v.Encrypt(ctx, key)
	if err != nil {
		return err
	}
	back, err := v.Decrypt(ctx, ct)
	if err != nil {
		return fmt.Errorf("the root key was wrapped but could not be unwrapped again, so it was not stored: %w", err)
	}
	same := subtle.ConstantTimeCompare(back, key) == 1
	clear(back)
	if !same {
		return errors.New("vault: decrypting the wrapped root key did not give it back; it was not stored")
	}
	if err := fsutil.WriteFileAtomic(v.cfg.WrappedFile, []byte(ct+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing the wrapped root key: %w", err)
	}
	return nil
}

// Encrypt wraps plaintext with the Transit key.
func (v *Vault) Encrypt(ctx context.Context, plaintext []byte) (string, error) {
	var out struct {
		Ciphertext string `json:"ciphertext"`
	}
	if err := v.call(ctx, "encrypt", map[string]string{"plaintext": base64.StdEncoding.EncodeToString(plaintext)}, &out); err != nil {
		return "", err
	}
	if _, ok := ciphertextVersion(out.Ciphertext); !ok {
		return "", errors.New("vault: encrypt answered without a vault:vN: ciphertext")
	}
	return out.Ciphertext, nil
}

// Decrypt unwraps a Transit ciphertext.
func (v *Vault) Decrypt(ctx context.Context, ciphertext string) ([]byte, error) {
	var out struct {
		Plaintext string `json:"plaintext"`
	}
	if err := v.call(ctx, "decrypt", map[string]string{"ciphertext": ciphertext}, &out); err != nil {
		return nil, err
	}
	pt, err := base64.StdEncoding.DecodeString(out.Plaintext)
	if err != nil {
		return nil, errors.New("vault: decrypt answered with a plaintext that is not base64")
	}
	return pt, nil
}

// ciphertextVersion returns N of a vault:vN:... ciphertext.
func ciphertextVersion(ct string) (int, bool) {
	rest, ok := strings.CutPrefix(ct, "vault:v")
	if !ok {
		return 0, false
	}
	num, body, ok := strings.Cut(rest, ":")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 1 || body == "" {
		return 0, false
	}
	return n, true
}

// VaultError is an error answer from Vault.
type VaultError struct {
	Op     string // encrypt, decrypt, rewrap
	Status int
	Errors []string // Vault's {"errors":[...]}
	hint   string
}

func (e *VaultError) Error() string {
	msg := fmt.Sprintf("vault: Transit %s answered %d", e.Op, e.Status)
	if len(e.Errors) > 0 {
		msg += ": " + strings.Join(e.Errors, "; ")
	}
	if e.hint != "" {
		msg += " (" + e.hint + ")"
	}
	return msg
}

// maxVaultResponse bounds what is read from Vault.
const maxVaultResponse = 1 << 20

// call POSTs body as JSON to MOUNT/op/KEY and decodes the answer's data
// into out.
func (v *Vault) call(ctx context.Context, op string, body any, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	u := v.base.JoinPath("v1", v.cfg.Mount, op, v.cfg.Key)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Vault-Token", v.cfg.Token)
	req.Header.Set("X-Vault-Request", "true")
	if v.cfg.Namespace != "" {
		req.Header.Set("X-Vault-Namespace", v.cfg.Namespace)
	}
	resp, err := v.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already
		}
		return fmt.Errorf("vault: %s at %s failed: %v (check --vault-address, that Vault is running, reachable and unsealed, and --vault-ca-file for its certificate)", op, v.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxVaultResponse))
	if err != nil {
		return fmt.Errorf("vault: reading the %s answer: %w", op, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Errors []string `json:"errors"`
		}
		_ = json.Unmarshal(data, &e)
		return &VaultError{Op: op, Status: resp.StatusCode, Errors: e.Errors, hint: v.hint(resp.StatusCode)}
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(data, &env); err != nil || len(env.Data) == 0 {
		return fmt.Errorf("vault: the %s answer is not Vault's JSON", op)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("vault: the %s answer is not Vault's JSON", op)
	}
	return nil
}

func (v *Vault) hint(status int) string {
	switch status {
	case http.StatusForbidden:
		return fmt.Sprintf("check the token (VAULT_TOKEN or --vault-token-file), that it has not expired, and that its policy allows update on %s/encrypt/%s, %s/decrypt/%s and %s/rewrap/%s",
			v.cfg.Mount, v.cfg.Key, v.cfg.Mount, v.cfg.Key, v.cfg.Mount, v.cfg.Key)
	case http.StatusNotFound:
		return "check --vault-transit-mount and --vault-namespace"
	case http.StatusBadRequest:
		return "check --vault-transit-key and that the wrapped key file belongs to it"
	case http.StatusServiceUnavailable:
		return "Vault is sealed or not ready"
	case http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return "Vault redirected the request, as a standby node does; redirects are not followed: point --vault-address at the active node or its load balancer"
	}
	return ""
}
