// Package crash holds Coffer's crash-consistency tests. They run the real
// binary, SIGKILL it in the middle of concurrent uploads, restart it on
// the same data directory and check that nothing acknowledged was lost and
// nothing half-written became visible, then reconcile the directory with
// `coffer fsck`.
//
// The model: every key is written by exactly one writer, one request at a
// time, so at the kill each key has at most one request in flight. For
// each key the test keeps the set of states the server may legitimately
// show after a restart: the last acknowledged state plus whatever was sent
// after it without an answer. An acknowledged write shrinks the set to
// itself. After the restart the observed state must be in the set, and it
// becomes the only state for the next cycle.
//
// Set COFFER_CRASH_SEED to replay a run's object contents and operation
// choices (the kill instant is timing, so it is not reproducible).
package crash

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer-io/coffer/test/harness"
)

// Bounds of the crash test. Together they keep one run well under a
// minute on two cores: three cycles of at most 3 s of traffic each, and a
// key space small enough that verifying it (every key is read back in
// full) takes a couple of seconds.
const (
	numWriters    = 16
	keysPerWriter = 8
	numCycles     = 3
	maxPutSize    = 3 << 20
	partSize      = 5 << 20 // S3's minimum for all parts but the last
	minTraffic    = time.Second
	maxTraffic    = 3 * time.Second
	verifyWorkers = 4
	bucketName    = "crash"
	// testBudget bounds every client call of the test, so a hung server
	// fails the test instead of stalling it.
	testBudget = 50 * time.Second
)

// version is one state a key can be in: absent, or the bytes of one write.
// Contents are never stored: they are regenerated from seed when needed.
type version struct {
	absent bool
	seed   uint64
	parts  []int64 // part sizes; a single PUT has one part
	size   int64
	sum    [sha256.Size]byte
	op     string // how it was written, for messages
}

func (v *version) String() string {
	if v.absent {
		return v.op + "(absent)"
	}
	return fmt.Sprintf("%s(seed %#x, %d parts, %d bytes, sha256 %x)", v.op, v.seed, len(v.parts), v.size, v.sum[:6])
}

// partContent returns the bytes of part i of a version with the given seed.
// ChaCha8 makes megabytes of incompressible data cheaply, so the test's
// CPU goes to the server and not to the generator.
func partContent(seed uint64, i int, size int64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[0:], seed)
	binary.LittleEndian.PutUint64(key[8:], uint64(i))
	return io.LimitReader(rand.NewChaCha8(key), size)
}

// content regenerates a version's whole body.
func (v *version) content() io.Reader {
	rs := make([]io.Reader, len(v.parts))
	for i, n := range v.parts {
		rs[i] = partContent(v.seed, i, n)
	}
	return io.MultiReader(rs...)
}

// keyState tracks one key. Only its writer touches it while traffic runs;
// verification runs after all writers have stopped.
type keyState struct {
	name string
	// possible lists the states the server may show after a crash; the
	// first is the last acknowledged (or verified) one.
	possible []*version
}

func (k *keyState) sent(v *version)  { k.possible = append(k.possible, v) }
func (k *keyState) acked(v *version) { k.possible = []*version{v} }

type uploadState int

const (
	uploadOpen       uploadState = iota // created, parts being sent
	uploadCompleting                    // CompleteMultipartUpload sent, no answer
	uploadCompleted                     // complete acknowledged
)

// upload is a multipart upload whose creation was acknowledged.
type upload struct {
	key     *keyState
	id      string
	parts   map[int32]*partRec
	state   uploadState
	version *version // set when the complete is sent
}

type partRec struct {
	etag  string // quoted hex MD5, as the server reports it
	acked bool
}

// cycle is one round of traffic ended by a SIGKILL.
type cycle struct {
	t      *testing.T
	n      int
	client client
	killed atomic.Bool

	mu             sync.Mutex
	uploads        []*upload
	createInFlight map[*keyState]bool // CreateMultipartUpload with no answer

	puts, deletes, completes, parts atomic.Int64
	bytes                           atomic.Int64
	inFlight                        atomic.Int64
}

