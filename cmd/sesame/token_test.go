package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sesame-auth/sesame/internal/authtest"
)

func TestToken_WarmCacheNoNetwork(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	before := len(h.as.Requests())
	r := h.run("token", "-p", "work")
	wantExit(t, r, 0)
	if r.stdout != h.record().AccessToken+"\n" {
		t.Fatalf("stdout = %q, want the stored access token", r.stdout)
	}
	if got := len(h.as.Requests()); got != before {
		t.Fatalf("a warm token call made %d requests", got-before)
	}
	if !h.as.Introspect(strings.TrimSpace(r.stdout)) {
		t.Fatal("the printed token is not active at the server")
	}
}

func TestToken_Outputs(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	at := h.record().AccessToken
	r := h.run("token", "-p", "work", "--output", "header")
	wantExit(t, r, 0)
	if r.stdout != "Authorization: Bearer "+at+"\n" {
		t.Fatalf("header output = %q", r.stdout)
	}
	r = h.run("token", "-p", "work", "--output", "json")
	wantExit(t, r, 0)
	var out struct {
		AccessToken string    `json:"access_token"`
		TokenType   string    `json:"token_type"`
		Expiry      time.Time `json:"expiry"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.AccessToken != at || out.TokenType != "Bearer" || out.Expiry.IsZero() {
		t.Fatalf("json output = %q (%v)", r.stdout, err)
	}
}

func TestToken_RefreshesAfterExpiry_Req26(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	first := h.record()
	h.advance(time.Hour)
	r := h.run("token", "-p", "work")
	wantExit(t, r, 0)
	now := h.record()
	if now.AccessToken == first.AccessToken || now.RefreshToken == first.RefreshToken {
		t.Fatal("no refresh happened")
	}
	if r.stdout != now.AccessToken+"\n" || now.RefreshToken != h.as.LatestRefreshToken() || h.as.RefreshCount() != 1 {
		t.Fatalf("printed %q; stored refresh token is the latest: %v; refreshes %d", r.stdout, now.RefreshToken == h.as.LatestRefreshToken(), h.as.RefreshCount())
	}
}

func TestToken_MinTTL(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	wantExit(t, h.run("token", "-p", "work", "--min-ttl", "2h"), 0)
	if h.as.RefreshCount() != 1 {
		t.Fatalf("refreshes = %d, want 1", h.as.RefreshCount())
	}
}

func TestToken_LoginRequiredExit4(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	key := h.store.Keys()[0]
	if err := h.store.Delete(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	// The volatile cache still serves the access token until its early
	// expiry: a keychain entry removed behind sesame's back does not
	// revoke anything. Once it is gone too, a login is required.
	wantExit(t, h.run("token", "-p", "work"), 0)
	h.cache.Delete(key)
	r := h.run("token", "-p", "work")
	wantExit(t, r, exitLoginRequired)
	wantOneErrorLine(t, r, "sesame login -p work")
	if r.stdout != "" || h.browser.Calls() != 1 {
		t.Fatalf("stdout %q, browser calls %d", r.stdout, h.browser.Calls())
	}
}

func TestToken_RevokedGrantExit4_Req28(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.as.Revoke(h.record().RefreshToken)
	h.advance(time.Hour)
	r := h.run("token", "-p", "work")
	wantExit(t, r, exitLoginRequired)
	if h.record() != nil {
		t.Fatal("the refused grant is still stored")
	}
}

func TestToken_RefusesTerminal_Req36(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.stdoutTTY = true
	r := h.run("token", "-p", "work")
	wantExit(t, r, exitError)
	if r.stdout != "" {
		t.Fatalf("printed %q to a terminal", r.stdout)
	}
	wantExit(t, h.run("token", "-p", "work", "--reveal"), 0)
}

func TestToken_UnknownProfile(t *testing.T) {
	h := newHarness(t)
	r := h.run("token", "-p", "nope")
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, `no profile "nope"`)
}

func TestDebug_LogsRequestsWithoutSecrets_Req37(t *testing.T) {
	h := newHarness(t)
	r := h.login("--debug")
	wantExit(t, r, 0)
	h.env["SESAME_DEBUG"] = "1"
	r2 := h.run("token", "-p", "work", "--min-ttl", "2h")
	wantExit(t, r2, 0)
	for _, out := range []string{r.stderr, r2.stderr} {
		if !strings.Contains(out, "sesame: debug: ") || !strings.Contains(out, "/token") {
			t.Fatalf("no debug log of the token request:\n%s", out)
		}
	}
	// run() already fails on any SNTL- sentinel in stderr; the code and
	// the state travel in URLs and bodies the debug log shows too.
	var debug strings.Builder
	for _, l := range strings.Split(r.stderr+r2.stderr, "\n") {
		if strings.HasPrefix(l, "sesame: debug: ") {
			debug.WriteString(l + "\n")
		}
	}
	for _, req := range h.as.AuthorizeRequests() {
		for _, secret := range []string{req.State, req.Nonce, req.CodeChallenge} {
			if strings.Contains(debug.String(), secret) {
				t.Fatalf("the debug log shows the state, nonce or challenge:\n%s", debug.String())
			}
		}
	}
}

func TestToken_WarmCallServedFromVolatileCache(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	if h.cache.Len() != 1 {
		t.Fatalf("login cached %d tokens, want 1", h.cache.Len())
	}
	h.store.FailGet = errors.New("the keychain must not be read on a warm call")
	r := h.run("token", "-p", "work")
	wantExit(t, r, 0)
	h.store.FailGet = nil
	wantExit(t, h.run("logout", "-p", "work"), 0)
	if h.cache.Len() != 0 {
		t.Fatal("logout left the access token in the volatile cache")
	}
}

// TestToken_LostResponseOnAStrictServer_Req27: the refresh answer is lost
// after the server rotated the token, and the server has no reuse grace
// (rotation with reuse detection, authtest's default). sesame retries
// exactly once, promptly and under the lock; the strict server refuses the
// replay, so the grant is over: the helper says a login is needed (exit 4),
// sends nothing more, and the next call does not replay again.
func TestToken_LostResponseOnAStrictServer_Req27(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.as.Configure(authtest.WithDroppedTokenResponses(1))
	before := h.as.TokenRequests()
	r := h.run("token", "-p", "work", "--min-ttl", "2h")
	wantExit(t, r, exitLoginRequired)
	if r.stdout != "" || !strings.Contains(r.stderr, "sesame login -p work") {
		t.Fatalf("stdout %q, stderr:\n%s", r.stdout, r.stderr)
	}
	if got := h.as.TokenRequests() - before; got != 2 {
		t.Fatalf("%d token requests, want 2 (the lost one and one retry)", got)
	}
	wantExit(t, h.run("token", "-p", "work", "--min-ttl", "2h"), exitLoginRequired)
	if got := h.as.TokenRequests() - before; got != 2 {
		t.Fatalf("%d token requests after a second call, want still 2", got)
	}
}

func TestToken_PersonAtTerminalGetsALogin(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.as.Revoke(h.record().RefreshToken)
	h.advance(time.Hour)
	h.person = true
	r := h.run("token", "-p", "work")
	wantExit(t, r, 0)
	if h.browser.Calls() != 2 || !strings.Contains(r.stderr, "needs a new login") {
		t.Fatalf("browser calls %d, stderr:\n%s", h.browser.Calls(), r.stderr)
	}
	if rec := h.record(); r.stdout != rec.AccessToken+"\n" || !h.as.Introspect(rec.AccessToken) {
		t.Fatal("the token printed is not the new grant's")
	}
}

func TestToken_NoTerminalNeverOpensBrowser_Req28(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.as.Revoke(h.record().RefreshToken)
	h.advance(time.Hour)
	r := h.run("token", "-p", "work")
	wantExit(t, r, exitLoginRequired)
	if h.browser.Calls() != 1 {
		t.Fatalf("a helper without a terminal opened the browser (%d calls)", h.browser.Calls())
	}
}

func TestToken_RefreshedIDTokenForAnotherUserRefused_Req24(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.as.Configure(authtest.WithIDTokenMutator(func(c map[string]any) { c["sub"] = "mallory" }))
	r := h.run("token", "-p", "work", "--min-ttl", "2h")
	wantExit(t, r, exitLoginRequired)
	if r.stdout != "" {
		t.Fatal("a refresh whose ID token names another user handed out a token")
	}
	wantOneErrorLine(t, r, "names another user than the one signed in; the grant was deleted")
	if h.record() != nil {
		t.Fatal("the grant of another user is still stored")
	}
}

func TestLogin_PushedAuthorizationRequest_Req12(t *testing.T) {
	h := newHarness(t, authtest.WithPAR(true))
	if r := h.login(); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	urls := h.browser.URLs()
	if len(urls) != 1 {
		t.Fatalf("browser opened %v", urls)
	}
	u, _ := url.Parse(urls[0])
	if q := u.Query(); len(q) != 2 || q.Get("client_id") == "" || q.Get("request_uri") == "" {
		t.Fatalf("the browser URL carries %v, want exactly client_id and request_uri", q)
	}
	reqs := h.as.AuthorizeRequests()
	if len(reqs) != 1 || !reqs[0].Pushed || reqs[0].State == "" || reqs[0].CodeChallenge == "" || reqs[0].Nonce == "" {
		t.Fatalf("the server did not get state, challenge and nonce by PAR: %+v", reqs)
	}
	if h.record() == nil {
		t.Fatal("no grant stored")
	}
}

func TestLogin_RequiredPARFailureAborts_Req12(t *testing.T) {
	h := newHarness(t, authtest.WithPAR(true), authtest.WithHook(authtest.PathPAR, func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"<script>x</script>"}`))
		return true
	}))
	r := h.login()
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "sesame: error: pushed authorization request: the server refused (400 invalid_request): scriptx/script")
	if h.browser.Calls() != 0 || h.record() != nil {
		t.Fatal("a failed required PAR fell back to the front channel")
	}
}

