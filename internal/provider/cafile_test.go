//go:build unix

package provider

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/private"
)

// fakeInfo is a FileInfo with a chosen mode and owner; its Sys is a
// syscall.Stat_t, which private.Owner reads.
type fakeInfo struct {
	mode  fs.FileMode
	uid   uint32
	noSys bool
}

func (f fakeInfo) Name() string       { return "x" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any {
	if f.noSys {
		return nil
	}
	return &syscall.Stat_t{Uid: f.uid}
}

// TestCAFilePermError is the rule, on made-up owners and modes: a CA file
// another user can change is refused, as ssh refuses loose key files.
func TestCAFilePermError(t *testing.T) {
	const me, other, root = 1000, 1001, 0
	file := func(perm fs.FileMode, uid uint32) fakeInfo { return fakeInfo{mode: perm, uid: uid} }
	dir := func(mode fs.FileMode, uid uint32) fakeInfo { return fakeInfo{mode: fs.ModeDir | mode, uid: uid} }
	link := func(uid uint32) fakeInfo { return fakeInfo{mode: fs.ModeSymlink | 0o777, uid: uid} }
	for _, tc := range []struct {
		name      string
		file, dir fakeInfo
		want      string // "" accepts
	}{
		{"mine, private", file(0o600, me), dir(0o700, me), ""},
		{"mine, readable by all", file(0o644, me), dir(0o755, me), ""},
		{"root's, in a root directory", file(0o644, root), dir(0o755, root), ""},
		{"mine, in a directory of root", file(0o444, me), dir(0o755, root), ""},
		{"mine, in sticky /tmp", file(0o644, me), dir(0o777|fs.ModeSticky, root), ""},
		{"root's, in sticky /tmp", file(0o644, root), dir(0o777|fs.ModeSticky, root), ""},
		{"mine, in my sticky group-writable directory", file(0o644, me), dir(0o775|fs.ModeSticky, me), ""},
		{"my link, in my directory", link(me), dir(0o700, me), ""},
		{"my link, in sticky /tmp", link(me), dir(0o777|fs.ModeSticky, root), ""},

		{"world-writable file", file(0o666, me), dir(0o700, me), "can be written by other users (mode 0666)"},
		{"group-writable file", file(0o620, me), dir(0o700, me), "can be written by other users (mode 0620)"},
		{"other-writable only", file(0o602, me), dir(0o700, me), "can be written by other users (mode 0602)"},
		{"another user's file", file(0o644, other), dir(0o755, me), "belongs to another user (uid 1001)"},
		{"another user's file in sticky /tmp", file(0o644, other), dir(0o777|fs.ModeSticky, root), "belongs to another user (uid 1001)"},
		{"another user's link in sticky /tmp", link(other), dir(0o777|fs.ModeSticky, root), "belongs to another user (uid 1001)"},
		{"world-writable directory", file(0o644, me), dir(0o777, me), "is in a directory other users can write (/d, mode 0777)"},
		{"group-writable directory", file(0o600, me), dir(0o770, me), "is in a directory other users can write (/d, mode 0770)"},
		{"world-writable directory of root", file(0o644, root), dir(0o777, root), "is in a directory other users can write (/d, mode 0777)"},
		{"my link in a world-writable directory", link(me), dir(0o777, root), "is in a directory other users can write"},
		{"another user's directory", file(0o644, me), dir(0o755, other), "is in a directory of another user (/d, uid 1001)"},
		{"another user's sticky directory", file(0o644, me), dir(0o777|fs.ModeSticky, other), "is in a directory of another user (/d, uid 1001)"},
		{"unknown owner", fakeInfo{mode: 0o644, noSys: true}, dir(0o755, me), "cannot tell who owns it"},
		{"unknown directory owner", file(0o644, me), fakeInfo{mode: fs.ModeDir | 0o755, noSys: true}, "cannot tell who owns its directory /d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := caFilePermError("/d/ca.pem", "/d/ca.pem", tc.file, "/d", tc.dir, me)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %q", tc.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "the CA file /d/ca.pem") || !strings.Contains(msg, tc.want) ||
				!strings.HasSuffix(msg, "; sesame will not trust it") || strings.Contains(msg, "\n") {
				t.Fatalf("err = %q, want one line naming the file and %q", msg, tc.want)
			}
		})
	}
}

