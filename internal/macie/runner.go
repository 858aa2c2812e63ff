package macie

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/coffer-io/coffer/internal/discovery"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Objects is what the runner needs of the object layer: listings, the
// bucket record, and the data (decrypted by the server: SSE-S3 and
// SSE-KMS; SSE-C cannot be read without the customer's key).
type Objects interface {
	GetBucket(ctx context.Context, name string) (*meta.Bucket, error)
	ListObjects(ctx context.Context, bucket string, opts meta.ListOptions) (meta.ListResult, error)
	GetObject(ctx context.Context, bucket, key, versionID string) (*meta.ObjectVersion, error)
	Open(ctx context.Context, v *meta.ObjectVersion) (io.ReadCloser, error)
	ListAccounts(ctx context.Context) ([]string, error)
	ListBuckets(ctx context.Context, owner string) ([]*meta.Bucket, error)
}

// BucketAccess is a bucket's security posture as findings report it.
type BucketAccess struct {
	Public            bool   // the policy or ACL, as Block Public Access leaves them, allow everyone
	Shared            bool   // the policy or ACL grant another account
	BlockPublicAccess bool   // all four settings on (bucket or account)
	EncryptionType    string // AES256, aws:kms, or NONE
	EncryptionKey     string
	OwnerCanonicalID  string
	OwnerDisplayName  string
	CreatedAt         time.Time
}

// Runner runs classification jobs: one-time jobs once, scheduled jobs
// at their frequency, with bounded parallelism across objects.
type Runner struct {
	Svc      *Service
	Objects  Objects
	Access   func(ctx context.Context, b *meta.Bucket) BucketAccess
	Parallel int
	// Poll is how often due scheduled jobs are looked for.
	Poll time.Duration
	// AutoInterval is the pause between automated discovery passes;
	// AutoRate bounds the objects one pass scans per account.
	AutoInterval time.Duration
	AutoRate     int
	// Publish is told of every finding created or updated (trail and
	// webhooks).
	Publish func(f *Finding)
	Log     *slog.Logger

	wake chan struct{}
	mu   sync.Mutex
	busy map[string]bool // jobs being run
}

// Wake makes the runner look for work now.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Start runs the runner until ctx ends; done is closed when it stops.
func (r *Runner) Start(ctx context.Context) (done <-chan struct{}) {
	r.wake = make(chan struct{}, 1)
	r.busy = map[string]bool{}
	if r.Parallel <= 0 {
		r.Parallel = 2
	}
	if r.Poll <= 0 {
		r.Poll = time.Minute
	}
	if r.AutoInterval <= 0 {
		r.AutoInterval = time.Hour
	}
	if r.AutoRate <= 0 {
		r.AutoRate = 1000
	}
	d := make(chan struct{})
	go func() {
		defer close(d)
		var wg sync.WaitGroup
		t := time.NewTicker(r.Poll)
		defer t.Stop()
		auto := time.NewTicker(r.AutoInterval)
		defer auto.Stop()
		autoDone := make(chan struct{}, 1)
		autoDone <- struct{}{}
		for {
			r.dispatch(ctx, &wg)
			select {
			case <-ctx.Done():
				wg.Wait()
				return
			case <-r.wake:
			case <-t.C:
			case <-auto.C:
				// One automated pass at a time; a slow pass skips ticks.
				select {
				case <-autoDone:
					wg.Add(1)
					go func() {
						defer wg.Done()
						r.Automated(ctx)
						autoDone <- struct{}{}
					}()
				default:
				}
			}
		}
	}()
	return d
}

// dispatch starts every due job that is not already running.
func (r *Runner) dispatch(ctx context.Context, wg *sync.WaitGroup) {
	accounts, err := r.Objects.ListAccounts(ctx)
	if err != nil {
		r.logErr("list accounts", err)
		return
	}
	now := r.Svc.now()
	for _, acct := range accounts {
		jobs, err := listJSON[Job](ctx, r.Svc.Store, acct, KindJob)
		if err != nil {
			r.logErr("list jobs", err)
			continue
		}
		for _, j := range jobs {
			due := j.JobStatus == JobRunning
			if j.JobStatus == JobIdle && j.JobType == Scheduled {
				next, err := parseTime(j.NextRun)
				due = err != nil || !now.Before(next)
			}
			key := acct + "/" + j.JobID
			r.mu.Lock()
			if !due || r.busy[key] {
				r.mu.Unlock()
				continue
			}
			r.busy[key] = true
			r.mu.Unlock()
			wg.Add(1)
			go func(acct, id string) {
				defer wg.Done()
				defer func() { r.mu.Lock(); delete(r.busy, acct+"/"+id); r.mu.Unlock() }()
				if err := r.Run(ctx, acct, id); err != nil && ctx.Err() == nil {
					r.logErr("job "+id, err)
				}
			}(acct, j.JobID)
		}
	}
}

