package s3api

import (
	"bytes"
	"encoding/xml"
	"net/http"

	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Default bucket encryption (PutBucketEncryption, GetBucketEncryption,
// DeleteBucketEncryption). Since 2023 every bucket has one: without a
// stored configuration it is SSE-S3. Since 2026 new buckets also block
// SSE-C writes until their configuration allows them.

const cfgEncryption = "encryption"

const (
	sseAlgAES256  = "AES256"
	sseAlgKMS     = "aws:kms"
	sseAlgKMSDSSE = "aws:kms:dsse"
	encTypeSSEC   = "SSE-C"
	encTypeNone   = "NONE"
)

type encConfig struct {
	XMLName xml.Name  `xml:"ServerSideEncryptionConfiguration"`
	Xmlns   string    `xml:"xmlns,attr,omitempty"`
	Rules   []encRule `xml:"Rule"`
}

type encRule struct {
	Default          *encDefault `xml:"ApplyServerSideEncryptionByDefault"`
	BucketKeyEnabled *bool       `xml:"BucketKeyEnabled"`
	Blocked          *encBlocked `xml:"BlockedEncryptionTypes"`
}

type encDefault struct {
	SSEAlgorithm   string `xml:"SSEAlgorithm"`
	KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty"`
}

type encBlocked struct {
	Types []string `xml:"EncryptionType"`
}

// newBucketEncryption is the configuration a new bucket starts with.
func newBucketEncryption() *encConfig {
	f := false
	return &encConfig{Rules: []encRule{{Default: &encDefault{SSEAlgorithm: sseAlgAES256}, BucketKeyEnabled: &f,
		Blocked: &encBlocked{Types: []string{encTypeSSEC}}}}}
}

// defaultEncryption is a new bucket's configuration, stored and parsed
// once: most buckets keep it, and every write consults it.
var (
	defaultEncryptionRaw = encodeEncryption(newBucketEncryption())
	defaultEncryption    = newBucketEncryption()
)

// bucketEncryption returns a bucket's configuration (shared: callers must
// not modify it); a bucket created before Coffer stored one gets SSE-S3
// and, as before, allows SSE-C.
func bucketEncryption(b *meta.Bucket) *encConfig {
	if b != nil {
		if raw, ok := b.Configs[cfgEncryption]; ok {
			if bytes.Equal(raw, defaultEncryptionRaw) {
				return defaultEncryption
			}
			var c encConfig
			if xml.Unmarshal(raw, &c) == nil && len(c.Rules) > 0 {
				return &c
			}
			// A stored configuration that no longer parses blocks
			// SSE-C and falls back to SSE-S3: fail closed.
			return newBucketEncryption()
		}
	}
	f := false
	return &encConfig{Rules: []encRule{{Default: &encDefault{SSEAlgorithm: sseAlgAES256}, BucketKeyEnabled: &f}}}
}

func (c *encConfig) rule() *encRule { return &c.Rules[0] }

// blocks reports whether writes of encryption type t are refused.
func (c *encConfig) blocks(t string) bool {
	for _, r := range c.Rules {
		if r.Blocked != nil {
			for _, x := range r.Blocked.Types {
				if x == t {
					return true
				}
			}
		}
	}
	return false
}

func encodeEncryption(c *encConfig) []byte {
	c.Xmlns = ""
	raw, _ := xml.Marshal(c)
	return raw
}

func (h *Handler) getBucketEncryption(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	c := *bucketEncryption(b)
	c.Xmlns = s3NS
	return writeXML(w, &c)
}

func (h *Handler) putBucketEncryption(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := needBucket(rq); err != nil {
		return err
	}
	body, err := checkedDoc(rq, r.Header)
	if err != nil {
		return err
	}
	var c encConfig
	if err := unmarshalXML(body, &c); err != nil {
		return err
	}
	if err := validateEncryption(&c); err != nil {
		return err
	}
	if c.rule().BucketKeyEnabled == nil {
		// Reported as false when not set, as AWS does.
		f := false
		c.rule().BucketKeyEnabled = &f
	}
	if err := h.setBucketConfig(rq, cfgEncryption, encodeEncryption(&c)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// validateEncryption checks a PutBucketEncryption document. AWS does not
// check that a KMS key exists (a wrong one fails the next write).
func validateEncryption(c *encConfig) error {
	if len(c.Rules) != 1 {
		return s3err.MalformedXML
	}
	r := c.rule()
	if r.Default == nil {
		return s3err.MalformedXML
	}
	switch r.Default.SSEAlgorithm {
	case sseAlgAES256:
		if r.Default.KMSMasterKeyID != "" {
			return s3err.InvalidArgument.WithMessage("a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse").
				With("ArgumentName", "ApplyServerSideEncryptionByDefault")
		}
	case sseAlgKMS:
	case sseAlgKMSDSSE:
		return s3err.NotImplemented.WithMessage("Dual-layer server-side encryption (aws:kms:dsse) is not implemented")
	default:
		return s3err.MalformedXML
	}
	if r.Blocked != nil {
		seen := map[string]bool{}
		for _, t := range r.Blocked.Types {
			if (t != encTypeSSEC && t != encTypeNone) || seen[t] {
				return s3err.MalformedXML
			}
			seen[t] = true
		}
		if seen[encTypeNone] && len(seen) > 1 {
			return s3err.InvalidArgument.WithMessage("NONE cannot be combined with other encryption types in BlockedEncryptionTypes").
				With("ArgumentName", "BlockedEncryptionTypes")
		}
	}
	return nil
}

func (h *Handler) deleteBucketEncryption(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := needBucket(rq); err != nil {
		return err
	}
	// Deleting resets to the default a new bucket has (SSE-S3, SSE-C
	// blocked): encryption cannot be switched off.
	if err := h.setBucketConfig(rq, cfgEncryption, encodeEncryption(newBucketEncryption())); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
