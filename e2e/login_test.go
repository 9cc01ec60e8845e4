package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/session"
)

// TestLogin_TokenRefreshLogout_RealServer is the life of a grant, with every
// real part: the sesame binary, oidc-provider, headless chromium signing in
// and consenting, and the Secret Service keychain.
func TestLogin_TokenRefreshLogout_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{AccessTokenTTL: 20 * time.Second})
	c := newCLI(t, srv, "e2e-life")
	ctx := context.Background()

	r := c.login()
	if r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Fatalf("login wrote to stdout: %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "signed in to "+srv.Issuer+" as alice@example.test") {
		t.Fatalf("login did not say who signed in:\n%s", r.stderr)
	}
	runs := c.waitBrowserRuns(1)
	if len(runs) != 1 || runs[0].Outcome != "callback" || runs[0].Status != http.StatusOK || runs[0].Title != "Signed in" {
		t.Fatalf("the browser saw %+v", runs)
	}
	first := c.record()
	if first == nil || first.RefreshToken == "" || first.AccessToken == "" || first.Subject != "alice" || first.Email != "alice@example.test" {
		t.Fatalf("keychain record after login: %+v", first)
	}
	// oidc-provider advertises PAR, so the request went by PAR (RFC 9126):
	// the server saw a pushed_authorization_request and the browser only
	// client_id and request_uri.
	pushed := 0
	for _, e := range srv.Events("request") {
		if e.Route == "pushed_authorization_request" && e.Status == http.StatusCreated {
			pushed++
		}
	}
	if pushed != 1 {
		t.Fatalf("%d successful pushed authorization requests, want 1", pushed)
	}
	if got := strings.Join(runs[0].StartParams, " "); got != "client_id request_uri" {
		t.Fatalf("the browser opened a URL with parameters %q, want exactly client_id and request_uri (RFC 9126 §4)", got)
	}

	// A warm token: what the keychain holds, active at the server, no refresh.
	r = c.mustRun("token", "-p", c.name)
	if strings.TrimSpace(r.stdout) != first.AccessToken {
		t.Fatal("token printed something other than the stored access token")
	}
	if active, err := srv.Introspect(ctx, first.AccessToken); err != nil || !active {
		t.Fatalf("introspection of the printed token: active=%v err=%v", active, err)
	}
	if n := refreshes(srv); n != 0 {
		t.Fatalf("a warm token call refreshed (%d refreshes)", n)
	}

	r = c.mustRun("status", "-p", c.name)
	if !strings.Contains(r.stdout, "alice@example.test") || !strings.Contains(r.stdout, "secret-service") {
		t.Fatalf("status:\n%s", r.stdout)
	}

	// After the access token's (early) expiry, token refreshes once and the
	// keychain holds the rotated refresh token.
	time.Sleep(time.Until(session.EarlyExpiry(first)) + 500*time.Millisecond)
	r = c.mustRun("token", "-p", c.name)
	second := c.record()
	if got := strings.TrimSpace(r.stdout); got != second.AccessToken || got == first.AccessToken {
		t.Fatal("after expiry, token did not print a new stored access token")
	}
	if second.RefreshToken == first.RefreshToken {
		t.Fatal("the keychain still holds the spent refresh token")
	}
	if n := refreshes(srv); n != 1 {
		t.Fatalf("server saw %d refreshes, want 1", n)
	}
	saved := srv.Events("refresh_token.saved")
	if len(saved) == 0 || saved[len(saved)-1].TokenID != rig.TokenID(second.RefreshToken) {
		t.Fatal("the keychain's refresh token is not the one the server issued last")
	}
	if active, err := srv.Introspect(ctx, second.AccessToken); err != nil || !active {
		t.Fatalf("refreshed token not active: %v %v", active, err)
	}

	// Logout revokes at the server and leaves nothing in the keychain.
	c.mustRun("logout", "-p", c.name)
	for _, tok := range []string{second.AccessToken, second.RefreshToken} {
		if active, err := srv.Introspect(ctx, tok); err != nil || active {
			t.Fatalf("after logout a token is still active (err %v)", err)
		}
	}
	if c.record() != nil {
		t.Fatal("the keychain still holds the grant after logout")
	}
	r = c.run("token", "-p", c.name)
	if r.code != 4 {
		t.Fatalf("token after logout: exit %d, want 4\n%s", r.code, r.stderr)
	}
	c.assertNoLeak(first.AccessToken, first.RefreshToken, first.IDToken, second.AccessToken, second.RefreshToken, second.IDToken)
}

