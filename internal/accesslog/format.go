// Package accesslog is S3 server access logging: the BucketLoggingStatus
// configuration, the log line in AWS's format, the audit sink that turns
// the request pipeline's events into lines for buckets that have logging
// enabled, and the periodic delivery of log objects into target buckets.
//
// Durability: AWS delivers access logs on a best-effort basis. Coffer
// appends each line to a spool file with one write system call before the
// request's audit record returns, so a crash of the server process loses
// no line of an acknowledged request; a crash of the machine may lose the
// lines of the last seconds that the operating system had not yet written.
// Delivery names each log object after the spool segment it comes from,
// so a delivery repeated after a crash overwrites the same object rather
// than duplicating lines.
package accesslog

import (
	"strconv"
	"strings"
	"time"
)

// Entry is one log record with every field AWS defines, in order. Empty
// strings and negative numbers are written as "-".
type Entry struct {
	BucketOwner string // canonical user ID
	Bucket      string
	Time        time.Time
	RemoteIP    string
	Requester   string // canonical ID or IAM ARN; "" for anonymous
	RequestID   string
	Operation   string // REST.PUT.OBJECT, BATCH.DELETE.OBJECT, …
	Key         string // raw key; URL-encoded when written
	// Request line: METHOD URI PROTO.
	Method, RequestURI, Proto string
	Status                    int
	ErrorCode                 string
	BytesSent                 int64 // "-" when zero
	ObjectSize                int64 // -1: not applicable
	TotalTime                 time.Duration
	TurnAroundTime            time.Duration // -1: unknown
	Referer                   string
	UserAgent                 string
	VersionID                 string
	HostID                    string
	SignatureVersion          string // SigV4, SigV2 or ""
	CipherSuite               string // OpenSSL name, "" over plain HTTP
	AuthType                  string // AuthHeader, QueryString or ""
	HostHeader                string
	TLSVersion                string // TLSv1.2, TLSv1.3 or ""
	AccessPointARN            string
	ACLRequired               bool
	SourceRegion              string
}

// AppendLine appends e as one newline-terminated log line.
func (e *Entry) AppendLine(b []byte) []byte {
	b = field(b, e.BucketOwner)
	b = append(b, ' ')
	b = field(b, e.Bucket)
	b = append(b, ' ', '[')
	b = e.Time.UTC().AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, ']', ' ')
	b = field(b, e.RemoteIP)
	b = append(b, ' ')
	b = field(b, e.Requester)
	b = append(b, ' ')
	b = field(b, e.RequestID)
	b = append(b, ' ')
	b = field(b, e.Operation)
	b = append(b, ' ')
	b = field(b, escapeKey(e.Key))
	b = append(b, ' ')
	if e.Method == "" && e.RequestURI == "" {
		b = quoted(b, "")
	} else {
		b = quoted(b, e.Method+" "+e.RequestURI+" "+e.Proto)
	}
	b = append(b, ' ')
	if e.Status > 0 {
		b = strconv.AppendInt(b, int64(e.Status), 10)
	} else {
		b = append(b, '-')
	}
	b = append(b, ' ')
	b = field(b, e.ErrorCode)
	b = append(b, ' ')
	b = number(b, e.BytesSent, false)
	b = append(b, ' ')
	b = number(b, e.ObjectSize, true)
	b = append(b, ' ')
	b = number(b, e.TotalTime.Milliseconds(), true)
	b = append(b, ' ')
	if e.TurnAroundTime < 0 {
		b = append(b, '-')
	} else {
		b = strconv.AppendInt(b, e.TurnAroundTime.Milliseconds(), 10)
	}
	b = append(b, ' ')
	b = quoted(b, e.Referer)
	b = append(b, ' ')
	b = quoted(b, e.UserAgent)
	b = append(b, ' ')
	b = field(b, e.VersionID)
	b = append(b, ' ')
	b = field(b, e.HostID)
	b = append(b, ' ')
	b = field(b, e.SignatureVersion)
	b = append(b, ' ')
	b = field(b, e.CipherSuite)
	b = append(b, ' ')
	b = field(b, e.AuthType)
	b = append(b, ' ')
	b = field(b, e.HostHeader)
	b = append(b, ' ')
	b = field(b, e.TLSVersion)
	b = append(b, ' ')
	b = field(b, e.AccessPointARN)
	b = append(b, ' ')
	if e.ACLRequired {
		b = append(b, "Yes"...)
	} else {
		b = append(b, '-')
	}
	b = append(b, ' ')
	b = field(b, e.SourceRegion)
	return append(b, '\n')
}

// field writes an unquoted field: "-" when empty; characters that would
// break the line's structure (spaces, quotes, control bytes) are escaped,
// since no unquoted field may contain a space.
func field(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '"' || c == '\\' || c == 0x7f {
			b = appendEscape(b, c)
			continue
		}
		b = append(b, c)
	}
	return b
}

