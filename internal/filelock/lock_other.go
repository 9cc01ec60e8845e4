//go:build !unix

package filelock

import (
	"errors"
	"os"

	"github.com/gofrs/flock"
)

// Lock is a held lock (LockFileEx, through github.com/gofrs/flock).
type Lock struct{ f *flock.Flock }

// tryLock takes the lock without waiting; a nil Lock and a nil error mean
// another holder has it.
func tryLock(path string) (*Lock, error) {
	f := flock.New(path, flock.SetPermissions(0o600))
	ok, err := f.TryLock()
	if err != nil || !ok {
		f.Close()
		return nil, err
	}
	return &Lock{f: f}, nil
}

// Release unlocks. Releasing twice is harmless.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		_ = l.f.Unlock()
		_ = l.f.Close()
		l.f = nil
	}
}

// HandOff does nothing here: no lock is handed to a child.
func (l *Lock) HandOff() {}

// File is nil here: a held lock is not handed to another process on this
// platform.
func (l *Lock) File() *os.File { return nil }

// Adopt is not supported on this platform.
func Adopt(*os.File) (*Lock, error) {
	return nil, errors.New("handing a lock to another process is not supported on this platform")
}
