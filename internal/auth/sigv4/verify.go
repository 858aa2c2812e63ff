package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Verified is the outcome of a successful Verify: what decoding an
// aws-chunked body needs to check chunk and trailer signatures.
type Verified struct {
	AccessKeyID string
	Scope       Scope
	ScopeString string    // "20130524/us-east-1/s3/aws4_request"
	Timestamp   string    // the request time as signed: "20130524T000000Z"
	Date        time.Time // the request time
	SigningKey  []byte    // kSigning for the scope
	Seed        string    // the request signature (lowercase hex), seed of the chunk chain
	PayloadHash string    // the payload hash that was signed
}

// SigningKey derives kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date),
// region), service), "aws4_request"); date is yyyyMMdd.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, Terminal)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// HashHex returns the lowercase hex SHA-256 of b, the form
// x-amz-content-sha256 and Auth.PayloadHash use.
func HashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// decodeLowerHex decodes exactly len(dst) bytes of lowercase hex.
func decodeLowerHex[T string | []byte](dst []byte, src T) bool {
	if len(src) != 2*len(dst) {
		return false
	}
	for i := 0; i < len(src); i++ {
		if c := src[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	_, err := hex.Decode(dst, []byte(src))
	return err == nil
}

func stringToSign(timestamp, scope, canonical string) string {
	h := sha256.Sum256([]byte(canonical))
	return Algorithm + "\n" + timestamp + "\n" + scope + "\n" + hex.EncodeToString(h[:])
}

// Verify checks a header-signed or presigned request parsed by Parse against
// the secret of a.AccessKeyID, at server time now:
//
//   - header auth: the request time must be within MaxClockSkew of now;
//   - presigned: now must not be past X-Amz-Date + X-Amz-Expires (an
//     X-Amz-Expires of 0 is always expired) and X-Amz-Date must not be more
//     than MaxClockSkew ahead of now;
//   - host and every x-amz-* header in the request must be signed;
//   - the signature must match, compared in constant time.
//
// It does not check the scope's region and service (Auth.CheckScope does)
// nor the body: use NewBodyReader with the returned Verified.
func Verify(r *Request, a *Auth, secret string, now time.Time) (*Verified, error) {
	if a == nil || (a.Kind != HeaderAuth && a.Kind != PresignedAuth) {
		return nil, errors.New("sigv4: Verify needs a signed request")
	}
	if a.PayloadHash == "" {
		// Only non-S3 header auth gets here: the caller must hash the body.
		return nil, ErrMissingContentSHA256
	}
	now = now.UTC()
	timestamp := a.Date.UTC().Format(iso8601Basic)
	serverTime := now.Format(time.RFC3339)

	switch a.Kind {
	case HeaderAuth:
		if d := now.Sub(a.Date); d > MaxClockSkew || d < -MaxClockSkew {
			reqTime, ok := firstHeader(r, "X-Amz-Date")
			if !ok {
				reqTime = headerGet(r.Header, "Date")
			}
			return nil, ErrRequestTimeTooSkewed.with("",
				Field{"RequestTime", reqTime},
				Field{"ServerTime", serverTime},
				Field{"MaxAllowedSkewMilliseconds", strconv.FormatInt(MaxClockSkew.Milliseconds(), 10)})
		}
	case PresignedAuth:
		if a.Date.Sub(now) > MaxClockSkew {
			return nil, ErrPresignedNotYetValid
		}
		exp := a.Date.Add(a.Expires)
		if a.Expires == 0 || now.After(exp) {
			return nil, ErrExpiredPresignedRequest.with("",
				Field{"X-Amz-Expires", strconv.FormatInt(int64(a.Expires/time.Second), 10)},
				Field{"Expires", exp.UTC().Format(time.RFC3339)},
				Field{"ServerTime", serverTime})
		}
	}

	if missing := unsignedHeaders(r, a.SignedHeaders); len(missing) > 0 {
		return nil, ErrUnsignedHeaders.with("", Field{"HeadersNotSigned", strings.Join(missing, ", ")})
	}

	query := a.query
	if query == nil {
		query = parseQuery(r.RawQuery) // an Auth not made by Parse
	}
	canonical := canonicalRequest(r, a.Scope.Service, query, a.Kind == PresignedAuth, a.SignedHeaders, a.PayloadHash)
	scope := a.Scope.String()
	sts := stringToSign(timestamp, scope, canonical)
	key := SigningKey(secret, a.Scope.Date, a.Scope.Region, a.Scope.Service)
	want := hmacSHA256(key, sts)

	// The signature must be lowercase hex like the one we compute: AWS
	// compares the strings, so "A" for "a" is a different signature.
	var got [sha256.Size]byte
	if !decodeLowerHex(got[:], a.Signature) || !hmac.Equal(got[:], want) {
		return nil, ErrSignatureDoesNotMatch.with("",
			Field{"AWSAccessKeyId", a.AccessKeyID},
			Field{"StringToSign", sts},
			Field{"SignatureProvided", a.Signature},
			Field{"StringToSignBytes", hexBytes(sts)},
			Field{"CanonicalRequest", canonical},
			Field{"CanonicalRequestBytes", hexBytes(canonical)})
	}
	return &Verified{
		AccessKeyID: a.AccessKeyID,
		Scope:       a.Scope,
		ScopeString: scope,
		Timestamp:   timestamp,
		Date:        a.Date,
		SigningKey:  key,
		Seed:        hex.EncodeToString(want),
		PayloadHash: a.PayloadHash,
	}, nil
}
