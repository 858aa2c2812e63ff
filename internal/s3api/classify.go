package s3api

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// target is where a request points: bucket and key, from the host name
// (virtual-hosted style) or the path (path style).
type target struct {
	bucket string
	key    string
	// virtualHost is set when the bucket came from the Host header.
	virtualHost bool
}

// parseTarget extracts bucket and key. baseDomains are the configured
// domains under which virtual-hosted-style requests arrive
// (bucket.domain); any other host is path style.
func parseTarget(r *http.Request, baseDomains []string) target {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	path := r.URL.Path
	for _, d := range baseDomains {
		if strings.HasSuffix(host, "."+d) {
			b := strings.TrimSuffix(host, "."+d)
			return target{bucket: b, key: strings.TrimPrefix(path, "/"), virtualHost: true}
		}
	}
	p := strings.TrimPrefix(path, "/")
	if p == "" {
		return target{}
	}
	b, k, _ := strings.Cut(p, "/")
	return target{bucket: b, key: k}
}

// classify maps a request to its operation. It looks only at the method,
// the target and the query's subresource names; argument validation
// happens in the handlers.
func classify(r *http.Request, t target, q url.Values) Op {
	has := func(k string) bool { _, ok := q[k]; return ok }
	m := r.Method
	if m == http.MethodOptions {
		if t.bucket == "" {
			return OpUnknown
		}
		return OpPreflight
	}
	if t.bucket == "" {
		if m == http.MethodGet {
			return OpListBuckets
		}
		return OpUnknown
	}
	// Subresources Coffer does not serve yet. Checked first so that, for
	// instance, PUT ?policy never falls through to PutBucket/PutObject.
	for _, s := range unimplementedSubresources {
		if has(s) {
			return OpNotImplemented
		}
	}
	if t.key != "" && has("encryption") {
		// A bucket configuration named on an object: never a data write.
		return OpNotImplemented
	}
	if has("logging") {
		// Never a data operation: S3 has no DeleteBucketLogging, and on
		// an object the subresource means nothing.
		switch {
		case t.key != "":
			return OpNotImplemented
		case m == http.MethodGet:
			return OpGetBucketLogging
		case m == http.MethodPut:
			return OpPutBucketLogging
		}
		return OpUnknown
	}
	if t.key == "" {
		switch m {
		case http.MethodGet:
			switch {
			case has("location"):
				return OpGetBucketLocation
			case has("versioning"):
				return OpGetBucketVersioning
			case has("object-lock"):
				return OpGetObjectLockConfiguration
			case has("lifecycle"):
				return OpGetBucketLifecycleConfiguration
			case has("tagging"):
				return OpGetBucketTagging
			case has("cors"):
				return OpGetBucketCors
			case has("encryption"):
				return OpGetBucketEncryption
			case has("acl"):
				return OpGetBucketAcl
			case has("policy"):
				return OpGetBucketPolicy
			case has("policyStatus"):
				return OpGetBucketPolicyStatus
			case has("publicAccessBlock"):
				return OpGetPublicAccessBlock
			case has("ownershipControls"):
				return OpGetBucketOwnershipControls
			case has("versions"):
				return OpListObjectVersions
			case has("uploads"):
				return OpListMultipartUploads
			case q.Get("list-type") == "2":
				return OpListObjectsV2
			}
			return OpListObjects
		case http.MethodHead:
			return OpHeadBucket
		case http.MethodPut:
			switch {
			case has("versioning"):
				return OpPutBucketVersioning
			case has("object-lock"):
				return OpPutObjectLockConfiguration
			case has("lifecycle"):
				return OpPutBucketLifecycleConfiguration
			case has("tagging"):
				return OpPutBucketTagging
			case has("cors"):
				return OpPutBucketCors
			case has("encryption"):
				return OpPutBucketEncryption
			case has("acl"):
				return OpPutBucketAcl
			case has("policy"):
				return OpPutBucketPolicy
			case has("publicAccessBlock"):
				return OpPutPublicAccessBlock
			case has("ownershipControls"):
				return OpPutBucketOwnershipControls
			}
			return OpCreateBucket
		case http.MethodDelete:
			switch {
			case has("tagging"):
				return OpDeleteBucketTagging
			case has("lifecycle"):
				return OpDeleteBucketLifecycle
			case has("cors"):
				return OpDeleteBucketCors
			case has("encryption"):
				return OpDeleteBucketEncryption
			case has("policy"):
				return OpDeleteBucketPolicy
			case has("publicAccessBlock"):
				return OpDeletePublicAccessBlock
			case has("ownershipControls"):
				return OpDeleteBucketOwnershipControls
			}
			return OpDeleteBucket
		case http.MethodPost:
			if has("delete") {
				return OpDeleteObjects
			}
			if strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/form-data") {
				return OpPostObject
			}
		}
		return OpUnknown
	}
	switch m {
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return OpListParts
		case has("tagging"):
			return OpGetObjectTagging
		case has("acl"):
			return OpGetObjectAcl
		case has("attributes"):
			return OpGetObjectAttributes
		case has("retention"):
			return OpGetObjectRetention
		case has("legal-hold"):
			return OpGetObjectLegalHold
		}
		return OpGetObject
	case http.MethodHead:
		return OpHeadObject
	case http.MethodPut:
		switch {
		case has("partNumber") && has("uploadId"):
			if r.Header.Get("X-Amz-Copy-Source") != "" {
				return OpUploadPartCopy
			}
			return OpUploadPart
		case has("tagging"):
			return OpPutObjectTagging
		case has("acl"):
			return OpPutObjectAcl
		case has("retention"):
			return OpPutObjectRetention
		case has("legal-hold"):
			return OpPutObjectLegalHold
		case r.Header.Get("X-Amz-Copy-Source") != "":
			return OpCopyObject
		}
		return OpPutObject
	case http.MethodPost:
		switch {
		case has("uploads"):
			return OpCreateMultipartUpload
		case has("uploadId"):
			return OpCompleteMultipartUpload
		}
		return OpUnknown
	case http.MethodDelete:
		switch {
		case has("uploadId"):
			return OpAbortMultipartUpload
		case has("tagging"):
			return OpDeleteObjectTagging
		}
		return OpDeleteObject
	}
	return OpUnknown
}

// unimplementedSubresources are S3 subresources whose operations later
// work adds. A request naming one gets NotImplemented rather than being
// mistaken for a plain bucket or object operation.
var unimplementedSubresources = []string{
	"accelerate", "analytics", "intelligent-tiering", "inventory",
	"metrics", "notification",
	"replication", "requestPayment", "website",
	"restore", "select", "torrent", "session", "metadataTable",
	"metadataConfiguration", "renameObject",
}
