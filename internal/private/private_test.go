//go:build unix

package private

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "l")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	check := func(path string, isDir bool) error {
		st, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		return Check(path, st, isDir)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := check(file, false); err != nil {
		t.Fatalf("a 0600 file: %v", err)
	}
	if err := check(dir, true); err != nil {
		t.Fatalf("a 0700 directory: %v", err)
	}
	for _, tc := range []struct {
		path string
		dir  bool
		mode os.FileMode
		want string
	}{
		{link, false, 0, "is a symbolic link"},
		{dir, false, 0, "is not a regular file"},
		{file, true, 0, "is not a directory"},
		{file, false, 0o640, "can be read by others (mode 0640); run: chmod 600 " + file},
		{dir, true, 0o755, "can be reached by others (mode 0755); run: chmod 700 " + dir},
	} {
		if tc.mode != 0 {
			if err := os.Chmod(tc.path, tc.mode); err != nil {
				t.Fatal(err)
			}
		}
		err := check(tc.path, tc.dir)
		var np *NotPrivateError
		if !errors.As(err, &np) || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.path, err, tc.want)
		}
	}
	if os.Geteuid() == 0 {
		if err := os.Chmod(file, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(file, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := check(file, false); err == nil || !strings.Contains(err.Error(), "another user") {
			t.Errorf("another user's file: %v", err)
		}
	}
}
