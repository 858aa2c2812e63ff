package trail

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/coffer-io/coffer/internal/fsutil"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Trails deliver the journal's records of their account to a bucket (and
// a copy to the server's trail directory, when one is configured) as
// gzipped JSON log files in CloudTrail's key layout. Delivery is driven by
// a cursor into the journal: before writing a file the trail records what
// it is about to write (range and key), and only after every copy is
// written does the cursor move. A crash in between re-delivers exactly
// the same file under the same key, so nothing is lost and nothing is
// delivered twice. Digests follow the same intent-then-commit pattern.

// Destination writes trail files into buckets through the object service.
type Destination interface {
	// CheckBucket reports whether the CloudTrail service principal may
	// deliver the trail's files into bucket under prefix
	// (ErrNoSuchBucket, ErrInsufficientPolicy).
	CheckBucket(ctx context.Context, bucket, prefix, account, trailARN string) error
	// Put stores an object with user metadata as the bucket owner, if
	// the bucket policy still admits the trail.
	Put(ctx context.Context, account, trailARN, bucket, key string, body []byte, userMeta map[string]string) error
}

// Destination errors.
var (
	ErrNoSuchBucket       = errors.New("trail: no such bucket")
	ErrInsufficientPolicy = errors.New("trail: bucket policy does not admit CloudTrail")
)

// Error is a CloudTrail API error (Code is the exception name).
type Error struct{ Code, Message string }

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func apiErr(code, format string, a ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, a...)}
}

// MaxTrailsPerAccount is CloudTrail's per-Region trail limit.
const MaxTrailsPerAccount = 5

// Config configures a Service.
type Config struct {
	Journal *Journal
	Keys    *Keys
	// StatePath is the file holding the trails and their cursors.
	StatePath string
	Region    string
	// LocalDir, when set, receives a copy of every delivered file as
	// LocalDir/BUCKET/KEY.
	LocalDir         string
	Dest             Destination
	DeliveryInterval time.Duration
	DigestInterval   time.Duration
	// HistoryRetention bounds the event history (and how long the
	// journal is kept).
	HistoryRetention time.Duration
	Now              func() time.Time
	Log              *slog.Logger
}

// EventSelector is CloudTrail's basic event selector.
type EventSelector struct {
	ReadWriteType                 string         `json:"ReadWriteType"`
	IncludeManagementEvents       bool           `json:"IncludeManagementEvents"`
	DataResources                 []DataResource `json:"DataResources"`
	ExcludeManagementEventSources []string       `json:"ExcludeManagementEventSources"`
}

// DataResource selects data events.
type DataResource struct {
	Type   string   `json:"Type"`
	Values []string `json:"Values"`
}

// Trail is a configured trail and its delivery state.
type Trail struct {
	Name                       string          `json:"name"`
	Account                    string          `json:"account"`
	HomeRegion                 string          `json:"homeRegion"`
	S3BucketName               string          `json:"s3BucketName"`
	S3KeyPrefix                string          `json:"s3KeyPrefix,omitempty"`
	IncludeGlobalServiceEvents bool            `json:"includeGlobalServiceEvents"`
	IsMultiRegionTrail         bool            `json:"isMultiRegionTrail"`
	LogFileValidationEnabled   bool            `json:"logFileValidationEnabled"`
	EventSelectors             []EventSelector `json:"eventSelectors"`
	IsLogging                  bool            `json:"isLogging"`
	Created                    time.Time       `json:"created"`

	StartLoggingTime          time.Time `json:"startLoggingTime"`
	StopLoggingTime           time.Time `json:"stopLoggingTime"`
	LatestDeliveryTime        time.Time `json:"latestDeliveryTime"`
	LatestDeliveryAttemptTime time.Time `json:"latestDeliveryAttemptTime"`
	LatestDeliveryError       string    `json:"latestDeliveryError,omitempty"`
	LatestDigestDeliveryTime  time.Time `json:"latestDigestDeliveryTime"`
	LatestDigestDeliveryError string    `json:"latestDigestDeliveryError,omitempty"`

	// Cursor is the journal offset up to which records were delivered.
	Cursor  int64        `json:"cursor"`
	Pending *pendingLog  `json:"pending,omitempty"`
	Digest  *digestState `json:"digest,omitempty"`
}

