//go:build unix

package filelock

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Lock is a held lock: an open lock file with flock(2) taken on it. The
// lock belongs to the open file description, so a child process that
// inherits the file holds it too, and it ends only when the last holder
// closes it or exits (SIGKILL included). That is what lets a refresh that is
// already on the wire outlive the process that started it.
type Lock struct {
	f *os.File
	// handedOff: a child process holds the lock too, and it is the
	// child's to end.
	handedOff bool
}

// tryLock opens the lock file and takes the lock without waiting; a nil
// Lock and a nil error mean another holder has it.
func tryLock(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	switch {
	case err == nil:
		return &Lock{f: f}, nil
	case errors.Is(err, unix.EWOULDBLOCK):
		_ = f.Close()
		return nil, nil
	default:
		_ = f.Close()
		return nil, err
	}
}

// Release unlocks. Releasing twice is harmless. After HandOff it only
// closes this process's file: unlocking would end the child's lock too,
// since both hold the same open file description.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		if !l.handedOff {
			_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
		}
		_ = l.f.Close()
		l.f = nil
	}
}

// HandOff records that a child process inherited the lock's file and now
// holds the lock: it stays held until the child exits, whatever this
// process does.
func (l *Lock) HandOff() { l.handedOff = true }

// File is the open lock file, for handing the held lock to a child
// process (exec.Cmd.ExtraFiles). The lock stays held while either process
// keeps the file open.
func (l *Lock) File() *os.File { return l.f }

// Adopt takes over a lock file inherited from the parent process and
// checks that the lock on it is held: flock on an open file description
// that already holds the lock succeeds at once, on any other it would fail.
func Adopt(f *os.File) (*Lock, error) {
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return nil, fmt.Errorf("the inherited lock is not held: %w", err)
	}
	return &Lock{f: f}, nil
}
