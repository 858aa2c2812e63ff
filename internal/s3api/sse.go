package s3api

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/objects"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Server-side encryption on the wire (data-protection spec §1): which
// headers each operation accepts, how a write's encryption is chosen
// (request headers, else the bucket default), and which headers each
// response echoes.

// Header names.
const (
	hdrSSE          = "X-Amz-Server-Side-Encryption"
	hdrSSEKMSKeyID  = "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"
	hdrSSEContext   = "X-Amz-Server-Side-Encryption-Context"
	hdrSSEBucketKey = "X-Amz-Server-Side-Encryption-Bucket-Key-Enabled"
	hdrSSECAlg      = "X-Amz-Server-Side-Encryption-Customer-Algorithm"
	hdrSSECKey      = "X-Amz-Server-Side-Encryption-Customer-Key"
	hdrSSECKeyMD5   = "X-Amz-Server-Side-Encryption-Customer-Key-Md5"
	hdrCopySSEC     = "X-Amz-Copy-Source-Server-Side-Encryption-Customer-"
)

// customerKey is a validated SSE-C key from a request.
type customerKey struct {
	key []byte
	md5 string // base64, as sent
}

var errKMSNeedsSigV4 = s3err.InvalidArgument.WithMessage("Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.").
	With("ArgumentName", "Authorization")

// errKMSInsecure refuses SSE-KMS over plain HTTP: AWS fails every GET
// and PUT of an SSE-KMS object not made over TLS.
var errKMSInsecure = s3err.InvalidRequest.WithMessage("Requests specifying Server Side Encryption with AWS KMS managed keys must be made over a secure connection.")

var errSSECInsecure = s3err.InvalidRequest.WithMessage("Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.")

// parseCustomerKey reads an SSE-C header trio (prefix is
// "X-Amz-Server-Side-Encryption-Customer-" or the copy-source form); nil
// if none of the three is present.
func parseCustomerKey(r *http.Request, hdr http.Header, prefix string) (*customerKey, error) {
	alg, key, sum := hdr.Get(prefix+"Algorithm"), hdr.Get(prefix+"Key"), hdr.Get(prefix+"Key-Md5")
	if alg == "" && key == "" && sum == "" {
		return nil, nil
	}
	if r.TLS == nil {
		return nil, errSSECInsecure
	}
	arg := func(e *s3err.Error) *s3err.Error { return e.With("ArgumentName", "x-amz-server-side-encryption") }
	switch {
	case alg == "":
		return nil, arg(s3err.InvalidArgument.WithMessage("Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm."))
	case alg != objects.AlgorithmAES256:
		return nil, arg(s3err.InvalidEncryptionAlgorithm.WithMessage("The Encryption request you specified is not valid. Supported value: AES256.")).With("ArgumentValue", alg)
	case key == "":
		return nil, arg(s3err.InvalidArgument.WithMessage("Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key."))
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) != objects.CustomerKeySize {
		return nil, arg(s3err.InvalidArgument.WithMessage("The secret key was invalid for the specified algorithm."))
	}
	if sum == "" {
		return nil, arg(s3err.InvalidArgument.WithMessage("Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key."))
	}
	want := md5.Sum(raw)
	if got, err := base64.StdEncoding.DecodeString(sum); err != nil || string(got) != string(want[:]) {
		return nil, arg(s3err.InvalidArgument.WithMessage("The calculated MD5 hash of the key did not match the hash that was provided."))
	}
	return &customerKey{key: raw, md5: sum}, nil
}

func (c *customerKey) raw() []byte {
	if c == nil {
		return nil
	}
	return c.key
}

// requesterAccount is the account on whose behalf the KMS is used: the
// requester's (aliases and bare key IDs resolve in it), or the bucket
// owner's for anonymous requests.
func requesterAccount(rq *request, b *meta.Bucket) string {
	if rq.principal != nil && !rq.principal.IsAnonymous() && rq.principal.AccountID != "" {
		return rq.principal.AccountID
	}
	if b != nil {
		return b.Owner
	}
	return ""
}