// quoted writes a quoted field ("-" inside the quotes when empty), with
// quotes, backslashes and control bytes escaped so a line stays one line.
func quoted(b []byte, s string) []byte {
	b = append(b, '"')
	if s == "" {
		b = append(b, '-')
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < ' ' || c == 0x7f:
			b = appendEscape(b, c)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func appendEscape(b []byte, c byte) []byte {
	const hexd = "0123456789ABCDEF"
	return append(b, '\\', 'x', hexd[c>>4], hexd[c&15])
}

// number writes n, or "-" when it is zero (and zeroOK is false) or
// negative.
func number(b []byte, n int64, zeroOK bool) []byte {
	if n < 0 || n == 0 && !zeroOK {
		return append(b, '-')
	}
	return strconv.AppendInt(b, n, 10)
}

// escapeKey URL-encodes a key as S3 logs it: every byte outside the
// unreserved set and "/" is percent-encoded.
func escapeKey(k string) string {
	const hexd = "0123456789ABCDEF"
	var sb strings.Builder
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte(hexd[c>>4])
		sb.WriteByte(hexd[c&15])
	}
	return sb.String()
}

// operations maps Coffer's operation names to the resource part of the
// log's operation field (REST.METHOD.RESOURCE).
var operations = map[string]string{
	"ListBuckets": "SERVICE", "CreateBucket": "BUCKET", "HeadBucket": "BUCKET", "DeleteBucket": "BUCKET",
	"ListObjects": "BUCKET", "ListObjectsV2": "BUCKET", "GetBucketLocation": "LOCATION",
	"ListObjectVersions": "BUCKETVERSIONS", "ListMultipartUploads": "UPLOADS",
	"GetBucketVersioning": "VERSIONING", "PutBucketVersioning": "VERSIONING",
	"GetBucketTagging": "TAGGING", "PutBucketTagging": "TAGGING", "DeleteBucketTagging": "TAGGING",
	"GetBucketCors": "CORS", "PutBucketCors": "CORS", "DeleteBucketCors": "CORS",
	"GetBucketAcl": "ACL", "PutBucketAcl": "ACL", "GetObjectAcl": "ACL", "PutObjectAcl": "ACL",
	"GetBucketPolicy": "BUCKETPOLICY", "PutBucketPolicy": "BUCKETPOLICY", "DeleteBucketPolicy": "BUCKETPOLICY",
	"GetBucketPolicyStatus": "POLICYSTATUS",
	"DeleteObjects":         "MULTI_OBJECT_DELETE",
	"PostObject":            "OBJECT", "PutObject": "OBJECT", "GetObject": "OBJECT", "HeadObject": "OBJECT",
	"DeleteObject": "OBJECT", "CopyObject": "OBJECT",
	"GetObjectAttributes": "OBJECT_ATTRIBUTES",
	"GetObjectTagging":    "OBJECT_TAGGING", "PutObjectTagging": "OBJECT_TAGGING", "DeleteObjectTagging": "OBJECT_TAGGING",
	"CreateMultipartUpload": "UPLOADS", "UploadPart": "PART", "UploadPartCopy": "PART",
	"CompleteMultipartUpload": "UPLOAD", "AbortMultipartUpload": "UPLOAD", "ListParts": "UPLOAD",
	"GetObjectLockConfiguration": "OBJECT_LOCK_CONFIGURATION", "PutObjectLockConfiguration": "OBJECT_LOCK_CONFIGURATION",
	"GetObjectRetention": "RETENTION", "PutObjectRetention": "RETENTION",
	"GetObjectLegalHold": "LEGAL_HOLD", "PutObjectLegalHold": "LEGAL_HOLD",
	"GetBucketLifecycleConfiguration": "LIFECYCLE", "PutBucketLifecycleConfiguration": "LIFECYCLE", "DeleteBucketLifecycle": "LIFECYCLE",
	"PreflightRequest":    "PREFLIGHT",
	"GetBucketEncryption": "ENCRYPTION", "PutBucketEncryption": "ENCRYPTION", "DeleteBucketEncryption": "ENCRYPTION",
	"GetPublicAccessBlock": "PUBLIC_ACCESS_BLOCK", "PutPublicAccessBlock": "PUBLIC_ACCESS_BLOCK", "DeletePublicAccessBlock": "PUBLIC_ACCESS_BLOCK",
	"GetBucketOwnershipControls": "OWNERSHIP_CONTROLS", "PutBucketOwnershipControls": "OWNERSHIP_CONTROLS", "DeleteBucketOwnershipControls": "OWNERSHIP_CONTROLS",
	"GetBucketLogging": "LOGGING_STATUS", "PutBucketLogging": "LOGGING_STATUS",
}

// OperationField is the log's operation field for a request: REST, the
// HTTP method (COPY for copies), and the resource. An operation Coffer
// does not serve is logged by its method and UNKNOWN.
func OperationField(op, method string) string {
	switch op {
	case "CopyObject", "UploadPartCopy":
		method = "COPY"
	}
	res, ok := operations[op]
	if !ok {
		res = "UNKNOWN"
	}
	return "REST." + method + "." + res
}
