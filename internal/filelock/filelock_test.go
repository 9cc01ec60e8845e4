package filelock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestAcquire_Exclusive(t *testing.T) {
	dir := t.TempDir()
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := Acquire(context.Background(), dir, "v1:key", 10*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for {
				m := maxInside.Load()
				if n <= m || maxInside.CompareAndSwap(m, n) {
					break
				}
			}
			// Holding the lock a moment is what is tested: it gives a
			// second holder, were the lock not exclusive, time to get in.
			time.Sleep(2 * time.Millisecond)
			inside.Add(-1)
			l.Release()
		}()
	}
	wg.Wait()
	if maxInside.Load() != 1 {
		t.Fatalf("%d holders at once", maxInside.Load())
	}
}

func TestAcquire_BoundedWait(t *testing.T) {
	dir := t.TempDir()
	held, err := Acquire(context.Background(), dir, "k", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	start := time.Now()
	_, err = Acquire(context.Background(), dir, "k", 100*time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("waited %v", d)
	}
	// Other names are independent.
	other, err := Acquire(context.Background(), dir, "k2", 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	other.Release()
}

func TestAcquire_CancelIsNotTimeout(t *testing.T) {
	dir := t.TempDir()
	held, _ := Acquire(context.Background(), dir, "k", time.Second)
	defer held.Release()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := Acquire(ctx, dir, "k", 10*time.Second)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestDir_PrivateAndChecked(t *testing.T) {
	rt := t.TempDir()
	dir, err := Dir(func(k string) string {
		if k == "XDG_RUNTIME_DIR" {
			return rt
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("mode %v err %v", st.Mode().Perm(), err)
	}
	// A symlink in its place is refused.
	rt2 := t.TempDir()
	if err := os.Symlink(t.TempDir(), filepath.Join(rt2, "sesame")); err != nil {
		t.Fatal(err)
	}
	if _, err := Dir(func(k string) string { return map[string]string{"XDG_RUNTIME_DIR": rt2}[k] }); err == nil {
		t.Fatal("a symlinked lock directory was accepted")
	}
}

func TestAcquireUnless_StopsWhenReady(t *testing.T) {
	dir := t.TempDir()
	held, err := Acquire(context.Background(), dir, "k", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	var calls atomic.Int32
	l, err := AcquireUnless(context.Background(), dir, "k", 10*time.Second, func() bool { return calls.Add(1) == 3 })
	if l != nil || err != nil || calls.Load() != 3 {
		t.Fatalf("lock=%v err=%v calls=%d; want nil, nil after the third check", l, err, calls.Load())
	}
}

// TestLock_InheritedFileKeepsTheLock: the held lock's open file keeps the
// lock after the Lock that took it is gone, and Adopt accepts it; a file
// opened anew on the same path is not the holder.
func TestLock_InheritedFileKeepsTheLock(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("locks are handed to children on Unix only")
	}
	dir := t.TempDir()
	l, err := Acquire(context.Background(), dir, "v1:k", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	dup, err := os.OpenFile("/dev/fd/"+strconv.Itoa(int(l.File().Fd())), os.O_RDWR, 0)
	if err != nil {
		t.Skip("no /dev/fd here:", err)
	}
	// dup is a new open file description: it is not the holder.
	if _, err := Adopt(dup); err == nil {
		t.Fatal("a newly opened lock file adopted a lock another description holds")
	}
	_ = dup.Close()
	inherited, err := Adopt(l.File())
	if err != nil {
		t.Fatalf("the holder's own file: %v", err)
	}
	if other, err := Acquire(context.Background(), dir, "v1:k", 20*time.Millisecond); err == nil {
		other.Release()
		t.Fatal("a second holder got the lock")
	}
	inherited.Release()
	again, err := Acquire(context.Background(), dir, "v1:k", time.Second)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.Release()
}

// TestLock_HandOffKeepsTheLockForTheOtherHolder: after HandOff, Release
// closes this holder's file without unlocking, so another holder of the
// same open file description (a child process) keeps the lock.
func TestLock_HandOffKeepsTheLockForTheOtherHolder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("locks are handed to children on Unix only")
	}
	dir := t.TempDir()
	l, err := Acquire(context.Background(), dir, "v1:k", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// What a child inherits: the same open file description.
	child, err := Adopt(dupFile(t, l.File()))
	if err != nil {
		t.Fatal(err)
	}
	l.HandOff()
	l.Release()
	if other, err := Acquire(context.Background(), dir, "v1:k", 20*time.Millisecond); err == nil {
		other.Release()
		t.Fatal("the lock ended when the parent released it after handing it off")
	}
	child.Release()
	again, err := Acquire(context.Background(), dir, "v1:k", time.Second)
	if err != nil {
		t.Fatalf("after the child released: %v", err)
	}
	again.Release()
}
