package metatest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// run calls fn(i) for i in [0, n) concurrently and returns the errors.
func run(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errs
}

func noErrors(t *testing.T, what string, errs []error) {
	t.Helper()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func testConcurrentDistinctKeys(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const goroutines, perG = 8, 25
	for _, state := range []string{meta.VersioningUnset, meta.VersioningEnabled} {
		b := "distinct-" + state
		if state == "" {
			b += "unset"
		}
		mkBucket(t, s, b, state)
		var want []string
		for g := range goroutines {
			for k := range perG {
				want = append(want, fmt.Sprintf("g%02d/k%03d", g, k))
			}
		}
		noErrors(t, "concurrent PUTs", run(goroutines, func(g int) error {
			for k := range perG {
				if _, err := s.PutObject(ctx, newObj(b, fmt.Sprintf("g%02d/k%03d", g, k)), newVID(), nil); err != nil {
					return err
				}
			}
			return nil
		}))
		diff(t, "keys after concurrent PUTs", want, allKeys(t, s, b))
		if n := len(allVersions(t, s, b)); n != len(want) {
			t.Errorf("%s: %d versions, want %d", b, n, len(want))
		}

		// Delete the even keys while overwriting the odd ones.
		noErrors(t, "concurrent DELETEs and PUTs", run(goroutines, func(g int) error {
			for k := range perG {
				key := fmt.Sprintf("g%02d/k%03d", g, k)
				var err error
				if k%2 == 0 {
					_, err = s.DeleteObject(ctx, b, key, "", newVID(), nil)
				} else {
					_, err = s.PutObject(ctx, newObj(b, key), newVID(), nil)
				}
				if err != nil {
					return err
				}
			}
			return nil
		}))
		var odd []string
		for i, k := range want {
			if i%perG%2 == 1 {
				odd = append(odd, k)
			}
		}
		diff(t, "keys after concurrent DELETEs", odd, allKeys(t, s, b))
	}
}

func testConcurrentSameKey(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const n = 32

	// Versioned: every PUT is a version, exactly one of them the latest.
	const e = "same-versioned"
	mkBucket(t, s, e, meta.VersioningEnabled)
	vids := make([]string, n)
	for i := range vids {
		vids[i] = newVID()
	}
	noErrors(t, "concurrent versioned PUTs", run(n, func(i int) error {
		_, err := s.PutObject(ctx, newObj(e, "k"), vids[i], nil)
		return err
	}))
	vs := allVersions(t, s, e)
	var got []string
	latest := 0
	for _, v := range vs {
		got = append(got, v.VersionID)
		if v.IsLatest {
			latest++
		}
	}
	slices.Sort(got)
	slices.Sort(vids)
	diff(t, "version ids after concurrent PUTs", vids, got)
	if latest != 1 || !vs[0].IsLatest {
		t.Errorf("%d versions marked latest, want only the first", latest)
	}
	if v := get(t, s, e, "k", ""); v.VersionID != vs[0].VersionID {
		t.Errorf("GetObject latest is %s, listing says %s", v.VersionID, vs[0].VersionID)
	}

	// Versioned DELETEs: one marker each.
	noErrors(t, "concurrent versioned DELETEs", run(n, func(int) error {
		_, err := s.DeleteObject(ctx, e, "k", "", newVID(), nil)
		return err
	}))
	if got := len(allVersions(t, s, e)); got != 2*n {
		t.Errorf("%d versions after concurrent DELETEs, want %d", got, 2*n)
	}

	// Unversioned and suspended: PUTs (and DELETEs) race for the null
	// version; every replaced blob is freed exactly once.
	for _, state := range []string{meta.VersioningUnset, meta.VersioningSuspended} {
		b := "same-" + state
		if state == "" {
			b += "unset"
		}
		mkBucket(t, s, b, state)
		objs := make([]*meta.ObjectVersion, n)
		freed := make([][]meta.BlobRef, n)
		noErrors(t, "concurrent PUTs and DELETEs of one key", run(n, func(i int) error {
			if i%4 == 3 {
				res, err := s.DeleteObject(ctx, b, "k", "", newVID(), nil)
				freed[i] = res.Freed
				return err
			}
			objs[i] = newObj(b, "k")
			res, err := s.PutObject(ctx, objs[i], newVID(), nil)
			freed[i] = res.Freed
			return err
		}))
		var written, released []string
		for i := range n {
			if objs[i] != nil {
				written = append(written, objs[i].Blobs[0].ID)
			}
			released = append(released, blobIDs(freed[i])...)
		}
		vs := allVersions(t, s, b)
		if len(vs) > 1 {
			t.Fatalf("%s: %d versions of one key, want at most 1: %+v", b, len(vs), vs)
		}
		if len(vs) == 1 && !vs[0].DeleteMarker {
			released = append(released, blobIDs(get(t, s, b, "k", "").Blobs)...)
		}
		slices.Sort(written)
		slices.Sort(released)
		diff(t, b+": blobs freed or still referenced, vs written", written, released)
	}
}

func testConcurrentPreconditions(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const n = 16
	exactlyOne := func(what string, errs []error, loser error) {
		t.Helper()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, loser):
				t.Errorf("%s: unexpected error %v", what, err)
			}
		}
		if won != 1 {
			t.Errorf("%s: %d succeeded, want exactly 1", what, won)
		}
	}

	// If-None-Match: * from many writers: one wins.
	const b = "race"
	mkBucket(t, s, b, meta.VersioningEnabled)
	ifNoneMatch := func(cur *meta.ObjectVersion) error {
		if cur != nil && !cur.DeleteMarker {
			return errTest
		}
		return nil
	}
	errs := run(n, func(int) error {
		_, err := s.PutObject(ctx, newObj(b, "k"), newVID(), ifNoneMatch)
		return err
	})
	exactlyOne("racing If-None-Match PUTs", errs, errTest)
	if got := len(allVersions(t, s, b)); got != 1 {
		t.Errorf("%d versions after racing If-None-Match PUTs, want 1", got)
	}

	// Read-modify-write through UpdateObject is atomic.
	noErrors(t, "concurrent UpdateObject", run(n, func(int) error {
		return s.UpdateObject(ctx, b, "k", "", func(v *meta.ObjectVersion) error {
			c, _ := strconv.Atoi(v.UserMeta["counter"])
			v.UserMeta["counter"] = strconv.Itoa(c + 1)
			return nil
		})
	}))
	if c := get(t, s, b, "k", "").UserMeta["counter"]; c != strconv.Itoa(n) {
		t.Errorf("counter after %d concurrent updates: %s", n, c)
	}

	// Buckets and accounts.
	errs = run(n, func(i int) error {
		return s.CreateBucket(ctx, &meta.Bucket{Name: "contended", Owner: fmt.Sprint(i), Region: "us-east-1", CreatedAt: tick()})
	})
	exactlyOne("racing CreateBucket", errs, meta.ErrBucketExists)
	errs = run(n, func(i int) error {
		return s.CreateAccount(ctx, &meta.Account{ID: fmt.Sprintf("9999%08d", i), Name: "contended", CreatedAt: tick()}, nil)
	})
	exactlyOne("racing CreateAccount", errs, meta.ErrAccountExists)

	// Completing and aborting one upload: one wins.
	u := newUpload(b, "up", tick())
	must(t, s.CreateUpload(ctx, u))
	p, _ := putPart(t, s, u, 1)
	errs = run(n, func(i int) error {
		if i%2 == 0 {
			_, err := s.AbortUpload(ctx, b, u.Key, u.UploadID)
			return err
		}
		_, err := s.CompleteUpload(ctx, u.UploadID, fromParts(u, p), newVID(), nil)
		return err
	})
	exactlyOne("racing Complete and Abort", errs, meta.ErrUploadNotFound)
}