func (r *Runner) logErr(what string, err error) {
	if r.Log != nil {
		r.Log.Error("discovery: "+what, "err", err)
	}
}

// Run runs one job now, to the end of its run (or until it is paused or
// cancelled).
func (r *Runner) Run(ctx context.Context, account, id string) error {
	j, err := r.Svc.job(ctx, account, id)
	if err != nil {
		return err
	}
	if j.JobStatus == JobIdle {
		if err := r.Svc.mutateJob(ctx, account, id, func(j *Job) error { j.JobStatus = JobRunning; return nil }); err != nil {
			return err
		}
	}
	eng, err := r.engine(ctx, account, j)
	if err != nil {
		return r.finish(ctx, account, id, true)
	}
	// Objects to analyse: every bucket's current versions in scope,
	// sampled deterministically so a rerun picks the same ones.
	type item struct {
		b *meta.Bucket
		v *meta.ObjectVersion
	}
	var items []item
	failed := false
	for _, bd := range j.S3JobDefinition.BucketDefinitions {
		for _, name := range bd.Buckets {
			b, err := r.Objects.GetBucket(ctx, name)
			if err != nil || b.Owner != account {
				// A bucket that is gone or not the account's is an
				// error of the run, as in Macie.
				failed = true
				continue
			}
			sb, acc := r.s3Bucket(ctx, b)
			if err := r.policyFindings(ctx, account, b, sb, acc); err != nil {
				return err
			}
			marker := ""
			for {
				res, err := r.Objects.ListObjects(ctx, name, meta.ListOptions{Marker: marker, MaxKeys: 1000})
				if err != nil {
					return err
				}
				for _, v := range res.Objects {
					if v.DeleteMarker || !inScope(j.S3JobDefinition.Scoping, v) || !sampled(j.JobID, v, j.SamplingPercentage) {
						continue
					}
					items = append(items, item{b, v})
				}
				if !res.IsTruncated {
					break
				}
				marker = res.NextMarker
			}
		}
	}
	if err := r.Svc.mutateJob(ctx, account, id, func(j *Job) error {
		j.Statistics.ApproximateNumberOfObjectsToProcess = float64(len(items))
		j.LastRunTime = timestamp(r.Svc.now())
		return nil
	}); err != nil {
		return err
	}
	fp := fingerprint(j)
	work := make(chan item)
	var wg sync.WaitGroup
	var mu sync.Mutex
	stopped := false
	for range r.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				ferr := r.scanOne(ctx, account, j, eng, fp, it.b, it.v)
				mu.Lock()
				if ferr != nil {
					failed = true
				}
				mu.Unlock()
			}
		}()
	}
	for i, it := range items {
		// Pausing or cancelling takes effect between objects.
		if i%16 == 0 {
			cur, err := r.Svc.job(ctx, account, id)
			if err != nil || cur.JobStatus != JobRunning {
				stopped = true
				break
			}
		}
		select {
		case work <- it:
		case <-ctx.Done():
			stopped = true
		}
		if stopped {
			break
		}
		if i%16 == 15 {
			// Progress is written every few objects, not on each.
			_ = r.Svc.mutateJob(ctx, account, id, func(j *Job) error {
				j.Statistics.ApproximateNumberOfObjectsToProcess = float64(len(items) - i - 1)
				return nil
			})
		}
	}
	close(work)
	wg.Wait()
	if stopped {
		return ctx.Err()
	}
	return r.finish(ctx, account, id, failed)
}

// finish ends a run: a one-time job is COMPLETE, a scheduled one IDLE
// until its next run.
func (r *Runner) finish(ctx context.Context, account, id string, failed bool) error {
	return r.Svc.mutateJob(ctx, account, id, func(j *Job) error {
		if j.JobStatus != JobRunning {
			return nil
		}
		j.Statistics.NumberOfRuns++
		j.Statistics.ApproximateNumberOfObjectsToProcess = 0
		j.LastRunErrorStatus.Code = "NONE"
		if failed {
			j.LastRunErrorStatus.Code = "ERROR"
		}
		j.JobStatus = JobComplete
		if j.JobType == Scheduled {
			j.JobStatus = JobIdle
			j.NextRun = timestamp(NextRun(j.ScheduleFrequency, r.Svc.now()))
		}
		return nil
	})
}

