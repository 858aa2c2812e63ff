package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/coffer-io/coffer/internal/auth/sigv4"
	"github.com/coffer-io/coffer/internal/cse"
)

// cseCmd is client-side encryption compatible with the Amazon S3
// Encryption Client v2. It is a command of its own rather than flags on a
// generic object command because its data never travels or rests in
// plaintext: the key material flags belong to it alone, and a download
// is all-or-nothing (nothing is written unless the object authenticates).
type cseCmd struct {
	Put cseputCmd `cmd:"" help:"Encrypt a local file on this machine and upload it."`
	Get csegetCmd `cmd:"" help:"Download an object and decrypt it on this machine; the output appears only if the object authenticates."`
}

// cseKeyFlags choose the key material.
type cseKeyFlags struct {
	KMSKeyID          string   `name:"kms-key-id" help:"KMS key (id, ARN or alias) that wraps the data key (kms+context), through the server's KMS API. On get: require this key."`
	AESKeyFile        string   `name:"aes-key-file" help:"File with a local 256-bit wrapping key (32 raw bytes or their base64) (AES/GCM)." type:"path"`
	RSAKeyFile        string   `name:"rsa-key-file" help:"PEM RSA key (RSA-OAEP-SHA1): public or private for put, private for get." type:"path"`
	EncryptionContext []string `name:"encryption-context" help:"KMS encryption context entry KEY=VALUE (repeatable). On get: the object's context must be exactly this." sep:"none"`
	InstructionFile   bool     `name:"instruction-file" help:"Keep the encryption metadata in the object KEY.instruction instead of the object's metadata (get: read it from there)."`
}

type cseputCmd struct {
	File               string `arg:"" help:"Local file to encrypt." type:"existingfile"`
	Target             string `arg:"" help:"Destination s3://BUCKET/KEY."`
	MultipartThreshold string `name:"multipart-threshold" help:"Upload in parts when the encrypted object is larger than this." default:"5GiB"`
	PartSize           string `name:"part-size" help:"Part size of multipart uploads (at least 5MiB)." default:"64MiB"`
	remoteFlags
	cseKeyFlags
}

type csegetCmd struct {
	Source string `arg:"" help:"Object s3://BUCKET/KEY."`
	File   string `arg:"" help:"Output file, or - for standard output (written only after the object authenticates)."`
	remoteFlags
	cseKeyFlags
}

func parseS3URL(s string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if ok {
		bucket, key, ok = strings.Cut(rest, "/")
	}
	if !ok || bucket == "" || key == "" {
		return "", "", fmt.Errorf("%q: want s3://BUCKET/KEY", s)
	}
	return bucket, key, nil
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

func (c *cseputCmd) Run() error {
	bucket, key, err := parseS3URL(c.Target)
	if err != nil {
		return err
	}
	threshold, err := humanize.ParseBytes(c.MultipartThreshold)
	if err != nil {
		return fmt.Errorf("--multipart-threshold: %w", err)
	}
	partSize, err := humanize.ParseBytes(c.PartSize)
	if err != nil || partSize < 5<<20 || partSize > 5<<30 {
		return errors.New("--part-size must be between 5MiB and 5GiB")
	}
	cl, err := newCSEClient(&c.remoteFlags)
	if err != nil {
		return err
	}
	kr, err := c.keyring(cl)
	if err != nil {
		return err
	}
	f, err := os.Open(c.File)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", c.File)
	}
	ctx, cancel := signalContext()
	defer cancel()
	sealed, err := cse.Encrypt(ctx, kr, f, fi.Size())
	if err != nil {
		return err
	}
	meta := sealed.Envelope.Metadata()
	if c.InstructionFile {
		meta = nil
	}
	if uint64(sealed.Size) > threshold {
		err = cl.putMultipart(ctx, bucket, key, meta, sealed.Body, sealed.Size, int64(partSize))
	} else {
		err = cl.put(ctx, bucket, key, meta, sealed.Body, sealed.Size)
	}
	if err != nil {
		return err
	}
	if c.InstructionFile {
		// Written after the object: between the two writes a reader finds
		// the previous instruction file, whose key fails to authenticate
		// the new object, so nothing wrong is ever decrypted.
		inst := sealed.Envelope.Instruction()
		if err := cl.put(ctx, bucket, key+cse.InstructionSuffix, nil, bytes.NewReader(inst), int64(len(inst))); err != nil {
			return fmt.Errorf("the object was uploaded but its instruction file was not, so it cannot be decrypted: %w", err)
		}
	}
	return nil
}

