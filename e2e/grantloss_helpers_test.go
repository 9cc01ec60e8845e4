//go:build linux

package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
)

// Helpers of grantloss_test.go: sesame processes the test signals or kills,
// the `sesame __refresh` child found in /proc, and the checks that a grant
// is alive.

// bgRun is a sesame process started in the background. Its stdout and
// stderr go to files outside the sandbox's HOME and TMPDIR (stdout holds
// a token): with pipes, Wait would also wait for the refresher child, which
// inherits the caller's stderr and may outlive it.
type bgRun struct {
	t              *testing.T
	c              *cli
	cmd            *exec.Cmd
	args           []string
	stdout, stderr *os.File
	began          time.Time
	done           chan struct{}
	ended          time.Time
	waitErr        error
}

// startBG starts sesame with args in c's sandbox; ownGroup puts it in a
// process group of its own, as a shell does with a job.
func (c *cli) startBG(t *testing.T, ownGroup bool, args ...string) *bgRun {
	t.Helper()
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	errf, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = out.Close(); _ = errf.Close() })
	cmd := c.command(context.Background(), args...)
	cmd.Stdout, cmd.Stderr = out, errf
	if ownGroup {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	b := &bgRun{t: t, c: c, cmd: cmd, args: args, stdout: out, stderr: errf, done: make(chan struct{})}
	b.began = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("sesame %v: %v", args, err)
	}
	go func() {
		b.waitErr = cmd.Wait()
		b.ended = time.Now()
		close(b.done)
	}()
	t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			_ = cmd.Process.Kill()
			<-b.done
		}
	})
	return b
}

// pid is the process id.
func (b *bgRun) pid() int { return b.cmd.Process.Pid }

// exited reports whether the process has exited.
func (b *bgRun) exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// wait waits at most d for the process to exit and returns what it did;
// the test fails if it is still running then.
func (b *bgRun) wait(d time.Duration) run {
	b.t.Helper()
	select {
	case <-b.done:
	case <-time.After(d):
		_ = b.cmd.Process.Kill()
		<-b.done
		b.t.Fatalf("sesame %v did not exit within %v:\n%s", b.args, d, b.readStderr())
	}
	return b.result()
}

// result is the exit code (-1 for a signal) and the output so far.
func (b *bgRun) result() run {
	r := run{code: b.cmd.ProcessState.ExitCode(), stderr: b.readStderr()}
	data, _ := os.ReadFile(b.stdout.Name())
	r.stdout = string(data)
	b.c.stderrs = append(b.c.stderrs, r.stderr)
	return r
}

func (b *bgRun) readStderr() string {
	data, _ := os.ReadFile(b.stderr.Name())
	return string(data)
}