// ARN is the trail's ARN.
func (t *Trail) ARN() string {
	return "arn:aws:cloudtrail:" + t.HomeRegion + ":" + t.Account + ":trail/" + t.Name
}

type pendingLog struct {
	From int64     `json:"from"`
	To   int64     `json:"to"`
	Key  string    `json:"key"`
	At   time.Time `json:"at"`
}

// digestState is the current digest window of a trail with log file
// validation, the logs delivered in it, and the chain's last link.
type digestState struct {
	Start   time.Time   `json:"start"`
	Logs    []DigestLog `json:"logs"`
	Prev    *digestLink `json:"prev,omitempty"`
	Pending *pendingDig `json:"pending,omitempty"`
}

type digestLink struct {
	Bucket, Key, Hash, Signature string
}

type pendingDig struct {
	Key       string `json:"key"`
	Body      []byte `json:"body"` // uncompressed digest JSON
	Signature string `json:"signature"`
	Final     bool   `json:"final"`
}

// DigestLog is one logFiles entry of a digest.
type DigestLog struct {
	S3Bucket        string `json:"s3Bucket"`
	S3Object        string `json:"s3Object"`
	HashValue       string `json:"hashValue"`
	HashAlgorithm   string `json:"hashAlgorithm"`
	NewestEventTime string `json:"newestEventTime"`
	OldestEventTime string `json:"oldestEventTime"`
}

// Service manages trails and delivers their files.
type Service struct {
	cfg    Config
	mu     sync.Mutex
	trails map[string]*Trail // by ARN
	// deliverMu serialises delivery passes.
	deliverMu sync.Mutex
	wake      chan struct{}
}

// NewService loads the trails' state.
func NewService(cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.DeliveryInterval <= 0 {
		cfg.DeliveryInterval = 5 * time.Minute
	}
	if cfg.DigestInterval <= 0 {
		cfg.DigestInterval = time.Hour
	}
	if cfg.HistoryRetention <= 0 {
		cfg.HistoryRetention = DefaultHistoryRetention
	}
	s := &Service{cfg: cfg, trails: map[string]*Trail{}, wake: make(chan struct{}, 1)}
	b, err := os.ReadFile(cfg.StatePath)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("trail: %w", err)
	default:
		var list []*Trail
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("trail: state: %w", err)
		}
		for _, t := range list {
			s.trails[t.ARN()] = t
		}
	}
	return s, nil
}

// Journal returns the journal the service reads.
func (s *Service) Journal() *Journal { return s.cfg.Journal }

// Keys returns the signing key ring.
func (s *Service) Keys() *Keys { return s.cfg.Keys }

// HistoryRetention is the event history window.
func (s *Service) HistoryRetention() time.Duration { return s.cfg.HistoryRetention }

// Region is the Region trails are created in.
func (s *Service) Region() string { return s.cfg.Region }

// saveLocked writes the state durably; s.mu is held.
func (s *Service) saveLocked() error {
	list := make([]*Trail, 0, len(s.trails))
	for _, t := range s.trails {
		list = append(list, t)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ARN() < list[j].ARN() })
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(s.cfg.StatePath, b, 0o600)
}

