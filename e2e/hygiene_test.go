package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/authtest"
)

// hygieneRun is one sesame command of the hygiene test and its outputs.
type hygieneRun struct {
	label      string
	stdout     string
	stderr     string
	code       int
	designated bool // a helper whose stdout is meant to carry the access token
	argv, env  []string
}

// TestTokenHygiene_Req34_Req35_Req36_Req37 runs every command of the real
// binary at maximum verbosity (--debug and SESAME_DEBUG=1) against the
// in-process server, whose every secret is a sentinel, while a watcher
// records the argv and environment of every descendant process. Then no
// sentinel, ID token or PKCE verifier may appear on any stderr (37), in any
// file under HOME, TMPDIR or the configuration directory (35), in the argv
// or environment of any descendant, the browser launcher and chromium
// included (34), or on any stdout but the helpers' (36), whose stdout
// carries the access token and nothing secret besides.
func TestTokenHygiene_Req34_Req35_Req36_Req37(t *testing.T) {
	rig.RequireTools(t)
	began := time.Now()
	as := authtest.New(t,
		authtest.WithDeviceTiming(2*time.Minute, time.Second),
		authtest.WithRefreshRotation(true),
	)
	srv := &rig.Server{Issuer: as.Issuer(), CAFile: as.CAFile(), ClientID: as.ClientID}
	c := newCLI(t, srv, "e2e-hygiene")
	// Requirement 37: the debug log goes to stderr and, time-stamped, to a
	// file (in TMPDIR, so the file scan below reads it).
	debugFile := filepath.Join(c.tmp, "sesame-debug.log")
	c.extraEnv = append(c.extraEnv, "SESAME_DEBUG=1", "SESAME_DEBUG_FILE="+debugFile)
	// Build everything first: the watcher is for sesame and what it starts.
	w := watchProcs(t, 10*time.Millisecond)

	var runs []hygieneRun
	start := func(label string, designated bool, stdin string, env []string, args ...string) func() hygieneRun {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		cmd := c.command(ctx, append(args, "--debug")...)
		cmd.Env = append(cmd.Env, env...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatalf("%s: %v", label, err)
		}
		return func() hygieneRun {
			t.Helper()
			defer cancel()
			err := cmd.Wait()
			r := hygieneRun{label: label, stdout: out.String(), stderr: errOut.String(), designated: designated, argv: cmd.Args, env: cmd.Env}
			var ee *exec.ExitError
			switch {
			case err == nil:
			case errors.As(err, &ee):
				r.code = ee.ExitCode()
			default:
				t.Fatalf("%s: %v", label, err)
			}
			if ctx.Err() != nil {
				t.Fatalf("%s did not finish within 90 s", label)
			}
			runs = append(runs, r)
			return r
		}
	}
	run := func(label string, designated bool, stdin string, env []string, args ...string) hygieneRun {
		t.Helper()
		return start(label, designated, stdin, env, args...)()
	}
	// mustRun fails on a non-zero exit. The failure shows stderr only when
	// it holds no "SNTL-", so a failing command cannot leak into the test
	// log either.
	mustRun := func(label string, designated bool, stdin string, env []string, args ...string) hygieneRun {
		t.Helper()
		r := run(label, designated, stdin, env, args...)
		if r.code != 0 {
			t.Fatalf("%s: exit %d\nstderr:\n%s", label, r.code, scrub(r.stderr))
		}
		return r
	}
	currentAT := func() string {
		t.Helper()
		rec := c.record()
		if rec == nil || rec.AccessToken == "" {
			t.Fatal("no access token in the keychain")
		}
		return rec.AccessToken
	}
	p := []string{"-p", c.name}

	// 1. Browser login, through testbrowser (headless chromium) as $BROWSER.
	mustRun("login (browser)", false, "", nil, "login", "-p", c.name, "--issuer", srv.Issuer, "--client-id", srv.ClientID,
		"--ca-file", srv.CAFile, "--scope", "openid", "--scope", "email", "--scope", "profile", "--scope", "offline_access", "--flow", "browser")
	if br := c.waitBrowserRuns(1); len(br) != 1 || br[0].Outcome != "callback" {
		t.Fatalf("browser runs: %+v", br)
	}

	// 2. token: warm, in every output format.
	at := currentAT()
	if r := mustRun("token raw (warm)", true, "", nil, append([]string{"token"}, p...)...); r.stdout != at+"\n" {
		t.Errorf("token raw: stdout is not exactly the access token and a newline")
	}
	checkTokenJSON := func(r hygieneRun, at string) {
		t.Helper()
		var v map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v["access_token"] != at || v["token_type"] != "Bearer" {
			t.Errorf("%s: stdout is not the token JSON with the current access token (%v)", r.label, err)
		}
	}
	checkTokenJSON(mustRun("token json (warm)", true, "", nil, append([]string{"token", "--output", "json"}, p...)...), at)
	if r := mustRun("token header (warm)", true, "", nil, append([]string{"token", "--output", "header"}, p...)...); r.stdout != "Authorization: Bearer "+at+"\n" {
		t.Errorf("token header: stdout is not exactly the Authorization header")
	}

	// 3. Forced refreshes (the server rotates the refresh token each time).
	var refreshStderr []string
	for _, out := range []string{"raw", "json", "header"} {
		c.expire()
		r := mustRun("token "+out+" (forced refresh)", true, "", nil, append([]string{"token", "--output", out}, p...)...)
		refreshStderr = append(refreshStderr, r.stderr)
		at2 := currentAT()
		if at2 == at {
			t.Errorf("%s: the access token did not change", r.label)
		}
		at = at2
		switch out {
		case "raw":
			if r.stdout != at+"\n" {
				t.Errorf("%s: stdout is not exactly the new access token", r.label)
			}
		case "json":
			checkTokenJSON(r, at)
		case "header":
			if r.stdout != "Authorization: Bearer "+at+"\n" {
				t.Errorf("%s: stdout is not exactly the Authorization header", r.label)
			}
		}
	}
	if n := as.RefreshCount(); n < 3 {
		t.Fatalf("%d refreshes, want at least 3", n)
	}

	// 4. status.
	mustRun("status", false, "", nil, append([]string{"status"}, p...)...)
	if r := mustRun("status --json", false, "", nil, append([]string{"status", "--json"}, p...)...); !json.Valid([]byte(r.stdout)) {
		t.Errorf("status --json: stdout is not JSON")
	}

	// 5. kubectl exec plugin, not interactive.
	execInfo := `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
	r := mustRun("kubectl", true, "", []string{"KUBERNETES_EXEC_INFO=" + execInfo}, append([]string{"kubectl"}, p...)...)
	var ec struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Status     struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ec); err != nil || ec.Kind != "ExecCredential" ||
		ec.APIVersion != "client.authentication.k8s.io/v1" || ec.Status.Token != currentAT() {
		t.Errorf("kubectl: stdout is not a v1 ExecCredential with the current access token (%v)", err)
	}

	// 6. git credential helper, configured by sesame setup git (which runs
	// git config --global with HOME in the sandbox).
	const gitHost = "git.hygiene.test"
	// git config runs for a few milliseconds: too short for a 10 ms poll.
	// A git first in PATH waits 100 ms before it runs the real one, so the
	// watcher sees the argv and environment sesame gave it.
	realGit, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	slowGit := t.TempDir()
	if err := os.WriteFile(filepath.Join(slowGit, "git"), []byte("#!/bin/sh\nsleep 0.1\nexec "+realGit+" \"$@\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	mustRun("setup git", false, "", []string{"PATH=" + slowGit + string(os.PathListSeparator) + os.Getenv("PATH")},
		"setup", "git", "-p", c.name, "--host", gitHost)
	r = mustRun("git-credential get", true, "protocol=https\nhost="+gitHost+"\n\n", nil, "git-credential", "get")
	if !strings.Contains(r.stdout, "password="+currentAT()+"\n") {
		t.Errorf("git-credential get: stdout has no password line with the current access token")
	}

	// 7. docker credential helper: add a registry to the profile.
	const registry = "registry.hygiene.test"
	cfgPath := filepath.Join(c.cfgDir, "config.json")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg2 := bytes.Replace(cfg, []byte(`"client_id"`), []byte(`"docker_hosts": ["`+registry+`"], "client_id"`), 1)
	if bytes.Equal(cfg, cfg2) {
		t.Fatal("config.json has no client_id to anchor docker_hosts")
	}
	if err := os.WriteFile(cfgPath, cfg2, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := mustRun("docker-credential list", false, "", nil, "docker-credential", "list"); strings.TrimSpace(r.stdout) != `{"`+registry+`":"oauth2accesstoken"}` {
		t.Errorf("docker-credential list: unexpected stdout")
	}
	r = mustRun("docker-credential get", true, registry+"\n", nil, "docker-credential", "get")
	var dc struct{ ServerURL, Username, Secret string }
	if err := json.Unmarshal([]byte(r.stdout), &dc); err != nil || dc.Secret != currentAT() || dc.Username != "oauth2accesstoken" {
		t.Errorf("docker-credential get: stdout is not the credential JSON with the current access token (%v)", err)
	}

	// 8. Device login with --json, approved from the test.
	userCodeBefore := as.LastUserCode()
	wait := start("login --flow device --json", false, "", nil, "login", "-p", c.name, "--flow", "device", "--json")
	deadline := time.Now().Add(30 * time.Second)
	for as.LastUserCode() == userCodeBefore && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if uc := as.LastUserCode(); uc == userCodeBefore {
		t.Error("the device login made no device authorization request")
	} else if err := as.ApproveDevice(uc); err != nil {
		t.Error(err)
	}
	if r := wait(); r.code != 0 {
		t.Fatalf("device login: exit %d\nstderr:\n%s", r.code, scrub(r.stderr))
	} else if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 {
		t.Errorf("device login --json: %d stdout lines, want the device event and the result", len(lines))
	}
	// One more refresh, of the device grant.
	c.expire()
	r = mustRun("token after the device login (forced refresh)", true, "", nil, append([]string{"token"}, p...)...)
	refreshStderr = append(refreshStderr, r.stderr)

	// 9. logout, then a token request without a grant.
	mustRun("logout", false, "", nil, append([]string{"logout"}, p...)...)
	if r := run("token after logout", false, "", nil, append([]string{"token"}, p...)...); r.code == 0 || r.stdout != "" {
		t.Errorf("token after logout: exit %d, %d bytes on stdout; want a failure and nothing on stdout", r.code, len(r.stdout))
	}

	// The detached browser and its chromium must be gone (testbrowser
	// removes its profile from TMPDIR on exit) before the files are read.
	if alive := w.WaitQuiet(30 * time.Second); len(alive) > 0 {
		t.Errorf("processes still running 30 s after the last command: %v", alive)
	}
	w.Stop()

	// Everything secret the server issued or received.
	secrets := hygieneSecrets(as)
	find := func(data []byte) []string {
		var kinds []string
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s.value)) {
				kinds = append(kinds, s.kind)
			}
		}
		sort.Strings(kinds)
		return compactStrings(kinds)
	}

	// Requirement 37: the debug output really logged requests.
	for i, s := range refreshStderr {
		if !strings.Contains(s, "sesame: debug: ") || !strings.Contains(s, "sesame: debug: http: POST "+srv.Issuer+authtest.PathToken) {
			t.Errorf("refresh %d: stderr has no 'sesame: debug: http: POST .../token' line: the debug log logged nothing", i+1)
		}
	}
	// The secret list works: a helper's stdout shows the access token.
	if k := find([]byte(runs[1].stdout)); !slices.Contains(k, "access token") {
		t.Errorf("the access token on the stdout of %q was not recognised: the search is broken", runs[1].label)
	}

	// Requirements 36 and 37: streams. And, for the sesame processes too
	// short-lived for the watcher, the argv and environment they were
	// started with (requirement 34).
	for _, r := range runs {
		if k := find([]byte(strings.Join(r.argv, "\x00"))); len(k) > 0 {
			t.Errorf("LEAK (req 34): the test started %q with %s in argv", r.label, strings.Join(k, ", "))
		}
		if k := find([]byte(strings.Join(r.env, "\x00"))); len(k) > 0 {
			t.Errorf("LEAK (req 34): the test started %q with %s in its environment", r.label, strings.Join(k, ", "))
		}
		if k := find([]byte(r.stderr)); len(k) > 0 {
			t.Errorf("LEAK (req 37): stderr of %q holds %s", r.label, strings.Join(k, ", "))
		}
		k := find([]byte(r.stdout))
		if r.designated {
			var other []string
			for _, kind := range k {
				if kind != "access token" && kind != atPrefixKind {
					other = append(other, kind)
				}
			}
			if len(other) > 0 {
				t.Errorf("LEAK (req 36): stdout of %q holds %s besides the access token", r.label, strings.Join(other, ", "))
			}
		} else if len(k) > 0 {
			t.Errorf("LEAK (req 36): stdout of %q holds %s", r.label, strings.Join(k, ", "))
		}
	}

	if st, err := os.Stat(debugFile); err != nil || st.Size() == 0 {
		t.Errorf("the debug file was not written: %v", err)
	}

	// Requirement 35: files under HOME (the configuration directory and
	// .gitconfig included), TMPDIR, and the browser's log.
	var files int
	read := map[string]bool{}
	for _, dir := range []string{c.home, c.tmp, c.cfgDir} {
		_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || read[path] {
				return nil
			}
			read[path] = true
			data, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("cannot read %s: %v", path, err)
				return nil
			}
			files++
			if k := find(data); len(k) > 0 {
				t.Errorf("LEAK (req 35): file %s holds %s", path, strings.Join(k, ", "))
			}
			return nil
		})
	}
	if data, err := os.ReadFile(c.browserLog); err == nil {
		if k := find(data); len(k) > 0 {
			t.Errorf("LEAK: the browser log %s holds %s", c.browserLog, strings.Join(k, ", "))
		}
	}

	// Requirement 34: argv and environment of every descendant.
	procs := w.Processes()
	var sesames, longSesames, browsers, chromiums, gits, unreadable int
	var sawDebugEnv, sawLauncherURL bool
	for _, pr := range procs {
		base := filepath.Base(pr.exe)
		switch {
		case pr.exe == c.bin:
			sesames++
			// Core dumps off (requirement 35): the hard limit too, so no
			// library can turn them back on. Only for processes seen in
			// sesame's main for a while: setrlimit is its first statement,
			// but the samples of a short run may all fall before it.
			if pr.exeSamples[c.bin] >= 5 {
				longSesames++
				if !strings.HasPrefix(pr.coreLimit, "0 0 ") {
					t.Errorf("sesame %s runs with core file size limit %q (soft hard units), want 0 0", pr.describe(), pr.coreLimit)
				}
			}
			for env := range pr.environs {
				sawDebugEnv = sawDebugEnv || slices.Contains(strings.Split(env, "\x00"), "SESAME_DEBUG=1")
			}
		case base == "testbrowser":
			browsers++
			for cl := range pr.cmdlines {
				sawLauncherURL = sawLauncherURL || strings.Contains(cl, authtest.PathAuthorize+"?")
			}
		case strings.Contains(base, "chrom"):
			chromiums++
		}
		for cl := range pr.cmdlines {
			if argv := strings.Split(cl, "\x00"); slices.Contains(argv, filepath.Join(slowGit, "git")) || base == "git" {
				gits++
				break
			}
		}
		if len(pr.environs) == 0 {
			unreadable++
			if pr.exe == c.bin || base == "testbrowser" || pr.samples > 1 {
				t.Errorf("the environment of %s was never read in %d samples", pr.describe(), pr.samples)
			}
		}
		for cl := range pr.cmdlines {
			if k := find([]byte(cl)); len(k) > 0 {
				t.Errorf("LEAK (req 34): argv of %s holds %s", pr.describe(), strings.Join(k, ", "))
			}
		}
		for env := range pr.environs {
			if k := find([]byte(env)); len(k) > 0 {
				t.Errorf("LEAK (req 34): environment of %s holds %s", pr.describe(), strings.Join(k, ", "))
			}
		}
	}
	if longSesames == 0 || browsers == 0 || chromiums == 0 || gits == 0 || !sawDebugEnv || !sawLauncherURL {
		t.Errorf("the watcher saw %d sesame processes (%d long enough for the core limit), %d testbrowser, %d chromium and %d git; "+
			"SESAME_DEBUG=1 in a sesame environment: %v; the authorization URL in the launcher's argv: %v; want all",
			sesames, longSesames, browsers, chromiums, gits, sawDebugEnv, sawLauncherURL)
	}
	t.Logf("%d commands; %d secrets (%s) checked; %d files read; %d /proc polls saw %d descendants "+
		"(%d sesame, %d testbrowser, %d chromium, %d git; %d gone before their environment could be read); %d refreshes; %s",
		len(runs), len(secrets), secretKinds(secrets), files, w.Polls(), len(procs),
		sesames, browsers, chromiums, gits, unreadable, as.RefreshCount(), time.Since(began).Round(time.Millisecond))
}

type hygieneSecret struct{ kind, value string }

// hygieneSecrets is every secret of the run: the sentinel prefixes
// themselves (so a token cut short still counts), every token the server
// issued, the ID tokens whole and their signatures, and every code,
// device code and PKCE verifier the server received.
func hygieneSecrets(as *authtest.Server) []hygieneSecret {
	s := []hygieneSecret{
		{atPrefixKind, "SNTL-AT-"},
		{"a refresh token (SNTL-RT- prefix)", "SNTL-RT-"},
		{"an authorization code (SNTL-CODE- prefix)", "SNTL-CODE-"},
		{"a device code (SNTL-DC- prefix)", "SNTL-DC-"},
	}
	add := func(kind, v string) {
		if len(v) >= 16 {
			s = append(s, hygieneSecret{kind, v})
		}
	}
	for _, is := range as.Issued() {
		add("access token", is.AccessToken)
		add("a refresh token", is.RefreshToken)
		add("an ID token", is.IDToken)
		if i := strings.LastIndexByte(is.IDToken, '.'); i >= 0 {
			add("an ID token's signature", is.IDToken[i+1:])
		}
	}
	for _, r := range as.RequestsTo(authtest.PathToken) {
		add("an authorization code", r.PostForm.Get("code"))
		add("a device code", r.PostForm.Get("device_code"))
		add("a PKCE code_verifier", r.PostForm.Get("code_verifier"))
		add("a refresh token", r.PostForm.Get("refresh_token"))
	}
	return s
}

// atPrefixKind names the access tokens' sentinel prefix: with the access
// token itself, the only secret a helper's stdout may show.
const atPrefixKind = "an access token (SNTL-AT- prefix)"

func secretKinds(s []hygieneSecret) string {
	n := map[string]int{}
	for _, x := range s {
		n[x.kind]++
	}
	var parts []string
	for k, v := range n {
		parts = append(parts, fmt.Sprintf("%d %s", v, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func compactStrings(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// scrub hides sentinel values in text shown in a failure message.
func scrub(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "SNTL-")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString("SNTL-[scrubbed]")
		j := i + len("SNTL-")
		for j < len(s) && (isTokenChar(s[j])) {
			j++
		}
		s = s[j:]
	}
}

func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