// check classifies a request error. Before the kill every error is a bug.
// After it, transport errors are expected (the server is gone), but an
// error status is still a bug: it is an answer the server gave while it
// was alive, and no request in this test should be refused. It reports
// whether the writer should stop.
func (cy *cycle) check(writer int, what string, err error) bool {
	if err == nil {
		return false
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 300 {
		cy.t.Errorf("cycle %d writer %d: %s: server answered %d: %v", cy.n, writer, what, re.HTTPStatusCode(), err)
	} else if !cy.killed.Load() {
		cy.t.Errorf("cycle %d writer %d: %s failed before the kill: %v", cy.n, writer, what, err)
	}
	cy.inFlight.Add(1)
	return true
}

type writer struct {
	id   int
	rnd  *rand.Rand
	keys []*keyState
	buf  []byte
	next uint64 // version counter, mixed into seeds
	base uint64
}

func (w *writer) newSeed() uint64 {
	w.next++
	// splitmix-style mixing keeps seeds of different writers and runs
	// apart, so no two versions anywhere share content.
	z := w.base + uint64(w.id)<<40 + w.next
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// putSize draws a PUT size: one in ten empty, the rest log-uniform up to
// maxPutSize so that tiny, medium and multi-megabyte bodies all occur.
func (w *writer) putSize() int64 {
	if w.rnd.IntN(10) == 0 {
		return 0
	}
	return int64(math.Exp(w.rnd.Float64() * math.Log(maxPutSize)))
}

func (w *writer) run(ctx context.Context, cy *cycle) {
	for ctx.Err() == nil {
		ks := w.keys[w.rnd.IntN(len(w.keys))]
		var stop bool
		switch p := w.rnd.IntN(100); {
		case p < 5:
			stop = w.delete(ctx, cy, ks)
		case p < 15:
			stop = w.multipart(ctx, cy, ks)
		default:
			stop = w.put(ctx, cy, ks)
		}
		if stop {
			return
		}
	}
}

func (w *writer) put(ctx context.Context, cy *cycle, ks *keyState) bool {
	size := w.putSize()
	v := &version{seed: w.newSeed(), parts: []int64{size}, size: size, op: "put"}
	body := w.buf[:size]
	if _, err := io.ReadFull(partContent(v.seed, 0, size), body); err != nil {
		panic(err)
	}
	v.sum = sha256.Sum256(body)
	ks.sent(v)
	_, err := cy.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucketName), Key: aws.String(ks.name),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(size),
	})
	if cy.check(w.id, "PUT "+ks.name, err) {
		return true
	}
	ks.acked(v)
	cy.puts.Add(1)
	cy.bytes.Add(size)
	return false
}

func (w *writer) delete(ctx context.Context, cy *cycle, ks *keyState) bool {
	v := &version{absent: true, op: "delete"}
	ks.sent(v)
	_, err := cy.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucketName), Key: aws.String(ks.name)})
	if cy.check(w.id, "DELETE "+ks.name, err) {
		return true
	}
	ks.acked(v)
	cy.deletes.Add(1)
	return false
}

