package e2e

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/filelock"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/session"
	"github.com/sesame-auth/sesame/internal/tokencache"
	"github.com/sesame-auth/sesame/keychain"
)

// cli runs the real sesame binary in a sandbox: its own HOME, TMPDIR and
// configuration directory, the real keychain of the test session, and
// testbrowser (headless chromium) as $BROWSER.
type cli struct {
	t          testing.TB
	srv        *rig.Server
	bin        string
	name       string // the profile
	home, tmp  string
	cfgDir     string
	browserLog string
	extraEnv   []string
	// grantDir, when set, is the grant file store's directory (a test that
	// runs sesame with SESAME_STORE=file and no Secret Service): store()
	// is then that file store instead of the real keychain.
	grantDir string
	// outputs collects every stream a token must never appear in.
	stderrs []string
}

func newCLI(t testing.TB, srv *rig.Server, profileName string) *cli {
	t.Helper()
	root := t.TempDir()
	c := &cli{
		t: t, srv: srv, bin: rig.BuildSesame(t), name: profileName,
		home: filepath.Join(root, "home"),
		// TMPDIR must be short: chromium puts a Unix socket in it.
		tmp:        shortTempDir(t),
		cfgDir:     filepath.Join(root, "home", ".config", "sesame"),
		browserLog: filepath.Join(root, "browser.jsonl"),
	}
	for _, d := range []string{c.home} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	browser := rig.BuildTestBrowser(t)
	c.extraEnv = []string{"BROWSER=" + browser}
	t.Cleanup(func() {
		// Leave the shared test keychain as we found it.
		_ = c.store().Delete(context.Background(), c.key())
	})
	return c
}

func (c *cli) env() []string {
	env := []string{
		"HOME=" + c.home,
		"TMPDIR=" + c.tmp,
		"SESAME_CONFIG_DIR=" + c.cfgDir,
		"PATH=" + os.Getenv("PATH"),
		"DBUS_SESSION_BUS_ADDRESS=" + os.Getenv("DBUS_SESSION_BUS_ADDRESS"),
		"TESTBROWSER_LOG=" + c.browserLog,
	}
	return append(env, c.extraEnv...)
}

type run struct {
	stdout, stderr string
	code           int
}

// run runs sesame with args and a 90 s limit: sesame must never hang.
func (c *cli) run(args ...string) run {
	c.t.Helper()
	return c.runIn(c.home, args...)
}

// runIn is run with the working directory dir.
func (c *cli) runIn(dir string, args ...string) run {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := c.command(ctx, args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := run{stdout: out.String(), stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		c.t.Fatalf("sesame %v: %v", args, err)
	}
	if ctx.Err() != nil {
		c.t.Fatalf("sesame %v did not finish within 90 s:\n%s", args, r.stderr)
	}
	c.stderrs = append(c.stderrs, r.stderr)
	return r
}

// command is sesame with args in the sandbox, not started.
func (c *cli) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env()
	cmd.Dir = c.home
	return cmd
}

