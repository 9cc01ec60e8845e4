//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/keychain"
)

// The grant's life cycle against races (internal/session: End, Replace):
// a logout while a refresh is on the wire, two logins at once, and a
// login that re-points a profile at another client.

// TestLifecycle_LogoutWaitsForHeldRefresh_RealServer: a refresh's answer is
// held by a proxy (the server has already rotated the refresh token) when
// `sesame logout` starts. logout waits on the profile lock, the refresh
// completes and is stored, and only then does logout revoke the grant, with
// the newest refresh token, and delete it: nothing is written back, and
// the refresh token the held refresh produced is dead at the server.
func TestLifecycle_LogoutWaitsForHeldRefresh_RealServer(t *testing.T) {
	// Mostly waiting on a held or slow answer: it overlaps the other
	// waiting tests.
	t.Parallel()
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-lc-logout")
	loginOrFatal(t, c)
	hold := startHoldProxy(t, srv)
	capture := startCaptureProxy(t, srv, hold.url)
	pointTokenEndpoint(t, c, capture.url, true)
	old := c.record()

	hold.HoldNext()
	tokenCall := c.startBG(t, false, "token", "-p", c.name)
	select {
	case <-hold.Holding():
	case <-tokenCall.done:
		t.Fatalf("sesame token exited before its refresh reached the server:\n%s", tokenCall.result().stderr)
	case <-time.After(20 * time.Second):
		t.Fatal("the refresh did not reach the server within 20 s")
	}
	if !c.profileLockHeld(t) {
		t.Fatal("while the refresh's answer is held, the profile lock is free")
	}

	logoutStarted := time.Now()
	logout := c.startBG(t, false, "logout", "-p", c.name)
	// An observation window, not synchronisation: a logout that did not
	// wait for the lock would revoke and delete now; one that waits shows
	// nothing, however long it waits.
	window := time.Now().Add(3 * time.Second)
	for time.Now().Before(window) && !logout.exited() && len(srv.Events("revocation.success")) == 0 {
		time.Sleep(20 * time.Millisecond)
	}
	if logout.exited() {
		r := logout.result()
		t.Fatalf("logout did not wait for the refresh in flight: exit %d after %v\n%s",
			r.code, logout.ended.Sub(logoutStarted).Round(time.Millisecond), r.stderr)
	}
	if n := len(srv.Events("revocation.success")); n != 0 {
		t.Fatalf("while the refresh was in flight, logout revoked %d token(s) at the server", n)
	}
	if rec := c.record(); rec == nil || rec.RefreshToken != old.RefreshToken {
		t.Fatalf("while the refresh was in flight, the stored grant changed (present: %v)", rec != nil)
	}

	released := time.Now()
	hold.Release()
	if got := hold.delivered.Load(); got != 1 || hold.lost.Load() != 0 {
		t.Fatalf("the held answer: delivered %d, lost %d; want it delivered", got, hold.lost.Load())
	}
	tr := tokenCall.wait(30 * time.Second)
	accessToken := strings.TrimSpace(tr.stdout)
	if tr.code != 0 || accessToken == "" || strings.Contains(tr.stderr, "sesame: error:") {
		t.Fatalf("the token call whose refresh was held: exit %d, stdout %d bytes\n%s", tr.code, len(tr.stdout), tr.stderr)
	}
	lr := logout.wait(30 * time.Second)
	t.Logf("token exited %v and logout %v after the release; logout waited %v in all",
		tokenCall.ended.Sub(released).Round(time.Millisecond), logout.ended.Sub(released).Round(time.Millisecond),
		logout.ended.Sub(logoutStarted).Round(time.Millisecond))
	want := `sesame: logged out of "` + c.name + `"; the server revoked the grant`
	if lr.code != 0 || !lineIn(lr.stderr, want) || strings.Contains(lr.stderr, "sesame: error:") || strings.Contains(lr.stderr, "sesame: warning:") {
		t.Fatalf("logout: exit %d, want 0 and the line %q; stderr:\n%s", lr.code, want, lr.stderr)
	}

	// What the held refresh produced: one rotation, the refresh token the
	// proxy saw in its answer, and the access token `token` printed.
	if got := refreshes(srv); got != 1 {
		t.Fatalf("the server completed %d refreshes, want 1", got)
	}
	newest := capture.refreshTokens()
	if len(newest) != 1 || newest[0] == old.RefreshToken {
		t.Fatalf("the proxy saw %d refresh answers with a refresh token, want 1 with a rotated one", len(newest))
	}
	newestRT := newest[0]
	if rig.TokenID(newestRT) != newestRefreshTokenID(srv) {
		t.Fatal("the refresh token the held answer carried is not the server's newest")
	}
	var grantID string
	for _, e := range srv.Events("grant.success") {
		if e.GrantType == "refresh_token" {
			grantID = e.GrantID
		}
	}

	// What the user sees afterwards.
	if rec := c.record(); rec != nil {
		t.Fatalf("after logout a grant is stored again (holds the newest refresh token: %v)", rec.RefreshToken == newestRT)
	}
	st := c.mustRun("status", "-p", c.name)
	if row := statusRow(st.stdout, c.name); !strings.Contains(row, "not signed in") {
		t.Fatalf("status after logout: want the profile's row to say not signed in, got:\n%s", st.stdout)
	}
	tk := c.run("token", "-p", c.name)
	if tk.code != 4 || tk.stdout != "" {
		t.Fatalf("token after logout: exit %d, stdout %d bytes; want 4 and nothing\n%s", tk.code, len(tk.stdout), tk.stderr)
	}
	oneErrorLine(t, tk, c.name)

	// What the server says: the grant is revoked, and it was the newest
	// refresh token that logout revoked.
	if !hasEvent(srv, "grant.revoked", func(e rig.Event) bool { return e.GrantID == grantID }) {
		t.Errorf("no grant.revoked event for the refreshed grant; events: %s", revocationEvents(srv))
	}
	if !hasEvent(srv, "revocation.success", func(e rig.Event) bool {
		return e.ClientID == rig.PublicClientID && e.Str("token_type_hint") == "refresh_token"
	}) {
		t.Errorf("no revocation.success of a refresh token; events: %s", revocationEvents(srv))
	}
	if !hasEvent(srv, "refresh_token.destroyed", func(e rig.Event) bool { return e.TokenID == rig.TokenID(newestRT) }) {
		t.Errorf("the newest refresh token was not destroyed at the server; events: %s", revocationEvents(srv))
	}
	if active, err := srv.Introspect(t.Context(), accessToken); err != nil || active {
		t.Errorf("the refreshed access token: active %v (%v), want inactive", active, err)
	}
	if code, errCode := redeem(t, srv, rig.PublicClientID, newestRT); code != http.StatusBadRequest || errCode != "invalid_grant" {
		t.Errorf("the newest refresh token, redeemed after logout: %d %q, want 400 invalid_grant", code, errCode)
	}
	c.assertNoLeak(old.AccessToken, old.RefreshToken, newestRT, accessToken)
}