// multipart uploads 2 or 3 parts: full 5 MiB parts, the last one of a
// random size (S3 allows a short last part).
func (w *writer) multipart(ctx context.Context, cy *cycle, ks *keyState) bool {
	cy.mu.Lock()
	cy.createInFlight[ks] = true
	cy.mu.Unlock()
	out, err := cy.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucketName), Key: aws.String(ks.name)})
	if cy.check(w.id, "CreateMultipartUpload "+ks.name, err) {
		return true
	}
	u := &upload{key: ks, id: aws.ToString(out.UploadId), parts: map[int32]*partRec{}}
	cy.mu.Lock()
	delete(cy.createInFlight, ks)
	cy.uploads = append(cy.uploads, u)
	cy.mu.Unlock()

	n := 2 + w.rnd.IntN(2)
	v := &version{seed: w.newSeed(), op: "multipart"}
	for i := range n {
		size := int64(partSize)
		if i == n-1 {
			size = 1 + w.rnd.Int64N(partSize)
		}
		v.parts = append(v.parts, size)
		v.size += size
	}
	sum := sha256.New()
	var done []types.CompletedPart
	for i, size := range v.parts {
		body := w.buf[:size]
		if _, err := io.ReadFull(partContent(v.seed, i, size), body); err != nil {
			panic(err)
		}
		sum.Write(body)
		m := md5.Sum(body)
		pn := int32(i + 1)
		rec := &partRec{etag: `"` + hex.EncodeToString(m[:]) + `"`}
		u.parts[pn] = rec
		po, err := cy.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(bucketName), Key: aws.String(ks.name), UploadId: aws.String(u.id),
			PartNumber: aws.Int32(pn), Body: bytes.NewReader(body), ContentLength: aws.Int64(size),
		})
		if cy.check(w.id, fmt.Sprintf("UploadPart %s #%d", ks.name, pn), err) {
			return true
		}
		if got := aws.ToString(po.ETag); got != rec.etag {
			cy.t.Errorf("cycle %d: UploadPart %s #%d: ETag %s, want %s", cy.n, ks.name, pn, got, rec.etag)
		}
		rec.acked = true
		cy.parts.Add(1)
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(pn), ETag: po.ETag,
			ChecksumCRC32: po.ChecksumCRC32, ChecksumCRC32C: po.ChecksumCRC32C, ChecksumCRC64NVME: po.ChecksumCRC64NVME})
	}
	copy(v.sum[:], sum.Sum(nil))
	u.version = v
	u.state = uploadCompleting
	ks.sent(v)
	_, err = cy.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucketName), Key: aws.String(ks.name), UploadId: aws.String(u.id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	if cy.check(w.id, "CompleteMultipartUpload "+ks.name, err) {
		return true
	}
	u.state = uploadCompleted
	ks.acked(v)
	cy.completes.Add(1)
	cy.bytes.Add(v.size)
	return false
}

// client is an S3 client for one server process (the port changes at each
// restart).
type client struct {
	*s3.Client
	tr *http.Transport
}

func newClient(srv *harness.Server) client {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: srv.CAPool(), MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: numWriters,
	}
	return client{tr: tr, Client: s3.New(s3.Options{
		Region:       srv.Region,
		BaseEndpoint: aws.String(srv.Endpoint),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}, nil
		}),
		HTTPClient: &http.Client{Transport: tr},
		// No retries: a retried request would hide a server error before
		// the kill, and after it a retry only reaches a dead port.
		Retryer: aws.NopRetryer{},
	})}
}

// stopServer stops srv gracefully. The client's idle connections are
// closed first: net/http's Shutdown waits up to 5 s for a connection that
// was dialed but never carried a request (the transport dials spares when
// requests race), which would otherwise dominate the test's runtime.
func stopServer(srv *harness.Server, c client) {
	c.tr.CloseIdleConnections()
	srv.Stop()
}

