//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
)

// Issue 14, items 6 and 9, and the signals: what another local user can
// plant (a FIFO at the debug file's path) must not hang sesame, the
// redactor must not blank sesame's own explanations, and every signal that
// asks a command to end ends it promptly with the documented exit code.

// TestHostileLocal_DebugFileFIFO: a FIFO at the debug file's path used to
// hang every command in open(2), deaf to SIGTERM (issue 14, item 6). Now
// status and token, with SESAME_DEBUG_FILE or --debug-file pointing at it,
// fail within seconds with exit 1 and one error line naming the path, with
// or without a reader on the FIFO, and write nothing into it.
func TestHostileLocal_DebugFileFIFO(t *testing.T) {
	rig.SkipUnlessE2E(t)
	c := hlOfflineCLI(t)
	// A directory anyone may write to, as /tmp is.
	shared := filepath.Join(c.tmp, "shared")
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o1777); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(shared, "sesame-debug.log")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}

	check := func(what string, args ...string) {
		t.Helper()
		began := time.Now()
		r := c.run(args...)
		took := time.Since(began)
		if took > 5*time.Second {
			t.Fatalf("%s: sesame %v took %v", what, args, took)
		}
		if r.code != 1 {
			t.Fatalf("%s: sesame %v: exit %d, want 1\n%s", what, args, r.code, r.stderr)
		}
		oneErrorLine(t, r, fifo)
		if !strings.Contains(r.stderr, "named pipe") || strings.Contains(r.stderr, "REDACTED") || r.stdout != "" {
			t.Fatalf("%s: sesame %v: stdout %q, stderr:\n%s", what, args, r.stdout, r.stderr)
		}
	}

	c.extraEnv = []string{"SESAME_DEBUG_FILE=" + fifo}
	check("no reader", "status")
	check("no reader", "token", "-p", "x")
	c.extraEnv = nil
	check("no reader, --debug-file", "token", "-p", "x", "--debug-file", fifo)

	// Someone reads the FIFO: the open would succeed, fstat refuses it.
	rd, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rd.Close() }()
	c.extraEnv = []string{"SESAME_DEBUG_FILE=" + fifo, "SESAME_DEBUG=1"}
	check("a reader", "status")
	check("a reader", "token", "-p", "x")
	buf := make([]byte, 256)
	if n, _ := rd.Read(buf); n != 0 {
		t.Fatalf("sesame wrote %q into the FIFO", buf[:n])
	}
}

// TestHostileLocal_ExplanationsNotRedacted_RealServer: the redactor took
// any "dpop: ..." or "...DPoP: ..." text for a DPoP header and hid the rest
// of the line, so the DPoP code's errors read "sesame: error: dpop:
// REDACTED" (issue 14, item 9). Now dpop-proof with user information in
// --url says why it refuses, and so does the hint after a login --dpop
// against a server without a DPoP algorithm sesame has; the password of
// the URL appears nowhere.
func TestHostileLocal_ExplanationsNotRedacted_RealServer(t *testing.T) {
	rig.RequireTools(t)

	// A server that offers DPoP only with an algorithm sesame does not
	// have: login --dpop is refused before any browser opens.
	noDPoP := rig.StartServer(t, rig.ServerOptions{DPoPAlgs: []string{"PS256"}})
	c := newCLI(t, noDPoP, "e2e-hl-nodpop")
	r := c.login("--dpop")
	if r.code != 2 {
		t.Fatalf("login --dpop against a server without ES256/EdDSA: exit %d, want 2\n%s", r.code, r.stderr)
	}
	oneErrorLine(t, r, "does not offer it with ES256 or EdDSA")
	hint := "sesame: hint: log in without DPoP: sesame login -p e2e-hl-nodpop --dpop=false"
	if !lineIn(r.stderr, hint) || strings.Contains(r.stderr, "REDACTED") {
		t.Fatalf("want the line %q, got:\n%s", hint, r.stderr)
	}

	srv := rig.StartServer(t, rig.ServerOptions{})
	c = newCLI(t, srv, "e2e-hl-dpop")
	if r := c.login("--dpop"); r.code != 0 {
		t.Fatalf("login --dpop: exit %d\n%s", r.code, r.stderr)
	}
	for _, debug := range []bool{false, true} {
		args := []string{"dpop-proof", "-p", c.name, "--method", "GET", "--url", "https://user:hunter2-pw@api.example.com/x"}
		if debug {
			args = append(args, "--debug")
		}
		r = c.run(args...)
		if r.code != 1 || r.stdout != "" {
			t.Fatalf("dpop-proof with user information: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
		}
		oneErrorLine(t, r, "sesame: error: dpop: proof target must not carry user information")
		if strings.Contains(r.stderr, "REDACTED") && !debug || strings.Contains(r.stderr, "hunter2") {
			t.Fatalf("dpop-proof (debug %v): stderr:\n%s", debug, r.stderr)
		}
	}
	c.assertNoLeak(c.record().AccessToken, c.record().RefreshToken)
}

// TestHostileLocal_SignalsEndWaits_RealServer: a login waiting for a
// browser that never comes (BROWSER=/bin/true, --no-browser) ends within
// two seconds of SIGTERM, SIGHUP, SIGINT or SIGQUIT, each time with exit
// 130 (cancelled) and one error line: SIGHUP is the terminal closed under
// it, and used to kill it without clean-up; SIGQUIT used to dump every
// goroutine's stack. The profile lock is released: the next login waits
// for its own browser, not for the lock.
func TestHostileLocal_SignalsEndWaits_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-hl-signals")
	c.extraEnv = []string{"BROWSER=/bin/true"}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT} {
		b := c.startBG(t, true, "login", "-p", c.name, "--issuer", srv.Issuer, "--client-id", srv.ClientID,
			"--ca-file", srv.CAFile, "--scope", "openid", "--no-browser")
		waitAuthURL(t, b)
		// Well into the wait for the callback.
		time.Sleep(300 * time.Millisecond)
		sent := time.Now()
		if err := syscall.Kill(b.pid(), sig); err != nil {
			t.Fatal(err)
		}
		r := b.wait(10 * time.Second)
		took := b.ended.Sub(sent)
		if took > 2*time.Second {
			t.Errorf("%s: sesame login took %v to end", sig, took)
		}
		if r.code != 130 {
			t.Fatalf("%s: exit %d, want 130 (cancelled)\n%s", sig, r.code, r.stderr)
		}
		oneErrorLine(t, r, "sesame: error: cancelled")
		if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "SIGQUIT") {
			t.Fatalf("%s: stack dump on stderr:\n%s", sig, r.stderr)
		}
		t.Logf("%s: ended in %v, exit %d", sig, took.Round(time.Millisecond), r.code)
	}
	if rec := c.record(); rec != nil {
		t.Fatal("a cancelled login stored a grant")
	}
}

// hlOfflineCLI is a sandbox for commands that need no server: the real
// sesame binary, its own HOME, TMPDIR and configuration directory.
func hlOfflineCLI(t *testing.T) *cli {
	t.Helper()
	root := t.TempDir()
	c := &cli{
		t: t, bin: rig.BuildSesame(t), name: "x",
		home:   filepath.Join(root, "home"),
		tmp:    shortTempDir(t),
		cfgDir: filepath.Join(root, "home", ".config", "sesame"),
	}
	if err := os.MkdirAll(c.home, 0o700); err != nil {
		t.Fatal(err)
	}
	c.browserLog = filepath.Join(root, "browser.jsonl")
	return c
}
