package trail

import (
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"github.com/coffer-io/coffer/internal/fsutil"
	"os"
	"path/filepath"
	"time"
)

// Digest files are signed SHA256withRSA with the Region's signing key, as
// CloudTrail signs them; ListPublicKeys hands out the public halves with
// their fingerprints and validity windows so that any validator (the AWS
// CLI's included) can check the signatures. Keys live in the data
// directory, one file per key, private parts readable by the server only.

// KeyValidity is how long a signing key signs new digests before a new
// one takes over. Old keys stay listed, so old digests still validate.
const KeyValidity = 365 * 24 * time.Hour

// PublicKey is one ListPublicKeys entry.
type PublicKey struct {
	DER         []byte    // PKCS#1 RSAPublicKey
	Fingerprint string    // hex MD5 of DER
	Start, End  time.Time // validity
}

// SigningKey is a private key with its public entry.
type SigningKey struct {
	PublicKey
	priv *rsa.PrivateKey
}

// Sign signs msg SHA256withRSA (RSASSA-PKCS1-v1_5 over SHA-256).
func (k *SigningKey) Sign(msg []byte) ([]byte, error) {
	h := sha256.Sum256(msg)
	return rsa.SignPKCS1v15(rand.Reader, k.priv, crypto.SHA256, h[:])
}

// Verify checks a SHA256withRSA signature with a PKCS#1 public key.
func Verify(der, msg, sig []byte) error {
	pub, err := x509.ParsePKCS1PublicKey(der)
	if err != nil {
		return err
	}
	h := sha256.Sum256(msg)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
}

// Keys is the key ring of one data directory.
type Keys struct {
	dir  string
	keys []*SigningKey // oldest first
}

type keyFile struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	PEM   string    `json:"pem"`
}

// OpenKeys loads the key ring in dir (creating it).
func OpenKeys(dir string) (*Keys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("trail: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("trail: %w", err)
	}
	k := &Keys{dir: dir}
	for _, e := range ents {
		if filepath.Ext(e.Name()) != ".json" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("trail: %w", err)
		}
		var f keyFile
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("trail: key %s: %w", e.Name(), err)
		}
		blk, _ := pem.Decode([]byte(f.PEM))
		if blk == nil {
			return nil, fmt.Errorf("trail: key %s: no PEM block", e.Name())
		}
		priv, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("trail: key %s: %w", e.Name(), err)
		}
		k.keys = append(k.keys, newSigningKey(priv, f.Start, f.End))
	}
	// File names are the start times: ReadDir's order is oldest first.
	return k, nil
}

func newSigningKey(priv *rsa.PrivateKey, start, end time.Time) *SigningKey {
	der := x509.MarshalPKCS1PublicKey(&priv.PublicKey)
	sum := md5.Sum(der)
	return &SigningKey{PublicKey: PublicKey{DER: der, Fingerprint: hex.EncodeToString(sum[:]), Start: start.UTC(), End: end.UTC()}, priv: priv}
}

// Current returns the key that signs at t, creating one when none does.
func (k *Keys) Current(t time.Time) (*SigningKey, error) {
	for i := len(k.keys) - 1; i >= 0; i-- {
		if c := k.keys[i]; !t.Before(c.Start) && t.Before(c.End) {
			return c, nil
		}
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	start := t.UTC().Truncate(time.Hour)
	sk := newSigningKey(priv, start, start.Add(KeyValidity))
	f := keyFile{Start: sk.Start, End: sk.End, PEM: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)}))}
	b, _ := json.Marshal(f)
	if err := fsutil.WriteFileAtomic(filepath.Join(k.dir, start.Format("20060102T150405Z")+".json"), b, 0o600); err != nil {
		return nil, err
	}
	k.keys = append(k.keys, sk)
	return sk, nil
}

// Public lists the public keys valid at some time in [start, end].
func (k *Keys) Public(start, end time.Time) []PublicKey {
	var out []PublicKey
	for _, c := range k.keys {
		if (end.IsZero() || !c.Start.After(end)) && (start.IsZero() || c.End.After(start)) {
			out = append(out, c.PublicKey)
		}
	}
	return out
}
