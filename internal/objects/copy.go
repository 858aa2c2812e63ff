package objects

import (
	"errors"
	"io"
	"sync"
)

const copyBufSize = 256 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// hashingCopy copies src to dst and feeds every byte to h. Hashing runs on
// a second goroutine, overlapped with reading (TLS decryption, signature
// checks) and the disk write, because MD5 alone runs at well under the
// speed of the rest of the path; a small body is hashed inline instead. The
// copy stops after limit+1 bytes so callers can detect oversize bodies
// without reading them whole.
func hashingCopy(dst io.Writer, h io.Writer, src io.Reader, limit int64) (int64, error) {
	first := bufPool.Get().(*[]byte)
	n, err := io.ReadFull(src, *first)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		// The whole body fit in one buffer.
		defer bufPool.Put(first)
		b := (*first)[:n]
		if int64(n) > limit {
			return int64(n), nil
		}
		h.Write(b)
		if _, err := dst.Write(b); err != nil {
			return 0, err
		}
		return int64(n), nil
	}
	if err != nil {
		bufPool.Put(first)
		return 0, err
	}

	const inFlight = 4
	type chunk struct {
		buf *[]byte
		n   int
	}
	work := make(chan chunk, inFlight)
	free := make(chan *[]byte, inFlight)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for c := range work {
			h.Write((*c.buf)[:c.n])
			free <- c.buf
		}
	}()
	held := 1
	var total int64
	buf := first
	var rerr, werr error
	for {
		b := (*buf)[:n]
		total += int64(n)
		if total > limit {
			work <- chunk{buf, 0}
			break
		}
		if _, werr = dst.Write(b); werr != nil {
			work <- chunk{buf, 0}
			break
		}
		// Hand the buffer to the hasher; it comes back on free.
		work <- chunk{buf, n}
		if rerr != nil {
			break
		}
		// Take a buffer: a new one while under the in-flight budget,
		// else wait for the hasher to return one.
		if held < inFlight {
			buf = bufPool.Get().(*[]byte)
			held++
		} else {
			buf = <-free
		}
		n, rerr = io.ReadFull(src, (*buf)[:cap(*buf)])
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			rerr = io.EOF
			if n == 0 {
				// Nothing more: return the unused buffer.
				free <- buf
				break
			}
		} else if rerr != nil {
			free <- buf
			break
		}
	}
	close(work)
	wg.Wait()
	close(free)
	for b := range free {
		bufPool.Put(b)
	}
	if werr != nil {
		return total, werr
	}
	if rerr != nil && !errors.Is(rerr, io.EOF) {
		return total, rerr
	}
	return total, nil
}
