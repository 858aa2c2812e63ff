package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

func TestScanAll(t *testing.T) {
	e := mustEngine(t, Config{})
	in := make(chan Object)
	go func() {
		for i := 0; i < 50; i++ {
			body := fmt.Sprintf("row %d SSN 123-45-6788\n", i)
			in <- Object{Name: fmt.Sprintf("o%d.txt", i), Size: int64(len(body)), Open: func(context.Context) (io.ReadCloser, error) {
				if i == 7 {
					return nil, errors.New("gone")
				}
				return io.NopCloser(strings.NewReader(body)), nil
			}}
		}
		close(in)
	}()
	var mu sync.Mutex
	found, failed := 0, 0
	e.ScanAll(context.Background(), in, 4, func(o Object, r *Result, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed++
			return
		}
		if d := found1(r); d {
			found++
		}
	})
	if found != 49 || failed != 1 {
		t.Fatalf("found %d, failed %d", found, failed)
	}
}

func found1(r *Result) bool { return found(r, "USA_SOCIAL_SECURITY_NUMBER") != nil }
