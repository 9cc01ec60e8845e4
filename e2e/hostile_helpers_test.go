package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/session"
	"github.com/sesame-auth/sesame/internal/tokencache"
)

// Issue 14, the helpers' part: a lock directory sesame cannot use, a
// kubectl request that names no cluster for a cluster-bound profile, and a
// --min-ttl the server's tokens cannot meet, each against the real server
// and the real sesame binary.

// lockDir is the sandbox's lock directory: the sandbox sets HOME and no
// XDG_RUNTIME_DIR or XDG_CACHE_HOME, so filelock.Dir picks the user cache
// directory's sesame/locks under HOME.
func (c *cli) lockDir() string { return filepath.Join(c.home, ".cache", "sesame", "locks") }

// dropCachedToken forgets the volatile cache's copy of the access token,
// as the end of its 10-second trust window would: the next call goes to
// the lock and the keychain.
func (c *cli) dropCachedToken() {
	c.t.Helper()
	if rec := c.record(); rec != nil {
		session.Forget(tokencache.New(), c.key(), rec)
	}
}

// TestHostileHelpers_LockDirUnusable_RealServer: the lock is needed only to
// refresh. With the lock directory read-only or another user's, a fresh
// token in the keychain is still printed (exit 0, a warning); an expired
// one is not refreshed without the lock (exit 1, one error line naming
// the lock, no refresh at the server); once the directory is usable again,
// the grant refreshes as before.
func TestHostileHelpers_LockDirUnusable_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{AccessTokenTTL: 10 * time.Minute})
	c := newCLI(t, srv, "e2e-hostile-lockdir")
	if r := c.login(); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	dir := c.lockDir()
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("the lock directory is not where filelock.Dir puts it for this sandbox (%s): %v", dir, err)
	}
	root := os.Geteuid() == 0
	for _, tc := range []struct {
		name string
		// onlyRoot: the subcase needs root; why says so when it is
		// skipped.
		onlyRoot bool
		why      string
		// spoil makes dir unusable and returns the undo.
		spoil func(t *testing.T) func()
	}{
		{
			// chmod 0500, and for root, whom file modes do not stop,
			// chattr +i as well.
			name: "read-only",
			spoil: func(t *testing.T) func() {
				// Lock files left by earlier calls could still be opened
				// for writing in a read-only directory: remove them.
				files, _ := filepath.Glob(filepath.Join(dir, "*"))
				for _, f := range files {
					if err := os.Remove(f); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.Chmod(dir, 0o500); err != nil {
					t.Fatal(err)
				}
				undo := func() { _ = os.Chmod(dir, 0o700) }
				if root {
					// File modes do not stop root; the immutable flag
					// does (ext4, xfs, btrfs; not tmpfs).
					if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
						undo()
						t.Skipf("running as root, where file modes do not stop anyone, and chattr +i is not available here (%v: %s); the another-user subcase covers root", err, strings.TrimSpace(string(out)))
					}
					chmodUndo := undo
					undo = func() { _ = exec.Command("chattr", "-i", dir).Run(); chmodUndo() }
					t.Cleanup(undo)
				}
				return undo
			},
		},
		{
			name:     "another-user",
			onlyRoot: true,
			why:      "not root: making the lock directory another user's (chown 65534) needs root",
			spoil: func(t *testing.T) func() {
				if err := os.Chown(dir, 65534, 65534); err != nil {
					t.Fatal(err)
				}
				return func() { _ = os.Chown(dir, os.Getuid(), os.Getgid()) }
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.onlyRoot && !root {
				t.Skip(tc.why)
			}
			// A fresh token in the keychain, taken while the directory is
			// still usable.
			c.mustRun("token", "-p", c.name)
			undo := tc.spoil(t)
			defer undo()
			c.dropCachedToken()
			before := refreshes(srv)

			r := c.run("token", "-p", c.name)
			if r.code != 0 {
				t.Fatalf("a fresh token with an unusable lock directory: exit %d\n%s", r.code, r.stderr)
			}
			if rec := c.record(); strings.TrimSpace(r.stdout) != rec.AccessToken {
				t.Fatal("the fresh stored token was not printed")
			}
			if !strings.Contains(r.stderr, "sesame: warning: ") || !strings.Contains(r.stderr, "cannot be refreshed when it expires") {
				t.Fatalf("no warning about the lock:\n%s", r.stderr)
			}
			t.Logf("fresh token, unusable lock directory:\n%s", r.stderr)

			expireNow(t, c)
			stored := c.record()
			r = c.run("token", "-p", c.name)
			if r.code != 1 || r.stdout != "" {
				t.Fatalf("an expired token with an unusable lock directory: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
			}
			oneErrorLine(t, r, "refreshes only under its lock")
			if !strings.Contains(r.stderr, "sesame: hint: ") {
				t.Fatalf("no hint:\n%s", r.stderr)
			}
			t.Logf("expired token, unusable lock directory:\n%s", r.stderr)
			if got := refreshes(srv); got != before {
				t.Fatalf("%d refreshes at the server without the lock", got-before)
			}
			if c.record().RefreshToken != stored.RefreshToken {
				t.Fatal("the stored grant changed without the lock")
			}

			// Usable again: the grant was kept and refreshes.
			undo()
			r = c.mustRun("token", "-p", c.name)
			if got := refreshes(srv); got != before+1 || strings.TrimSpace(r.stdout) != c.record().AccessToken {
				t.Fatalf("after the lock directory was fixed: %d refreshes, want 1", got-before)
			}
		})
	}
	rec := c.record()
	c.assertNoLeak(rec.AccessToken, rec.RefreshToken)
}