// refreshes counts the refresh grants the server completed.
func refreshes(srv *rig.Server) int {
	n := 0
	for _, e := range srv.Events("grant.success") {
		if e.GrantType == "refresh_token" {
			n++
		}
	}
	return n
}

// TestLogin_ForgedCallbacksRefused_RealServer: while the person signs in, a
// local attacker sends forged callbacks (wrong state, rebinding Host, other
// path and method, an error with HTML, an open-redirect attempt). Each is
// refused, nothing is reflected, and the real login still completes.
func TestLogin_ForgedCallbacksRefused_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-forged")
	c.extraEnv = append(c.extraEnv, "TESTBROWSER_FORGE=1")
	r := c.login()
	if r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "<script") || strings.Contains(r.stderr, "\x1b") {
		t.Fatalf("attacker text reached the terminal:\n%q", r.stderr)
	}
	runs := c.waitBrowserRuns(1)
	if len(runs) != 1 || runs[0].Outcome != "callback" || runs[0].Title != "Signed in" {
		t.Fatalf("the browser saw %+v", runs)
	}
	want := map[string]int{"wrong-state": 400, "wrong-host": 421, "wrong-path": 404, "wrong-method": 405, "error-html": 400, "open-redirect": 400}
	if len(runs[0].Forged) != len(want) {
		t.Fatalf("forged requests: %+v", runs[0].Forged)
	}
	for _, f := range runs[0].Forged {
		if want[f.Name] != f.Status || f.Reflected {
			t.Errorf("forged %s: status %d reflected %v, want status %d and nothing reflected", f.Name, f.Status, f.Reflected, want[f.Name])
		}
	}
	if c.record() == nil {
		t.Fatal("the real login stored nothing")
	}
	if n := len(srv.Events("grant.success")); n != 1 {
		t.Fatalf("server completed %d grants, want 1 (forged codes must never reach it)", n)
	}
}

// TestLogin_BadServerInputs_RealServer: an untrusted certificate, an issuer
// that does not match the discovery document, and a plain-http issuer each
// fail with one clear line, before any browser opens.
func TestLogin_BadServerInputs_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	cases := []struct {
		name, want string
		args       []string
	}{
		{"untrusted-certificate", "certificate", []string{"--issuer", srv.Issuer, "--client-id", srv.ClientID}},
		{"issuer-mismatch", "issuer mismatch", []string{"--issuer", srv.Issuer + "/", "--client-id", srv.ClientID, "--ca-file", srv.CAFile}},
		{"http-issuer", "must use https", []string{"--issuer", strings.Replace(srv.Issuer, "https://", "http://", 1), "--client-id", srv.ClientID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t, srv, "e2e-bad-"+tc.name)
			r := c.run(append([]string{"login", "-p", c.name}, tc.args...)...)
			oneErrorLine(t, r, tc.want)
			if runs := c.browserRuns(); len(runs) != 0 {
				t.Fatalf("a browser opened: %+v", runs)
			}
		})
	}
}

// TestKeychainAbsent_RealServer: with no Secret Service, login stops before
// the browser opens and token fails, both with a hint; nothing is written
// anywhere else (no plain-text fallback).
func TestKeychainAbsent_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-nokeychain")
	c.extraEnv = append(c.extraEnv, "DBUS_SESSION_BUS_ADDRESS=unix:path="+c.tmp+"/no-bus")
	r := c.login()
	oneErrorLine(t, r, "keychain unavailable")
	if !strings.Contains(r.stderr, "sesame: hint: ") || !strings.Contains(r.stderr, "SESAME_STORE=file") {
		t.Fatalf("no hint, or none naming the file store's opt-in:\n%s", r.stderr)
	}
	if runs := c.browserRuns(); len(runs) != 0 {
		t.Fatal("the browser opened although nothing could be stored")
	}
	r = c.run("token", "-p", c.name, "--reveal")
	if r.code == 0 {
		t.Fatal("token succeeded without a keychain")
	}
}

