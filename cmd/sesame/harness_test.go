package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/tokencache"
	"github.com/sesame-auth/sesame/keychain"
	"github.com/sesame-auth/sesame/loopback"
)

// harness runs sesame in-process against an in-process authorization
// server, with an in-memory keychain, a scripted browser and a clock that
// tests can move forward and whose waits take no real time.
type harness struct {
	t       testing.TB
	as      *authtest.Server
	browser *authtest.Browser
	store   *keychain.Memory
	cache   *tokencache.Memory
	dir     string
	env     map[string]string
	clock   testClock

	// stdoutTTY pretends stdout is a terminal; person pretends stdin and
	// stderr are (a person at a terminal runs the command).
	stdoutTTY, person bool
	// stdin is the next command's standard input.
	stdin string
	// altStore, when set, replaces the in-memory store.
	altStore keychain.Store
	// stdoutErr, when set, fails every write to stdout (a full disk, a
	// closed pipe).
	stdoutErr error
	// opener, when set, replaces the scripted browser.
	opener loopback.Opener
	// treeOnly runs the command tree alone, without the warm path.
	treeOnly bool
	// presetOrigins moves fixed-host provider presets to the test server.
	presetOrigins map[string]string
}

func newHarness(t testing.TB, opts ...authtest.Option) *harness {
	t.Helper()
	h := &harness{t: t, as: authtest.New(t, opts...), store: keychain.NewMemory(), cache: &tokencache.Memory{}, dir: t.TempDir()}
	h.browser = authtest.NewBrowser(t, h.as)
	// A home of its own: commands that run git, kubectl or docker's
	// configuration (setup, logout --forget) must never touch the
	// developer's.
	home := t.TempDir()
	h.env = map[string]string{
		"SESAME_CONFIG_DIR": h.dir, "XDG_RUNTIME_DIR": t.TempDir(), "HOME": home,
		"KUBECONFIG":        filepath.Join(home, ".kube", "config"),
		"GIT_CONFIG_GLOBAL": filepath.Join(home, ".gitconfig"),
		"DOCKER_CONFIG":     filepath.Join(home, ".docker"),
	}
	return h
}

// advance moves sesame's clock forward.
func (h *harness) advance(d time.Duration) { h.clock.advance(d) }

// now is sesame's time, for a test server that shares its clock
// (authtest.WithClock(h.now)).
func (h *harness) now() time.Time { return h.clock.Now() }

type result struct {
	stdout, stderr string
	code           int
}

// run runs one sesame command and checks what every command must satisfy:
// no sentinel token on stderr.
func (h *harness) run(args ...string) result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return h.runContext(ctx, args...)
}

// runContext runs one sesame command under ctx, as main does under the
// signal context: cancelling ctx is Ctrl-C.
func (h *harness) runContext(ctx context.Context, args ...string) result {
	h.t.Helper()
	return h.runIn(ctx, strings.NewReader(h.stdin), func(k string) string { return h.env[k] }, args...)
}

// runIn runs one sesame command under ctx with stdin and the environment
// getenv, and checks what every command must satisfy: no sentinel token on
// stderr. The command sesame exec would replace the process with runs as a
// child writing to the same streams, and its exit code is the run's, as it
// would be the process's.
func (h *harness) runIn(ctx context.Context, stdin io.Reader, getenv func(string) string, args ...string) result {
	h.t.Helper()
	var out, errOut bytes.Buffer
	var stdout io.Writer = &out
	if h.stdoutErr != nil {
		stdout = failingWriter{h.stdoutErr}
	}
	execCode := -1
	env := &Env{
		Stdin:     stdin,
		Stdout:    stdout,
		Stderr:    &errOut,
		StdoutTTY: h.stdoutTTY,
		StdinTTY:  h.person,
		StderrTTY: h.person,
		Getenv:    getenv,
		Clock:     &h.clock,
		Store: func() (keychain.Store, error) {
			if h.altStore != nil {
				return h.altStore, nil
			}
			return h.store, nil
		},
		Cache:  h.cache,
		Opener: h.browser,
		Exec: func(path string, argv, environ []string) error {
			cmd := &exec.Cmd{Path: path, Args: argv, Env: environ, Stdin: stdin, Stdout: &out, Stderr: &errOut}
			err := cmd.Run()
			var exit *exec.ExitError
			if errors.As(err, &exit) && exit.ExitCode() >= 0 {
				execCode = exit.ExitCode()
				return nil
			}
			if err == nil {
				execCode = 0
			}
			return err
		},
	}
	if h.opener != nil {
		env.Opener = h.opener
	}
	env.PresetOrigins = h.presetOrigins
	run := Main
	if h.treeOnly {
		run = runTree
	}
	code := run(ctx, args, env)
	if execCode >= 0 {
		code = execCode
	}
	r := result{stdout: out.String(), stderr: errOut.String(), code: code}
	if strings.Contains(r.stderr, "SNTL-") {
		h.t.Errorf("sesame %v: a token appears on stderr:\n%s", args, r.stderr)
	}
	return r
}

// login runs the first login of profile "work" against the test server.
func (h *harness) login(extra ...string) result {
	h.t.Helper()
	args := append([]string{"login", "-p", "work", "--issuer", h.as.Issuer(), "--client-id", h.as.ClientID, "--ca-file", h.as.CAFile()}, extra...)
	return h.run(args...)
}

func (h *harness) mustLogin() {
	h.t.Helper()
	if r := h.login(); r.code != 0 {
		h.t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
}

// record returns the stored record of profile "work", or nil.
func (h *harness) record() *keychain.Record {
	h.t.Helper()
	keys := h.store.Keys()
	if len(keys) == 0 {
		return nil
	}
	if len(keys) != 1 {
		h.t.Fatalf("keychain holds %d records, want at most 1", len(keys))
	}
	r, err := h.store.Get(context.Background(), keys[0])
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func wantExit(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
}

// wantOneErrorLine checks the error style: one "sesame: error:" line, hints
// after it, nothing else.
func wantOneErrorLine(t *testing.T, r result, contains string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	var errs int
	for _, l := range lines {
		if strings.HasPrefix(l, "sesame: error: ") {
			errs++
		}
	}
	last := lines[len(lines)-1]
	if errs != 1 || (!strings.HasPrefix(last, "sesame: error: ") && !strings.HasPrefix(last, "sesame: hint: ")) {
		t.Fatalf("stderr is not one error line plus hints:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, contains) {
		t.Fatalf("stderr does not say %q:\n%s", contains, r.stderr)
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
		t.Fatalf("stack trace on stderr:\n%s", r.stderr)
	}
}
