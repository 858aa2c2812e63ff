// Package sigv4 authenticates S3 requests signed with AWS Signature Version
// 4: Authorization-header signatures, presigned URLs, aws-chunked bodies
// (signed chunks, signed and unsigned trailers) and browser POST policies.
// It answers with AWS's exact error codes and messages (see the Err*
// values and Error), so that SDKs and test suites see what S3 would say.
//
// The package is pure: it does not import net/http nor any storage or
// server package. Callers copy the few request fields signing covers into a
// Request, and the package never touches keys other than the one secret it
// is handed. It also signs requests (SignRequest, PresignRequest) for the
// server's own clients and the load generator.
//
// # Pipeline
//
// Parse classifies a request (Anonymous, HeaderAuth, PresignedAuth) and
// parses its signature without cryptography; Auth.CheckScope checks the
// credential scope's region and service; the caller looks the access key
// up (returning InvalidAccessKeyID(akid) when unknown); Verify checks the
// clock (MaxClockSkew, presigned expiry), that host and every x-amz-*
// header are signed, and the signature; NewBodyReader wraps the body so
// that the payload is verified as it streams: a whole-body SHA-256 check
// (NewPayloadVerifier) or aws-chunked decoding (NewChunkedReader). Body
// readers pass data through as it arrives; nothing read may be committed
// unless the reader returned io.EOF.
//
// Wiring from an *http.Request, for an S3 endpoint in region "us-east-1":
//
//	req := &sigv4.Request{
//		Method:      r.Method,
//		Host:        r.Host,
//		EscapedPath: r.URL.EscapedPath(),
//		RawQuery:    r.URL.RawQuery,
//		Header:      r.Header,
//	}
//	a, err := sigv4.Parse(req)
//	if err != nil {
//		return err // *sigv4.Error: Code, Message, Status, Fields
//	}
//	var v *sigv4.Verified
//	if a.Kind != sigv4.Anonymous {
//		if err := a.CheckScope("us-east-1", "s3"); err != nil {
//			return err
//		}
//		secret, ok := keys.Lookup(a.AccessKeyID)
//		if !ok {
//			return sigv4.InvalidAccessKeyID(a.AccessKeyID)
//		}
//		if v, err = sigv4.Verify(req, a, secret, time.Now()); err != nil {
//			return err
//		}
//	}
//	body, err := sigv4.NewBodyReader(r.Body, a, v, r.Header)
//	if err != nil {
//		return err
//	}
//	// ... stream body to storage; commit only after io.EOF. For aws-chunked
//	// bodies, body.(*sigv4.ChunkedReader).Trailers() then holds the
//	// trailing checksums.
//
// Other services (IAM, STS, KMS) use the same calls with their service name
// in CheckScope; their clients may omit x-amz-content-sha256, in which case
// Auth.PayloadHash is "" and the caller sets it to HashHex(body) before
// Verify.
//
// Browser POST uploads use ParsePostForm, PostAuth.CheckScope,
// VerifyPostPolicy and PostPolicy.LimitReader on the form fields the
// caller's multipart parser produced.
//
// # Canonicalization
//
// The canonical request follows S3's rules: the path is URI-encoded once
// per segment (re-encoded from what the client sent, no dot-segment
// removal), query parameters are decoded, re-encoded and sorted (presigned
// URLs leave out X-Amz-Signature), header values are trimmed with inner
// runs of spaces collapsed and repeated headers joined by ",", and the
// payload hash is the literal x-amz-content-sha256 (UNSIGNED-PAYLOAD for
// presigned URLs unless a hash is given).
package sigv4