// TestLifecycle_ConcurrentLoginsSameProfile_RealServer: while a login of a
// profile waits for its browser, a second login of the same profile
// refuses at once, and the first completes: one browser, one grant.
func TestLifecycle_ConcurrentLoginsSameProfile_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-lc-twice")
	gate := gateBrowser(t, c)

	first := c.startBG(t, false, loginArgs(c)...)
	waitAuthURL(t, first)
	second := c.startBG(t, false, loginArgs(c)...)
	sr := second.wait(20 * time.Second)
	refusedIn := second.ended.Sub(second.began)
	t.Logf("the second login refused after %v", refusedIn.Round(time.Millisecond))
	if first.exited() {
		r := first.result()
		t.Fatalf("the first login ended before its browser opened: exit %d\n%s", r.code, r.stderr)
	}
	want := `sesame: error: another login of profile "` + c.name + `" is in progress`
	if sr.code != 1 || sr.stdout != "" || !lineIn(sr.stderr, want) {
		t.Fatalf("the second login: exit %d, want 1 and the line %q; stderr:\n%s", sr.code, want, sr.stderr)
	}
	oneErrorLine(t, sr, want)
	if !strings.Contains(sr.stderr, "sesame: hint: finish or cancel that login first") {
		t.Errorf("the second login gave no hint:\n%s", sr.stderr)
	}
	if strings.Contains(sr.stderr, "open this URL") {
		t.Errorf("the second login opened a sign-in of its own:\n%s", sr.stderr)
	}
	if refusedIn > 8*time.Second {
		t.Errorf("the second login refused after %v, want within a few seconds", refusedIn)
	}

	gate()
	fr := first.wait(90 * time.Second)
	if fr.code != 0 || !strings.Contains(fr.stderr, "sesame: signed in to "+srv.Issuer) {
		t.Fatalf("the first login: exit %d\n%s", fr.code, fr.stderr)
	}
	rec := c.record()
	if rec == nil {
		t.Fatal("no grant stored")
	}
	codes := codeGrants(srv)
	if len(codes) != 1 || codes[0].Str("refresh_token_id") != rig.TokenID(rec.RefreshToken) {
		t.Fatalf("the server issued %d grants by code, want 1, the one stored", len(codes))
	}
	if runs := c.waitBrowserRuns(1); len(runs) != 1 {
		t.Fatalf("the browser opened %d times, want 1", len(runs))
	}
	requireGrantAlive(t, c, srv)
	c.assertNoLeak(rec.AccessToken, rec.RefreshToken)
}

