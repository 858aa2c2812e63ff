package s3api

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

const cfgCORS = "cors"

type corsRule struct {
	ID             string   `xml:"ID,omitempty"`
	AllowedHeaders []string `xml:"AllowedHeader"`
	AllowedMethods []string `xml:"AllowedMethod"`
	AllowedOrigins []string `xml:"AllowedOrigin"`
	ExposeHeaders  []string `xml:"ExposeHeader"`
	MaxAgeSeconds  *int     `xml:"MaxAgeSeconds"`
}

type corsConfiguration struct {
	XMLName xml.Name   `xml:"CORSConfiguration"`
	Xmlns   string     `xml:"xmlns,attr,omitempty"`
	Rules   []corsRule `xml:"CORSRule"`
}

func validateCORS(c *corsConfiguration) error {
	if len(c.Rules) == 0 || len(c.Rules) > 100 {
		return s3err.MalformedXML
	}
	for _, r := range c.Rules {
		if len(r.AllowedMethods) == 0 || len(r.AllowedOrigins) == 0 {
			return s3err.MalformedXML
		}
		if len(r.ID) > 255 {
			return s3err.InvalidArgument.WithMessage("The ID must be less than 255 characters")
		}
		for _, m := range r.AllowedMethods {
			switch m {
			case "GET", "PUT", "HEAD", "POST", "DELETE":
			default:
				return s3err.InvalidRequest.WithMessage("Found unsupported HTTP method in CORS config. Unsupported method is " + m)
			}
		}
		for _, o := range r.AllowedOrigins {
			if strings.Count(o, "*") > 1 {
				return s3err.InvalidRequest.WithMessage("AllowedOrigin \"" + o + "\" can not have more than one wildcard.")
			}
		}
		for _, hd := range r.AllowedHeaders {
			if strings.Count(hd, "*") > 1 {
				return s3err.InvalidRequest.WithMessage("AllowedHeader \"" + hd + "\" can not have more than one wildcard.")
			}
		}
	}
	return nil
}

func (h *Handler) getBucketCors(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	c, err := bucketCORS(b)
	if err != nil {
		return err
	}
	if c == nil {
		return s3err.NoSuchCORSConfiguration
	}
	c.Xmlns = s3NS
	return writeXML(w, c)
}

func bucketCORS(b *meta.Bucket) (*corsConfiguration, error) {
	raw, ok := b.Configs[cfgCORS]
	if !ok {
		return nil, nil
	}
	var c corsConfiguration
	if err := xml.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func (h *Handler) putBucketCors(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := needBucket(rq); err != nil {
		return err
	}
	if _, err := contentMD5(r.Header); err != nil {
		return err
	}
	var c corsConfiguration
	if err := decodeXML(rq, &c); err != nil {
		return err
	}
	if err := validateCORS(&c); err != nil {
		return err
	}
	c.Xmlns = ""
	raw, err := xml.Marshal(&c)
	if err != nil {
		return err
	}
	if err := h.setBucketConfig(rq, cfgCORS, raw); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteBucketCors(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := needBucket(rq); err != nil {
		return err
	}
	if err := h.setBucketConfig(rq, cfgCORS, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// wildcardMatch matches s against a pattern with at most one '*'.
func wildcardMatch(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	before, after, ok := strings.Cut(pattern, "*")
	if !ok {
		return pattern == s
	}
	return len(s) >= len(before)+len(after) && strings.HasPrefix(s, before) && strings.HasSuffix(s, after)
}

// matchCORS finds the first rule allowing origin, method and headers.
func matchCORS(c *corsConfiguration, origin, method string, headers []string) *corsRule {
rules:
	for i := range c.Rules {
		rule := &c.Rules[i]
		okOrigin := false
		for _, o := range rule.AllowedOrigins {
			if wildcardMatch(o, origin, false) {
				okOrigin = true
				break
			}
		}
		if !okOrigin {
			continue
		}
		okMethod := false
		for _, m := range rule.AllowedMethods {
			if m == method {
				okMethod = true
				break
			}
		}
		if !okMethod {
			continue
		}
		for _, hd := range headers {
			found := false
			for _, a := range rule.AllowedHeaders {
				if wildcardMatch(a, hd, true) {
					found = true
					break
				}
			}
			if !found {
				continue rules
			}
		}
		return rule
	}
	return nil
}

func setCORSHeaders(w http.ResponseWriter, rule *corsRule, origin string) {
	hd := w.Header()
	allowOrigin := origin
	for _, o := range rule.AllowedOrigins {
		if o == "*" {
			allowOrigin = "*"
		}
	}
	hd.Set("Access-Control-Allow-Origin", allowOrigin)
	hd.Set("Access-Control-Allow-Methods", strings.Join(rule.AllowedMethods, ", "))
	if allowOrigin != "*" {
		hd.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(rule.ExposeHeaders) > 0 {
		hd.Set("Access-Control-Expose-Headers", strings.Join(rule.ExposeHeaders, ", "))
	}
	if rule.MaxAgeSeconds != nil {
		hd.Set("Access-Control-Max-Age", strconv.Itoa(*rule.MaxAgeSeconds))
	}
	hd.Add("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
}

// applyCORS adds CORS headers to an actual (non-preflight) request whose
// Origin a bucket rule allows.
func applyCORS(w http.ResponseWriter, r *http.Request, b *meta.Bucket) {
	origin := r.Header.Get("Origin")
	if origin == "" || b == nil {
		return
	}
	c, err := bucketCORS(b)
	if err != nil || c == nil {
		return
	}
	if rule := matchCORS(c, origin, r.Method, nil); rule != nil {
		setCORSHeaders(w, rule, origin)
	}
}

// preflight answers a CORS OPTIONS request from the bucket's rules.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request, rq *request) error {
	origin := r.Header.Get("Origin")
	method := r.Header.Get("Access-Control-Request-Method")
	if origin == "" {
		return s3err.InvalidRequest.WithMessage("Insufficient information. Origin request header needed.")
	}
	if method == "" {
		return s3err.InvalidRequest.WithMessage("Invalid Access-Control-Request-Method: null")
	}
	forbidden := &s3err.Error{Code: "AccessForbidden", Status: http.StatusForbidden, Message: "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."}
	if rq.bucket == nil {
		return forbidden.WithMessage("CORSResponse: Bucket not found")
	}
	c, err := bucketCORS(rq.bucket)
	if err != nil {
		return err
	}
	if c == nil {
		return forbidden.WithMessage("CORSResponse: CORS is not enabled for this bucket.")
	}
	var headers []string
	for _, v := range r.Header.Values("Access-Control-Request-Headers") {
		for _, hd := range strings.Split(v, ",") {
			if hd = strings.TrimSpace(hd); hd != "" {
				headers = append(headers, hd)
			}
		}
	}
	rule := matchCORS(c, origin, method, headers)
	if rule == nil {
		return forbidden
	}
	setCORSHeaders(w, rule, origin)
	if len(headers) > 0 {
		w.Header().Set("Access-Control-Allow-Headers", strings.Join(headers, ", "))
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