// TestCrashRecovery runs numCycles rounds of concurrent uploads, each ended
// by a SIGKILL at a random instant, and checks the restarted server. The
// last crash is also checked offline with `coffer fsck`.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs the real server for several seconds")
	}
	start := time.Now()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("COFFER_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 0, 64); err != nil {
			t.Fatalf("COFFER_CRASH_SEED: %v", err)
		}
	}
	t.Logf("seed %#x (set COFFER_CRASH_SEED to replay)", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))

	harness.Binary(t) // build before the budget starts
	t.Logf("binary ready after %v", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), testBudget)
	defer cancel()
	srv := harness.Start(t)
	if _, err := newClient(srv).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucketName)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	var keys []*keyState
	writers := make([]*writer, numWriters)
	for i := range writers {
		w := &writer{id: i, rnd: rand.New(rand.NewPCG(seed, uint64(i)+1)), buf: make([]byte, partSize), base: seed}
		for k := range keysPerWriter {
			// Keys of all writers interleave in listings, and some
			// contain characters that need escaping.
			ks := &keyState{name: fmt.Sprintf("k%02d/w%02d %s", k, i, []string{"a", "b+c", "ü"}[k%3]),
				possible: []*version{{absent: true, op: "initial"}}}
			w.keys = append(w.keys, ks)
			keys = append(keys, ks)
		}
		writers[i] = w
	}

	var last client
	for n := 1; n <= numCycles; n++ {
		cy := &cycle{t: t, n: n, client: newClient(srv), createInFlight: map[*keyState]bool{}}
		wctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for _, w := range writers {
			wg.Go(func() { w.run(wctx, cy) })
		}
		traffic := minTraffic + time.Duration(rnd.Int64N(int64(maxTraffic-minTraffic)))
		time.Sleep(traffic)
		// The flag goes up before the signal, so an error seen while it
		// is down certainly happened with the server alive.
		cy.killed.Store(true)
		srv.Kill()
		stop()
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		t.Logf("cycle %d: killed after %v: acknowledged %d PUTs, %d multipart uploads (%d parts), %d deletes, %.1f MiB; %d requests unanswered",
			n, traffic.Round(time.Millisecond), cy.puts.Load(), cy.completes.Load(), cy.parts.Load(), cy.deletes.Load(),
			float64(cy.bytes.Load())/(1<<20), cy.inFlight.Load())
		if cy.puts.Load()+cy.completes.Load() == 0 {
			t.Errorf("cycle %d: no write was acknowledged before the kill", n)
		}

		if n == numCycles {
			checkFsckAfterCrash(t, srv.Dir)
		}
		restart := time.Now()
		srv.Restart()
		t.Logf("cycle %d: restarted in %v", n, time.Since(restart).Round(time.Millisecond))
		cy.client = newClient(srv)
		verify(ctx, t, cy, keys)
		last = cy.client
		if t.Failed() {
			t.FailNow()
		}
	}

	// A graceful stop after the last verification (which aborted every
	// upload left over) must leave a directory with nothing to repair.
	stopServer(srv, last)
	rep := runFsck(t, srv.Dir, false)
	if rep.err != nil || rep.missing != 0 || rep.unreferenced != 0 || rep.leftovers != 0 {
		t.Errorf("fsck after a clean stop: err %v, want a clean report:\n%s", rep.err, rep.out)
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// checkFsckAfterCrash runs fsck on the directory of a killed server: no
// version may have lost its data, --repair removes what the crash left
// behind, and a second pass finds nothing more.
func checkFsckAfterCrash(t *testing.T, dir string) {
	t.Helper()
	rep := runFsck(t, dir, false)
	if rep.err != nil || rep.missing != 0 {
		t.Fatalf("fsck after the crash: %v\n%s", rep.err, rep.out)
	}
	t.Logf("fsck after the crash: %s", strings.TrimSpace(rep.out))
	fix := runFsck(t, dir, true)
	if fix.err != nil || fix.missing != 0 {
		t.Fatalf("fsck --repair: %v\n%s", fix.err, fix.out)
	}
	// Committed blobs only change with --repair, so both passes must agree
	// on the unreferenced ones. Leftover counts are not compared across
	// runs: fsck currently sweeps old temp files while opening the
	// directory, even without --repair (TestFsckWithoutRepairKeepsLeftovers).
	if fix.unreferenced != rep.unreferenced {
		t.Errorf("fsck --repair found %d unreferenced blobs, the check before it %d:\n%s", fix.unreferenced, rep.unreferenced, fix.out)
	}
	if want := fix.unreferenced + fix.leftovers; fix.removed != want {
		t.Errorf("fsck --repair removed %d, want the %d it reported:\n%s", fix.removed, want, fix.out)
	}
	again := runFsck(t, dir, false)
	if again.err != nil || again.missing != 0 || again.unreferenced != 0 || again.leftovers != 0 || again.blobs != again.referenced {
		t.Errorf("fsck after --repair still finds problems: %v\n%s", again.err, again.out)
	}
}

// getResult is what reading one key back found.
type getResult struct {
	absent bool
	size   int64
	sum    [sha256.Size]byte
	etag   string
	err    error
}

func getObject(ctx context.Context, c client, key string) getResult {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucketName), Key: aws.String(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return getResult{absent: true}
		}
		return getResult{err: err}
	}
	defer out.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, out.Body)
	if err != nil {
		return getResult{err: fmt.Errorf("reading body after %d bytes: %w", n, err)}
	}
	if cl := aws.ToInt64(out.ContentLength); cl != n {
		return getResult{err: fmt.Errorf("Content-Length %d, body %d bytes", cl, n)}
	}
	r := getResult{size: n, etag: aws.ToString(out.ETag)}
	copy(r.sum[:], h.Sum(nil))
	return r
}

