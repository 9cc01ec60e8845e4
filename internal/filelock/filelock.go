// Package filelock serialises the sesame processes that work on one grant:
// a per-user, per-grant OS file lock (flock(2) on Unix, LockFileEx on
// Windows through github.com/gofrs/flock) held around read, refresh and
// write, so a rotating refresh token is redeemed once however many helpers
// run at once (RFC 9700 §4.14.2; requirement 29).
//
// # Security
//
// The lock files live in a directory only the user can enter (0700, owned by
// the user, not a symbolic link); a directory that fails these checks is
// refused, because another user who could replace a lock file could make
// sesame wait or race. A lock file holds nothing: it is never the secret
// itself.
//
// # Concurrency
//
// Acquire waits a bounded time and fails with ErrTimeout rather than hang.
// The OS releases the lock when the holder exits, also on kill -9, so a
// crashed process never blocks the others. On Unix a held lock can be
// handed to a child process (File, Adopt): it is then held until both
// have closed it, so a refresh a child finishes stays serialised even
// after the parent was killed.
package filelock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/internal/private"
)

// ErrTimeout means another process held the lock for the whole wait.
var ErrTimeout = errors.New("timed out waiting for another sesame process")

// A waiting process retries the lock first after pollInterval, short
// because a holder that only reads the keychain is done within
// milliseconds, then at intervals that double up to maxPollInterval. A
// refresh takes hundreds of milliseconds, and fifty waiters retrying every
// 5 ms for all that time kept two CPUs busy enough to slow the refresh
// they were waiting for several times over (the parallel refresh
// benchmark, e2e/bench_test.go); a waiter now sees the result at most
// maxPollInterval late.
const (
	pollInterval    = 5 * time.Millisecond
	maxPollInterval = 40 * time.Millisecond
)

// Dir returns the user's lock directory: $XDG_RUNTIME_DIR/sesame (a
// per-user tmpfs) when set, else the user cache directory's sesame/locks.
// It creates the directory with mode 0700 and checks it.
func Dir(getenv func(string) string) (string, error) {
	var dir string
	if rt := getenv("XDG_RUNTIME_DIR"); rt != "" && filepath.IsAbs(rt) {
		dir = filepath.Join(rt, "sesame")
	} else {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("cannot find a directory for lock files: %w", err)
		}
		dir = filepath.Join(cache, "sesame", "locks")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("cannot create the lock directory: %w", err)
	}
	if err := checkPrivate(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// Acquire takes the lock called name in dir, waiting at most wait (and no
// longer than ctx allows).
func Acquire(ctx context.Context, dir, name string, wait time.Duration) (*Lock, error) {
	return AcquireUnless(ctx, dir, name, wait, nil)
}

// AcquireUnless is Acquire that also stops waiting, returning a nil Lock
// and a nil error, as soon as ready reports true: a caller waiting for
// another process's refresh can take its result without queueing for the
// lock. ready is called between attempts and must be cheap.
func AcquireUnless(ctx context.Context, dir, name string, wait time.Duration, ready func() bool) (*Lock, error) {
	path := Path(dir, name)
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	interval := pollInterval
	retry := time.NewTimer(interval)
	defer retry.Stop()
	for {
		l, err := tryLock(path)
		if err != nil {
			return nil, fmt.Errorf("cannot lock %s: %w", path, err)
		}
		if l != nil {
			return l, nil
		}
		if ready != nil && ready() {
			return nil, nil
		}
		select {
		case <-retry.C:
			interval = min(2*interval, maxPollInterval)
			retry.Reset(interval)
		case <-deadline.C:
			return nil, fmt.Errorf("%w (held for more than %s on %s)", ErrTimeout, wait, path)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Path is the file of the lock called name in dir.
func Path(dir, name string) string { return filepath.Join(dir, fileName(name)) }

// fileName turns a lock name (a keychain key such as "v1:Ab-_") into a
// file name that is valid everywhere.
func fileName(name string) string {
	return strings.NewReplacer(":", "_", "/", "_", "\\", "_").Replace(name) + ".lock"
}

// checkPrivate refuses a lock directory another user could write to or
// that is a symbolic link.
func checkPrivate(dir string) error {
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("cannot use the lock directory: %w", err)
	}
	if st.Mode()&fs.ModeSymlink != 0 || !st.IsDir() {
		return fmt.Errorf("the lock directory %s is not a plain directory", dir)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("the lock directory %s is open to other users (mode %o)", dir, st.Mode().Perm())
		}
	}
	if !private.OwnedByMe(st) {
		return fmt.Errorf("the lock directory %s belongs to another user", dir)
	}
	return nil
}
