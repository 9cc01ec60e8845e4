//go:build unix

package keychain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestFile_RoundTripAndModes_Req38(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "grants")
	f := NewFile(dir)
	ctx := context.Background()
	key := Key("https://as.example", "c", "work")
	if _, err := f.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before any write: %v", err)
	}
	want := testRecord("file")
	if err := f.Set(ctx, key, want); err != nil {
		t.Fatal(err)
	}
	got, err := f.Get(ctx, key)
	if err != nil || !equalRecords(got, want) {
		t.Fatalf("round trip: %v", err)
	}
	st, _ := os.Stat(dir)
	if st.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %04o, want 0700", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("%d entries in the store, want 1 (no temporary file left)", len(entries))
	}
	fst, _ := os.Stat(filepath.Join(dir, entries[0].Name()))
	if fst.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %04o, want 0600", fst.Mode().Perm())
	}
	if !strings.HasPrefix(f.Name(), "file ") {
		t.Fatalf("Name %q", f.Name())
	}
	if err := f.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if err := f.Delete(ctx, key); err != nil {
		t.Fatalf("deleting a missing record: %v", err)
	}
}

func TestFile_RefusesWhatOthersCanReach_Req38(t *testing.T) {
	ctx := context.Background()
	key := Key("https://as.example", "c", "work")
	setup := func(t *testing.T) (*File, string, string) {
		dir := filepath.Join(t.TempDir(), "grants")
		f := NewFile(dir)
		if err := f.Set(ctx, key, testRecord("x")); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(dir)
		return f, dir, filepath.Join(dir, entries[0].Name())
	}
	// A record file that others can reach is never read; Set replaces it
	// (rename) with a private one. A store directory that others can reach
	// is refused for writes too.
	refused := func(t *testing.T, f *File, what string, dirLevel bool) {
		t.Helper()
		_, err := f.Get(ctx, key)
		if !errors.Is(err, ErrInsecure) {
			t.Fatalf("%s: Get = %v, want ErrInsecure", what, err)
		}
		if strings.Contains(err.Error(), "SNTL-") {
			t.Fatal("the error quotes the record")
		}
		err = f.Set(ctx, key, testRecord("y"))
		if dirLevel && !errors.Is(err, ErrInsecure) {
			t.Fatalf("%s: Set = %v, want ErrInsecure", what, err)
		}
		if !dirLevel {
			if err != nil {
				t.Fatalf("%s: Set = %v", what, err)
			}
			if r, err := f.Get(ctx, key); err != nil || r.RefreshToken != "SNTL-RT-y" {
				t.Fatalf("%s: after Set, Get = %v", what, err)
			}
		}
	}

	t.Run("file 0644", func(t *testing.T) {
		f, _, file := setup(t)
		if err := os.Chmod(file, 0o644); err != nil {
			t.Fatal(err)
		}
		refused(t, f, "file mode 0644", false)
	})
	t.Run("directory 0755", func(t *testing.T) {
		f, dir, _ := setup(t)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		refused(t, f, "directory mode 0755", true)
	})
	t.Run("file swapped for a symlink", func(t *testing.T) {
		f, _, file := setup(t)
		other := filepath.Join(t.TempDir(), "elsewhere.json")
		data, _ := os.ReadFile(file)
		if err := os.WriteFile(other, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(file); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(other, file); err != nil {
			t.Fatal(err)
		}
		refused(t, f, "a symbolic link for the file", false)
	})
	t.Run("directory is a symlink", func(t *testing.T) {
		_, dir, _ := setup(t)
		link := filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(dir, link); err != nil {
			t.Fatal(err)
		}
		refused(t, NewFile(link), "a symbolic link for the directory", true)
	})
	t.Run("another owner", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("changing a file's owner needs root")
		}
		f, _, file := setup(t)
		if err := os.Chown(file, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		refused(t, f, "file of another user", false)
	})
}

// TestFile_ParallelWritersNeverLeaveHalfARecord_Req38: 100 writers replace
// one record while readers read it; every read decodes.
func TestFile_ParallelWritersNeverLeaveHalfARecord_Req38(t *testing.T) {
	f := NewFile(filepath.Join(t.TempDir(), "grants"))
	ctx := context.Background()
	key := Key("https://as.example", "c", "work")
	if err := f.Set(ctx, key, testRecord("first")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 100 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r := testRecord(fmt.Sprintf("writer-%d-%s", i, strings.Repeat("x", i*40)))
			if err := f.Set(ctx, key, r); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := f.Get(ctx, key); err != nil {
				errs <- fmt.Errorf("read during writes: %w", err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := f.Get(ctx, key); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(f.dir); len(entries) != 1 {
		t.Fatalf("%d files left, want 1", len(entries))
	}
}
