package cse

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Metadata keys of the S3 Encryption Client formats, without the
// x-amz-meta- prefix S3 adds on the wire.
const (
	MetaKeyV1         = "x-amz-key"
	MetaKeyV2         = "x-amz-key-v2"
	MetaKeyV3         = "x-amz-3"
	MetaIV            = "x-amz-iv"
	MetaMatDesc       = "x-amz-matdesc"
	MetaCEKAlg        = "x-amz-cek-alg"
	MetaWrapAlg       = "x-amz-wrap-alg"
	MetaTagLen        = "x-amz-tag-len"
	MetaPlainLen      = "x-amz-unencrypted-content-length"
	InstructionSuffix = ".instruction"
)

// Algorithm names as they appear in the envelope.
const (
	CEKAESGCM      = "AES/GCM/NoPadding"
	WrapKMSContext = "kms+context"
	WrapAESGCM     = "AES/GCM"
	WrapRSAOAEP    = "RSA-OAEP-SHA1"
	tagLenBits     = "128"
	// reservedContextKey binds the content algorithm into the KMS
	// encryption context; users may not set it.
	reservedContextKey = "aws:" + MetaCEKAlg
)

// ErrUnsupported reports an object in a format this client refuses to
// decrypt (legacy v1, v3, or an algorithm it does not implement).
var ErrUnsupported = errors.New("cse: unsupported encryption format")

// ErrNotEncrypted reports an object without client-side encryption metadata.
var ErrNotEncrypted = errors.New("cse: the object carries no client-side encryption metadata")

// Envelope is the v2 content metadata. Values are kept as their wire
// strings (base64 for the key and IV, JSON for the material description).
type Envelope struct {
	WrappedKey string `json:"x-amz-key-v2"`
	IV         string `json:"x-amz-iv"`
	MatDesc    string `json:"x-amz-matdesc"`
	WrapAlg    string `json:"x-amz-wrap-alg"`
	CEKAlg     string `json:"x-amz-cek-alg"`
	TagLen     string `json:"x-amz-tag-len"`
	PlainLen   string `json:"x-amz-unencrypted-content-length"`
}

// Metadata returns the envelope as S3 user metadata (keys without the
// x-amz-meta- prefix).
func (e *Envelope) Metadata() map[string]string {
	return map[string]string{
		MetaKeyV2: e.WrappedKey, MetaIV: e.IV, MetaMatDesc: e.MatDesc,
		MetaWrapAlg: e.WrapAlg, MetaCEKAlg: e.CEKAlg, MetaTagLen: e.TagLen,
		MetaPlainLen: e.PlainLen,
	}
}

// Instruction returns the instruction-file body: the envelope as a JSON
// object of strings.
func (e *Envelope) Instruction() []byte {
	b, _ := json.Marshal(e)
	return b
}

// HasEnvelope reports whether user metadata (keys lower-case, without the
// x-amz-meta- prefix) names a content key of any S3EC format; without one
// the envelope lives in an instruction file.
func HasEnvelope(meta map[string]string) bool {
	for _, k := range []string{MetaKeyV1, MetaKeyV2, MetaKeyV3} {
		if _, ok := meta[k]; ok {
			return true
		}
	}
	return false
}

// FromMetadata reads an envelope from object user metadata (keys
// lower-case, without the x-amz-meta- prefix), refusing formats other
// than v2.
func FromMetadata(meta map[string]string) (*Envelope, error) {
	if err := checkFormat(func(k string) bool { _, ok := meta[k]; return ok }); err != nil {
		return nil, err
	}
	e := &Envelope{
		WrappedKey: meta[MetaKeyV2], IV: meta[MetaIV], MatDesc: meta[MetaMatDesc],
		WrapAlg: meta[MetaWrapAlg], CEKAlg: meta[MetaCEKAlg], TagLen: meta[MetaTagLen],
		PlainLen: meta[MetaPlainLen],
	}
	return e, e.validate()
}