// NextRun computes when a scheduled job runs next after t (midnight UTC
// of the next scheduled day).
func NextRun(s *Schedule, t time.Time) time.Time {
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	switch {
	case s == nil || s.DailySchedule != nil:
		return day
	case s.WeeklySchedule != nil:
		for day.Weekday().String() != titleCase(s.WeeklySchedule.DayOfWeek) {
			day = day.AddDate(0, 0, 1)
		}
		return day
	default:
		for {
			last := time.Date(day.Year(), day.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
			if day.Day() == min(s.MonthlySchedule.DayOfMonth, last) {
				return day
			}
			day = day.AddDate(0, 0, 1)
		}
	}
}

// sampled picks pct% of objects by a hash of the job and the version.
func sampled(jobID string, v *meta.ObjectVersion, pct int) bool {
	if pct >= 100 {
		return true
	}
	h := sha256.Sum256([]byte(jobID + "\x00" + v.Key + "\x00" + v.VersionID))
	return binary.BigEndian.Uint64(h[:8])%100 < uint64(pct)
}

// fingerprint names what a scan depends on besides the object: the
// identifiers and allow lists chosen.
func fingerprint(j *Job) string {
	b, _ := json.Marshal([]any{j.ManagedDataIdentifierSelector, j.ManagedDataIdentifierIds, j.CustomDataIdentifierIds, j.AllowListIds})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:12])
}

// engine builds the detection engine a job asks for.
func (r *Runner) engine(ctx context.Context, account string, j *Job) (*discovery.Engine, error) {
	cfg := discovery.Config{Selection: discovery.Selection(j.ManagedDataIdentifierSelector), ManagedIDs: j.ManagedDataIdentifierIds}
	if cfg.Selection == discovery.SelectRecommended {
		// Coffer's recommended set is every managed identifier.
		cfg.Selection = discovery.SelectAll
	}
	for _, id := range j.CustomDataIdentifierIds {
		c, err := r.Svc.identifier(ctx, account, id)
		if err != nil {
			return nil, err
		}
		cfg.Custom = append(cfg.Custom, discovery.CustomIdentifier{ID: c.ID, ARN: c.Arn, Name: c.Name, Regex: c.Regex,
			Keywords: c.Keywords, IgnoreWords: c.IgnoreWords, MaximumMatchDistance: c.MaximumMatchDistance})
	}
	for _, id := range j.AllowListIds {
		l, err := r.Svc.allowList(ctx, account, id)
		if err != nil {
			return nil, err
		}
		al := discovery.AllowList{ID: l.ID, Regex: l.Criteria.Regex}
		if w := l.Criteria.S3WordsList; w != nil {
			words, err := r.words(ctx, account, w)
			if err != nil {
				return nil, err
			}
			al.Words = words
		}
		cfg.AllowLists = append(cfg.AllowLists, al)
	}
	return discovery.New(cfg)
}

// words reads an allow list's words object: one entry a line.
func (r *Runner) words(ctx context.Context, account string, w *S3WordsList) ([]string, error) {
	b, err := r.Objects.GetBucket(ctx, w.BucketName)
	if err != nil || b.Owner != account {
		return nil, fmt.Errorf("allow list words: bucket %s not readable", w.BucketName)
	}
	v, err := r.Objects.GetObject(ctx, w.BucketName, w.ObjectKey, "")
	if err != nil {
		return nil, err
	}
	if v.Size > 35<<20 {
		return nil, errors.New("allow list words object exceeds 35 MiB")
	}
	rc, err := r.Objects.Open(ctx, v)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var out []string
	sc := bufio.NewScanner(rc)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" && len(out) < maxAllowWords {
			out = append(out, s)
		}
	}
	return out, sc.Err()
}

// scanRecord is a version's kept scan result.
type scanRecord struct {
	ETag        string                `json:"etag"`
	Fingerprint string                `json:"fp"`
	ScannedAt   string                `json:"at"`
	Result      *ClassificationResult `json:"result"`
}

// scanOne scans one version (or reuses its kept result) and records its
// finding. The error reports a failed object (the run's error status).
func (r *Runner) scanOne(ctx context.Context, account string, j *Job, eng *discovery.Engine, fp string, b *meta.Bucket, lv *meta.ObjectVersion) error {
	// Results are kept per version and per identifier selection.
	sk := ScanKey(b.Name, lv.Key, lv.VersionID) + "\x00" + fp
	rec, err := getJSON[scanRecord](ctx, r.Svc.Store, account, KindScan, sk)
	if err != nil || rec.ETag != lv.ETag || rec.Fingerprint != fp {
		res, serr := r.scan(ctx, eng, lv)
		rec = &scanRecord{ETag: lv.ETag, Fingerprint: fp, ScannedAt: timestamp(r.Svc.now()), Result: res}
		if serr != nil {
			return serr
		}
		if err := putJSON(ctx, r.Svc.Store, account, KindScan, sk, rec); err != nil {
			return err
		}
	}
	if err := r.record(ctx, account, j, b, lv, rec.Result); err != nil {
		return err
	}
	if rec.Result.Status.Code == "SKIPPED" {
		return errors.New(rec.Result.Status.Reason)
	}
	return nil
}