func (c *cseputCmd) keyring(cl *cseClient) (cse.Keyring, error) {
	n := 0
	for _, s := range []string{c.KMSKeyID, c.AESKeyFile, c.RSAKeyFile} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("give exactly one of --kms-key-id, --aes-key-file, --rsa-key-file")
	}
	ec, err := cse.ParseContext(c.EncryptionContext)
	if err != nil {
		return nil, err
	}
	if ec != nil && c.KMSKeyID == "" {
		// Local keyrings do not authenticate a material description, so
		// accepting a context would suggest a protection that is not there.
		return nil, errors.New("--encryption-context applies to --kms-key-id only")
	}
	switch {
	case c.KMSKeyID != "":
		return &cse.KMSKeyring{KMS: cl, KeyID: c.KMSKeyID, Context: ec}, nil
	case c.AESKeyFile != "":
		k, err := readAESKey(c.AESKeyFile)
		if err != nil {
			return nil, err
		}
		return &cse.AESKeyring{Key: k}, nil
	default:
		b, err := os.ReadFile(c.RSAKeyFile)
		if err != nil {
			return nil, err
		}
		pub, _, err := cse.ParseRSAKey(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.RSAKeyFile, err)
		}
		return &cse.RSAKeyring{Public: pub}, nil
	}
}

func readAESKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := cse.ParseAESKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func (c *csegetCmd) Run() error {
	bucket, key, err := parseS3URL(c.Source)
	if err != nil {
		return err
	}
	cl, err := newCSEClient(&c.remoteFlags)
	if err != nil {
		return err
	}
	u := &cse.Unwrapper{KMS: cl, KMSKeyID: c.KMSKeyID}
	if u.Context, err = cse.ParseContext(c.EncryptionContext); err != nil {
		return err
	}
	if c.AESKeyFile != "" {
		if u.AESKey, err = readAESKey(c.AESKeyFile); err != nil {
			return err
		}
	}
	if c.RSAKeyFile != "" {
		b, err := os.ReadFile(c.RSAKeyFile)
		if err != nil {
			return err
		}
		_, priv, err := cse.ParseRSAKey(b)
		if err != nil {
			return fmt.Errorf("%s: %w", c.RSAKeyFile, err)
		}
		if priv == nil {
			return fmt.Errorf("%s: decryption needs the RSA private key", c.RSAKeyFile)
		}
		u.RSAKey = priv
	}
	ctx, cancel := signalContext()
	defer cancel()

	resp, err := cl.get(ctx, bucket, key)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env *cse.Envelope
	meta := userMetadata(resp.Header)
	if c.InstructionFile || !cse.HasEnvelope(meta) {
		ir, err := cl.get(ctx, bucket, key+cse.InstructionSuffix)
		if err != nil {
			var re *remoteError
			if !c.InstructionFile && errors.As(err, &re) && re.Code == "NoSuchKey" {
				return fmt.Errorf("s3://%s/%s is not client-side encrypted (no envelope in its metadata and no instruction file)", bucket, key)
			}
			return fmt.Errorf("instruction file: %w", err)
		}
		b, err := io.ReadAll(io.LimitReader(ir.Body, 1<<20))
		ir.Body.Close()
		if err != nil {
			return err
		}
		if env, err = cse.ParseInstruction(b); err != nil {
			return err
		}
	} else if env, err = cse.FromMetadata(meta); err != nil {
		return err
	}

	// Plaintext goes to a private temporary file and reaches its
	// destination only after the GCM tag has been verified.
	toStdout := c.File == "-"
	path := c.File
	if toStdout {
		path = os.TempDir() + "/coffer-cse"
	}
	out, err := cse.CreateAtomic(path)
	if err != nil {
		return err
	}
	defer out.Abort()
	if _, err := cse.Decrypt(ctx, u, env, resp.Body, out); err != nil {
		return err
	}
	if toStdout {
		f := out.File()
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		_, err := io.Copy(os.Stdout, f)
		return err
	}
	return out.Commit()
}

