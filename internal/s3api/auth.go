package s3api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/auth/sigv4"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

func sigv4Request(r *http.Request) *sigv4.Request {
	hdr := r.Header
	// net/http moves Transfer-Encoding out of the header map, but botocore
	// (aws CLI v2, boto3) signs it on aws-chunked uploads with trailing
	// checksums; put it back (on a copy) so the canonical request matches.
	if len(r.TransferEncoding) > 0 && len(hdr.Values("Transfer-Encoding")) == 0 {
		hdr = hdr.Clone()
		hdr.Set("Transfer-Encoding", strings.Join(r.TransferEncoding, ","))
	}
	return &sigv4.Request{
		Method:      r.Method,
		Host:        r.Host,
		EscapedPath: r.URL.EscapedPath(),
		RawQuery:    r.URL.RawQuery,
		Header:      hdr,
	}
}

// authenticate verifies the request's signature, resolves its principal
// and wraps the body in the verifier its payload mode needs.
func (h *Handler) authenticate(r *http.Request, rq *request) error {
	sr := sigv4Request(r)
	a, err := sigv4.Parse(sr)
	if err != nil {
		return err
	}
	rq.body = r.Body
	rq.decodedLen = r.ContentLength
	if a.Kind == sigv4.Anonymous {
		rq.principal = authn.Anonymous
		rq.authType = "anonymous"
		return nil
	}
	if a.Kind == sigv4.PresignedAuth {
		rq.authType = "presigned"
	} else {
		rq.authType = "header"
	}
	rq.ev.AccessKeyID = a.AccessKeyID
	rq.authTime = a.Date
	if err := a.CheckScope(h.cfg.Region, rq.op.service()); err != nil {
		return err
	}
	var secret string
	var p *authn.Principal
	if a.SecurityToken != "" {
		// Temporary credentials: the token (sealed by our STS) carries the
		// secret and the principal.
		secret, p, err = h.cfg.Keys.LookupSession(r.Context(), a.AccessKeyID, a.SecurityToken)
		if err != nil {
			return tokenError(rq.op, err)
		}
	} else {
		secret, p, err = h.cfg.Keys.Lookup(r.Context(), a.AccessKeyID)
		if err != nil {
			if errors.Is(err, authn.ErrUnknownKey) {
				return sigv4.InvalidAccessKeyID(a.AccessKeyID)
			}
			return err
		}
	}
	if a.PayloadHash == "" {
		// Only non-S3 services (the admin API) get here: their clients
		// sign the body's hash without sending x-amz-content-sha256, so
		// hash the (bounded) body ourselves, as sigv4.Verify requires.
		max := opTable[rq.op].maxBody
		if max <= 0 {
			max = docLimit
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
		if err != nil {
			return err
		}
		if int64(len(body)) > max {
			return s3err.MaxMessageLengthExceeded
		}
		a.PayloadHash = sigv4.HashHex(body)
		rq.body = bytes.NewReader(body)
	}
	v, err := sigv4.Verify(sr, a, secret, h.cfg.Now())
	if err != nil {
		return err
	}
	if a.SecurityToken == "" {
		h.noteKeyUse(p, a.AccessKeyID, a.Scope.Service, a.Scope.Region)
	}
	rq.principal = p
	return h.wrapBody(r, rq, a, v)
}

// wrapBody sets rq.body to a reader that verifies the payload as the
// signature promised: a hex SHA-256 is checked at EOF, aws-chunked bodies
// are decoded with every chunk signature checked and their trailers kept
// for the checksum layer, UNSIGNED-PAYLOAD passes through (TLS protects it
// in transit).
func (h *Handler) wrapBody(r *http.Request, rq *request, a *sigv4.Auth, v *sigv4.Verified) error {
	body, err := sigv4.NewBodyReader(rq.body, a, v, r.Header)
	if err != nil {
		return err
	}
	rq.body = body
	if cr, ok := body.(*sigv4.ChunkedReader); ok {
		n, _ := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
		rq.decodedLen = n
		rq.trailers = cr.Trailers
	}
	return nil
}

// readAll reads a bounded document body (the limit was applied by the
// pipeline from the operation table).
func readAll(rq *request) ([]byte, error) {
	b, err := io.ReadAll(rq.body)
	if err != nil {
		return nil, err
	}
	if max := opTable[rq.op].maxBody; max > 0 && int64(len(b)) > max {
		return nil, s3err.MaxMessageLengthExceeded
	}
	return b, nil
}

// tokenError maps a session token failure to the wire error of the
// request's protocol: S3's InvalidToken / ExpiredToken, or STS's and
// IAM's InvalidClientTokenId / ExpiredToken.
func tokenError(op Op, err error) error {
	expired := errors.Is(err, authn.ErrExpiredToken)
	switch {
	case !expired && !errors.Is(err, authn.ErrInvalidToken):
		return err
	case op.isQuery() && expired:
		return queryError("ExpiredToken", 400, "The security token included in the request is expired")
	case op.isQuery():
		return queryError("InvalidClientTokenId", 403, "The security token included in the request is invalid.")
	case expired:
		return s3err.ExpiredToken
	}
	return s3err.InvalidToken
}

// noteKeyUse tells the configured recorder that a long-term key proved
// its signature, for GetAccessKeyLastUsed. Temporary credentials are not
// recorded: AWS reports only long-term keys' last use.
func (h *Handler) noteKeyUse(p *authn.Principal, keyID, service, region string) {
	if h.cfg.KeyUse != nil && p != nil {
		h.cfg.KeyUse.Note(p.AccountID, keyID, service, region, h.cfg.Now())
	}
}