func TestNoSecretFlags_Req34(t *testing.T) {
	root := newRootCmd(&app{env: &Env{Getenv: func(string) string { return "" }}})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if f.Value.Type() == "bool" {
					// A switch cannot carry a secret (kubectl --id-token).
					return
				}
				for _, bad := range []string{"token", "secret", "password", "code", "refresh", "assertion"} {
					if strings.Contains(f.Name, bad) && f.Name != "device-code" {
						t.Errorf("%s --%s: a flag that could carry a secret", c.CommandPath(), f.Name)
					}
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func TestLogin_OptionalPARFailureFallsBack_Req12(t *testing.T) {
	h := newHarness(t, authtest.WithPAR(false), authtest.WithHook(authtest.PathPAR, func(w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return true
	}))
	wantExit(t, h.login(), 0)
	if urls := h.browser.URLs(); len(urls) != 1 || !strings.Contains(urls[0], "code_challenge=") {
		t.Fatalf("the fallback did not use a plain authorization request: %v", urls)
	}
}

func TestToken_ProfileForbidsHelperLogin(t *testing.T) {
	h := newHarness(t)
	wantExit(t, h.login("--helper-login=false"), 0)
	h.as.Revoke(h.record().RefreshToken)
	h.advance(time.Hour)
	h.person = true
	r := h.run("token", "-p", "work")
	wantExit(t, r, exitLoginRequired)
	if h.browser.Calls() != 1 {
		t.Fatalf("a helper opened the browser although the profile forbids it (%d calls)", h.browser.Calls())
	}
}
