package discovery

import (
	"context"
	"io"
	"runtime"
	"sync"
)

// Object is one object for ScanAll: Open is called by the worker that
// scans it, so bodies are opened only as fast as they are scanned.
type Object struct {
	Name string
	Size int64
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// ScanAll scans objects from in on workers goroutines (0 means one per
// CPU) and calls done for each, from the worker goroutines, with the
// result or the error of opening or reading it. It returns when in is
// closed and every object is done, or when ctx ends.
func (e *Engine) ScanAll(ctx context.Context, in <-chan Object, workers int, done func(Object, *Result, error)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case o, ok := <-in:
					if !ok {
						return
					}
					r, err := e.scanObject(ctx, o)
					done(o, r, err)
				}
			}
		}()
	}
	wg.Wait()
}

func (e *Engine) scanObject(ctx context.Context, o Object) (*Result, error) {
	rc, err := o.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return e.Scan(ctx, rc, o.Name, o.Size)
}