// firstDiff reads key again and reports where it departs from v, to tell
// a torn write from a different version.
func firstDiff(ctx context.Context, c client, key string, v *version) string {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucketName), Key: aws.String(key)})
	if err != nil {
		return err.Error()
	}
	defer out.Body.Close()
	got, want := make([]byte, 64<<10), make([]byte, 64<<10)
	want0 := v.content()
	for off := int64(0); ; {
		n, gerr := io.ReadFull(out.Body, got)
		m, _ := io.ReadFull(want0, want[:n])
		if i := firstMismatch(got[:n], want[:m]); i >= 0 {
			return fmt.Sprintf("first difference from %v at offset %d", v, off+int64(i))
		}
		off += int64(n)
		if gerr != nil {
			return fmt.Sprintf("identical to %v for the first %d bytes", v, off)
		}
	}
}

func firstMismatch(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// verify checks the restarted server against the model, then aborts the
// uploads left over and makes each key's observed state its only one.
func verify(ctx context.Context, t *testing.T, cy *cycle, keys []*keyState) {
	t.Helper()
	begin := time.Now()
	c := cy.client

	// Multipart uploads: list them before anything changes.
	listed := map[string]types.MultipartUpload{}
	var km, um *string
	for {
		out, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucketName), KeyMarker: km, UploadIdMarker: um})
		if err != nil {
			t.Fatalf("cycle %d: ListMultipartUploads: %v", cy.n, err)
		}
		for _, u := range out.Uploads {
			listed[aws.ToString(u.UploadId)] = u
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		km, um = out.NextKeyMarker, out.NextUploadIdMarker
	}

	// Objects: the listing, and every key read back in full.
	inList := map[string]types.Object{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucketName)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("cycle %d: ListObjectsV2: %v", cy.n, err)
		}
		for _, o := range out.Contents {
			inList[aws.ToString(o.Key)] = o
		}
	}
	results := make([]getResult, len(keys))
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range verifyWorkers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(keys); i = int(next.Add(1) - 1) {
				results[i] = getObject(ctx, c, keys[i].name)
			}
		})
	}
	wg.Wait()

	known := map[string]bool{}
	uncertain, newer, listedCount := 0, 0, 0
	for i, ks := range keys {
		known[ks.name] = true
		r := results[i]
		if r.err != nil {
			t.Errorf("cycle %d: GET %q failed: %v", cy.n, ks.name, r.err)
			continue
		}
		lo, isListed := inList[ks.name]
		switch {
		case isListed && r.absent:
			t.Errorf("cycle %d: %q is listed but GET says NoSuchKey", cy.n, ks.name)
		case !isListed && !r.absent:
			t.Errorf("cycle %d: %q is readable (%d bytes) but not listed", cy.n, ks.name, r.size)
		case isListed:
			listedCount++
			if aws.ToInt64(lo.Size) != r.size || aws.ToString(lo.ETag) != r.etag {
				t.Errorf("cycle %d: %q listed with size %d ETag %s, GET gives %d bytes ETag %s",
					cy.n, ks.name, aws.ToInt64(lo.Size), aws.ToString(lo.ETag), r.size, r.etag)
			}
		}
		var match *version
		for _, v := range ks.possible {
			if v.absent == r.absent && (v.absent || v.size == r.size && v.sum == r.sum) {
				match = v
			}
		}
		if match == nil {
			what := "a state it was never written to"
			if len(ks.possible) == 1 {
				what = "not the acknowledged state (lost or corrupted write)"
			}
			msg := fmt.Sprintf("cycle %d: %q is %s: absent=%v size=%d sha256=%x; allowed: %v",
				cy.n, ks.name, what, r.absent, r.size, r.sum[:6], ks.possible)
			for _, v := range ks.possible {
				if !v.absent && !r.absent && v.size == r.size {
					msg += "; " + firstDiff(ctx, c, ks.name, v)
				}
			}
			t.Error(msg)
			match = &version{absent: r.absent, size: r.size, sum: r.sum, op: "unexpected"}
		}
		if len(ks.possible) > 1 {
			uncertain++
			if match == ks.possible[len(ks.possible)-1] {
				newer++
			}
		}
		ks.possible = []*version{match}
	}
	for k := range inList {
		if !known[k] {
			t.Errorf("cycle %d: listing shows %q, which no writer ever wrote", cy.n, k)
		}
	}

	// Uploads: every acknowledged creation not completed is still there
	// with its acknowledged parts; a completion in flight either happened
	// entirely (upload gone, object replaced) or not at all.
	byID := map[string]*upload{}
	for _, u := range cy.uploads {
		byID[u.id] = u
		_, isListed := listed[u.id]
		switch u.state {
		case uploadOpen:
			if !isListed {
				t.Errorf("cycle %d: acknowledged upload %s of %q is gone after the crash", cy.n, u.id, u.key.name)
			}
		case uploadCompleted:
			if isListed {
				t.Errorf("cycle %d: completed upload %s of %q is still listed", cy.n, u.id, u.key.name)
			}
		case uploadCompleting:
			landed := u.key.possible[0] == u.version
			if isListed == landed {
				t.Errorf("cycle %d: upload %s of %q half-completed: still listed %v, object replaced %v", cy.n, u.id, u.key.name, isListed, landed)
			}
		}
	}
	for id, lu := range listed {
		u := byID[id]
		if u == nil {
			if !cy.createInFlight[keyByName(keys, aws.ToString(lu.Key))] {
				t.Errorf("cycle %d: listed upload %s of %q was never created", cy.n, id, aws.ToString(lu.Key))
			}
		} else {
			checkParts(ctx, t, cy, u)
		}
		if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucketName), Key: lu.Key, UploadId: lu.UploadId}); err != nil {
			t.Errorf("cycle %d: aborting upload %s of %q: %v", cy.n, id, aws.ToString(lu.Key), err)
		}
	}
	if out, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucketName)}); err != nil {
		t.Errorf("cycle %d: ListMultipartUploads after aborts: %v", cy.n, err)
	} else if len(out.Uploads) != 0 {
		t.Errorf("cycle %d: %d uploads still listed after aborting them all", cy.n, len(out.Uploads))
	}
	t.Logf("cycle %d: verified %d keys (%d listed) in %v; %d were uncertain, %d of those show the write in flight; %d uploads aborted",
		cy.n, len(keys), listedCount, time.Since(begin).Round(time.Millisecond), uncertain, newer, len(listed))
}

