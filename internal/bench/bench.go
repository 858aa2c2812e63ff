package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	progressEvery = time.Second
	// cleanupTimeout bounds cleanup, which also runs after cancellation so an
	// interrupted run does not leave its objects behind.
	cleanupTimeout = 10 * time.Minute
	// maxErrorKinds bounds the distinct failures remembered per worker and
	// reported overall; the rest are only counted.
	maxErrorKinds = 8
)

// Run executes one benchmark and returns its report. Progress lines (setup,
// one line per second while measuring, cleanup) go to progress, which may be
// nil.
//
// Failed operations are counted, not fatal: Run returns an error alongside
// the report only if every measured operation failed. If ctx is cancelled
// mid-run, Run still cleans up and returns the partial report together with
// ctx.Err().
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Report, error) {
	if progress == nil {
		progress = io.Discard
	}
	s, err := cfg.normalize()
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	c, err := newClient(s)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer c.close()
	pl, err := newPayloads(s.ObjectSize, s.signed)
	if err != nil {
		return nil, fmt.Errorf("bench: generate payload: %w", err)
	}
	r := &runner{s: s, c: c, pl: pl, progress: progress}

	what := s.Op
	if s.mixed {
		what += " (" + s.Mix + ")"
	}
	fmt.Fprintf(progress, "bench: %s, %s objects, %d keys, %d workers, payload %s, endpoint %s, bucket %s\n",
		what, formatBytes(s.ObjectSize), s.Objects, s.Concurrency, s.PayloadMode, s.Endpoint, s.Bucket)
	if s.Insecure {
		fmt.Fprintln(progress, "bench: TLS verification disabled (insecure)")
	}

	created, err := r.ensureBucket(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if !s.Keep {
		defer r.cleanup(ctx, created)
	}
	if s.needsPrepare() {
		if err := r.prepare(ctx); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
	}

	rep := r.measure(ctx)
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if rep.Ops == 0 && rep.Errors > 0 {
		msg := ""
		if len(rep.ErrorSamples) > 0 {
			e := rep.ErrorSamples[0]
			msg = fmt.Sprintf(" (first: %s %s)", e.Op, e.describe())
		}
		return rep, fmt.Errorf("bench: all %d operations failed%s", rep.Errors, msg)
	}
	return rep, nil
}

// runner holds the state shared by all workers of one run.
type runner struct {
	s        *settings
	c        *client
	pl       *payloads
	progress io.Writer

	prepared bool         // the base key space [0, Objects) was written
	stop     atomic.Bool  // set by the duration timer or ctx cancellation
	seq      atomic.Int64 // operations started; bounds Count and numbers put/delete keys
	churnPut atomic.Int64 // mixed mode: puts into the churn key space
	churnDel atomic.Int64 // mixed mode: deletes from the churn key space
}

// ensureBucket creates the bucket if needed and reports whether this run
// created it (only such a bucket is removed afterwards).
func (r *runner) ensureBucket(ctx context.Context) (created bool, err error) {
	signer := newSigner()
	bucket := request{method: http.MethodHead, path: r.c.bucketPath, raw: r.c.bucketRaw}
	_, _, err = r.c.do(ctx, signer, bucket, http.StatusOK)
	if err == nil {
		return false, nil
	}
	var f *failure
	if !errors.As(err, &f) || f.status != http.StatusNotFound {
		return false, fmt.Errorf("check bucket %s: %w", r.s.Bucket, err)
	}

	bucket.method = http.MethodPut
	if r.s.Region != defaultRegion {
		// Outside us-east-1, S3 wants the region restated in the body.
		bucket.body = []byte(`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>` +
			r.s.Region + `</LocationConstraint></CreateBucketConfiguration>`)
		bucket.payloadHash = bodyHash(bucket.body)
	}
	_, _, err = r.c.do(ctx, signer, bucket, http.StatusOK)
	switch {
	case err == nil:
		fmt.Fprintf(r.progress, "bench: created bucket %s\n", r.s.Bucket)
		return true, nil
	case errors.As(err, &f) && f.status == http.StatusConflict && f.code == "BucketAlreadyOwnedByYou":
		// Someone (perhaps a concurrent run) created it in between; it is
		// ours to use but not to delete.
		return false, nil
	default:
		return false, fmt.Errorf("create bucket %s: %w", r.s.Bucket, err)
	}
}

// forEach calls fn(i) for i in [0, n) from Concurrency goroutines. With
// stopOnError it stops handing out work after the first failure.
func (r *runner) forEach(ctx context.Context, n int, stopOnError bool, fn func(signer *v4.Signer, i int) error) (done, failed int64, firstErr error) {
	var (
		next         atomic.Int64
		nDone        atomic.Int64
		nFailed      atomic.Int64
		errOnce      sync.Once
		wg           sync.WaitGroup
		stopProgress = tick(r.progress, progressEvery, func(el time.Duration) string {
			return fmt.Sprintf("  %5.1fs  %d/%d", el.Seconds(), nDone.Load(), n)
		})
	)
	for range min(r.s.Concurrency, n) {
		wg.Go(func() {
			signer := newSigner()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n || (stopOnError && nFailed.Load() > 0) {
					return
				}
				if err := fn(signer, i); err != nil {
					nFailed.Add(1)
					errOnce.Do(func() { firstErr = err })
				}
				nDone.Add(1)
			}
		})
	}
	wg.Wait()
	stopProgress()
	return nDone.Load(), nFailed.Load(), firstErr
}