// userMetadata returns x-amz-meta-* headers, lower-case and without the
// prefix.
func userMetadata(h http.Header) map[string]string {
	m := map[string]string{}
	for k, v := range h {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-meta-") && len(v) > 0 {
			m[strings.TrimPrefix(lk, "x-amz-meta-")] = v[0]
		}
	}
	return m
}

// cseClient speaks just enough S3 (path-style) and KMS (JSON 1.1) for the
// cse commands, signing with Coffer's own SigV4 signer. Bodies stream with
// UNSIGNED-PAYLOAD (the connection is TLS), so an upload encrypts the file
// once, in one pass.
type cseClient struct {
	f                 *remoteFlags
	hc                *http.Client
	id, secret, token string
	endpoint          *url.URL
}

func newCSEClient(f *remoteFlags) (*cseClient, error) {
	if f.Endpoint == "" {
		return nil, errors.New("give --endpoint (or AWS_ENDPOINT_URL)")
	}
	u, err := url.Parse(strings.TrimSuffix(f.Endpoint, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("--endpoint %q: want https://HOST[:PORT]", f.Endpoint)
	}
	id, secret, token, err := f.credentials()
	if err != nil {
		return nil, err
	}
	hc, err := f.httpClient()
	if err != nil {
		return nil, err
	}
	// Large objects take longer than the admin commands' timeout; the
	// server's idle timeout still cuts a stalled transfer.
	hc.Timeout = 0
	return &cseClient{f: f, hc: hc, id: id, secret: secret, token: token, endpoint: u}, nil
}

// escapeKey encodes an object key path the way AWS SigV4 canonicalises
// it: every byte but unreserved characters and '/' percent-encoded.
func escapeKey(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// do sends one signed request. payloadHash "" means UNSIGNED-PAYLOAD for
// S3. A non-2xx answer becomes an error naming the server's code.
func (c *cseClient) do(ctx context.Context, method, service, escPath, rawQuery string, hdr http.Header, body io.Reader, size int64, payloadHash string) (*http.Response, error) {
	u := *c.endpoint
	u.RawPath = c.endpoint.EscapedPath() + escPath
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return nil, err
	}
	u.Path = p
	u.RawQuery = rawQuery
	if body == nil {
		body = http.NoBody
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	for k, v := range hdr {
		req.Header[k] = v
	}
	if c.token != "" {
		req.Header.Set("X-Amz-Security-Token", c.token)
	}
	sr := &sigv4.Request{Method: method, Host: req.URL.Host, EscapedPath: req.URL.EscapedPath(), RawQuery: req.URL.RawQuery, Header: req.Header}
	sigv4.SignRequest(sr, c.id, c.secret, c.f.Region, service, payloadHash, time.Now())
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return nil, parseRemoteError(resp.Status, raw)
	}
	return resp, nil
}

// remoteError is an error answer of the server: its S3 (XML) or KMS
// (JSON) code and message.
type remoteError struct {
	Status        string
	Code, Message string
}

func (e *remoteError) Error() string {
	if e.Code == "" {
		return "server answered " + e.Status
	}
	return fmt.Sprintf("server answered %s: %s: %s", e.Status, e.Code, e.Message)
}

func parseRemoteError(status string, raw []byte) error {
	var x struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if xml.Unmarshal(raw, &x) == nil && x.Code != "" {
		return &remoteError{status, x.Code, x.Message}
	}
	var j struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
		Msg     string `json:"Message"`
	}
	if json.Unmarshal(raw, &j) == nil && j.Type != "" {
		if j.Message == "" {
			j.Message = j.Msg
		}
		return &remoteError{status, j.Type, j.Message}
	}
	return &remoteError{Status: status}
}

func objectPath(bucket, key string) string { return "/" + escapeKey(bucket) + "/" + escapeKey(key) }

func metaHeaders(meta map[string]string) http.Header {
	h := http.Header{}
	for k, v := range meta {
		h.Set("X-Amz-Meta-"+k, v)
	}
	return h
}