func keyByName(keys []*keyState, name string) *keyState {
	for _, k := range keys {
		if k.name == name {
			return k
		}
	}
	return nil
}

// checkParts compares a surviving upload's parts with what was sent: an
// acknowledged part must be there intact, a part in flight may be there,
// and nothing else may be.
func checkParts(ctx context.Context, t *testing.T, cy *cycle, u *upload) {
	t.Helper()
	seen := map[int32]bool{}
	p := s3.NewListPartsPaginator(cy.client, &s3.ListPartsInput{Bucket: aws.String(bucketName), Key: aws.String(u.key.name), UploadId: aws.String(u.id)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Errorf("cycle %d: ListParts %s: %v", cy.n, u.id, err)
			return
		}
		for _, lp := range out.Parts {
			pn := aws.ToInt32(lp.PartNumber)
			seen[pn] = true
			rec := u.parts[pn]
			switch {
			case rec == nil:
				t.Errorf("cycle %d: upload %s lists part %d, which was never sent", cy.n, u.id, pn)
			case aws.ToString(lp.ETag) != rec.etag:
				t.Errorf("cycle %d: upload %s part %d has ETag %s, sent %s", cy.n, u.id, pn, aws.ToString(lp.ETag), rec.etag)
			}
		}
	}
	for pn, rec := range u.parts {
		if rec.acked && !seen[pn] {
			t.Errorf("cycle %d: acknowledged part %d of upload %s is gone", cy.n, pn, u.id)
		}
	}
}
