package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/dpop"
	"github.com/sesame-auth/sesame/internal/session"
	"github.com/sesame-auth/sesame/keychain"
)

// TestToken_ParallelCallersShareOneRefresh_RealServer is the kubectl-in-a-
// loop case: 32 `sesame token` processes start together on an expired
// access token. oidc-provider rotates refresh tokens and revokes the whole
// grant on any reuse, so a second redemption would log the user out. All
// must print the same new token, the server must see exactly one refresh,
// and the grant must still work afterwards (requirement 29).
func TestToken_ParallelCallersShareOneRefresh_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{AccessTokenTTL: 20 * time.Second})
	c := newCLI(t, srv, "e2e-parallel")
	if r := c.login(); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	first := c.record()
	time.Sleep(time.Until(session.EarlyExpiry(first)) + 500*time.Millisecond)
	parallelCallersShareOneRefresh(t, srv, c, first)
}

// TestToken_ParallelCallersShareOneRefresh_DPoP_RealServer: the same burst
// on a DPoP-bound grant against a server that demands nonces; every
// process learns the nonce on its own, and still only one refresh happens,
// signed with the grant's key.
func TestToken_ParallelCallersShareOneRefresh_DPoP_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{AccessTokenTTL: 20 * time.Second, DPoPNonce: true})
	c := newCLI(t, srv, "e2e-parallel-dpop")
	if r := c.login("--dpop"); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	first := c.record()
	c.expire()
	parallelCallersShareOneRefresh(t, srv, c, first)
	key, err := dpop.Parse(first.DPoPKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range srv.Events("grant.success") {
		if g.Str("refresh_token_jkt") != key.Thumbprint() {
			t.Fatalf("a %s grant not bound to the profile's key", g.Str("grant_type"))
		}
	}
}

// parallelCallersShareOneRefresh starts 32 `sesame token` processes on c's
// expired grant: all must print the same new token, the server must see
// exactly one refresh and no grant error, and the grant must still refresh.
func parallelCallersShareOneRefresh(t *testing.T, srv *rig.Server, c *cli, first *keychain.Record) {
	t.Helper()

	const n = 32
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	type outcome struct {
		stdout, stderr string
		err            error
	}
	outs := make([]outcome, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	began := time.Now()
	for i := range n {
		cmd := c.command(ctx, "token", "-p", c.name)
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := cmd.Run()
			outs[i] = outcome{so.String(), se.String(), err}
		}()
	}
	close(start)
	wg.Wait()
	t.Logf("%d parallel token calls on an expired token took %v", n, time.Since(began).Round(time.Millisecond))

	token := strings.TrimSpace(outs[0].stdout)
	for i, o := range outs {
		if o.err != nil {
			t.Fatalf("caller %d: %v\n%s", i, o.err, o.stderr)
		}
		if strings.TrimSpace(o.stdout) != token {
			t.Fatalf("caller %d printed another token than caller 0", i)
		}
		c.stderrs = append(c.stderrs, o.stderr)
	}
	if token == first.AccessToken {
		t.Fatal("the callers printed the expired token")
	}
	if got := refreshes(srv); got != 1 {
		t.Fatalf("the server saw %d refreshes, want exactly 1", got)
	}
	for _, e := range srv.Events("grant.error") {
		// A DPoP nonce request is the server's normal first answer to a
		// new process (RFC 9449 §8); anything else is a failure.
		if e.Error != "use_dpop_nonce" {
			t.Fatalf("the server saw a refresh error (a reuse?): %+v", e)
		}
	}
	// The grant is alive: the new token is active and one more refresh works.
	if active, err := srv.Introspect(ctx, token); err != nil || !active {
		t.Fatalf("the shared token is not active: %v %v", active, err)
	}
	c.expire()
	c.mustRun("token", "-p", c.name)
	if got := refreshes(srv); got != 2 {
		t.Fatalf("a forced refresh after the burst: %d refreshes, want 2", got)
	}
	rec := c.record()
	c.assertNoLeak(first.AccessToken, first.RefreshToken, token, rec.AccessToken, rec.RefreshToken)
}

// TestToken_LostRefreshResponse_RealServer: a proxy between sesame and the
// server loses the refresh response after the server has rotated the token.
// sesame keeps the stored grant, retries once at once (inside a reuse-grace
// window, where a server has one), and, because oidc-provider has none and
// revokes the grant on the replay, says so (not a theft alarm): a login is needed:
// exit 4, no crash, no loop (requirements 27, 28).
func TestToken_LostRefreshResponse_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-lost")
	if r := c.login(); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	proxy := startDropProxy(t, srv, 1)
	rec := c.record()
	rec.TokenEndpoint = proxy.url
	if err := c.store().Set(context.Background(), c.key(), rec); err != nil {
		t.Fatal(err)
	}
	c.expire()
	began := time.Now()
	r := c.run("token", "-p", c.name)
	if r.code != 4 || r.stdout != "" {
		t.Fatalf("exit %d stdout %q, want 4 and nothing\n%s", r.code, r.stdout, r.stderr)
	}
	oneErrorLine(t, r, "the answer to the refresh was lost on its way back, and the server ended the grant when it was asked again")
	if !strings.Contains(r.stderr, "sesame: hint: run 'sesame login -p "+c.name+"'") {
		t.Fatalf("no login hint:\n%s", r.stderr)
	}
	if got := proxy.refresh.Load(); got != 2 {
		t.Fatalf("the server got %d refresh requests, want 2 (one retry, no loop)", got)
	}
	if c.record() != nil {
		t.Fatal("the refused grant is still stored")
	}
	t.Logf("lost response, retry and clear failure in %v", time.Since(began).Round(time.Millisecond))
}

// TestToken_FiveTerminalsNeedLoginOneBrowser_RealServer: five `sesame
// token` calls, each on a terminal of its own (a pseudo-terminal from
// script(1)), all find no grant. One opens the browser and signs in; the
// others wait on the profile lock and use its grant
// (requirement 30).
func TestToken_FiveTerminalsNeedLoginOneBrowser_RealServer(t *testing.T) {
	rig.RequireTools(t)
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatal("script(1) from util-linux is needed to give each caller a terminal")
	}
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-five")
	if r := c.login(); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	c.mustRun("logout", "-p", c.name)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = 5
	outs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		cmd := exec.CommandContext(ctx, "script", "-q", "-e", "-c", c.bin+" token --reveal -p "+c.name, "/dev/null")
		cmd.Env = c.env()
		cmd.Dir = c.home
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out, err := cmd.CombinedOutput()
			outs[i], errs[i] = string(out), err
		}()
	}
	close(start)
	wg.Wait()
	rec := c.record()
	if rec == nil {
		t.Fatal("no grant stored")
	}
	for i := range n {
		if errs[i] != nil || !strings.Contains(outs[i], rec.AccessToken) {
			t.Fatalf("terminal %d: %v, did not print the new grant's token:\n%s", i, errs[i], redactToken(outs[i], rec.AccessToken))
		}
	}
	if runs := c.waitBrowserRuns(2); len(runs) != 2 {
		t.Fatalf("the browser opened %d times, want 2 (the first login and one for the five)", len(runs))
	}
	logins := 0
	for _, e := range srv.Events("grant.success") {
		if e.GrantType == "authorization_code" {
			logins++
		}
	}
	if logins != 2 {
		t.Fatalf("the server completed %d logins, want 2", logins)
	}
}

func redactToken(s, tok string) string { return strings.ReplaceAll(s, tok, "<token>") }
