package accesslog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
)

// Details are the request facts an access log line needs beyond the audit
// event. The S3 front door attaches them to the context it records the
// event with.
type Details struct {
	Method, RequestURI, Proto string
	Referer, Host             string
	HostID                    string
	// ObjectSize is the object's size for object reads and writes, -1
	// when it does not apply.
	ObjectSize int64
	// TurnAround is from the end of the request to the first response
	// byte, -1 when unknown.
	TurnAround time.Duration
	// ACLRequired reports that an ACL grant was needed to allow it.
	ACLRequired bool
	// BucketOwner is the target bucket's account; Logging its stored
	// logging configuration (nil: logging off).
	BucketOwner string
	Logging     []byte
}

type detailsKey struct{}

// WithDetails returns ctx carrying d.
func WithDetails(ctx context.Context, d *Details) context.Context {
	return context.WithValue(ctx, detailsKey{}, d)
}

func detailsFrom(ctx context.Context) *Details {
	d, _ := ctx.Value(detailsKey{}).(*Details)
	return d
}

// EncodeTarget is how a bucket stores its logging configuration.
func EncodeTarget(t *Target) []byte {
	raw, _ := json.Marshal(t)
	return raw
}

// DecodeTarget reads a stored configuration.
func DecodeTarget(raw []byte) (*Target, error) {
	var t Target
	if err := json.Unmarshal(raw, &t); err != nil || t.Bucket == "" {
		return nil, errors.New("accesslog: stored logging configuration unreadable")
	}
	return &t, nil
}

// CanonicalIDs resolves an account to its canonical user ID.
type CanonicalIDs func(ctx context.Context, accountID string) (string, error)

// Sink is the audit sink that spools access log lines for buckets with
// logging enabled, and delivers them (see Deliver).
type Sink struct {
	dir       string
	region    string
	canonical CanonicalIDs
	store     Store

	mu    sync.Mutex
	open  map[string]*os.File
	canon sync.Map // account → canonical ID
	cfgs  sync.Map // stored configuration → *Target
}

// header is the first line of a spool segment: where its lines go.
type header struct {
	SourceAccount string    `json:"sourceAccount"`
	SourceBucket  string    `json:"sourceBucket"`
	Region        string    `json:"region"`
	Target        Target    `json:"target"`
	First         time.Time `json:"first"`
}

// NewSink returns a sink spooling under dir (created 0700).
func NewSink(dir, region string, canonical CanonicalIDs, store Store) (*Sink, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("accesslog: %w", err)
	}
	return &Sink{dir: dir, region: region, canonical: canonical, store: store, open: map[string]*os.File{}}, nil
}

// Record implements audit.Sink: a request on a bucket with logging on
// becomes one line in that bucket's spool segment.
func (s *Sink) Record(ctx context.Context, e *audit.Event) error {
	if e.Service != "s3" || e.Bucket == "" {
		return nil
	}
	d := detailsFrom(ctx)
	if d == nil || d.Logging == nil {
		return nil
	}
	t, err := s.target(d.Logging)
	if err != nil {
		return err
	}
	ent := s.entry(ctx, e, d)
	line := ent.AppendLine(make([]byte, 0, 512))
	h := header{SourceAccount: d.BucketOwner, SourceBucket: e.Bucket, Region: s.region, Target: *t, First: e.Time.UTC()}
	return s.append(&h, line)
}

func (s *Sink) target(raw []byte) (*Target, error) {
	if v, ok := s.cfgs.Load(string(raw)); ok {
		return v.(*Target), nil
	}
	t, err := DecodeTarget(raw)
	if err != nil {
		return nil, err
	}
	s.cfgs.Store(string(raw), t)
	return t, nil
}

func (s *Sink) entry(ctx context.Context, e *audit.Event, d *Details) *Entry {
	ent := &Entry{
		BucketOwner: s.canonicalID(ctx, d.BucketOwner), Bucket: e.Bucket, Time: e.Time,
		RemoteIP: e.SourceIP, RequestID: e.RequestID,
		Operation: OperationField(e.Operation, d.Method), Key: e.Key,
		Method: d.Method, RequestURI: d.RequestURI, Proto: d.Proto,
		Status: e.Status, ErrorCode: e.ErrorCode, BytesSent: e.BytesOut, ObjectSize: d.ObjectSize,
		TotalTime: e.Duration, TurnAroundTime: d.TurnAround,
		Referer: d.Referer, UserAgent: e.UserAgent, VersionID: e.VersionID, HostID: d.HostID,
		CipherSuite: OpenSSLCipher(e.CipherSuite), HostHeader: d.Host, TLSVersion: tlsVersion(e.TLSVersion),
		ACLRequired: d.ACLRequired,
	}
	if ent.VersionID == "null" {
		// The null version is no version id in access logs.
		ent.VersionID = ""
	}
	switch e.PrincipalType {
	case "", "AWSAccount", "Anonymous":
	case "Root", "root":
		ent.Requester = s.canonicalID(ctx, e.AccountID)
	default:
		ent.Requester = e.PrincipalARN
	}
	switch e.AuthType {
	case "header":
		ent.SignatureVersion, ent.AuthType = "SigV4", "AuthHeader"
	case "presigned":
		ent.SignatureVersion, ent.AuthType = "SigV4", "QueryString"
	case "post":
		ent.SignatureVersion = "SigV4"
	}
	return ent
}

func (s *Sink) canonicalID(ctx context.Context, account string) string {
	if account == "" {
		return ""
	}
	if v, ok := s.canon.Load(account); ok {
		return v.(string)
	}
	if s.canonical == nil {
		return account
	}
	id, err := s.canonical(ctx, account)
	if err != nil {
		return account
	}
	s.canon.Store(account, id)
	return id
}

// segmentID names the spool segment of one source bucket and target.
func segmentID(h *header) string {
	return fmt.Sprintf("%x", sha256Sum(h.SourceAccount+"\x00"+h.SourceBucket+"\x00"+string(EncodeTarget(&h.Target))))[:32]
}

// append writes line to its segment with one write: once Record returns,
// the line survives a crash of the process.
func (s *Sink) append(h *header, line []byte) error {
	id := segmentID(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.open[id]
	if f == nil {
		var err error
		f, err = os.OpenFile(filepath.Join(s.dir, id+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("accesslog: %w", err)
		}
		if fi, err := f.Stat(); err == nil && fi.Size() == 0 {
			hb, _ := json.Marshal(h)
			if _, err := f.Write(append(hb, '\n')); err != nil {
				f.Close()
				return fmt.Errorf("accesslog: %w", err)
			}
		}
		s.open[id] = f
	}
	if _, err := f.Write(line); err != nil {
		return fmt.Errorf("accesslog: %w", err)
	}
	return nil
}

// Close closes the open segments; their lines are delivered at the next
// start.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for id, f := range s.open {
		errs = append(errs, f.Sync(), f.Close())
		delete(s.open, id)
	}
	return errors.Join(errs...)
}

func tlsVersion(v string) string {
	if rest, ok := strings.CutPrefix(v, "TLS "); ok {
		return "TLSv" + rest
	}
	return ""
}