// TestLifecycle_ConcurrentLoginsTwoProfiles_RealServer: logins of two
// profiles at the same time, in one configuration directory: both
// profiles are saved, and both grants are stored and work.
func TestLifecycle_ConcurrentLoginsTwoProfiles_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	a := newCLI(t, srv, "e2e-lc-one")
	b := newCLI(t, srv, "e2e-lc-two")
	b.home, b.cfgDir, b.browserLog = a.home, a.cfgDir, a.browserLog
	gate := gateBrowser(t, a)
	b.extraEnv = a.extraEnv

	ra := a.startBG(t, false, loginArgs(a)...)
	rb := b.startBG(t, false, loginArgs(b)...)
	waitAuthURL(t, ra)
	waitAuthURL(t, rb)
	opened := time.Now()
	gate()
	resA, resB := ra.wait(90*time.Second), rb.wait(90*time.Second)
	t.Logf("both logins in flight at once; they ended %v and %v after the browsers opened",
		ra.ended.Sub(opened).Round(time.Millisecond), rb.ended.Sub(opened).Round(time.Millisecond))
	for _, x := range []struct {
		c *cli
		r run
	}{{a, resA}, {b, resB}} {
		if x.r.code != 0 || !strings.Contains(x.r.stderr, `(profile "`+x.c.name+`")`) {
			t.Errorf("login of %s: exit %d\n%s", x.c.name, x.r.code, x.r.stderr)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	cfg, err := profile.Load(a.cfgDir)
	if err != nil {
		t.Fatal(err)
	}
	if names := cfg.Names(); len(names) != 2 || cfg.Profile(a.name) == nil || cfg.Profile(b.name) == nil {
		t.Fatalf("config.json holds the profiles %q, want %q and %q", names, a.name, b.name)
	}
	st := a.mustRun("status")
	for _, c := range []*cli{a, b} {
		rec := c.record()
		if rec == nil {
			t.Fatalf("no grant stored for %s", c.name)
		}
		if row := statusRow(st.stdout, c.name); row == "" || strings.Contains(row, "not signed in") {
			t.Errorf("status: the row of %s does not show it signed in:\n%s", c.name, st.stdout)
		}
		c.expire()
		r := c.mustRun("token", "-p", c.name)
		if active, err := srv.Introspect(t.Context(), strings.TrimSpace(r.stdout)); err != nil || !active {
			t.Errorf("the refreshed token of %s: active %v (%v)", c.name, active, err)
		}
	}
	if n := len(codeGrants(srv)); n != 2 {
		t.Errorf("the server issued %d grants by code, want 2", n)
	}
	requireNoGrantLoss(t, srv)
}

// TestLifecycle_ReloginWithAnotherClient_RealServer: a signed-in profile
// logs in again with another client id. The new grant is stored under the
// new key and works; the first client's grant is revoked at the server and
// its keychain record deleted.
func TestLifecycle_ReloginWithAnotherClient_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-lc-client")
	loginOrFatal(t, c)
	old := c.record()
	if old == nil {
		t.Fatal("no grant stored after the first login")
	}
	oldKey := c.key()
	second := profile.Profile{Name: c.name, Issuer: srv.Issuer, ClientID: rig.SecondPublicClientID}
	newKey := second.KeychainKey()
	t.Cleanup(func() { _ = c.store().Delete(context.Background(), newKey) })
	if oldKey == newKey {
		t.Fatal("the two clients share a keychain key")
	}

	r := c.run("login", "-p", c.name, "--client-id", rig.SecondPublicClientID)
	if r.code != 0 || !strings.Contains(r.stderr, `(profile "`+c.name+`")`) || strings.Contains(r.stderr, "sesame: error:") {
		t.Fatalf("login with another client: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "sesame: warning:") {
		t.Errorf("login with another client warned:\n%s", r.stderr)
	}
	cfg, err := profile.Load(c.cfgDir)
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.Profile(c.name); p == nil || p.ClientID != rig.SecondPublicClientID {
		t.Fatalf("the profile does not name client %s after the login", rig.SecondPublicClientID)
	}

	// The keychain: the old record gone, the new one bound to the new client.
	if _, err := c.store().Get(context.Background(), oldKey); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("the first client's grant is still in the keychain (err %v)", err)
	}
	rec, err := c.store().Get(context.Background(), newKey)
	if err != nil {
		t.Fatalf("the new grant: %v", err)
	}
	if rec.ClientID != rig.SecondPublicClientID || rec.RefreshToken == "" {
		t.Fatalf("the new grant is bound to client %q, has a refresh token: %v", rec.ClientID, rec.RefreshToken != "")
	}

	// The server: the first client's grant is revoked.
	var oldGrant string
	for _, e := range codeGrants(srv) {
		if e.Str("refresh_token_id") == rig.TokenID(old.RefreshToken) {
			oldGrant = e.GrantID
		}
	}
	if oldGrant == "" || !hasEvent(srv, "grant.revoked", func(e rig.Event) bool { return e.GrantID == oldGrant }) {
		t.Errorf("the first client's grant was not revoked at the server; events: %s", revocationEvents(srv))
	}
	if !hasEvent(srv, "revocation.success", func(e rig.Event) bool { return e.ClientID == rig.PublicClientID }) {
		t.Errorf("no revocation by client %s; events: %s", rig.PublicClientID, revocationEvents(srv))
	}
	if active, err := srv.Introspect(t.Context(), old.AccessToken); err != nil || active {
		t.Errorf("the first client's access token: active %v (%v), want inactive", active, err)
	}
	if errs := srv.Events("grant.error"); len(errs) != 0 {
		t.Errorf("sesame's grant requests were refused %d time(s): %s", len(errs), grantErrors(srv))
	}
	if code, errCode := redeem(t, srv, rig.PublicClientID, old.RefreshToken); code != http.StatusBadRequest || errCode != "invalid_grant" {
		t.Errorf("the first client's refresh token after the new login: %d %q, want 400 invalid_grant", code, errCode)
	}
	ownErrors := len(srv.Events("grant.error")) // the refusal just asked for

	// The new grant works: a forced refresh with the second client, and
	// status shows the profile signed in.
	c.expireKey(t, newKey)
	tk := c.mustRun("token", "-p", c.name)
	if active, err := srv.Introspect(t.Context(), strings.TrimSpace(tk.stdout)); err != nil || !active {
		t.Errorf("the new grant's refreshed token: active %v (%v)", active, err)
	}
	if !hasEvent(srv, "grant.success", func(e rig.Event) bool {
		return e.GrantType == "refresh_token" && e.ClientID == rig.SecondPublicClientID
	}) {
		t.Error("no refresh by the second client at the server")
	}
	if n := len(srv.Events("grant.error")); n != ownErrors {
		t.Errorf("the server refused %d of sesame's grant request(s): %s", n-ownErrors, grantErrors(srv))
	}
	st := c.mustRun("status", "-p", c.name)
	if row := statusRow(st.stdout, c.name); row == "" || strings.Contains(row, "not signed in") {
		t.Errorf("status after the new login:\n%s", st.stdout)
	}
	now, _ := c.store().Get(context.Background(), newKey)
	toks := []string{old.AccessToken, old.RefreshToken, rec.AccessToken, rec.RefreshToken}
	if now != nil {
		toks = append(toks, now.AccessToken, now.RefreshToken)
	}
	c.assertNoLeak(toks...)
}