// prepare writes the base key space that get, head, list, delete and mixed
// runs operate on. It is not measured.
func (r *runner) prepare(ctx context.Context) error {
	fmt.Fprintf(r.progress, "bench: writing %d objects to operate on\n", r.s.Objects)
	start := time.Now()
	_, failed, err := r.forEach(ctx, r.s.Objects, true, func(signer *v4.Signer, i int) error {
		path, raw := r.c.objectPath(i)
		v := i % len(r.pl.bodies)
		_, _, err := r.c.do(ctx, signer, request{
			method: http.MethodPut, path: path, raw: raw,
			body: r.pl.bodies[v], payloadHash: r.pl.hashes[v],
		}, http.StatusOK)
		return err
	})
	// Even a partial key space has to be cleaned up.
	r.prepared = true
	if err := ctx.Err(); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("writing objects before the run failed: %w", err)
	}
	fmt.Fprintf(r.progress, "bench: wrote %d objects in %s\n", r.s.Objects, time.Since(start).Round(time.Millisecond))
	return nil
}

// cleanup deletes every key the run may have written and, if the run created
// the bucket, the bucket. Problems are reported on progress only: the
// measurements stand regardless.
func (r *runner) cleanup(ctx context.Context, createdBucket bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()

	// Deleting a missing key succeeds in S3, so over-approximating is safe.
	base := 0
	if r.prepared || r.s.usesOp[opPut] {
		base = r.s.Objects
		if !r.prepared {
			base = int(min(r.seq.Load(), int64(r.s.Objects)))
		}
	}
	churn := 0
	if r.s.mixed {
		churn = int(min(r.churnPut.Load(), int64(r.s.Objects)))
	}
	keys := base + churn
	if keys > 0 {
		fmt.Fprintf(r.progress, "bench: removing up to %d objects\n", keys)
		_, failed, err := r.forEach(ctx, keys, false, func(signer *v4.Signer, i int) error {
			if i >= base {
				i = r.s.Objects + (i - base)
			}
			path, raw := r.c.objectPath(i)
			_, _, err := r.c.do(ctx, signer, request{method: http.MethodDelete, path: path, raw: raw},
				http.StatusNoContent, http.StatusOK, http.StatusNotFound)
			return err
		})
		if failed > 0 {
			fmt.Fprintf(r.progress, "bench: warning: %d deletes failed during cleanup (first: %v)\n", failed, err)
		}
	}
	if !createdBucket {
		return
	}
	_, _, err := r.c.do(ctx, newSigner(), request{method: http.MethodDelete, path: r.c.bucketPath, raw: r.c.bucketRaw},
		http.StatusNoContent, http.StatusOK)
	if err != nil {
		fmt.Fprintf(r.progress, "bench: warning: could not remove bucket %s: %v\n", r.s.Bucket, err)
		return
	}
	fmt.Fprintf(r.progress, "bench: removed bucket %s\n", r.s.Bucket)
}

// measure runs the workers until Duration passes, Count operations have
// started, or ctx is cancelled.
func (r *runner) measure(ctx context.Context) *Report {
	workers := make([]*worker, r.s.Concurrency)
	for i := range workers {
		workers[i] = newWorker(r, i)
	}
	stopOnCancel := context.AfterFunc(ctx, func() { r.stop.Store(true) })
	defer stopOnCancel()

	fmt.Fprintln(r.progress, "bench: measuring")
	var lastOps int64
	var lastEl time.Duration
	stopTick := tick(r.progress, progressEvery, func(el time.Duration) string {
		var ops, errs int64
		for _, w := range workers {
			ops += w.done.Load()
			errs += w.failed.Load()
		}
		rate := float64(ops-lastOps) / (el - lastEl).Seconds()
		lastOps, lastEl = ops, el
		return fmt.Sprintf("  %5.1fs  %d ops  %.0f ops/s  %d errors", el.Seconds(), ops, rate, errs)
	})

	start := time.Now()
	if r.s.Duration > 0 {
		timer := time.AfterFunc(r.s.Duration, func() { r.stop.Store(true) })
		defer timer.Stop()
	}
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.loop(ctx) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopTick()

	return r.report(workers, elapsed)
}

// opStats is one worker's tally for one op type; only that worker writes it.
type opStats struct {
	ops, errors, bytes int64
	hist               histogram
}

type errKey struct {
	op     opKind
	status int
	code   string
}

