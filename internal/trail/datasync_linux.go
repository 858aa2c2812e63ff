package trail

import (
	"os"

	"golang.org/x/sys/unix"
)

// datasync flushes f's data, and its metadata only where reading the data
// back needs it: on a preallocated segment, a write inside it changes no
// size, so no metadata is flushed.
func datasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}
