package accesslog

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Store writes log objects into target buckets as the logging service.
type Store interface {
	// PutLog stores a log object. It checks, at delivery as at
	// configuration, that the target bucket exists, belongs to the
	// source bucket's account and lets the logging service write the key;
	// when it does not, it returns an error wrapping ErrUndeliverable.
	PutLog(ctx context.Context, sourceAccount, sourceBucket, targetBucket, key string, body io.Reader, size int64) error
}

// ErrUndeliverable reports a target that does not accept logs: as in AWS,
// those lines are dropped (and the drop logged).
var ErrUndeliverable = errors.New("accesslog: target does not accept logs")

// Deliver seals the open segments and delivers every sealed one. Lines
// recorded while it runs go to new segments. A segment whose delivery
// fails for another reason stays and is retried next time.
func (s *Sink) Deliver(ctx context.Context, now time.Time, log *slog.Logger) error {
	if err := s.seal(now); err != nil {
		return err
	}
	sealed, err := filepath.Glob(filepath.Join(s.dir, "*.seg"))
	if err != nil {
		return err
	}
	sort.Strings(sealed)
	var errs []error
	for _, p := range sealed {
		if err := s.deliverSegment(ctx, p); err != nil {
			if errors.Is(err, ErrUndeliverable) {
				if log != nil {
					log.Warn("access log segment dropped: the target bucket does not accept logs", "segment", filepath.Base(p), "err", err)
				}
				os.Remove(p)
				continue
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// seal renames every segment being written (and any a crash left) to
// ID.SEALTIME.seg; the seal time becomes the log object's delivery time.
func (s *Sink) seal(now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, f := range s.open {
		f.Close()
		delete(s.open, id)
	}
	open, err := filepath.Glob(filepath.Join(s.dir, "*.log"))
	if err != nil {
		return err
	}
	stamp := strconv.FormatInt(now.UTC().UnixNano(), 10)
	for _, p := range open {
		id := strings.TrimSuffix(filepath.Base(p), ".log")
		if err := os.Rename(p, filepath.Join(s.dir, id+"."+stamp+".seg")); err != nil {
			return fmt.Errorf("accesslog: %w", err)
		}
	}
	return nil
}

func (s *Sink) deliverSegment(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	hl, err := br.ReadBytes('\n')
	var h header
	if err != nil || json.Unmarshal(hl, &h) != nil {
		// A segment cut inside its header holds no line.
		f.Close()
		return os.Remove(path)
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size() - int64(len(hl))
	// A crash can leave a partial last line; deliver only whole lines.
	if size > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil {
			return err
		}
		if last[0] != '\n' {
			tail, err := lastNewline(f, int64(len(hl)), fi.Size())
			if err != nil {
				return err
			}
			size = tail - int64(len(hl))
		}
	}
	if size <= 0 {
		f.Close()
		return os.Remove(path)
	}
	base := filepath.Base(path)
	parts := strings.Split(base, ".")
	nanos, _ := strconv.ParseInt(parts[1], 10, 64)
	key := h.Target.ObjectKey(h.SourceAccount, h.Region, h.SourceBucket, time.Unix(0, nanos), h.First, uniqueString(base))
	if err := s.store.PutLog(ctx, h.SourceAccount, h.SourceBucket, h.Target.Bucket, key, io.NewSectionReader(f, int64(len(hl)), size), size); err != nil {
		return err
	}
	f.Close()
	return os.Remove(path)
}

// lastNewline finds the offset just past the last newline in [from, to).
func lastNewline(f *os.File, from, to int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for end := to; end > from; {
		start := max(from, end-int64(len(buf)))
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && err != io.EOF {
			return 0, err
		}
		for i := n - 1; i >= 0; i-- {
			if buf[i] == '\n' {
				return start + int64(i) + 1, nil
			}
		}
		end = start
	}
	return from, nil
}

// uniqueString is the key's unique part: derived from the segment's name,
// so that a delivery repeated after a crash writes the same key.
func uniqueString(segment string) string {
	return strings.ToUpper(fmt.Sprintf("%x", sha256Sum(segment)))[:16]
}

// Run delivers at once (what an earlier run left, crashed or not) and
// then every interval until ctx ends.
func (s *Sink) Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if err := s.Deliver(ctx, time.Now(), log); err != nil && log != nil {
		log.Warn("access log delivery failed; will retry", "err", err)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := s.Deliver(ctx, time.Now(), log); err != nil && log != nil {
				log.Warn("access log delivery failed; will retry", "err", err)
			}
		case <-ctx.Done():
			return
		}
	}
}

// PendingBytes is the size of the lines not yet delivered (a metric: a
// growing value means deliveries fail).
func (s *Sink) PendingBytes() int64 {
	var n int64
	for _, pat := range []string{"*.log", "*.seg"} {
		paths, _ := filepath.Glob(filepath.Join(s.dir, pat))
		for _, p := range paths {
			if fi, err := os.Stat(p); err == nil {
				n += fi.Size()
			}
		}
	}
	return n
}