// TestNewHTTPClient_CAFilePermissions applies the rule to real files: the
// CA file of a working server is refused as soon as another user could
// have changed it, and accepted otherwise.
func TestNewHTTPClient_CAFilePermissions(t *testing.T) {
	srv, _ := newServer(t, okHandler)
	pemFile := caFileFor(t, srv.Certificate())
	pemData, err := os.ReadFile(pemFile)
	if err != nil {
		t.Fatal(err)
	}
	// put writes the CA into dir/ca.pem with perm, then sets dir's mode.
	put := func(t *testing.T, dirMode, perm fs.FileMode) string {
		dir := filepath.Join(t.TempDir(), "d")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(path, pemData, 0o600); err != nil {
			t.Fatal(err)
		}
		chmod(t, path, perm)
		chmod(t, dir, dirMode)
		return path
	}
	symlink := func(t *testing.T, target string, dirMode fs.FileMode) string {
		dir := filepath.Join(t.TempDir(), "links")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "ca.pem")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		chmod(t, dir, dirMode)
		return link
	}
	for _, tc := range []struct {
		name string
		path func(t *testing.T) string
		want string // "" accepts
	}{
		{"private file", func(t *testing.T) string { return put(t, 0o700, 0o600) }, ""},
		{"readable file", func(t *testing.T) string { return put(t, 0o755, 0o644) }, ""},
		{"in a sticky world-writable directory", func(t *testing.T) string { return put(t, 0o777|fs.ModeSticky, 0o644) }, ""},
		{"link to a private file", func(t *testing.T) string { return symlink(t, put(t, 0o700, 0o600), 0o700) }, ""},
		{"my link in a sticky directory", func(t *testing.T) string { return symlink(t, put(t, 0o700, 0o600), 0o777|fs.ModeSticky) }, ""},

		{"world-writable file", func(t *testing.T) string { return put(t, 0o700, 0o666) }, "can be written by other users (mode 0666)"},
		{"group-writable file", func(t *testing.T) string { return put(t, 0o700, 0o660) }, "can be written by other users (mode 0660)"},
		{"world-writable directory", func(t *testing.T) string { return put(t, 0o777, 0o644) }, "is in a directory other users can write"},
		{"group-writable directory", func(t *testing.T) string { return put(t, 0o770, 0o600) }, "is in a directory other users can write"},
		{"link to a world-writable file", func(t *testing.T) string { return symlink(t, put(t, 0o700, 0o666), 0o700) }, "can be written by other users (mode 0666)"},
		{"link to a file in a world-writable directory", func(t *testing.T) string { return symlink(t, put(t, 0o777, 0o644), 0o700) }, "is in a directory other users can write"},
		{"link in a world-writable directory", func(t *testing.T) string { return symlink(t, put(t, 0o700, 0o600), 0o777) }, "is in a directory other users can write"},
		{"relative path", func(t *testing.T) string { return "ca.pem" }, `the CA file "ca.pem" is not an absolute path`},
		{"directory", func(t *testing.T) string { return t.TempDir() }, "is not a regular file"},
		{"fifo", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "ca.pem")
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Skip(err)
			}
			return p
		}, "is not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path(t)
			c, err := NewHTTPClient(Options{CAFile: path})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				resp, err := get(t, c, srv.URL)
				if err != nil {
					t.Fatalf("the CA was not trusted: %v", err)
				}
				_ = resp.Body.Close()
				return
			}
			if err == nil {
				t.Fatalf("%s accepted, want %q", path, tc.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, path) || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Fatalf("err = %q, want one line naming %s and %q", msg, path, tc.want)
			}
		})
	}
}

// TestNewHTTPClient_SystemCABundle accepts a CA file root owns in a
// directory only root can write, such as the system bundle.
func TestNewHTTPClient_SystemCABundle(t *testing.T) {
	const bundle = "/etc/ssl/certs/ca-certificates.crt"
	fi, err := os.Stat(bundle)
	if err != nil {
		t.Skipf("no %s here", bundle)
	}
	if uid, _ := private.Owner(fi); uid != 0 {
		t.Skipf("%s is not root's here", bundle)
	}
	if _, err := NewHTTPClient(Options{CAFile: bundle}); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	// t.TempDir's cleanup must be able to remove what is inside.
	t.Cleanup(func() { _ = os.Chmod(path, 0o700) })
}