// TestFileStoreWithoutKeychain_RealServer: on a machine without a Secret
// Service, SESAME_STORE=file keeps the grant in a private file (requirement
// 38): the login warns so, the files are 0600 in a 0700 directory, the
// grant refreshes through it, a file opened up to others is refused, and
// logout deletes it.
func TestFileStoreWithoutKeychain_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{AccessTokenTTL: 20 * time.Second})
	c := newCLI(t, srv, "e2e-filestore")
	state := t.TempDir()
	c.extraEnv = append(c.extraEnv, "DBUS_SESSION_BUS_ADDRESS=unix:path="+c.tmp+"/no-bus",
		"SESAME_STORE=file", "SESAME_STATE_DIR="+state)
	r := c.login()
	if r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	dir := filepath.Join(state, "grants")
	if !strings.Contains(r.stderr, "warning: there is no keychain here") || !strings.Contains(r.stderr, dir) {
		t.Fatalf("no warning about the file store:\n%s", r.stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("grant files: %v, %v", entries, err)
	}
	file := filepath.Join(dir, entries[0].Name())
	c.grantDir = dir // c.store(), and so c.expire, use the file store
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %04o", st.Mode().Perm())
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %04o", st.Mode().Perm())
	}
	if r := c.mustRun("status", "-p", c.name); !strings.Contains(r.stdout, "file "+dir) {
		t.Fatalf("status does not name the store:\n%s", r.stdout)
	}
	c.expire()
	first, _ := os.ReadFile(file)
	tok := strings.TrimSpace(c.mustRun("token", "-p", c.name).stdout)
	if refreshes(srv) != 1 {
		t.Fatalf("%d refreshes, want 1", refreshes(srv))
	}
	if active, err := srv.Introspect(context.Background(), tok); err != nil || !active {
		t.Fatalf("the refreshed token is not active: %v %v", active, err)
	}
	if second, _ := os.ReadFile(file); string(second) == string(first) {
		t.Fatal("the rotated grant was not written to the file")
	}
	// Expired first (the file is still private), so the next call reads the
	// file rather than the volatile cache.
	c.expire()
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	r = c.run("token", "-p", c.name)
	oneErrorLine(t, r, "can be read by others")
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	c.mustRun("logout", "-p", c.name)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("%d grant files left after logout", len(entries))
	}
}

// TestLogin_SystemBrowserLauncher_RealServer: with no $BROWSER, sesame opens
// the URL through pkg/browser (xdg-open on Linux, here a link to
// testbrowser), and the launcher's output goes to stderr, never to stdout.
func TestLogin_SystemBrowserLauncher_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-xdg")
	launchers := rig.LauncherDir(t, rig.BuildTestBrowser(t))
	c.extraEnv = []string{"BROWSER=", "PATH=" + launchers + ":" + os.Getenv("PATH")}
	// No display here: auto would choose the device flow, so ask for the
	// browser explicitly.
	r := c.login("--json", "--flow", "browser")
	if r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, `{"event":"login"`) || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("stdout holds more than the JSON result: %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "testbrowser: callback") {
		t.Fatalf("the launcher's output did not reach stderr:\n%s", r.stderr)
	}
	if runs := c.waitBrowserRuns(1); len(runs) != 1 || runs[0].Title != "Signed in" {
		t.Fatalf("the browser saw %+v", runs)
	}
}

// TestNoCoreDumps_Req35: a running sesame has RLIMIT_CORE 0, so a crash
// never writes its memory (and the tokens in it) to disk.
func TestNoCoreDumps_Req35(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-core")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := c.command(ctx, "login", "-p", c.name, "--issuer", srv.Issuer, "--client-id", srv.ClientID,
		"--ca-file", srv.CAFile, "--no-browser", "--timeout", "5s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill() }()
	// Once the URL is printed, main has run (and set the limit).
	buf := make([]byte, 4096)
	var seen strings.Builder
	for !strings.Contains(seen.String(), "/auth?") {
		n, err := stderr.Read(buf)
		seen.Write(buf[:n])
		if err != nil {
			t.Fatalf("login ended before printing the URL:\n%s", seen.String())
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	limits := string(b)
	for _, line := range strings.Split(limits, "\n") {
		if strings.HasPrefix(line, "Max core file size") {
			if f := strings.Fields(line); len(f) < 6 || f[4] != "0" || f[5] != "0" {
				t.Fatalf("RLIMIT_CORE is not 0: %q", line)
			}
			return
		}
	}
	t.Fatalf("no core limit line in /proc/PID/limits:\n%s", limits)
}
