package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/session"
)

// breakLockDir makes the harness's lock directory ($XDG_RUNTIME_DIR/sesame)
// unusable: owned by another user when the test runs as root (file modes
// do not stop root), else a symbolic link, which sesame refuses as it
// refuses a directory another user could have planted.
func (h *harness) breakLockDir() {
	h.t.Helper()
	dir := filepath.Join(h.env["XDG_RUNTIME_DIR"], "sesame")
	if err := os.RemoveAll(dir); err != nil {
		h.t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Mkdir(dir, 0o700); err != nil {
			h.t.Fatal(err)
		}
		if err := os.Chown(dir, 65534, 65534); err != nil {
			h.t.Fatal(err)
		}
		return
	}
	if err := os.Symlink(h.t.TempDir(), dir); err != nil {
		h.t.Fatal(err)
	}
}

// TestToken_UnusableLockDirStillServesFreshToken (issue 14): a lock
// directory sesame cannot use stops only refreshes. Once the volatile
// cache's trust window has passed, a fresh token in the keychain is still
// handed out, with a warning; an expired one is not refreshed without the
// lock: exit 1, one error line naming the lock, a hint, and the grant
// untouched.
func TestToken_UnusableLockDirStillServesFreshToken(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.breakLockDir()
	h.advance(session.CacheTrust + time.Second)
	for _, cmd := range [][]string{{"token", "-p", "work"}, {"kubectl", "-p", "work"}} {
		r := h.run(cmd...)
		wantExit(t, r, 0)
		if !strings.Contains(r.stdout, h.record().AccessToken) {
			t.Fatalf("%v: the fresh token was not handed out: %q", cmd, r.stdout)
		}
		if !strings.Contains(r.stderr, "sesame: warning: ") || !strings.Contains(r.stderr, "cannot be refreshed when it expires") {
			t.Fatalf("%v: no warning about the lock:\n%s", cmd, r.stderr)
		}
		h.advance(session.CacheTrust + time.Second)
	}
	before := h.record()
	h.advance(time.Hour)
	r := h.run("token", "-p", "work")
	wantExit(t, r, exitError)
	if r.stdout != "" {
		t.Fatalf("an expired token was printed: %q", r.stdout)
	}
	wantOneErrorLine(t, r, "refreshes only under its lock")
	if !strings.Contains(r.stderr, "sesame: hint: sesame's lock directory") {
		t.Fatalf("no hint about the lock directory:\n%s", r.stderr)
	}
	if h.as.RefreshCount() != 0 || h.record().RefreshToken != before.RefreshToken {
		t.Fatal("a refresh was made without the lock")
	}
}