// scan reads and scans one version. Objects that cannot be read (SSE-C,
// a failed decryption) are reported like Macie's skipped objects.
func (r *Runner) scan(ctx context.Context, eng *discovery.Engine, lv *meta.ObjectVersion) (*ClassificationResult, error) {
	v, err := r.Objects.GetObject(ctx, lv.Bucket, lv.Key, lv.VersionID)
	if err != nil {
		return nil, err
	}
	if v.Bucket == "" {
		v.Bucket = lv.Bucket
	}
	if e := v.Encryption; e != nil && e.Algorithm == meta.SSEC {
		return &ClassificationResult{Status: ClassificationStatus{Code: "SKIPPED", Reason: "UNABLE_TO_DECRYPT"}, SensitiveData: []SensitiveDataItem{}}, nil
	}
	rc, err := r.Objects.Open(ctx, v)
	if err != nil {
		return &ClassificationResult{Status: ClassificationStatus{Code: "SKIPPED", Reason: "UNABLE_TO_DECRYPT"}, SensitiveData: []SensitiveDataItem{}}, nil
	}
	defer rc.Close()
	res, err := eng.Scan(ctx, rc, v.Key, v.Size)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return &ClassificationResult{Status: ClassificationStatus{Code: "SKIPPED", Reason: "OBJECT_UNAVAILABLE"}, SensitiveData: []SensitiveDataItem{}}, nil
	}
	return convert(res), nil
}

// convert turns the engine's result into Macie's shape.
func convert(res *discovery.Result) *ClassificationResult {
	out := &ClassificationResult{AdditionalOccurrences: res.AdditionalOccurrences, MimeType: res.MIMEType,
		SizeClassified: res.SizeClassified, Status: ClassificationStatus{Code: string(res.Status)},
		SensitiveData: []SensitiveDataItem{}, CustomDataIdentifiers: CustomDataIdentifiers{Detections: []CustomDetection{}}}
	if res.Err != nil {
		out.Status.Reason = res.Err.Reason
	}
	byCat := map[string]*SensitiveDataItem{}
	var order []string
	for _, d := range res.Detections {
		occ := convertOcc(d.Occurrences)
		if d.Category == discovery.CategoryCustom {
			out.CustomDataIdentifiers.Detections = append(out.CustomDataIdentifiers.Detections,
				CustomDetection{Arn: d.ARN, Count: d.Count, Name: d.Name, Occurrences: occ})
			out.CustomDataIdentifiers.TotalCount += d.Count
			continue
		}
		c := string(d.Category)
		it := byCat[c]
		if it == nil {
			it = &SensitiveDataItem{Category: c}
			byCat[c] = it
			order = append(order, c)
		}
		it.Detections = append(it.Detections, DefaultDetection{Count: d.Count, Occurrences: occ, Type: d.Type})
		it.TotalCount += d.Count
	}
	for _, c := range order {
		out.SensitiveData = append(out.SensitiveData, *byCat[c])
	}
	return out
}

func convertOcc(o discovery.Occurrences) *Occurrences {
	out := &Occurrences{}
	rng := func(l discovery.LineRange) Range {
		return Range{End: l.End, Start: l.Start, StartColumn: l.StartColumn}
	}
	for _, l := range o.LineRanges {
		out.LineRanges = append(out.LineRanges, rng(l))
	}
	for _, l := range o.OffsetRanges {
		out.OffsetRanges = append(out.OffsetRanges, rng(l))
	}
	for _, c := range o.Cells {
		out.Cells = append(out.Cells, Cell{CellReference: c.CellReference, Column: c.Column, ColumnName: c.ColumnName, Row: c.Row})
	}
	for _, rc := range o.Records {
		out.Records = append(out.Records, Record{JSONPath: rc.JSONPath, RecordIndex: rc.RecordIndex})
	}
	for _, p := range o.Pages {
		pg := Page{PageNumber: p.PageNumber}
		if p.LineRange != nil {
			x := rng(*p.LineRange)
			pg.LineRange = &x
		}
		if p.OffsetRange != nil {
			x := rng(*p.OffsetRange)
			pg.OffsetRange = &x
		}
		out.Pages = append(out.Pages, pg)
	}
	return out
}
