// Package vaulttest is a faithful, in-process fake of the HashiCorp Vault
// (and OpenBao) Transit secrets engine for tests: real AES-256-GCM under
// per-version keys, vault:vN: ciphertexts, key rotation and minimum
// decryption versions, token checks and namespaces, with Vault's JSON
// answers and {"errors":[...]} error shapes. It serves HTTPS on
// 127.0.0.1 with its own certificate (CAFile trusts it).
package vaulttest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Server is a running fake Vault.
type Server struct {
	URL    string // https://127.0.0.1:PORT
	CAFile string // PEM of the server's certificate

	srv *httptest.Server
	mu  sync.Mutex
	// tokens map a token to the namespace it belongs to ("" is root).
	tokens map[string]string
	// mounts are "namespace|mount" of enabled Transit engines.
	mounts map[string]bool
	keys   map[string]*transitKey // "namespace|mount|name"
	calls  map[string]int         // operation → count
}

type transitKey struct {
	versions   map[int]cipher.AEAD
	latest     int
	minDecrypt int
}

// Start runs a fake Vault with the Transit engine mounted at "transit" in
// the root namespace; it stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{tokens: map[string]string{}, mounts: map[string]bool{"|transit": true}, keys: map[string]*transitKey{}, calls: map[string]int{}}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	s.CAFile = filepath.Join(t.TempDir(), "vault-ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
	if err := os.WriteFile(s.CAFile, cert, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the server; later requests fail to connect.
func (s *Server) Close() { s.srv.Close() }

// AddToken makes token valid in namespace ("" for the root namespace).
func (s *Server) AddToken(token, namespace string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = namespace
}

// RevokeToken makes token invalid.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

// Mount enables a Transit engine at mount in namespace.
func (s *Server) Mount(namespace, mount string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mounts[namespace+"|"+mount] = true
}

// CreateKey creates a Transit key (version 1).
func (s *Server) CreateKey(namespace, mount, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[namespace+"|"+mount+"|"+name] = newKey()
}

// Rotate adds a new version to a key and returns it.
func (s *Server) Rotate(namespace, mount, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[namespace+"|"+mount+"|"+name]
	k.rotate()
	return k.latest
}

// SetMinDecryptionVersion refuses to decrypt ciphertexts older than v.
func (s *Server) SetMinDecryptionVersion(namespace, mount, name string, v int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[namespace+"|"+mount+"|"+name].minDecrypt = v
}

// Calls returns how often op (encrypt, decrypt, rewrap) succeeded.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

func newKey() *transitKey {
	k := &transitKey{versions: map[int]cipher.AEAD{}, minDecrypt: 1}
	k.rotate()
	return k
}

func (k *transitKey) rotate() {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		panic(err)
	}
	block, _ := aes.NewCipher(raw)
	aead, _ := cipher.NewGCM(block)
	k.latest++
	k.versions[k.latest] = aead
}

func (k *transitKey) encrypt(pt []byte) string {
	aead := k.versions[k.latest]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	ct := aead.Seal(nonce, nonce, pt, nil)
	return "vault:v" + strconv.Itoa(k.latest) + ":" + base64.StdEncoding.EncodeToString(ct)
}

// decrypt returns the plaintext or Vault's error message for a 400.
func (k *transitKey) decrypt(ct string) ([]byte, string) {
	rest, ok := strings.CutPrefix(ct, "vault:")
	if !ok {
		return nil, "invalid ciphertext: no prefix"
	}
	ver, body, ok := strings.Cut(rest, ":")
	if !ok || !strings.HasPrefix(ver, "v") {
		return nil, "invalid ciphertext: wrong number of fields"
	}
	v, err := strconv.Atoi(ver[1:])
	if err != nil {
		return nil, "invalid ciphertext: version number could not be decoded"
	}
	if v < k.minDecrypt {
		return nil, "ciphertext or signature version is disallowed by policy (too old)"
	}
	aead, ok := k.versions[v]
	if !ok {
		return nil, "invalid ciphertext: version is too new"
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, "invalid ciphertext: could not decode base64"
	}
	if len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, "invalid ciphertext: unable to decrypt"
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
	if err != nil {
		return nil, "cipher: message authentication failed"
	}
	return pt, ""
}