// TestHostileHelpers_KubectlWithoutClusterInfo_RealServer: a profile set up
// with `setup kubectl --server` (which writes provideClusterInfo: true)
// gives no token to a request that names no cluster: exit 1, nothing on
// stdout, the hint to turn provideClusterInfo on. Its own cluster gets the
// token.
func TestHostileHelpers_KubectlWithoutClusterInfo_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{AccessTokenTTL: 10 * time.Minute})
	c := newCLI(t, srv, "e2e-hostile-kubecluster")
	if r := c.login(); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	const server = "https://k8s.example.com:6443"
	r := c.mustRun("setup", "kubectl", "-p", c.name, "--server", server)
	if !strings.Contains(r.stdout, "--exec-provide-cluster-info=true") || !strings.Contains(r.stdout, "provideClusterInfo: true") {
		t.Fatalf("setup kubectl --server does not turn provideClusterInfo on:\n%s", r.stdout)
	}
	base := c.extraEnv
	defer func() { c.extraEnv = base }()
	kubectl := func(info string) run {
		c.extraEnv = append(append([]string(nil), base...), "KUBERNETES_EXEC_INFO="+info)
		return c.run("kubectl", "-p", c.name)
	}

	r = kubectl(`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`)
	if r.code != 1 || r.stdout != "" {
		t.Fatalf("a request without cluster info: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	oneErrorLine(t, r, "did not say which cluster")
	if !strings.Contains(r.stderr, "sesame: hint: turn on provideClusterInfo") {
		t.Fatalf("no provideClusterInfo hint:\n%s", r.stderr)
	}
	t.Logf("no cluster info:\n%s", r.stderr)

	r = kubectl(`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false,"cluster":{"server":"` + server + `"}}}`)
	if r.code != 0 || !strings.Contains(r.stdout, c.record().AccessToken) {
		t.Fatalf("the profile's own cluster: exit %d\n%s", r.code, r.stderr)
	}
	rec := c.record()
	c.assertNoLeak(rec.AccessToken, rec.RefreshToken)
}

// TestHostileHelpers_UnmetMinTTL_RealServer: 60-second access tokens and
// `token --min-ttl 10m` three times: one refresh at the server (the
// login's token is refreshed once; the refreshed one is the best the
// server gives), the warning each time, exit 0 each time, the same token.
func TestHostileHelpers_UnmetMinTTL_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{AccessTokenTTL: 60 * time.Second})
	c := newCLI(t, srv, "e2e-hostile-minttl")
	if r := c.login(); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	before := refreshes(srv)
	began := time.Now()
	var printed []string
	for i := range 3 {
		r := c.run("token", "-p", c.name, "--min-ttl", "10m")
		if r.code != 0 {
			t.Fatalf("call %d: exit %d\n%s", i+1, r.code, r.stderr)
		}
		lines := stderrLines(r.stderr)
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "sesame: warning: --min-ttl 10m0s cannot be met") {
			t.Fatalf("call %d: stderr is not the one warning line:\n%s", i+1, r.stderr)
		}
		printed = append(printed, strings.TrimSpace(r.stdout))
		t.Logf("call %d: %s", i+1, r.stderr)
	}
	if time.Since(began) > 25*time.Second {
		t.Skip("the three calls took longer than the refreshed token is handed out (30 s); nothing to conclude")
	}
	if got := refreshes(srv) - before; got != 1 {
		t.Fatalf("%d refreshes at the server for three calls, want 1", got)
	}
	rec := c.record()
	for i, p := range printed {
		if p != rec.AccessToken {
			t.Fatalf("call %d did not print the refreshed token", i+1)
		}
	}
	c.assertNoLeak(rec.AccessToken, rec.RefreshToken)
}