// worker owns everything it writes during the run, so the hot path takes no
// locks; done and failed are atomics only so the progress line can read them.
type worker struct {
	done   atomic.Int64
	failed atomic.Int64
	_      [48]byte // keep other workers' counters off this cache line

	r      *runner
	signer *v4.Signer
	rng    *mrand.Rand
	stats  [numOps]*opStats
	errs   map[errKey]int64
}

func newWorker(r *runner, id int) *worker {
	w := &worker{
		r:      r,
		signer: newSigner(),
		rng:    mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), uint64(id))),
		errs:   make(map[errKey]int64),
	}
	for op := range numOps {
		if r.s.usesOp[op] {
			w.stats[op] = &opStats{}
		}
	}
	return w
}

func (w *worker) loop(ctx context.Context) {
	r := w.r
	count := int64(r.s.Count)
	for !r.stop.Load() {
		n := r.seq.Add(1) // 1-based
		if count > 0 && n > count {
			return
		}
		op := r.s.op
		if r.s.mixed {
			op = w.pickOp()
		}
		bytes, lat, err := w.exec(ctx, op, n-1)
		if err != nil && ctx.Err() != nil {
			return // cancelled, not a server failure
		}
		st := w.stats[op]
		if err != nil {
			st.errors++
			w.noteError(op, err)
			w.failed.Add(1)
		} else {
			st.ops++
			st.bytes += bytes
			st.hist.record(lat)
		}
		w.done.Add(1)
	}
}

func (w *worker) pickOp() opKind {
	x := w.rng.IntN(w.r.s.mixTotal)
	for _, e := range w.r.s.mix {
		if x < e.upTo {
			return e.op
		}
	}
	return w.r.s.mix[len(w.r.s.mix)-1].op
}

// exec performs one operation. seq is the run-wide operation number.
//
// Key choice: single-op put and delete walk the key space in order (so a
// delete run removes each pre-written object once); get and head pick keys
// at random. In mixed mode puts and deletes cycle through a separate churn
// range [Objects, 2*Objects), so reads never race with deletes and a
// correct server yields no errors.
func (w *worker) exec(ctx context.Context, op opKind, seq int64) (bytes int64, lat time.Duration, err error) {
	r, c, s := w.r, w.r.c, w.r.s
	objects := int64(s.Objects)
	switch op {
	case opPut:
		i := seq % objects
		if s.mixed {
			i = objects + (r.churnPut.Add(1)-1)%objects
		}
		path, raw := c.objectPath(int(i))
		v := int(i) % len(r.pl.bodies)
		_, lat, err = c.do(ctx, w.signer, request{
			method: http.MethodPut, path: path, raw: raw,
			body: r.pl.bodies[v], payloadHash: r.pl.hashes[v],
		}, http.StatusOK)
		if err != nil {
			return 0, lat, err
		}
		return s.ObjectSize, lat, nil

	case opGet:
		path, raw := c.objectPath(w.rng.IntN(s.Objects))
		bytes, lat, err = c.do(ctx, w.signer, request{method: http.MethodGet, path: path, raw: raw}, http.StatusOK)
		if err == nil && bytes != s.ObjectSize {
			err = &failure{status: http.StatusOK, code: "SizeMismatch"}
		}
		return bytes, lat, err

	case opHead:
		path, raw := c.objectPath(w.rng.IntN(s.Objects))
		_, lat, err = c.do(ctx, w.signer, request{method: http.MethodHead, path: path, raw: raw}, http.StatusOK)
		return 0, lat, err

	case opList:
		q := url.Values{"list-type": {"2"}, "max-keys": {"1000"}, "prefix": {s.Prefix}}
		_, lat, err = c.do(ctx, w.signer, request{
			method: http.MethodGet, path: c.bucketPath, raw: c.bucketRaw, query: q.Encode(),
		}, http.StatusOK)
		return 0, lat, err

	case opDelete:
		i := seq % objects
		if s.mixed {
			i = objects + (r.churnDel.Add(1)-1)%objects
		}
		path, raw := c.objectPath(int(i))
		_, lat, err = c.do(ctx, w.signer, request{method: http.MethodDelete, path: path, raw: raw},
			http.StatusNoContent, http.StatusOK)
		return 0, lat, err
	}
	panic("bench: unknown op")
}

func (w *worker) noteError(op opKind, err error) {
	k := errKey{op: op, code: err.Error()}
	var f *failure
	if errors.As(err, &f) {
		k.status, k.code = f.status, f.code
	}
	if _, ok := w.errs[k]; ok || len(w.errs) < maxErrorKinds {
		w.errs[k]++
	}
}

// tick calls line every interval and writes the result to w until the
// returned stop function is called.
func tick(w io.Writer, every time.Duration, line func(elapsed time.Duration) string) (stop func()) {
	if w == io.Discard {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintln(w, line(time.Since(start)))
			}
		}
	})
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}