var trailName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$`)

// CreateInput is CreateTrail's input.
type CreateInput struct {
	Name                       string
	S3BucketName               string
	S3KeyPrefix                string
	IncludeGlobalServiceEvents *bool
	IsMultiRegionTrail         bool
	EnableLogFileValidation    bool
}

// Create creates a trail (not logging yet, as in AWS).
func (s *Service) Create(ctx context.Context, account string, in CreateInput) (*Trail, error) {
	if !trailName.MatchString(in.Name) || strings.Contains(in.Name, "..") || strings.Contains(in.Name, "_-") || strings.Contains(in.Name, "-_") {
		return nil, apiErr("InvalidTrailNameException", "Trail name must start with a letter or number, end with a letter or number, be between 3 and 128 characters, and contain only ASCII letters, numbers, periods, underscores and dashes.")
	}
	if in.S3BucketName == "" {
		return nil, apiErr("InvalidParameterCombinationException", "S3BucketName is required.")
	}
	if len(in.S3KeyPrefix) > 200 {
		return nil, apiErr("InvalidS3PrefixException", "S3 prefix is longer than 200 characters.")
	}
	t := &Trail{
		Name: in.Name, Account: account, HomeRegion: s.cfg.Region, S3BucketName: in.S3BucketName, S3KeyPrefix: in.S3KeyPrefix,
		IncludeGlobalServiceEvents: in.IncludeGlobalServiceEvents == nil || *in.IncludeGlobalServiceEvents,
		IsMultiRegionTrail:         in.IsMultiRegionTrail, LogFileValidationEnabled: in.EnableLogFileValidation,
		EventSelectors: defaultSelectors(), Created: s.cfg.Now().UTC(),
	}
	if err := s.checkBucket(ctx, t); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.trails[t.ARN()]; ok {
		return nil, apiErr("TrailAlreadyExistsException", "Trail %s already exists for customer: %s", in.Name, account)
	}
	n := 0
	for _, o := range s.trails {
		if o.Account == account {
			n++
		}
	}
	if n >= MaxTrailsPerAccount {
		return nil, apiErr("MaximumNumberOfTrailsExceededException", "User: %s already has %d trails in %s.", account, n, s.cfg.Region)
	}
	s.trails[t.ARN()] = t
	if err := s.saveLocked(); err != nil {
		delete(s.trails, t.ARN())
		return nil, err
	}
	c := *t
	return &c, nil
}

func defaultSelectors() []EventSelector {
	return []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, DataResources: []DataResource{}, ExcludeManagementEventSources: []string{}}}
}

func (s *Service) checkBucket(ctx context.Context, t *Trail) error {
	if s.cfg.Dest == nil {
		return nil
	}
	err := s.cfg.Dest.CheckBucket(ctx, t.S3BucketName, t.S3KeyPrefix, t.Account, t.ARN())
	switch {
	case errors.Is(err, ErrNoSuchBucket):
		return apiErr("S3BucketDoesNotExistException", "S3 bucket %s does not exist.", t.S3BucketName)
	case errors.Is(err, ErrInsufficientPolicy):
		return apiErr("InsufficientS3BucketPolicyException", "Incorrect S3 bucket policy is detected for bucket: %s", t.S3BucketName)
	}
	return err
}

// find returns the account's trail named by name or ARN; s.mu is held.
func (s *Service) findLocked(account, nameOrARN string) (*Trail, error) {
	arn := nameOrARN
	if !strings.HasPrefix(arn, "arn:") {
		arn = "arn:aws:cloudtrail:" + s.cfg.Region + ":" + account + ":trail/" + nameOrARN
	}
	t, ok := s.trails[arn]
	if !ok || t.Account != account {
		return nil, apiErr("TrailNotFoundException", "Unknown trail: %s for the user: %s", nameOrARN, account)
	}
	return t, nil
}

// Get returns a copy of a trail.
func (s *Service) Get(account, nameOrARN string) (*Trail, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.findLocked(account, nameOrARN)
	if err != nil {
		return nil, err
	}
	c := *t
	return &c, nil
}

// List returns copies of the account's trails, by name.
func (s *Service) List(account string) []*Trail {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Trail
	for _, t := range s.trails {
		if t.Account == account {
			c := *t
			out = append(out, &c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// StartLogging starts a trail; delivery covers records from now on.
func (s *Service) StartLogging(ctx context.Context, account, name string) error {
	t, err := s.Get(account, name)
	if err != nil {
		return err
	}
	if err := s.checkBucket(ctx, t); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err = s.findLocked(account, name)
	if err != nil {
		return err
	}
	if t.IsLogging {
		return nil
	}
	now := s.cfg.Now().UTC()
	t.IsLogging = true
	t.StartLoggingTime = now
	if t.Pending == nil {
		t.Cursor = s.cfg.Journal.Durable()
	}
	if t.LogFileValidationEnabled {
		// A restarted trail starts a new chain, as CloudTrail's does.
		t.Digest = &digestState{Start: now.Truncate(time.Second)}
	}
	return s.saveLocked()
}

// StopLogging delivers what the trail has, writes a final digest and
// stops it.
func (s *Service) StopLogging(ctx context.Context, account, name string) error {
	if _, err := s.Get(account, name); err != nil {
		return err
	}
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	arn := s.arnOf(account, name)
	s.deliverTrail(ctx, arn, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.findLocked(account, name)
	if err != nil {
		return err
	}
	if !t.IsLogging {
		return nil
	}
	t.IsLogging = false
	t.StopLoggingTime = s.cfg.Now().UTC()
	return s.saveLocked()
}

func (s *Service) arnOf(account, nameOrARN string) string {
	if strings.HasPrefix(nameOrARN, "arn:") {
		return nameOrARN
	}
	return "arn:aws:cloudtrail:" + s.cfg.Region + ":" + account + ":trail/" + nameOrARN
}

// Delete stops and removes a trail.
func (s *Service) Delete(ctx context.Context, account, name string) error {
	if err := s.StopLogging(ctx, account, name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.findLocked(account, name)
	if err != nil {
		return err
	}
	delete(s.trails, t.ARN())
	return s.saveLocked()
}

// PutEventSelectors replaces a trail's event selectors.
func (s *Service) PutEventSelectors(account, name string, sel []EventSelector) (*Trail, error) {
	if len(sel) == 0 || len(sel) > 5 {
		return nil, apiErr("InvalidEventSelectorsException", "You can specify from 1 to 5 event selectors.")
	}
	for i := range sel {
		switch sel[i].ReadWriteType {
		case "":
			sel[i].ReadWriteType = "All"
		case "All", "ReadOnly", "WriteOnly":
		default:
			return nil, apiErr("InvalidEventSelectorsException", "ReadWriteType must be ReadOnly, WriteOnly or All.")
		}
		if sel[i].DataResources == nil {
			sel[i].DataResources = []DataResource{}
		}
		if sel[i].ExcludeManagementEventSources == nil {
			sel[i].ExcludeManagementEventSources = []string{}
		}
		for _, d := range sel[i].DataResources {
			if d.Type != "AWS::S3::Object" {
				return nil, apiErr("InvalidEventSelectorsException", "Data resource type %s is not supported.", d.Type)
			}
			for _, v := range d.Values {
				if !strings.HasPrefix(v, "arn:aws:s3") {
					return nil, apiErr("InvalidEventSelectorsException", "Value %s for key DataResources.Values is invalid.", v)
				}
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.findLocked(account, name)
	if err != nil {
		return nil, err
	}
	t.EventSelectors = sel
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	c := *t
	return &c, nil
}

// Run delivers every DeliveryInterval (and when Kick is called) until ctx
// ends, then delivers once more.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.DeliveryInterval)
	defer t.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			s.DeliverAll(context.Background())
			return
		case <-t.C:
		case <-s.wake:
		case <-prune.C:
			s.prune()
			continue
		}
		s.DeliverAll(ctx)
	}
}

// Kick asks for a delivery pass now.
func (s *Service) Kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Service) prune() {
	s.mu.Lock()
	keep := s.cfg.Journal.Durable()
	for _, t := range s.trails {
		if t.IsLogging || t.Pending != nil {
			from := t.Cursor
			if t.Pending != nil {
				from = t.Pending.From
			}
			keep = min(keep, from)
		}
	}
	s.mu.Unlock()
	if err := s.cfg.Journal.Prune(keep, s.cfg.Now().Add(-s.cfg.HistoryRetention)); err != nil {
		s.cfg.Log.Warn("trail: journal pruning failed", "err", err)
	}
}

// DeliveryLag is how far behind the trails' delivery is: the time since
// the oldest successful delivery of a logging trail that has records
// waiting (zero when every trail is up to date).
func (s *Service) DeliveryLag() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	end := s.cfg.Journal.Durable()
	now := s.cfg.Now()
	var lag time.Duration
	for _, t := range s.trails {
		if !t.IsLogging || (t.Cursor >= end && t.Pending == nil) {
			continue
		}
		since := t.LatestDeliveryTime
		if since.IsZero() || since.Before(t.StartLoggingTime) {
			since = t.StartLoggingTime
		}
		lag = max(lag, now.Sub(since))
	}
	return lag
}

// DeliverAll runs one delivery pass over every logging trail.
func (s *Service) DeliverAll(ctx context.Context) {
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	s.mu.Lock()
	var arns []string
	for arn, t := range s.trails {
		if t.IsLogging || t.Pending != nil || (t.Digest != nil && t.Digest.Pending != nil) {
			arns = append(arns, arn)
		}
	}
	s.mu.Unlock()
	sort.Strings(arns)
	for _, arn := range arns {
		s.deliverTrail(ctx, arn, false)
	}
}

// deliverTrail delivers one trail's waiting records and, when due (or
// final), its digest. deliverMu is held.
func (s *Service) deliverTrail(ctx context.Context, arn string, final bool) {
	s.mu.Lock()
	t, ok := s.trails[arn]
	if !ok {
		s.mu.Unlock()
		return
	}
	now := s.cfg.Now().UTC()
	t.LatestDeliveryAttemptTime = now
	if t.Pending == nil && t.IsLogging {
		end := s.cfg.Journal.Durable()
		if end > t.Cursor {
			t.Pending = &pendingLog{From: t.Cursor, To: end, At: now}
			t.Pending.Key = logKey(t, now, t.Cursor)
			if err := s.saveLocked(); err != nil {
				t.Pending = nil
				s.mu.Unlock()
				s.cfg.Log.Error("trail: saving delivery intent failed", "trail", arn, "err", err)
				return
			}
		}
	}
	tc := *t
	s.mu.Unlock()

	if p := tc.Pending; p != nil {
		dl, err := s.deliverLog(ctx, &tc, p)
		s.mu.Lock()
		t := s.trails[arn]
		if t == nil {
			s.mu.Unlock()
			return
		}
		if err != nil {
			t.LatestDeliveryError = deliveryErrorCode(err)
			s.cfg.Log.Warn("trail: log delivery failed; will retry", "trail", arn, "err", err)
			_ = s.saveLocked()
			s.mu.Unlock()
			return
		}
		t.LatestDeliveryError = ""
		if dl != nil {
			t.LatestDeliveryTime = now
			if t.Digest != nil {
				t.Digest.Logs = append(t.Digest.Logs, *dl)
			}
		}
		t.Cursor = p.To
		t.Pending = nil
		if err := s.saveLocked(); err != nil {
			s.cfg.Log.Error("trail: saving delivery cursor failed", "trail", arn, "err", err)
		}
		tc = *t
		s.mu.Unlock()
	}
	if tc.Digest == nil {
		return
	}
	if tc.Digest.Pending == nil && (final || !now.Before(tc.Digest.Start.Add(s.cfg.DigestInterval))) && tc.IsLogging {
		if err := s.prepareDigest(arn, now, final); err != nil {
			s.cfg.Log.Error("trail: preparing digest failed", "trail", arn, "err", err)
			return
		}
	}
	s.mu.Lock()
	t = s.trails[arn]
	if t == nil || t.Digest == nil || t.Digest.Pending == nil {
		s.mu.Unlock()
		return
	}
	tc = *t
	pd := *t.Digest.Pending
	s.mu.Unlock()
	err := s.write(ctx, &tc, tc.S3BucketName, pd.Key, gz(pd.Body), map[string]string{"signature": pd.Signature, "signature-algorithm": "SHA256withRSA"})
	s.mu.Lock()
	defer s.mu.Unlock()
	t = s.trails[arn]
	if t == nil || t.Digest == nil {
		return
	}
	if err != nil {
		t.LatestDigestDeliveryError = deliveryErrorCode(err)
		s.cfg.Log.Warn("trail: digest delivery failed; will retry", "trail", arn, "err", err)
		_ = s.saveLocked()
		return
	}
	sum := sha256.Sum256(pd.Body)
	var d struct {
		End string `json:"digestEndTime"`
	}
	_ = json.Unmarshal(pd.Body, &d)
	end, _ := time.Parse(time.RFC3339, d.End)
	t.LatestDigestDeliveryTime = now
	t.LatestDigestDeliveryError = ""
	t.Digest = &digestState{Start: end, Prev: &digestLink{Bucket: tc.S3BucketName, Key: pd.Key, Hash: hex.EncodeToString(sum[:]), Signature: pd.Signature}}
	if pd.Final {
		// Stopping breaks the chain: the next start begins a new one.
		t.Digest = nil
	}
	if err := s.saveLocked(); err != nil {
		s.cfg.Log.Error("trail: saving digest state failed", "trail", arn, "err", err)
	}
}

func deliveryErrorCode(err error) string {
	switch {
	case errors.Is(err, ErrNoSuchBucket):
		return "NoSuchBucket"
	case errors.Is(err, ErrInsufficientPolicy):
		return "AccessDenied"
	}
	return "InternalError"
}

// logKey is a log file's key. Its unique part comes from the journal
// offset, so a redelivery after a crash writes the same key.
func logKey(t *Trail, at time.Time, from int64) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d", t.ARN(), from)))
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	uniq := make([]byte, 16)
	for i := range uniq {
		uniq[i] = alnum[int(sum[i])%len(alnum)]
	}
	at = at.UTC()
	k := path.Join("AWSLogs", t.Account, "CloudTrail", t.HomeRegion, at.Format("2006/01/02"),
		t.Account+"_CloudTrail_"+t.HomeRegion+"_"+at.Format("20060102T1504Z")+"_"+string(uniq)+".json.gz")
	if t.S3KeyPrefix != "" {
		k = t.S3KeyPrefix + "/" + k
	}
	return k
}

// digestKey is a digest file's key.
func digestKey(t *Trail, end time.Time) string {
	end = end.UTC()
	k := path.Join("AWSLogs", t.Account, "CloudTrail-Digest", t.HomeRegion, end.Format("2006/01/02"),
		t.Account+"_CloudTrail-Digest_"+t.HomeRegion+"_"+t.Name+"_"+t.HomeRegion+"_"+end.Format("20060102T150405Z")+".json.gz")
	if t.S3KeyPrefix != "" {
		k = t.S3KeyPrefix + "/" + k
	}
	return k
}

// selectView is what selection reads of a record.
type selectView struct {
	Recipient  string     `json:"recipientAccountId"`
	ReadOnly   bool       `json:"readOnly"`
	Management bool       `json:"managementEvent"`
	Source     string     `json:"eventSource"`
	EventTime  string     `json:"eventTime"`
	Resources  []Resource `json:"resources"`
}

// selects reports whether a trail's selectors take a record.
func selects(t *Trail, r *selectView) bool {
	if r.Recipient != t.Account {
		return false
	}
	for _, s := range t.EventSelectors {
		switch s.ReadWriteType {
		case "ReadOnly":
			if !r.ReadOnly {
				continue
			}
		case "WriteOnly":
			if r.ReadOnly {
				continue
			}
		}
		if r.Management {
			if s.IncludeManagementEvents && !contains(s.ExcludeManagementEventSources, r.Source) {
				return true
			}
			continue
		}
		for _, d := range s.DataResources {
			for _, v := range d.Values {
				if v == "arn:aws:s3" || v == "arn:aws:s3:::" {
					return true
				}
				for _, res := range r.Resources {
					if res.Type != "AWS::S3::Object" {
						continue
					}
					arn := res.ARN
					if arn == "" {
						arn = res.ARNPrefix
					}
					if strings.HasPrefix(arn, v) {
						return true
					}
				}
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// deliverLog writes the log file of a pending range. It returns nil
// when the range holds no record for the trail (nothing is written).
func (s *Service) deliverLog(ctx context.Context, t *Trail, p *pendingLog) (*DigestLog, error) {
	var body bytes.Buffer
	body.WriteString(`{"Records":[`)
	n := 0
	var newest, oldest string
	err := s.cfg.Journal.Scan(p.From, func(l Line) bool {
		if l.Offset >= p.To {
			return false
		}
		var v selectView
		if json.Unmarshal(l.Data, &v) != nil || !selects(t, &v) {
			return true
		}
		if n > 0 {
			body.WriteByte(',')
		}
		body.Write(l.Data)
		n++
		if newest == "" || v.EventTime > newest {
			newest = v.EventTime
		}
		if oldest == "" || v.EventTime < oldest {
			oldest = v.EventTime
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	body.WriteString("]}")
	if err := s.write(ctx, t, t.S3BucketName, p.Key, gz(body.Bytes()), nil); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body.Bytes())
	return &DigestLog{S3Bucket: t.S3BucketName, S3Object: p.Key, HashValue: hex.EncodeToString(sum[:]), HashAlgorithm: "SHA-256",
		NewestEventTime: newest, OldestEventTime: oldest}, nil
}

// write stores a file in the trail's bucket and its local copy.
func (s *Service) write(ctx context.Context, t *Trail, bucket, key string, data []byte, userMeta map[string]string) error {
	if s.cfg.LocalDir != "" {
		p := filepath.Join(s.cfg.LocalDir, bucket, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		if err := fsutil.WriteFileAtomic(p, data, 0o600); err != nil {
			return err
		}
		if userMeta != nil {
			b, _ := json.Marshal(userMeta)
			if err := fsutil.WriteFileAtomic(p+".meta", b, 0o600); err != nil {
				return err
			}
		}
	}
	if s.cfg.Dest == nil {
		return nil
	}
	return s.cfg.Dest.Put(ctx, t.Account, t.ARN(), bucket, key, data, userMeta)
}

// gz compresses deterministically (no name, no time in the header), so
// the same content always makes the same file.
func gz(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// digestDoc is a digest file, fields in AWS's order.
type digestDoc struct {
	AWSAccountID                string      `json:"awsAccountId"`
	DigestStartTime             string      `json:"digestStartTime"`
	DigestEndTime               string      `json:"digestEndTime"`
	DigestS3Bucket              string      `json:"digestS3Bucket"`
	DigestS3Object              string      `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string      `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string      `json:"digestSignatureAlgorithm"`
	NewestEventTime             *string     `json:"newestEventTime"`
	OldestEventTime             *string     `json:"oldestEventTime"`
	PreviousDigestS3Bucket      *string     `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      *string     `json:"previousDigestS3Object"`
	PreviousDigestHashValue     *string     `json:"previousDigestHashValue"`
	PreviousDigestHashAlgorithm *string     `json:"previousDigestHashAlgorithm"`
	PreviousDigestSignature     *string     `json:"previousDigestSignature"`
	LogFiles                    []DigestLog `json:"logFiles"`
}

// prepareDigest builds and signs the digest closing the current window
// and records it as pending.
func (s *Service) prepareDigest(arn string, now time.Time, final bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.trails[arn]
	if t == nil || t.Digest == nil || t.Digest.Pending != nil {
		return nil
	}
	end := now.UTC().Truncate(time.Second)
	if !end.After(t.Digest.Start) {
		end = t.Digest.Start.Add(time.Second)
	}
	key, err := s.cfg.Keys.Current(end)
	if err != nil {
		return err
	}
	d := digestDoc{
		AWSAccountID: t.Account, DigestStartTime: t.Digest.Start.Format(time.RFC3339), DigestEndTime: end.Format(time.RFC3339),
		DigestS3Bucket: t.S3BucketName, DigestS3Object: digestKey(t, end),
		DigestPublicKeyFingerprint: key.Fingerprint, DigestSignatureAlgorithm: "SHA256withRSA",
		LogFiles: t.Digest.Logs,
	}
	if d.LogFiles == nil {
		d.LogFiles = []DigestLog{}
	}
	for _, l := range d.LogFiles {
		if d.NewestEventTime == nil || l.NewestEventTime > *d.NewestEventTime {
			v := l.NewestEventTime
			d.NewestEventTime = &v
		}
		if d.OldestEventTime == nil || l.OldestEventTime < *d.OldestEventTime {
			v := l.OldestEventTime
			d.OldestEventTime = &v
		}
	}
	prevSig := "null"
	if p := t.Digest.Prev; p != nil {
		alg := "SHA-256"
		d.PreviousDigestS3Bucket, d.PreviousDigestS3Object = &p.Bucket, &p.Key
		d.PreviousDigestHashValue, d.PreviousDigestHashAlgorithm = &p.Hash, &alg
		d.PreviousDigestSignature = &p.Signature
		prevSig = p.Signature
	}
	body, err := json.Marshal(d)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	toSign := d.DigestEndTime + "\n" + d.DigestS3Bucket + "/" + d.DigestS3Object + "\n" + hex.EncodeToString(sum[:]) + "\n" + prevSig
	sig, err := key.Sign([]byte(toSign))
	if err != nil {
		return err
	}
	t.Digest.Pending = &pendingDig{Key: d.DigestS3Object, Body: body, Signature: hex.EncodeToString(sig), Final: final}
	return s.saveLocked()
}