// loginArgs is c.login's command line: the profile's first login.
func loginArgs(c *cli) []string {
	return []string{"login", "-p", c.name, "--issuer", c.srv.Issuer, "--client-id", c.srv.ClientID,
		"--ca-file", c.srv.CAFile, "--scope", "openid", "--scope", "email", "--scope", "profile", "--scope", "offline_access"}
}

// gateBrowser makes c's $BROWSER wait until the returned function is
// called (at most 60 s), then run testbrowser: a login stays in flight,
// holding its login lock, for as long as the test needs.
func gateBrowser(t *testing.T, c *cli) (open func()) {
	t.Helper()
	dir := t.TempDir()
	gate := filepath.Join(dir, "open")
	script := filepath.Join(dir, "gated-browser")
	body := "#!/bin/sh\nn=0\nwhile [ ! -e '" + gate + "' ]; do\n" +
		"  n=$((n + 1)); [ \"$n\" -le 1200 ] || exit 1\n  sleep 0.05\ndone\n" +
		"exec '" + rig.BuildTestBrowser(t) + "' \"$@\"\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{"BROWSER=" + script}
	for _, kv := range c.extraEnv {
		if !strings.HasPrefix(kv, "BROWSER=") {
			env = append(env, kv)
		}
	}
	c.extraEnv = env
	return func() {
		if err := os.WriteFile(gate, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// waitAuthURL waits (at most 30 s) until a login has printed its
// authorization URL: it holds its login lock and waits for the browser.
func waitAuthURL(t *testing.T, b *bgRun) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(b.readStderr(), "open this URL in your browser") {
		if b.exited() {
			r := b.result()
			t.Fatalf("sesame %v exited %d before it showed the sign-in URL:\n%s", b.args, r.code, r.stderr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("sesame %v showed no sign-in URL within 30 s:\n%s", b.args, b.readStderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lineIn reports whether stderr has line as one of its lines.
func lineIn(stderr, line string) bool {
	for _, l := range stderrLines(stderr) {
		if l == line {
			return true
		}
	}
	return false
}

// statusRow is the line of `sesame status` for profile name, "" if none.
func statusRow(stdout, name string) string {
	for _, l := range strings.Split(stdout, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == name {
			return l
		}
	}
	return ""
}

// hasEvent reports whether the server logged an event of kind that match
// accepts.
func hasEvent(srv *rig.Server, kind string, match func(rig.Event) bool) bool {
	for _, e := range srv.Events(kind) {
		if match(e) {
			return true
		}
	}
	return false
}

// codeGrants are the server's grant.success events of the authorization
// code grant.
func codeGrants(srv *rig.Server) []rig.Event {
	var out []rig.Event
	for _, e := range srv.Events("grant.success") {
		if e.GrantType == "authorization_code" {
			out = append(out, e)
		}
	}
	return out
}

// revocationEvents describes the server's revocation-related events (no
// token in them, fingerprints only).
func revocationEvents(srv *rig.Server) string {
	var s []string
	for _, e := range srv.Events("") {
		switch e.Kind {
		case "revocation.success", "revocation.error", "grant.revoked", "refresh_token.destroyed", "access_token.destroyed":
			s = append(s, e.Kind+"{client "+e.ClientID+", grant "+e.GrantID+", token "+e.TokenID+", hint "+e.Str("token_type_hint")+"}")
		}
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "; ")
}

// redeem posts a refresh_token grant with refreshToken for the public
// client clientID straight to the server's token endpoint and returns the
// status and the OAuth error code. The answer's tokens are not kept.
func redeem(t *testing.T, srv *rig.Server, clientID, refreshToken string) (int, string) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {clientID}}
	resp, err := srv.HTTPClient.PostForm(srv.Metadata.TokenEndpoint, form)
	if err != nil {
		t.Fatalf("refresh at the server: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body)
	return resp.StatusCode, body.Error
}

// captureProxy is a TLS proxy in front of a token endpoint (a holdProxy's)
// that keeps, in memory only, the refresh tokens of the answers it passes
// back: the test can then ask the server about a refresh token sesame got
// but has since deleted.
type captureProxy struct {
	url string

	mu  sync.Mutex
	rts []string
}

func startCaptureProxy(t *testing.T, srv *rig.Server, upstream string) *captureProxy {
	t.Helper()
	client := *srv.HTTPClient
	client.Timeout = 90 * time.Second // longer than any hold
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p := &captureProxy{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{
		TLSConfig: srv.CA.ServerTLSConfig(t),
		Protocols: new(http.Protocols),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				panic(http.ErrAbortHandler)
			}
			req, err := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, upstream, bytes.NewReader(body))
			if err != nil {
				panic(http.ErrAbortHandler)
			}
			req.Header = r.Header.Clone()
			for _, k := range hopByHop {
				req.Header.Del(k)
			}
			resp, err := client.Do(req)
			if err != nil {
				panic(http.ErrAbortHandler)
			}
			answer, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil {
				panic(http.ErrAbortHandler)
			}
			var tok struct {
				RefreshToken string `json:"refresh_token"`
			}
			if json.Unmarshal(answer, &tok) == nil && tok.RefreshToken != "" {
				p.mu.Lock()
				p.rts = append(p.rts, tok.RefreshToken)
				p.mu.Unlock()
			}
			for k, v := range resp.Header {
				w.Header()[k] = v
			}
			for _, k := range hopByHop {
				w.Header().Del(k)
			}
			w.WriteHeader(resp.StatusCode)
			_, _ = w.Write(answer)
		}),
	}
	hs.Protocols.SetHTTP1(true)
	go func() { _ = hs.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = hs.Close() })
	p.url = "https://" + ln.Addr().String() + "/token"
	return p
}

// refreshTokens are the refresh tokens of the answers passed back so far.
func (p *captureProxy) refreshTokens() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.rts...)
}