// refresherPIDs returns the live `sesame __refresh -p profile` processes.
// A zombie has an empty command line and is not listed.
func refresherPIDs(profile string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if isRefresher(pid, profile) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// isRefresher reports whether pid is a live `sesame __refresh -p profile`.
func isRefresher(pid int, profile string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return false
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	if len(args) < 4 || args[1] != "__refresh" {
		return false
	}
	for i := 2; i+1 < len(args); i++ {
		if args[i] == "-p" && args[i+1] == profile {
			return true
		}
	}
	return false
}

// waitRefresher waits (at most d) for the refresher of profile to run and
// returns its pid; 0 if stop reported true first or none came.
func waitRefresher(profile string, d time.Duration, stop func() bool) int {
	deadline := time.Now().Add(d)
	for {
		if pids := refresherPIDs(profile); len(pids) > 0 {
			return pids[0]
		}
		if (stop != nil && stop()) || time.Now().After(deadline) {
			return 0
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// waitNoRefresher waits (at most d) until no refresher of profile is left.
func waitNoRefresher(t *testing.T, profile string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		pids := refresherPIDs(profile)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, `sesame __refresh -p %s` still runs: pids %v", d, profile, pids)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockFile is the path of c's profile lock (filelock.Dir without
// XDG_RUNTIME_DIR: the user cache directory under the sandbox's HOME).
func (c *cli) lockFile() string {
	name := strings.NewReplacer(":", "_", "/", "_", "\\", "_").Replace(c.key()) + ".lock"
	return filepath.Join(c.home, ".cache", "sesame", "locks", name)
}

// profileLockHeld reports whether some process holds c's profile lock. It
// tries the lock without waiting on a file description of its own and, if
// it got it, gives it back at once.
func (c *cli) profileLockHeld(t *testing.T) bool {
	t.Helper()
	f, err := os.OpenFile(c.lockFile(), os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("the profile lock file: %v", err)
	}
	defer func() { _ = f.Close() }()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case err == nil:
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false
	case errors.Is(err, syscall.EWOULDBLOCK):
		return true
	default:
		t.Fatalf("flock %s: %v", c.lockFile(), err)
		return false
	}
}

// pointTokenEndpoint points the stored grant's refreshes at url (a proxy);
// expire also makes its access token expired, as time would.
func pointTokenEndpoint(t *testing.T, c *cli, url string, expire bool) {
	t.Helper()
	rec := c.record()
	if rec == nil {
		t.Fatal("no stored grant")
	}
	rec.TokenEndpoint = url
	if err := c.store().Set(context.Background(), c.key(), rec); err != nil {
		t.Fatal(err)
	}
	if expire {
		c.expire()
	}
}

// newestRefreshTokenID is the fingerprint of the refresh token the server
// issued last (rig.TokenID), "" if none.
func newestRefreshTokenID(srv *rig.Server) string {
	var id string
	for _, e := range srv.Events("grant.success") {
		if s := e.Str("refresh_token_id"); s != "" {
			id = s
		}
	}
	return id
}

// storesNewest reports whether the keychain holds the server's newest
// refresh token: the only one the next refresh may send.
func storesNewest(c *cli, srv *rig.Server) bool {
	rec := c.record()
	return rec != nil && rec.RefreshToken != "" && rig.TokenID(rec.RefreshToken) == newestRefreshTokenID(srv)
}

// requireNoGrantLoss fails the test if the server revoked a grant or
// refused a grant request (a reuse, above all).
func requireNoGrantLoss(t *testing.T, srv *rig.Server) {
	t.Helper()
	if n := len(srv.Events("grant.revoked")); n != 0 {
		t.Fatalf("the server revoked %d grant(s); events: %s", n, grantErrors(srv))
	}
	if errs := srv.Events("grant.error"); len(errs) != 0 {
		t.Fatalf("the server refused %d grant request(s): %s", len(errs), grantErrors(srv))
	}
}

// grantErrors describes the server's grant errors (no token in them).
func grantErrors(srv *rig.Server) string {
	var s []string
	for _, e := range srv.Events("grant.error") {
		s = append(s, e.Error+" ("+e.ErrorDetail+")")
	}
	if len(s) == 0 {
		return "no grant.error"
	}
	return strings.Join(s, "; ")
}

// forcedRefresh runs `sesame token` on the grant with its access token
// made expired (c.expire): it must exit 0, refresh once at the server,
// store the rotated grant and print its access token.
func forcedRefresh(t *testing.T, c *cli, srv *rig.Server) run {
	t.Helper()
	prev := c.record()
	if prev == nil {
		t.Fatal("no stored grant to refresh")
	}
	c.expire()
	before := refreshes(srv)
	r := c.run("token", "-p", c.name)
	if r.code != 0 {
		t.Fatalf("a forced refresh: exit %d\n%s\nserver: %d refreshes, %s", r.code, r.stderr, refreshes(srv), grantErrors(srv))
	}
	if strings.Contains(r.stderr, "sesame: error:") {
		t.Fatalf("a forced refresh exited 0 with an error line:\n%s", r.stderr)
	}
	rec := c.record()
	if rec == nil || strings.TrimSpace(r.stdout) != rec.AccessToken || rec.AccessToken == prev.AccessToken {
		t.Fatal("a forced refresh did not print the newly stored access token")
	}
	if rec.RefreshToken == prev.RefreshToken {
		t.Fatal("a forced refresh did not store a rotated refresh token")
	}
	if got := refreshes(srv); got != before+1 {
		t.Fatalf("a forced refresh: the server completed %d refreshes, want 1", got-before)
	}
	return r
}

// requireGrantAlive: the server revoked nothing and refused nothing, the
// keychain holds its newest refresh token, and one more forced refresh
// works and gives an active token.
func requireGrantAlive(t *testing.T, c *cli, srv *rig.Server) {
	t.Helper()
	requireNoGrantLoss(t, srv)
	if !storesNewest(c, srv) {
		t.Fatal("the keychain does not hold the server's newest refresh token: the next refresh would be a reuse")
	}
	r := forcedRefresh(t, c, srv)
	active, err := srv.Introspect(t.Context(), strings.TrimSpace(r.stdout))
	if err != nil || !active {
		t.Fatalf("the refreshed access token is not active (%v)", err)
	}
	requireNoGrantLoss(t, srv)
	if !storesNewest(c, srv) {
		t.Fatal("after one more refresh the keychain does not hold the server's newest refresh token")
	}
}