func writeErr(w http.ResponseWriter, status int, msgs ...string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": msgs})
}

func writeData(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json")
	var id [16]byte
	rand.Read(id[:])
	json.NewEncoder(w).Encode(map[string]any{
		"request_id": fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:]),
		"lease_id":   "", "renewable": false, "lease_duration": 0,
		"data": data, "wrap_info": nil, "warnings": nil, "auth": nil,
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		writeErr(w, http.StatusNotFound)
		return
	}
	ns := strings.Trim(r.Header.Get("X-Vault-Namespace"), "/")
	tokNS, ok := s.tokens[r.Header.Get("X-Vault-Token")]
	if !ok || tokNS != ns {
		// Vault answers the same for a missing, unknown, expired or
		// foreign-namespace token.
		writeErr(w, http.StatusForbidden, "permission denied")
		return
	}
	// MOUNT/op/NAME or MOUNT/keys/NAME[/rotate]; the mount may be nested.
	parts := strings.Split(path, "/")
	var mount, op, name string
	switch {
	case len(parts) >= 3 && parts[len(parts)-1] == "rotate" && parts[len(parts)-3] == "keys":
		mount, op, name = strings.Join(parts[:len(parts)-3], "/"), "rotate", parts[len(parts)-2]
	case len(parts) >= 3:
		mount, op, name = strings.Join(parts[:len(parts)-2], "/"), parts[len(parts)-2], parts[len(parts)-1]
	}
	if mount == "" || !s.mounts[ns+"|"+mount] {
		writeErr(w, http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", path))
		return
	}
	id := ns + "|" + mount + "|" + name
	var body map[string]any
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if len(raw) > 0 && json.Unmarshal(raw, &body) != nil {
			writeErr(w, http.StatusBadRequest, "failed to parse JSON input: invalid character")
			return
		}
	}
	str := func(k string) (string, bool) { v, ok := body[k].(string); return v, ok && v != "" }
	k := s.keys[id]
	post := r.Method == http.MethodPost || r.Method == http.MethodPut
	switch {
	case op == "keys" && r.Method == http.MethodGet:
		if k == nil {
			writeErr(w, http.StatusNotFound)
			return
		}
		vs := map[string]int{}
		for v := range k.versions {
			vs[strconv.Itoa(v)] = 1
		}
		writeData(w, map[string]any{"name": name, "type": "aes256-gcm96", "latest_version": k.latest, "min_decryption_version": k.minDecrypt, "keys": vs})
	case op == "keys" && post:
		if k == nil {
			s.keys[id] = newKey()
		}
		w.WriteHeader(http.StatusNoContent)
	case op == "rotate" && post:
		if k == nil {
			writeErr(w, http.StatusBadRequest, "key not found")
			return
		}
		k.rotate()
		w.WriteHeader(http.StatusNoContent)
	case op == "encrypt" && post:
		p, ok := body["plaintext"].(string)
		if !ok {
			writeErr(w, http.StatusBadRequest, "missing plaintext to encrypt")
			return
		}
		pt, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "failed to base64-decode plaintext")
			return
		}
		if k == nil { // Vault upserts the key on encrypt
			k = newKey()
			s.keys[id] = k
		}
		s.calls[op]++
		writeData(w, map[string]any{"ciphertext": k.encrypt(pt), "key_version": k.latest})
	case (op == "decrypt" || op == "rewrap") && post:
		ct, ok := str("ciphertext")
		if !ok {
			writeErr(w, http.StatusBadRequest, "missing ciphertext to decrypt")
			return
		}
		if k == nil {
			writeErr(w, http.StatusBadRequest, "encryption key not found")
			return
		}
		pt, msg := k.decrypt(ct)
		if msg != "" {
			writeErr(w, http.StatusBadRequest, msg)
			return
		}
		s.calls[op]++
		if op == "decrypt" {
			writeData(w, map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt)})
		} else {
			writeData(w, map[string]any{"ciphertext": k.encrypt(pt), "key_version": k.latest})
		}
	default:
		writeErr(w, http.StatusMethodNotAllowed, "unsupported operation")
	}
}
