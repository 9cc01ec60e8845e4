//go:build unix

package filelock

import (
	"os"
	"syscall"
	"testing"
)

// dupFile is f duplicated as a child inherits it: another descriptor of
// the same open file description.
func dupFile(t *testing.T, f *os.File) *os.File {
	t.Helper()
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(fd), "inherited")
}
