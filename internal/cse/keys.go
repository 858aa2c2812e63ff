package cse

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParseAESKey reads a 256-bit wrapping key: the 32 raw bytes, or their
// base64 text (surrounding whitespace ignored).
func ParseAESKey(b []byte) ([]byte, error) {
	if len(b) == KeySize {
		return bytes.Clone(b), nil
	}
	k, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil || len(k) != KeySize {
		return nil, fmt.Errorf("an AES key file must hold %d raw bytes or their base64", KeySize)
	}
	return k, nil
}

// ParseRSAKey reads a PEM RSA key: a private key (PKCS #1 or PKCS #8)
// yields both halves, a public key (PKIX or PKCS #1) only the public one.
// Keys under 2048 bits are refused.
func ParseRSAKey(b []byte) (*rsa.PublicKey, *rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, nil, errors.New("the RSA key file holds no PEM block")
	}
	var pub *rsa.PublicKey
	var priv *rsa.PrivateKey
	switch blk.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			return nil, nil, err
		}
		priv = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, nil, err
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, nil, errors.New("the private key is not an RSA key")
		}
		priv = rk
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, nil, err
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, nil, errors.New("the public key is not an RSA key")
		}
		pub = rk
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(blk.Bytes)
		if err != nil {
			return nil, nil, err
		}
		pub = k
	default:
		return nil, nil, fmt.Errorf("unexpected PEM block %q in the RSA key file", blk.Type)
	}
	if priv != nil {
		pub = &priv.PublicKey
	}
	if pub.N.BitLen() < 2048 {
		return nil, nil, fmt.Errorf("the RSA key has %d bits; at least 2048 are required", pub.N.BitLen())
	}
	return pub, priv, nil
}
