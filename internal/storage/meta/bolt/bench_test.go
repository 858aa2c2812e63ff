package bolt

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// benchObj is a typical small object's metadata.
func benchObj(bucket, key string, n int64) *meta.ObjectVersion {
	return &meta.ObjectVersion{
		Bucket:       bucket,
		Key:          key,
		Owner:        "111122223333",
		Size:         4096 + n,
		ETag:         fmt.Sprintf(`"%032x"`, n),
		LastModified: time.Unix(1_700_000_000+n, 0).UTC(),
		StorageClass: "STANDARD",
		Headers:      map[string]string{"Content-Type": "application/octet-stream"},
		Blobs:        []meta.BlobRef{{ID: fmt.Sprintf("%026d", n), Size: 4096 + n}},
	}
}

func benchStore(b *testing.B, versioning string) *Store {
	b.Helper()
	s, _ := openTemp(b)
	if err := s.CreateBucket(b.Context(), &meta.Bucket{Name: "bench", Owner: "111122223333", Versioning: versioning}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkPutObjectParallel measures concurrent PUTs of distinct keys,
// each acknowledged only after its fsync; concurrency is the number of
// writers (requests in flight), which group commit turns into throughput.
func BenchmarkPutObjectParallel(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	for _, p := range []int{1, 8, 32, 128} {
		// RunParallel starts p × GOMAXPROCS goroutines.
		b.Run(fmt.Sprintf("writers=%d", p*procs), func(b *testing.B) {
			s := benchStore(b, meta.VersioningUnset)
			var n atomic.Int64
			b.SetParallelism(p)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					v := benchObj("bench", fmt.Sprintf("obj/%09d", i), i)
					if _, err := s.PutObject(b.Context(), v, "", nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// load writes keys into bucket "bench" in large transactions, through the
// same code PutObject uses, but without a commit per object.
func load(b *testing.B, s *Store, keys []string) {
	b.Helper()
	const chunk = 10000
	for i := 0; i < len(keys); i += chunk {
		err := s.db.Update(func(tx *bbolt.Tx) error {
			ob, err := openBucket(tx, "bench")
			if err != nil {
				return err
			}
			w := &wtx{tx: tx}
			for j, k := range keys[i:min(i+chunk, len(keys))] {
				if _, err := ob.put(w, benchObj("bench", k, int64(i+j)), "", nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListObjects1000 lists a page of 1000 keys at a random position
// among 100,000.
func BenchmarkListObjects1000(b *testing.B) {
	const total = 100_000
	s := benchStore(b, meta.VersioningUnset)
	keys := make([]string, total)
	for i := range keys {
		keys[i] = fmt.Sprintf("photos/2025/%06d.jpg", i)
	}
	load(b, s, keys)
	rng := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		marker := keys[rng.IntN(total-1000)]
		res, err := s.ListObjects(b.Context(), "bench", meta.ListOptions{Prefix: "photos/", Marker: marker, MaxKeys: 1000})
		if err != nil || len(res.Objects) != 1000 || !res.IsTruncated {
			b.Fatalf("got %d objects, truncated %v, err %v", len(res.Objects), res.IsTruncated, err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "keys/s")
}

// BenchmarkListObjectsDelimiter lists 1000 common prefixes, each over 100
// keys: the cursor seeks past each prefix instead of visiting its keys.
func BenchmarkListObjectsDelimiter(b *testing.B) {
	s := benchStore(b, meta.VersioningUnset)
	keys := make([]string, 0, 100_000)
	for d := range 1000 {
		for f := range 100 {
			keys = append(keys, fmt.Sprintf("users/%04d/file%03d", d, f))
		}
	}
	load(b, s, keys)
	for b.Loop() {
		res, err := s.ListObjects(b.Context(), "bench", meta.ListOptions{Prefix: "users/", Delimiter: "/", MaxKeys: 1000})
		if err != nil || len(res.CommonPrefixes) != 1000 {
			b.Fatalf("got %d prefixes, err %v", len(res.CommonPrefixes), err)
		}
	}
}

// BenchmarkGetObject reads the latest version of random keys.
func BenchmarkGetObject(b *testing.B) {
	const total = 100_000
	s := benchStore(b, meta.VersioningUnset)
	keys := make([]string, total)
	for i := range keys {
		keys[i] = fmt.Sprintf("photos/2025/%06d.jpg", i)
	}
	load(b, s, keys)
	rng := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		if _, err := s.GetObject(b.Context(), "bench", keys[rng.IntN(total)], ""); err != nil {
			b.Fatal(err)
		}
	}
}