// kmsCtx returns ctx carrying the requester for the KMS (key policies
// are evaluated for the principal, via S3).
func (h *Handler) kmsCtx(r *http.Request, rq *request) context.Context {
	if rq.kctx == nil {
		rq.kctx = authz.WithCaller(r.Context(), &authz.Caller{
			Principal:  rq.principal,
			Conditions: globalConditions(h.conditionContext(r, rq)),
			ViaService: "s3." + h.cfg.Region + ".amazonaws.com",
		})
	}
	return rq.kctx
}

// globalConditions keeps the aws: keys of a condition context.
func globalConditions(c map[string][]string) map[string][]string {
	g := make(map[string][]string, len(c))
	for k, v := range c {
		if strings.HasPrefix(k, "aws:") {
			g[k] = v
		}
	}
	return g
}

// writeSSE is a write's encryption as requested.
type writeSSE struct {
	sse *objects.SSE // nil: SSE-S3
	ck  *customerKey
	// applied is the audit's SSEApplied value.
	applied string
}

// parseWriteSSE decides how a PutObject, CopyObject (destination),
// CreateMultipartUpload or POST writes: from the request's headers (or
// form fields), else from the bucket's default encryption.
func parseWriteSSE(r *http.Request, hdr http.Header, rq *request, b *meta.Bucket) (*writeSSE, error) {
	ck, err := parseCustomerKey(r, hdr, "X-Amz-Server-Side-Encryption-Customer-")
	if err != nil {
		return nil, err
	}
	alg := hdr.Get(hdrSSE)
	if ck != nil && alg != "" {
		return nil, s3err.InvalidArgument.WithMessage("Server Side Encryption with Customer provided key is incompatible with the encryption method specified").
			With("ArgumentName", "x-amz-server-side-encryption").With("ArgumentValue", alg)
	}
	if (hdr.Get(hdrSSEKMSKeyID) != "" || hdr.Get(hdrSSEContext) != "") && alg != "aws:kms" && alg != "aws:kms:dsse" {
		return nil, s3err.InvalidArgument.WithMessage("Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms").
			With("ArgumentName", "x-amz-server-side-encryption")
	}
	var bucketKey *bool
	if v := hdr.Get(hdrSSEBucketKey); v != "" {
		on := strings.EqualFold(v, "true")
		if !on && !strings.EqualFold(v, "false") {
			return nil, s3err.InvalidArgument.WithMessage("Invalid value for x-amz-server-side-encryption-bucket-key-enabled").
				With("ArgumentName", "x-amz-server-side-encryption-bucket-key-enabled").With("ArgumentValue", v)
		}
		bucketKey = &on
	}
	cfg := bucketEncryption(b)
	if ck != nil {
		if cfg.blocks(encTypeSSEC) {
			return nil, s3err.AccessDenied
		}
		return &writeSSE{sse: &objects.SSE{Mode: meta.SSEC, CustomerKey: ck.key}, ck: ck, applied: "SSE_C"}, nil
	}
	requester := requesterAccount(rq, b)
	switch alg {
	case "":
		// The bucket default decides.
		d := cfg.rule().Default
		if d == nil || d.SSEAlgorithm != sseAlgKMS {
			return &writeSSE{applied: "Default_SSE_S3"}, nil
		}
		if rq.principal == nil || rq.principal.IsAnonymous() {
			return nil, errKMSNeedsSigV4
		}
		bk := cfg.rule().BucketKeyEnabled != nil && *cfg.rule().BucketKeyEnabled
		if bucketKey != nil {
			bk = *bucketKey
		}
		return &writeSSE{sse: &objects.SSE{Mode: meta.SSEKMS, KMSKeyID: d.KMSMasterKeyID, BucketKey: bk, Requester: requester}, applied: "Default_SSE_KMS"}, nil
	case objects.AlgorithmAES256:
		return &writeSSE{applied: "SSE_S3"}, nil
	case "aws:kms":
	case "aws:kms:dsse":
		return nil, s3err.NotImplemented.WithMessage("Dual-layer server-side encryption (aws:kms:dsse) is not implemented").With("Header", "x-amz-server-side-encryption")
	default:
		return nil, s3err.InvalidArgument.WithMessage("The encryption method specified is not supported").
			With("ArgumentName", "x-amz-server-side-encryption").With("ArgumentValue", alg)
	}
	sse := &objects.SSE{Mode: meta.SSEKMS, KMSKeyID: hdr.Get(hdrSSEKMSKeyID), Requester: requester}
	if rq.principal == nil || rq.principal.IsAnonymous() {
		// The KMS acts for a principal; AWS refuses unsigned SSE-KMS.
		return nil, errKMSNeedsSigV4
	}
	if d := cfg.rule(); bucketKey != nil {
		sse.BucketKey = *bucketKey
	} else if d.Default != nil && d.Default.SSEAlgorithm == sseAlgKMS && d.BucketKeyEnabled != nil {
		sse.BucketKey = *d.BucketKeyEnabled
	}
	if v := hdr.Get(hdrSSEContext); v != "" {
		c, err := parseEncryptionContext(v)
		if err != nil {
			return nil, err
		}
		sse.Context = c
	}
	return &writeSSE{sse: sse, applied: "SSE_KMS"}, nil
}

