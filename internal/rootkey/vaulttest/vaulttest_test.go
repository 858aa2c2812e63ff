package vaulttest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// The fake answers as Vault does: data envelopes, {"errors":[...]} with
// 400, 403 and 404, and vault:vN: ciphertexts.
func TestFakeAnswers(t *testing.T) {
	s := Start(t)
	s.AddToken("root", "")
	pem, _ := os.ReadFile(s.CAFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	do := func(method, path, token, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, s.URL+"/v1/"+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("X-Vault-Token", token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		json.Unmarshal(raw, &m)
		return resp.StatusCode, m
	}
	errs := func(m map[string]any) string {
		list, _ := m["errors"].([]any)
		var out []string
		for _, e := range list {
			out = append(out, e.(string))
		}
		return strings.Join(out, ";")
	}
	for _, tc := range []struct {
		name, method, path, token, body string
		status                          int
		err                             string
	}{
		{"no token", "POST", "transit/encrypt/k", "", `{"plaintext":"aGk="}`, 403, "permission denied"},
		{"bad token", "POST", "transit/encrypt/k", "nope", `{"plaintext":"aGk="}`, 403, "permission denied"},
		{"bad JSON", "POST", "transit/encrypt/k", "root", `{`, 400, "failed to parse JSON input"},
		{"no plaintext", "POST", "transit/encrypt/k", "root", `{}`, 400, "missing plaintext to encrypt"},
		{"plaintext not base64", "POST", "transit/encrypt/k", "root", `{"plaintext":"!!"}`, 400, "base64"},
		{"no mount", "POST", "other/encrypt/k", "root", `{"plaintext":"aGk="}`, 404, "no handler for route"},
		{"decrypt unknown key", "POST", "transit/decrypt/zz", "root", `{"ciphertext":"vault:v1:AAAA"}`, 400, "encryption key not found"},
		{"decrypt no prefix", "POST", "transit/decrypt/k", "root", `{"ciphertext":"abc"}`, 400, "invalid ciphertext"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "decrypt no prefix" {
				s.CreateKey("", "transit", "k")
			}
			status, m := do(tc.method, tc.path, tc.token, tc.body)
			if status != tc.status || !strings.Contains(errs(m), tc.err) {
				t.Fatalf("%d %v, want %d %q", status, m, tc.status, tc.err)
			}
		})
	}
	status, m := do("POST", "transit/encrypt/k", "root", `{"plaintext":"aGVsbG8="}`)
	data, _ := m["data"].(map[string]any)
	ct, _ := data["ciphertext"].(string)
	if status != 200 || !strings.HasPrefix(ct, "vault:v1:") {
		t.Fatalf("encrypt: %d %v", status, m)
	}
	s.Rotate("", "transit", "k")
	status, m = do("POST", "transit/decrypt/k", "root", `{"ciphertext":"`+ct+`"}`)
	data, _ = m["data"].(map[string]any)
	if status != 200 || data["plaintext"] != "aGVsbG8=" {
		t.Fatalf("decrypt after rotation: %d %v", status, m)
	}
	status, m = do("GET", "transit/keys/k", "root", "")
	data, _ = m["data"].(map[string]any)
	if status != 200 || data["latest_version"] != float64(2) {
		t.Fatalf("read key: %d %v", status, m)
	}
	// Tampered ciphertext fails authentication.
	bad := ct[:len(ct)-4] + "AAA="
	if status, m = do("POST", "transit/decrypt/k", "root", `{"ciphertext":"`+bad+`"}`); status != 400 {
		t.Fatalf("tampered ciphertext: %d %v", status, m)
	}
}
