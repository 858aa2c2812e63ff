package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/coffer-io/coffer/internal/storage/blob"
	"github.com/coffer-io/coffer/internal/storage/blob/localfs"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// collectGarbage removes blobs no metadata refers to (left by a crash
// between a blob's commit and its metadata, or by a failed free) and
// uncommitted leftovers. Only blobs older than grace are touched, so a
// write in flight, whose blob is committed moments before its metadata,
// is never collected.
func collectGarbage(ctx context.Context, m meta.Store, b blob.Store, grace time.Duration, now time.Time, log *slog.Logger) (removed int, err error) {
	// List candidates first, then the references: a blob committed after
	// the walk is not a candidate, and one referenced before the
	// reference scan is kept.
	var candidates []blob.Info
	if err := b.Walk(ctx, func(i blob.Info) error {
		if now.Sub(i.ModTime) > grace {
			candidates = append(candidates, i)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	if len(candidates) == 0 {
		return 0, nil
	}
	refs := map[string]struct{}{}
	if err := m.ForEachBlobRef(ctx, func(id string) error { refs[id] = struct{}{}; return nil }); err != nil {
		return 0, err
	}
	for _, c := range candidates {
		if c.Temp {
			if err := b.RemoveTemp(ctx, c.ID); err == nil {
				removed++
			}
			continue
		}
		if _, ok := refs[c.ID]; ok {
			continue
		}
		if err := b.Delete(ctx, c.ID); err != nil {
			log.Warn("garbage collection: delete failed", "blob", c.ID, "err", err)
			continue
		}
		removed++
	}
	return removed, nil
}

// FsckReport is what fsck found.
type FsckReport struct {
	Blobs, Referenced, Orphans, Temps int
	// Missing lists "bucket/key@version" entries whose data is gone.
	Missing []string
	Removed int
}

// Fsck reconciles metadata with data files in an offline data directory:
// it reports versions and parts whose blobs are missing and removes (with
// repair) unreferenced blobs and leftovers.
func Fsck(ctx context.Context, dir string, repair bool, out io.Writer) (*FsckReport, error) {
	st, err := openDataDir(dir, localfs.Options{KeepTemp: true})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	rep := &FsckReport{}
	present := map[string]bool{}
	var orphans []blob.Info
	if err := st.Blobs.Walk(ctx, func(i blob.Info) error {
		if i.Temp {
			rep.Temps++
			orphans = append(orphans, i)
			return nil
		}
		rep.Blobs++
		present[i.ID] = true
		return nil
	}); err != nil {
		return nil, err
	}
	refs := map[string]bool{}
	if err := st.Meta.ForEachBlobRef(ctx, func(id string) error { refs[id] = true; return nil }); err != nil {
		return nil, err
	}
	rep.Referenced = len(refs)
	for id := range present {
		if !refs[id] {
			rep.Orphans++
			orphans = append(orphans, blob.Info{ID: id})
		}
	}
	// Name what lost its data.
	buckets, err := st.Meta.ListBuckets(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, bk := range buckets {
		marker, vmarker := "", ""
		for {
			lr, err := st.Meta.ListVersions(ctx, bk.Name, meta.ListOptions{Marker: marker, VersionIDMarker: vmarker, MaxKeys: 1000})
			if err != nil {
				return nil, err
			}
			for _, v := range lr.Objects {
				for _, b := range v.Blobs {
					if !present[b.ID] {
						rep.Missing = append(rep.Missing, fmt.Sprintf("%s/%s@%s", bk.Name, v.Key, v.VersionID))
						break
					}
				}
			}
			if !lr.IsTruncated {
				break
			}
			marker, vmarker = lr.NextMarker, lr.NextVersionIDMarker
		}
		if err := fsckUploads(ctx, st, bk.Name, present, rep); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(out, "blobs: %d, referenced: %d, unreferenced: %d, uncommitted leftovers: %d, versions with missing data: %d\n",
		rep.Blobs, rep.Referenced, rep.Orphans, rep.Temps, len(rep.Missing))
	for _, m := range rep.Missing {
		fmt.Fprintf(out, "missing data: %s\n", m)
	}
	if repair {
		for _, o := range orphans {
			var err error
			if o.Temp {
				err = st.Blobs.RemoveTemp(ctx, o.ID)
			} else {
				err = st.Blobs.Delete(ctx, o.ID)
			}
			if err == nil {
				rep.Removed++
			}
		}
		fmt.Fprintf(out, "removed %d unreferenced blobs and leftovers\n", rep.Removed)
	} else if len(orphans) > 0 {
		fmt.Fprintf(out, "run with --repair to remove %d unreferenced blobs and leftovers\n", len(orphans))
	}
	return rep, nil
}

// fsckUploads reports parts of unfinished multipart uploads whose data is
// gone.
func fsckUploads(ctx context.Context, st *Stores, bucket string, present map[string]bool, rep *FsckReport) error {
	opts := meta.UploadListOptions{MaxUploads: 1000}
	for {
		ur, err := st.Meta.ListUploads(ctx, bucket, opts)
		if err != nil {
			return err
		}
		for _, u := range ur.Uploads {
			marker := 0
			for {
				parts, truncated, err := st.Meta.ListParts(ctx, bucket, u.Key, u.UploadID, marker, 1000)
				if err != nil {
					return err
				}
				for _, p := range parts {
					if !present[p.Blob.ID] {
						rep.Missing = append(rep.Missing, fmt.Sprintf("%s/%s upload %s part %d", bucket, u.Key, u.UploadID, p.Number))
					}
					marker = p.Number
				}
				if !truncated {
					break
				}
			}
		}
		if !ur.IsTruncated {
			return nil
		}
		opts.KeyMarker, opts.UploadIDMarker = ur.NextKeyMarker, ur.NextUploadIDMarker
	}
}