// parseEncryptionContext decodes x-amz-server-side-encryption-context:
// base64 of a JSON object of strings. The aws: prefix is reserved for
// what S3 adds.
func parseEncryptionContext(v string) (map[string]string, error) {
	bad := s3err.InvalidArgument.WithMessage("The header 'x-amz-server-side-encryption-context' must be a base64 encoded JSON object of string key-value pairs.").
		With("ArgumentName", "x-amz-server-side-encryption-context")
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, bad
	}
	var c map[string]string
	if err := json.Unmarshal(raw, &c); err != nil || c == nil {
		return nil, bad
	}
	for k := range c {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, s3err.InvalidArgument.WithMessage("Encryption context keys cannot start with the reserved prefix aws:").
				With("ArgumentName", "x-amz-server-side-encryption-context")
		}
	}
	return c, nil
}

// refuseReadSSEHeaders answers GET and HEAD requests that name an
// encryption method: only SSE-C keys belong on reads.
func refuseReadSSEHeaders(hdr http.Header) error {
	for _, h := range []string{hdrSSE, hdrSSEKMSKeyID, hdrSSEContext, hdrSSEBucketKey} {
		if hdr.Get(h) != "" {
			return s3err.InvalidArgument.WithMessage("x-amz-server-side-encryption header is not supported for this operation.").
				With("ArgumentName", strings.ToLower(h))
		}
	}
	return nil
}