// ParseInstruction reads an envelope from an instruction file. Numbers
// are accepted for the tag and content lengths, as other clients write them.
func ParseInstruction(b []byte) (*Envelope, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("cse: instruction file is not a JSON object: %w", err)
	}
	if err := checkFormat(func(k string) bool { _, ok := raw[k]; return ok }); err != nil {
		return nil, err
	}
	str := func(k string) (string, error) {
		v, ok := raw[k]
		if !ok || string(v) == "null" {
			return "", nil
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s, nil
		}
		var n json.Number
		if json.Unmarshal(v, &n) == nil {
			if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
				return string(n), nil
			}
		}
		return "", fmt.Errorf("cse: instruction file: %s is neither a string nor an integer", k)
	}
	e := &Envelope{}
	for _, f := range []struct {
		k string
		p *string
	}{{MetaKeyV2, &e.WrappedKey}, {MetaIV, &e.IV}, {MetaMatDesc, &e.MatDesc}, {MetaWrapAlg, &e.WrapAlg}, {MetaCEKAlg, &e.CEKAlg}, {MetaTagLen, &e.TagLen}, {MetaPlainLen, &e.PlainLen}} {
		v, err := str(f.k)
		if err != nil {
			return nil, err
		}
		*f.p = v
	}
	return e, e.validate()
}

// checkFormat applies the S3EC rule that exactly one content-key key
// names the format, and refuses all but v2.
func checkFormat(has func(string) bool) error {
	v1, v2, v3 := has(MetaKeyV1), has(MetaKeyV2), has(MetaKeyV3)
	switch {
	case !v1 && !v2 && !v3:
		return ErrNotEncrypted
	case (v1 && v2) || (v1 && v3) || (v2 && v3):
		return fmt.Errorf("%w: the metadata names more than one format", ErrUnsupported)
	case v1:
		return fmt.Errorf("%w: legacy v1 object (x-amz-key); decrypt it with an S3 Encryption Client that supports legacy formats", ErrUnsupported)
	case v3:
		return fmt.Errorf("%w: v3 key-committing object (x-amz-3)", ErrUnsupported)
	}
	return nil
}

func (e *Envelope) validate() error {
	if e.CEKAlg != CEKAESGCM {
		return fmt.Errorf("%w: content algorithm %q (only %s)", ErrUnsupported, e.CEKAlg, CEKAESGCM)
	}
	switch e.WrapAlg {
	case WrapKMSContext, WrapAESGCM, WrapRSAOAEP:
	default:
		return fmt.Errorf("%w: key wrapping %q (only %s, %s, %s)", ErrUnsupported, e.WrapAlg, WrapKMSContext, WrapAESGCM, WrapRSAOAEP)
	}
	if e.TagLen != "" && e.TagLen != tagLenBits {
		return fmt.Errorf("%w: tag length %q bits (only %s)", ErrUnsupported, e.TagLen, tagLenBits)
	}
	if _, err := e.iv(); err != nil {
		return err
	}
	if _, err := e.wrappedKey(); err != nil {
		return err
	}
	if _, err := e.matDesc(); err != nil {
		return err
	}
	if _, _, err := e.plainLen(); err != nil {
		return err
	}
	return nil
}

func (e *Envelope) iv() ([]byte, error) {
	iv, err := base64.StdEncoding.DecodeString(e.IV)
	if err != nil || len(iv) != IVSize {
		return nil, fmt.Errorf("cse: %s must be base64 of %d bytes", MetaIV, IVSize)
	}
	return iv, nil
}

func (e *Envelope) wrappedKey() ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(e.WrappedKey)
	if err != nil || len(k) == 0 {
		return nil, fmt.Errorf("cse: %s must be non-empty base64", MetaKeyV2)
	}
	return k, nil
}

// matDesc parses the material description: a JSON object of strings
// (empty means none).
func (e *Envelope) matDesc() (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(e.MatDesc) == "" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(e.MatDesc), &m); err != nil {
		return nil, fmt.Errorf("cse: %s is not a JSON object of strings", MetaMatDesc)
	}
	return m, nil
}

// plainLen returns the declared plaintext length, if any.
func (e *Envelope) plainLen() (int64, bool, error) {
	if e.PlainLen == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(e.PlainLen, 10, 64)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("cse: %s is not a length", MetaPlainLen)
	}
	return n, true, nil
}

// encodeContext is the material description of an encryption context:
// JSON with sorted keys, as the AWS clients write it.
func encodeContext(m map[string]string) string {
	b, _ := json.Marshal(m)
	return string(b)
}