func (c *cli) mustRun(args ...string) run {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("sesame %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// login runs the profile's first login against the test server.
func (c *cli) login(extra ...string) run {
	c.t.Helper()
	args := append([]string{"login", "-p", c.name, "--issuer", c.srv.Issuer, "--client-id", c.srv.ClientID,
		"--ca-file", c.srv.CAFile, "--scope", "openid", "--scope", "email", "--scope", "profile", "--scope", "offline_access"}, extra...)
	return c.run(args...)
}

func (c *cli) key() string {
	p := profile.Profile{Name: c.name, Issuer: c.srv.Issuer, ClientID: c.srv.ClientID}
	return p.KeychainKey()
}

func (c *cli) store() keychain.Store {
	if c.grantDir != "" {
		return keychain.NewFile(c.grantDir)
	}
	return keychain.NewKeyring(keychain.KeyringOptions{Timeout: 10 * time.Second})
}

// expire makes the profile's stored access tokens expired, as time would,
// so the next `sesame token -p NAME` (with any --resource) refreshes: the
// way to force a refresh. (`--min-ttl 1h` no longer is: against tokens
// shorter than that, sesame refreshes once per token lifetime and warns.)
func (c *cli) expire() {
	c.t.Helper()
	c.expireKey(c.t, c.key())
}

// expireKey is expire for the grant stored under key, reporting to t. It
// works under the profile lock, as sesame does, so it never writes over a
// refresh a sesame process is storing (the refresher child of a caller the
// test has just killed, above all).
func (c *cli) expireKey(t testing.TB, key string) {
	t.Helper()
	ctx := context.Background()
	// The sandbox sets HOME and no XDG_RUNTIME_DIR or XDG_CACHE_HOME, so
	// sesame's lock directory is the user cache directory's sesame/locks.
	// A lock directory that cannot be used (not there yet, or made unusable
	// by the test) is one no sesame process holds a lock in either.
	l, err := filelock.Acquire(ctx, filepath.Join(c.home, ".cache", "sesame", "locks"), key, 90*time.Second)
	switch {
	case errors.Is(err, filelock.ErrTimeout):
		t.Fatalf("expire: the profile lock stayed held: %v", err)
	case err == nil:
		defer l.Release()
	}
	rec, err := c.store().Get(ctx, key)
	if err != nil {
		t.Fatalf("expire: the stored grant: %v", err)
	}
	past := time.Now().Add(-time.Minute)
	rec.Expiry = past
	for _, at := range rec.ResourceTokens {
		if at != nil {
			at.Expiry = past
		}
	}
	if err := c.store().Set(ctx, key, rec); err != nil {
		t.Fatalf("expire: %v", err)
	}
	// The volatile cache's copies: the main token's and each resource's.
	session.Forget(tokencache.New(), key, rec)
}

// record is the profile's record in the real keychain, or nil.
func (c *cli) record() *keychain.Record {
	c.t.Helper()
	r, err := c.store().Get(context.Background(), c.key())
	if errors.Is(err, keychain.ErrNotFound) {
		return nil
	}
	if err != nil {
		c.t.Fatalf("keychain: %v", err)
	}
	return r
}

// assertNoLeak checks requirement 35/36's promise with the real tokens:
// none appears on any stderr, in the configuration directory, HOME or
// TMPDIR.
func (c *cli) assertNoLeak(tokens ...string) {
	c.t.Helper()
	var secrets []string
	for _, tok := range tokens {
		if len(tok) >= 16 {
			secrets = append(secrets, tok)
		}
	}
	for i, s := range c.stderrs {
		for _, tok := range secrets {
			if strings.Contains(s, tok) {
				c.t.Errorf("a token appears on the stderr of command %d", i)
			}
		}
	}
	for _, dir := range []string{c.home, c.tmp} {
		_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			for _, tok := range secrets {
				if bytes.Contains(data, []byte(tok)) {
					c.t.Errorf("a token is written in %s", path)
				}
			}
			return nil
		})
	}
}

// oneErrorLine checks the error style of a failed command.
func oneErrorLine(t *testing.T, r run, contains string) {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("exit 0, want a failure; stderr:\n%s", r.stderr)
	}
	var errs int
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if strings.HasPrefix(l, "sesame: error: ") {
			errs++
		}
	}
	if errs != 1 || !strings.Contains(r.stderr, contains) || strings.Contains(r.stderr, "goroutine") {
		t.Fatalf("want one 'sesame: error:' line saying %q, got:\n%s", contains, r.stderr)
	}
}

// stderrLines splits stderr into its lines.
func stderrLines(stderr string) []string {
	s := strings.TrimSpace(stderr)
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// shortTempDir is a fresh directory with a short path under /tmp, removed
// after the test.
func shortTempDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "se2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}

// waitBrowserRuns waits until testbrowser has logged at least n runs (it
// writes its line after the callback page loaded, so possibly after sesame
// has exited) and returns them all.
func (c *cli) waitBrowserRuns(n int) []rig.BrowserRun {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		runs := c.browserRuns()
		if len(runs) >= n || time.Now().After(deadline) {
			return runs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// browserRuns is what testbrowser logged: one entry per browser start.
func (c *cli) browserRuns() []rig.BrowserRun {
	c.t.Helper()
	if _, err := os.Stat(c.browserLog); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return rig.ReadBrowserLog(c.t, c.browserLog)
}