// readKeyError turns objects' SSE-C read errors into AWS's. source says
// the key was for the source of a copy.
func readKeyError(err error, source bool) error {
	switch {
	case errors.Is(err, objects.ErrCustomerKeyRequired):
		return s3err.InvalidRequest.WithMessage("The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
	case errors.Is(err, objects.ErrCustomerKeyNotApplicable):
		return s3err.InvalidRequest.WithMessage("The encryption parameters are not applicable to this object.")
	case errors.Is(err, objects.ErrCustomerKeyMismatch):
		if source {
			return s3err.AccessDenied
		}
		return s3err.AccessDenied.WithMessage("Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.")
	}
	return err
}

// readKeys checks the SSE-C key a read carries (prefix: the header trio)
// against v and returns what opening v needs.
func (h *Handler) readKeys(r *http.Request, rq *request, v *meta.ObjectVersion, prefix string) (objects.ReadKeys, *customerKey, error) {
	ck, err := parseCustomerKey(r, r.Header, prefix)
	if err != nil {
		return objects.ReadKeys{}, nil, err
	}
	if objects.Mode(v) == meta.SSEKMS && (rq.principal == nil || rq.principal.IsAnonymous()) {
		// The KMS acts for a principal: AWS answers unsigned reads of
		// SSE-KMS objects (a public object, say) with this error.
		return objects.ReadKeys{}, nil, errKMSNeedsSigV4
	}
	if objects.Mode(v) == meta.SSEKMS && r.TLS == nil {
		return objects.ReadKeys{}, nil, errKMSInsecure
	}
	keys := objects.ReadKeys{CustomerKey: ck.raw(), Requester: requesterAccount(rq, rq.bucket)}
	if err := h.obj.CheckReadKeys(h.kmsCtx(r, rq), v, keys); err != nil {
		return keys, nil, readKeyError(err, prefix == hdrCopySSEC)
	}
	return keys, ck, nil
}

// setSSEHeaders writes the encryption response headers of an object or
// part written or read with env: the mode, the KMS key ARN and bucket-key
// flag for SSE-KMS, the algorithm and key MD5 for SSE-C. withContext adds
// the SSE-KMS context (Put, Copy and CreateMultipartUpload only).
func setSSEHeaders(w http.ResponseWriter, env *meta.Encryption, ck *customerKey, bucket, key string, withContext bool) {
	if env == nil {
		return
	}
	hd := w.Header()
	switch env.Algorithm {
	case meta.SSES3:
		hd.Set(hdrSSE, objects.AlgorithmAES256)
	case meta.SSEKMS:
		hd.Set(hdrSSE, "aws:kms")
		hd.Set(hdrSSEKMSKeyID, env.KeyID)
		if env.BucketKey {
			hd.Set(hdrSSEBucketKey, "true")
		}
		if withContext {
			if c, err := objects.EncryptionContext(env, bucket, key); err == nil {
				if b, err := json.Marshal(c); err == nil {
					hd.Set(hdrSSEContext, base64.StdEncoding.EncodeToString(b))
				}
			}
		}
	case meta.SSEC:
		hd.Set(hdrSSECAlg, objects.AlgorithmAES256)
		if ck != nil {
			hd.Set(hdrSSECKeyMD5, ck.md5)
		}
	}
}

// setUploadSSEHeaders writes CreateMultipartUpload's and UploadPart's
// encryption headers from the upload's setting.
func setUploadSSEHeaders(w http.ResponseWriter, u *meta.Upload, ck *customerKey, withContext bool, encrypting bool) {
	if !encrypting {
		return
	}
	env := &meta.Encryption{Algorithm: meta.SSES3}
	if u.SSE != nil {
		switch u.SSE.Mode {
		case meta.SSEKMS:
			env = &meta.Encryption{Algorithm: meta.SSEKMS, KeyID: u.SSE.KMSKeyID, Context: u.SSE.Context, BucketKey: u.SSE.BucketKey}
		case meta.SSEC:
			env = &meta.Encryption{Algorithm: meta.SSEC}
		}
	}
	setSSEHeaders(w, env, ck, u.Bucket, u.Key, withContext)
}

// writeSSE parses a write's encryption (see parseWriteSSE), refusing
// SSE-KMS and SSE-C when encryption at rest is switched off.
func (h *Handler) writeSSE(r *http.Request, hdr http.Header, rq *request, b *meta.Bucket) (*writeSSE, error) {
	ws, err := parseWriteSSE(r, hdr, rq, b)
	if err != nil {
		return nil, err
	}
	if ws.sse != nil && ws.sse.Mode == meta.SSEKMS && r.TLS == nil {
		return nil, errKMSInsecure
	}
	if ws.sse != nil && !h.obj.Encrypting() {
		return nil, s3err.NotImplemented.WithMessage("Server side encryption specified but encryption at rest is disabled on this server")
	}
	if h.obj.Encrypting() && rq.ev != nil {
		rq.ev.SSEApplied = ws.applied
	}
	return ws, nil
}

// versionSSEHeaders writes the encryption headers of a stored version.
func versionSSEHeaders(w http.ResponseWriter, v *meta.ObjectVersion, ck *customerKey, withContext bool) {
	if objects.Encrypted(v) {
		setSSEHeaders(w, objects.FirstEnvelope(v), ck, v.Bucket, v.Key, withContext)
	}
}