func (c *cseClient) put(ctx context.Context, bucket, key string, meta map[string]string, body io.Reader, size int64) error {
	resp, err := c.do(ctx, http.MethodPut, "s3", objectPath(bucket, key), "", metaHeaders(meta), body, size, "")
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func (c *cseClient) get(ctx context.Context, bucket, key string) (*http.Response, error) {
	return c.do(ctx, http.MethodGet, "s3", objectPath(bucket, key), "", nil, nil, 0, "")
}

// putMultipart uploads size bytes of body in parts of partSize, streaming
// each part; any failure aborts the upload.
func (c *cseClient) putMultipart(ctx context.Context, bucket, key string, meta map[string]string, body io.Reader, size, partSize int64) (err error) {
	if (size+partSize-1)/partSize > 10000 {
		return fmt.Errorf("%d-byte parts would exceed 10000 parts; raise --part-size", partSize)
	}
	path := objectPath(bucket, key)
	resp, err := c.do(ctx, http.MethodPost, "s3", path, "uploads=", metaHeaders(meta), nil, 0, sigv4.EmptySHA256)
	if err != nil {
		return err
	}
	var init struct {
		UploadID string `xml:"UploadId"`
	}
	err = xml.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&init)
	resp.Body.Close()
	if err != nil || init.UploadID == "" {
		return errors.New("CreateMultipartUpload: no upload id in the answer")
	}
	uid := url.QueryEscape(init.UploadID)
	defer func() {
		if err != nil {
			if r, aerr := c.do(context.Background(), http.MethodDelete, "s3", path, "uploadId="+uid, nil, nil, 0, sigv4.EmptySHA256); aerr == nil {
				r.Body.Close()
			}
		}
	}()
	type part struct {
		PartNumber int    `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
	}
	var parts []part
	for n, off := 1, int64(0); off < size; n++ {
		l := min(partSize, size-off)
		r, err := c.do(ctx, http.MethodPut, "s3", path, "partNumber="+strconv.Itoa(n)+"&uploadId="+uid, nil, io.LimitReader(body, l), l, "")
		if err != nil {
			return fmt.Errorf("part %d: %w", n, err)
		}
		r.Body.Close()
		parts = append(parts, part{n, r.Header.Get("ETag")})
		off += l
	}
	doc, _ := xml.Marshal(struct {
		XMLName xml.Name `xml:"CompleteMultipartUpload"`
		Parts   []part   `xml:"Part"`
	}{Parts: parts})
	r, err := c.do(ctx, http.MethodPost, "s3", path, "uploadId="+uid, http.Header{"Content-Type": {"application/xml"}}, bytes.NewReader(doc), int64(len(doc)), sigv4.HashHex(doc))
	if err != nil {
		return err
	}
	defer r.Body.Close()
	// CompleteMultipartUpload can fail after a 200 status, in the body.
	raw, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return err
	}
	if bytes.Contains(raw, []byte("<Error>")) {
		return parseRemoteError(r.Status, raw)
	}
	return nil
}

// kms calls a KMS JSON 1.1 operation on the same endpoint, signed for
// service "kms".
func (c *cseClient) kms(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	hdr := http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"TrentService." + op}}
	resp, err := c.do(ctx, http.MethodPost, "kms", "/", "", hdr, bytes.NewReader(body), int64(len(body)), sigv4.HashHex(body))
	if err != nil {
		return fmt.Errorf("KMS %s: %w", op, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return fmt.Errorf("KMS %s: %w", op, err)
	}
	return nil
}

// GenerateDataKey implements cse.KMS.
func (c *cseClient) GenerateDataKey(ctx context.Context, keyID string, ec map[string]string) ([]byte, []byte, error) {
	var out struct{ Plaintext, CiphertextBlob []byte }
	err := c.kms(ctx, "GenerateDataKey", struct {
		KeyID             string            `json:"KeyId"`
		KeySpec           string            `json:"KeySpec"`
		EncryptionContext map[string]string `json:"EncryptionContext"`
	}{keyID, "AES_256", ec}, &out)
	return out.Plaintext, out.CiphertextBlob, err
}

// Decrypt implements cse.KMS.
func (c *cseClient) Decrypt(ctx context.Context, keyID string, blob []byte, ec map[string]string) ([]byte, error) {
	var out struct{ Plaintext []byte }
	err := c.kms(ctx, "Decrypt", struct {
		CiphertextBlob    []byte            `json:"CiphertextBlob"`
		KeyID             string            `json:"KeyId,omitempty"`
		EncryptionContext map[string]string `json:"EncryptionContext"`
	}{blob, keyID, ec}, &out)
	return out.Plaintext, err
}
