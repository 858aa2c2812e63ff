// Package audit defines the structured record every request leaves behind
// (allowed, denied or failed) and the Sink interface that keeps them. The
// request pipeline fills one Event per request; sinks decide where events go
// (a JSON-lines file, the CloudTrail-format trail in package trail, and
// whatever else the server composes with Multi).
package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Event is one audited request.
type Event struct {
	Time      time.Time `json:"eventTime"`
	RequestID string    `json:"requestId"`
	Service   string    `json:"service"`   // s3, admin, ...
	Operation string    `json:"operation"` // e.g. PutObject
	// Principal.
	PrincipalType string `json:"principalType"`
	AccountID     string `json:"accountId,omitempty"`
	PrincipalARN  string `json:"principalArn,omitempty"`
	AccessKeyID   string `json:"accessKeyId,omitempty"`
	// InvokedBy names the service that acted on its own, such as
	// lifecycle.s3.amazonaws.com for lifecycle expirations (CloudTrail's
	// userIdentity.invokedBy).
	InvokedBy string `json:"invokedBy,omitempty"`
	// PrincipalID is the principal's unique id (AIDA… for an IAM user,
	// AROA…:session for an assumed role, the account for root).
	PrincipalID string `json:"principalId,omitempty"`
	UserName    string `json:"userName,omitempty"`
	// Session describes temporary credentials (nil for long-term keys).
	Session *Session `json:"session,omitempty"`
	// Resource.
	Bucket    string `json:"bucket,omitempty"`
	Key       string `json:"key,omitempty"`
	VersionID string `json:"versionId,omitempty"`
	Resource  string `json:"resource,omitempty"`
	// UploadID is the multipart upload acted on, when the request or
	// action concerns one alone.
	UploadID string `json:"uploadId,omitempty"`
	// RuleID is the lifecycle rule an expiration applied.
	RuleID string `json:"ruleId,omitempty"`
	// BucketOwner is the account owning Bucket, when it exists.
	BucketOwner string `json:"bucketOwner,omitempty"`
	// Request facts.
	SourceIP    string `json:"sourceIp"`
	UserAgent   string `json:"userAgent,omitempty"`
	TLS         bool   `json:"tls"`
	TLSVersion  string `json:"tlsVersion,omitempty"`
	CipherSuite string `json:"cipherSuite,omitempty"`
	AuthType    string `json:"authType,omitempty"` // header, presigned, post, anonymous
	Region      string `json:"region,omitempty"`
	Host        string `json:"host,omitempty"`
	// RequestParameters, ResponseElements and AdditionalEventData are
	// CloudTrail's fields of the same names. They never hold secrets
	// (secret keys, session tokens, SSE-C keys, signatures, plaintexts):
	// whoever fills them leaves those out.
	RequestParameters   map[string]any `json:"requestParameters,omitempty"`
	ResponseElements    map[string]any `json:"responseElements,omitempty"`
	AdditionalEventData map[string]any `json:"additionalEventData,omitempty"`
	// ReadOnly reports a call that changes nothing.
	ReadOnly bool `json:"readOnly"`
	// Data marks a data event (S3 object-level calls); the rest are
	// management events.
	Data bool `json:"data,omitempty"`
	// SSEApplied is how a write was encrypted, as CloudTrail's
	// additionalEventData.SSEApplied: SSE_S3, SSE_KMS, SSE_C (asked for
	// by the request) or Default_SSE_S3, Default_SSE_KMS (bucket default).
	SSEApplied string `json:"sseApplied,omitempty"`
	// Outcome.
	Outcome   string `json:"outcome"` // allowed+success | denied | failed
	Status    int    `json:"status"`
	ErrorCode string `json:"errorCode,omitempty"`
	// ErrorMessage is the message the client was sent with ErrorCode.
	ErrorMessage string        `json:"errorMessage,omitempty"`
	BytesIn      int64         `json:"bytesIn,omitempty"`
	BytesOut     int64         `json:"bytesOut,omitempty"`
	Duration     time.Duration `json:"durationNs"`
}

// Session is what CloudTrail's userIdentity.sessionContext says of
// temporary credentials.
type Session struct {
	CreationDate     time.Time `json:"creationDate"`
	MFAAuthenticated bool      `json:"mfaAuthenticated"`
	// Issuer of a role session: the role.
	IssuerType        string `json:"issuerType,omitempty"`
	IssuerPrincipalID string `json:"issuerPrincipalId,omitempty"`
	IssuerARN         string `json:"issuerArn,omitempty"`
	IssuerAccountID   string `json:"issuerAccountId,omitempty"`
	IssuerUserName    string `json:"issuerUserName,omitempty"`
	SourceIdentity    string `json:"sourceIdentity,omitempty"`
}

// Outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeDenied  = "denied"
	OutcomeFailed  = "failed"
)

// Sink keeps audit events. Record must not retain e after returning.
type Sink interface {
	Record(ctx context.Context, e *Event) error
	Close() error
}

// Memory is a Sink that keeps events in memory, for tests.
type Memory struct {
	mu     sync.Mutex
	events []Event
}

// Record implements Sink.
func (m *Memory) Record(_ context.Context, e *Event) error {
	m.mu.Lock()
	m.events = append(m.events, *e)
	m.mu.Unlock()
	return nil
}

// Events returns a copy of the recorded events.
func (m *Memory) Events() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Event(nil), m.events...)
}

// Close implements Sink.
func (m *Memory) Close() error { return nil }

// File is a Sink that appends events as JSON lines to a file. Writes are
// buffered and flushed every interval and on Close: the core's audit log is
// best effort; the durable, tamper-evident trail is a later layer.
type File struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	enc  *json.Encoder
	stop chan struct{}
	done chan struct{}
}

// OpenFile opens (creating, mode 0600) an append-only JSON-lines sink.
func OpenFile(path string, flushEvery time.Duration) (*File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	s := &File{f: f, w: bufio.NewWriterSize(f, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	s.enc = json.NewEncoder(s.w)
	go s.flusher(flushEvery)
	return s, nil
}

func (s *File) flusher(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.mu.Lock()
			_ = s.w.Flush()
			s.mu.Unlock()
		case <-s.stop:
			return
		}
	}
}

// Record implements Sink.
func (s *File) Record(_ context.Context, e *Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enc.Encode(e)
}

// Close flushes and closes the file.
func (s *File) Close() error {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.w.Flush()
	if err2 := s.f.Sync(); err == nil {
		err = err2
	}
	if err2 := s.f.Close(); err == nil {
		err = err2
	}
	return err
}
