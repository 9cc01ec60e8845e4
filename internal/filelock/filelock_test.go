package filelock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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
