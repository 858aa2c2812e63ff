package localfs

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sync"
	"sync/atomic"
)

// dirNode is what the store knows about one directory: whether it exists
// durably, and the group-commit state of its fsyncs.
type dirNode struct {
	ready    atomic.Bool // exists and its entry in the parent is synced
	createMu sync.Mutex  // serialises creating it

	// Group commit. Syncs are numbered; a caller needs a sync that starts
	// after it arrives, because one already in flight may have missed its
	// rename. Whoever finds no sync running starts the next one, covering
	// everyone waiting.
	mu      sync.Mutex
	cond    sync.Cond
	running bool
	started uint64 // syncs begun
	done    uint64 // syncs finished
	errGen  uint64 // number of the last failed sync, 0 if none
	err     error
}

func newDirNode() *dirNode {
	d := &dirNode{}
	d.cond.L = &d.mu
	return d
}

// sync returns after a call of do that began after sync was called has
// finished, sharing that call with concurrent callers. It reports an error
// if that sync or any later finished one failed: after a failed fsync
// nothing written before it can be trusted.
func (d *dirNode) sync(do func() error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	target := d.started + 1
	for d.done < target {
		if d.running {
			d.cond.Wait()
			continue
		}
		d.running = true
		d.started++
		gen := d.started
		d.mu.Unlock()
		err := do()
		d.mu.Lock()
		d.running = false
		d.done = gen
		if err != nil {
			d.errGen, d.err = gen, err
		}
		d.cond.Broadcast()
	}
	if d.errGen >= target {
		return d.err
	}
	return nil
}

// node returns the state of dir, creating it on first use. The map holds
// at most the root, tmp and the 65,536+256 fan-out directories.
func (s *Store) node(dir string) *dirNode {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dirs[dir]
	if d == nil {
		d = newDirNode()
		s.dirs[dir] = d
	}
	return d
}

// syncDir fsyncs dir, shared with concurrent callers unless batching is off.
func (s *Store) syncDir(dir string) error {
	do := func() error {
		s.dirSyncs.Add(1)
		f, err := s.root.Open(dir)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("sync dir %s: %w", dir, err)
		}
		return nil
	}
	if s.opts.NoBatchDirSync {
		return do()
	}
	return s.node(dir).sync(do)
}

// ensureDir makes dir (and its parents) exist durably: created if missing,
// and its parent fsynced once per process so the new entry survives a
// crash. An existing directory's parent is synced too, since an earlier
// process may have died between mkdir and fsync.
func (s *Store) ensureDir(dir string) error {
	d := s.node(dir)
	if d.ready.Load() {
		return nil
	}
	d.createMu.Lock()
	defer d.createMu.Unlock()
	if d.ready.Load() {
		return nil
	}
	parent := path.Dir(dir)
	if err := s.ensureDir(parent); err != nil {
		return err
	}
	if err := s.root.Mkdir(dir, dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := s.syncDir(parent); err != nil {
		return err
	}
	d.ready.Store(true)
	return nil
}
