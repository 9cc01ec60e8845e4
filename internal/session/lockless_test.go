package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/filelock"
	"github.com/sesame-auth/sesame/internal/tokencache"
	"github.com/sesame-auth/sesame/keychain"
)

// unusableLock is the profile lock of a lock directory that cannot be
// used: the real filelock, on a "directory" that is a regular file, as an
// unwritable or foreign directory fails for an ordinary user (the test
// may run as root, which file modes do not stop).
func unusableLock(t *testing.T) (lock func(context.Context, func() bool) (Held, error), calls *int) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "locks")
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	calls = new(int)
	return func(ctx context.Context, ready func() bool) (Held, error) {
		*calls++
		l, err := filelock.AcquireUnless(ctx, dir, "k", time.Second, ready)
		if l == nil {
			return nil, err
		}
		return l, err
	}, calls
}

// TestToken_UnusableLockStillServesFreshRecord: the lock is needed only to
// refresh. After the volatile cache missed (its trust window passed), a
// lock that cannot be had at all must not stop a fresh token already in
// the keychain from being handed out: no refresh, one warning, and the
// cache is filled again.
func TestToken_UnusableLockStillServesFreshRecord(t *testing.T) {
	f := newFixture(t)
	cache := &tokencache.Memory{}
	f.src.Cache = cache
	lock, calls := unusableLock(t)
	f.src.Lock = lock
	var warned []string
	f.src.Warn = func(msg string) { warned = append(warned, msg) }
	f.now = f.now.Add(100 * time.Second) // 170 s of 270 left: fresh

	res, err := f.src.Token(context.Background())
	if err != nil {
		t.Fatalf("a fresh stored token was refused because the lock is unusable: %v", err)
	}
	if res.Record.AccessToken != f.grant.AccessToken || res.Refreshed || f.requests() != 0 {
		t.Fatalf("got %q refreshed=%v requests=%d; want the stored token and no refresh", res.Record.AccessToken, res.Refreshed, f.requests())
	}
	if *calls != 1 {
		t.Fatalf("the lock was tried %d times, want 1 (the lock-first path)", *calls)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "cannot be refreshed") {
		t.Fatalf("warnings %q; want one saying the token cannot be refreshed", warned)
	}
	if e, ok := cache.Get("k"); !ok || e.AccessToken != f.grant.AccessToken {
		t.Fatal("the token served without the lock was not cached")
	}
}

// TestToken_UnusableLockNeverRefreshes: an expired token is not refreshed
// without the lock, on either path (with and without a volatile cache):
// the refresh token stays, no request reaches the server, and the error
// says why and wraps the lock's.
func TestToken_UnusableLockNeverRefreshes(t *testing.T) {
	for _, withCache := range []bool{true, false} {
		t.Run(fmt.Sprintf("cache=%v", withCache), func(t *testing.T) {
			f := newFixture(t)
			if withCache {
				f.src.Cache = &tokencache.Memory{}
			}
			lock, _ := unusableLock(t)
			f.src.Lock = lock
			f.now = f.now.Add(time.Hour)
			_, err := f.src.Token(context.Background())
			var lu *LockUnusableError
			if !errors.As(err, &lu) || !strings.Contains(err.Error(), "cannot lock") {
				t.Fatalf("err = %v, want a LockUnusableError wrapping the lock's error", err)
			}
			if f.requests() != 0 {
				t.Fatalf("%d refresh requests without the lock", f.requests())
			}
			if got := f.stored(t); got.RefreshToken != f.grant.RefreshToken || got.AccessToken != f.grant.AccessToken {
				t.Fatalf("the stored grant changed: %q/%q", got.RefreshToken, got.AccessToken)
			}
		})
	}
}

// TestToken_BusyOrCancelledLockIsNotBypassed: only a lock that cannot be
// had at all sends the caller to the keychain without it. Another holder
// (Busy, a timeout) or a cancelled caller still gets the error, as before:
// the lock-first design keeps its one keychain read for fifty waiters.
func TestToken_BusyOrCancelledLockIsNotBypassed(t *testing.T) {
	busy := &Problem{Kind: Busy, Profile: "p", Err: fmt.Errorf("profile %q is busy: %w", "p", filelock.ErrTimeout)}
	for _, lockErr := range []error{busy, fmt.Errorf("wait: %w", filelock.ErrTimeout), context.Canceled, context.DeadlineExceeded} {
		t.Run(lockErr.Error(), func(t *testing.T) {
			f := newFixture(t)
			f.src.Cache = &tokencache.Memory{}
			f.store.FailGet = errors.New("a caller whose lock is busy must not read the keychain")
			f.src.Lock = func(context.Context, func() bool) (Held, error) { return nil, lockErr }
			_, err := f.src.Token(context.Background())
			if !errors.Is(err, lockErr) {
				t.Fatalf("err = %v, want the lock's error %v", err, lockErr)
			}
			var lu *LockUnusableError
			if errors.As(err, &lu) || f.requests() != 0 {
				t.Fatalf("err = %v requests = %d", err, f.requests())
			}
		})
	}
}

// TestToken_UnusableLockFallbackKeepsBinding: the keychain read made
// without the lock checks the record's binding like any other (requirement
// 39): a record for another client is not handed out.
func TestToken_UnusableLockFallbackKeepsBinding(t *testing.T) {
	f := newFixture(t)
	f.src.Cache = &tokencache.Memory{}
	lock, _ := unusableLock(t)
	f.src.Lock = lock
	f.src.Binding.ClientID = "other"
	if _, err := f.src.Token(context.Background()); !errors.Is(err, ErrLoginRequired) {
		t.Fatalf("err = %v, want login required", err)
	}
	if _, err := f.store.Get(context.Background(), "k"); errors.Is(err, keychain.ErrNotFound) {
		t.Fatal("the record was deleted")
	}
}