func testConcurrentMisc(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "misc"
	mkBucket(t, s, b, meta.VersioningUnset)
	const n = 24

	// Parts of one upload in parallel, and one part number contended.
	u := newUpload(b, "k", tick())
	must(t, s.CreateUpload(ctx, u))
	parts := make([]*meta.Part, n)
	freed := make([][]meta.BlobRef, n)
	noErrors(t, "concurrent PutPart", run(n, func(i int) error {
		num := i + 1
		if i >= n/2 {
			num = 1000 // the contended number
		}
		parts[i] = newPart(num)
		var err error
		freed[i], err = s.PutPart(ctx, b, u.Key, u.UploadID, parts[i])
		return err
	}))
	ps, trunc, err := s.ListParts(ctx, b, u.Key, u.UploadID, 0, 10000)
	must(t, err)
	if trunc || len(ps) != n/2+1 {
		t.Fatalf("%d parts (truncated %v), want %d", len(ps), trunc, n/2+1)
	}
	var written, released []string
	for i := range n {
		written = append(written, parts[i].Blob.ID)
		released = append(released, blobIDs(freed[i])...)
	}
	for _, p := range ps {
		released = append(released, p.Blob.ID)
	}
	slices.Sort(written)
	slices.Sort(released)
	diff(t, "part blobs freed or kept, vs written", written, released)

	// Readers see consistent listings while writers work.
	for i := range 50 {
		put(t, s, b, fmt.Sprintf("pre/%03d", i))
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := s.ListObjects(ctx, b, meta.ListOptions{Prefix: "pre/", MaxKeys: 1000})
				if err != nil {
					t.Error(err)
					return
				}
				keys := []string{}
				for _, v := range res.Objects {
					keys = append(keys, v.Key)
				}
				if !slices.IsSorted(keys) || len(slices.Compact(slices.Clone(keys))) != len(keys) {
					t.Errorf("listing during writes not sorted or has duplicates: %v", keys)
					return
				}
			}
		})
	}
	noErrors(t, "writes during listings", run(8, func(g int) error {
		for i := g; i < 50; i += 8 {
			key := fmt.Sprintf("pre/%03d", i)
			if _, err := s.PutObject(ctx, newObj(b, key), newVID(), nil); err != nil {
				return err
			}
			if _, err := s.DeleteObject(ctx, b, key, "", newVID(), nil); err != nil {
				return err
			}
		}
		return nil
	}))
	close(stop)
	readers.Wait()
	diff(t, "keys after deleting everything", []string{}, allKeys(t, s, b))
}
