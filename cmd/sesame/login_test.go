package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
)

func TestLogin_StoresGrantAndProfile(t *testing.T) {
	h := newHarness(t)
	r := h.login("--scope", "openid", "--scope", "email", "--scope", "profile")
	wantExit(t, r, 0)
	if r.stdout != "" {
		t.Fatalf("login wrote to stdout: %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "signed in to "+h.as.Issuer()+" as alice@example.test") {
		t.Fatalf("stderr does not say who signed in:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "\n  http://127.0.0.1:") || !strings.Contains(r.stderr, "/start/") {
		t.Fatalf("the sign-in link was not printed:\n%s", r.stderr)
	}
	rec := h.record()
	if rec == nil || rec.RefreshToken != h.as.LatestRefreshToken() || rec.Subject != "alice" || rec.Issuer != h.as.Issuer() {
		t.Fatalf("stored record = %+v", rec)
	}
	if h.browser.Calls() != 1 {
		t.Fatalf("browser opened %d times, want 1", h.browser.Calls())
	}
	cfg, err := os.ReadFile(filepath.Join(h.dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cfg), "SNTL-") || !strings.Contains(string(cfg), h.as.Issuer()) {
		t.Fatalf("config file:\n%s", cfg)
	}
	// The profile now carries everything: a second login needs only -p.
	wantExit(t, h.run("login", "-p", "work"), 0)
	if h.browser.Calls() != 2 {
		t.Fatalf("browser opened %d times, want 2", h.browser.Calls())
	}
	// The replaced grant was revoked (requirement 33).
	if !h.as.Revoked(rec.RefreshToken) {
		t.Fatal("the replaced refresh token was not revoked")
	}
}

func TestLogin_JSON(t *testing.T) {
	h := newHarness(t)
	r := h.login("--json")
	wantExit(t, r, 0)
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout is not JSON: %q", r.stdout)
	}
	if out["event"] != "login" || out["profile"] != "work" || out["issuer"] != h.as.Issuer() || out["expires_at"] == nil {
		t.Fatalf("login --json = %v", out)
	}
}

func TestLogin_NewProfileNeedsIssuerAndClient(t *testing.T) {
	h := newHarness(t)
	r := h.run("login", "-p", "work")
	wantExit(t, r, exitUsage)
	wantOneErrorLine(t, r, "--issuer URL --client-id ID")
}

func TestLogin_NoBrowserPrintsURLOnly(t *testing.T) {
	h := newHarness(t)
	// Nobody follows the URL: the flow times out, the URL was printed and
	// no browser was opened.
	r := h.login("--no-browser", "--timeout", "300ms")
	if r.code == 0 || h.browser.Calls() != 0 || !strings.Contains(r.stderr, "/authorize?") {
		t.Fatalf("exit %d, browser calls %d, stderr:\n%s", r.code, h.browser.Calls(), r.stderr)
	}
	if h.record() != nil {
		t.Fatal("something was stored")
	}
}

func TestLogin_UntrustedCertificate_Req21(t *testing.T) {
	h := newHarness(t)
	r := h.run("login", "-p", "work", "--issuer", h.as.Issuer(), "--client-id", h.as.ClientID)
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "certificate")
	if !strings.Contains(r.stderr, "sesame: hint: ") || !strings.Contains(r.stderr, "--ca-file") {
		t.Fatalf("no --ca-file hint:\n%s", r.stderr)
	}
	if h.record() != nil || h.browser.Calls() != 0 {
		t.Fatal("a login against an untrusted server went ahead")
	}
}

func TestLogin_IssuerMismatch_Req19(t *testing.T) {
	h := newHarness(t, authtest.WithMetadataIssuer("https://evil.example"))
	r := h.login()
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "issuer")
	if h.browser.Calls() != 0 || h.record() != nil {
		t.Fatal("a mismatched issuer was used")
	}
}

func TestLogin_HTTPIssuerRefused_Req20(t *testing.T) {
	h := newHarness(t)
	for _, issuer := range []string{"http://as.example", "http://127.0.0.1.nip.io", "http://127.0.0.1:9"} {
		r := h.run("login", "-p", "work", "--issuer", issuer, "--client-id", "c")
		if r.code == 0 {
			t.Fatalf("%s accepted", issuer)
		}
		wantOneErrorLine(t, r, "issuer")
	}
}

func TestLogin_NonceMismatch_Req09(t *testing.T) {
	h := newHarness(t, authtest.WithIDTokenMutator(func(c map[string]any) { c["nonce"] = "forged" }))
	r := h.login()
	if r.code == 0 {
		t.Fatal("login accepted an ID token with another nonce")
	}
	wantOneErrorLine(t, r, "nonce")
	if h.record() != nil {
		t.Fatal("a grant was stored")
	}
}

func TestLogin_DeniedByUser(t *testing.T) {
	h := newHarness(t, authtest.WithDeny("<script>alert(1)</script>\x1b[31m"))
	r := h.login()
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "access_denied")
	if strings.Contains(r.stderr, "<script") || strings.Contains(r.stderr, "\x1b") {
		t.Fatalf("server text reached the terminal unsanitised:\n%q", r.stderr)
	}
}

func TestLogin_DeviceFlowJSON(t *testing.T) {
	h := newHarness(t, authtest.WithDeviceTiming(time.Minute, time.Second), authtest.WithDeviceAutoApprove())
	r := h.login("--flow", "device", "--json")
	wantExit(t, r, 0)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("stdout has %d lines, want the device event and the login event:\n%s", len(lines), r.stdout)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil || ev["event"] != "device_authorization" || ev["user_code"] != h.as.LastUserCode() || ev["verification_uri"] == nil {
		t.Fatalf("first event: %s (%v)", lines[0], err)
	}
	if !strings.Contains(lines[1], `"event":"login"`) {
		t.Fatalf("second event: %s", lines[1])
	}
	for _, want := range []string{h.as.LastUserCode(), "enter this code only if you started this login just now", "\n  " + h.as.URL() + "\n"} {
		if !strings.Contains(r.stderr, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if h.record() == nil || h.browser.Calls() != 0 {
		t.Fatal("no grant stored, or a browser was opened without --open")
	}
}

func TestLogin_DeviceFlowDenied(t *testing.T) {
	h := newHarness(t, authtest.WithDeviceTiming(time.Minute, time.Second), authtest.WithDeviceAutoDeny())
	r := h.login("--flow", "device")
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "denied")
	if h.record() != nil {
		t.Fatal("a denied login stored a grant")
	}
}

// TestLogin_CtrlCClosesListener: Ctrl-C while the login waits for the
// browser ends it (exit 130) and closes the loopback listener. The browser
// "opened" is the moment to press it: the listener is up by then.
func TestLogin_CtrlCClosesListener(t *testing.T) {
	h := newHarness(t)
	guard, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	ctx, cancel := context.WithCancel(guard)
	h.opener = openerFunc(func(context.Context, string) error { cancel(); return nil })
	r := h.runContext(ctx, "login", "-p", "work", "--issuer", h.as.Issuer(), "--client-id", h.as.ClientID, "--ca-file", h.as.CAFile())
	if guard.Err() != nil {
		t.Fatal("Ctrl-C did not end the wait for the browser")
	}
	wantExit(t, r, exitCancelled)
	// The listener is gone: the start link printed refuses connections.
	i := strings.Index(r.stderr, "http://127.0.0.1:")
	if i < 0 {
		t.Fatalf("no start link in:\n%s", r.stderr)
	}
	link, _, _ := strings.Cut(r.stderr[i:], "\n")
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("%s still accepts connections after Ctrl-C", u.Host)
	}
	if h.record() != nil {
		t.Fatal("something was stored")
	}
}

// TestLogin_DeviceFlowCtrlC: Ctrl-C while the device flow waits for its
// next poll ends the command at once (exit 130), with no further poll
// and nothing stored. The clock is held, so the wait would last for ever
// if Ctrl-C did not end it; the hang guard tells that failure apart.
func TestLogin_DeviceFlowCtrlC(t *testing.T) {
	h := newHarness(t, authtest.WithDeviceTiming(time.Minute, time.Second))
	guard, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	ctx, cancel := context.WithCancel(guard)
	waits := h.clock.hold()
	go func() {
		select {
		case <-waits:
			cancel()
		case <-ctx.Done():
		}
	}()
	r := h.runContext(ctx, "login", "-p", "work", "--issuer", h.as.Issuer(), "--client-id", h.as.ClientID, "--ca-file", h.as.CAFile(), "--flow", "device")
	if guard.Err() != nil {
		t.Fatal("Ctrl-C did not end the wait between polls")
	}
	wantExit(t, r, exitCancelled)
	if !strings.Contains(r.stderr, h.as.LastUserCode()) {
		t.Fatalf("the code was not shown before the wait:\n%s", r.stderr)
	}
	if n := h.as.CountRequests(authtest.PathToken); n != 0 || h.record() != nil {
		t.Fatalf("%d polls after Ctrl-C in the first wait, or a grant was stored", n)
	}
}

// openerFunc is a loopback.Opener made of a function.
type openerFunc func(ctx context.Context, url string) error

func (f openerFunc) Open(ctx context.Context, url string) error { return f(ctx, url) }

// TestLogin_MixUpBetweenTwoServers_Req15: the profile's server A is
// malicious: its authorize endpoint sends the browser to an honest server H
// with H's client_id, and H answers the callback with a code and iss=H. The
// flow A started must refuse it; neither token endpoint gets a request.
func TestLogin_MixUpBetweenTwoServers_Req15(t *testing.T) {
	honest := authtest.New(t, authtest.WithClientID("honest-client"))
	h := newHarness(t, authtest.WithAuthorizeHook(func(w http.ResponseWriter, r *http.Request, req authtest.AuthorizeRequest) bool {
		q := r.URL.Query()
		q.Set("client_id", "honest-client")
		http.Redirect(w, r, honest.URL()+"/authorize?"+q.Encode(), http.StatusFound)
		return true
	}))
	h.browser = authtest.NewBrowser(t, h.as, authtest.BrowserTrust(honest))
	r := h.login()
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "iss")
	if h.as.TokenRequests() != 0 || honest.TokenRequests() != 0 {
		t.Fatalf("token requests: attacker %d, honest %d; want none", h.as.TokenRequests(), honest.TokenRequests())
	}
	if len(honest.AuthorizeRequests()) != 1 {
		t.Fatal("the browser never reached the honest server: the test proved nothing")
	}
	if h.record() != nil {
		t.Fatal("a grant was stored")
	}
}

func TestLogin_DeviceOpenOnlyServerURIOnATerminal_Req42(t *testing.T) {
	for _, person := range []bool{false, true} {
		h := newHarness(t, authtest.WithDeviceTiming(time.Minute, time.Second), authtest.WithDeviceAutoApprove())
		h.browser = authtest.NewBrowser(t, h.as, authtest.BrowserRecordOnly())
		h.person = person
		wantExit(t, h.login("--flow", "device", "--open"), 0)
		urls := h.browser.URLs()
		if !person {
			if len(urls) != 0 {
				t.Fatalf("without a terminal --open opened %v", urls)
			}
			continue
		}
		if len(urls) != 1 || !strings.HasPrefix(urls[0], h.as.URL()+"/device") || !strings.Contains(urls[0], "user_code=") {
			t.Fatalf("--open on a terminal opened %v, want the server's verification_uri_complete once", urls)
		}
	}
}

func TestLogin_DeviceVerificationHostOnAnotherDomain_Req42(t *testing.T) {
	run := func(extra ...string) (result, *harness) {
		h := newHarness(t, authtest.WithDeviceTiming(time.Minute, time.Second), authtest.WithDeviceAutoApprove(),
			authtest.WithVerificationURI("https://login.evil.example/device", ""))
		return h.login(append([]string{"--flow", "device"}, extra...)...), h
	}
	r, h := run()
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "--accept-verification-host")
	if strings.Contains(r.stderr, h.as.LastUserCode()) || h.record() != nil {
		t.Fatal("a verification page on another domain was shown, or a grant stored")
	}
	r, _ = run("--accept-verification-host")
	wantExit(t, r, 0)
	if !strings.Contains(r.stderr, "WARNING") || !strings.Contains(r.stderr, "evil.example") {
		t.Fatalf("accepted without a loud warning:\n%s", r.stderr)
	}
	r, _ = run("--verification-host", "evil.example")
	wantExit(t, r, 0)
	if strings.Contains(r.stderr, "WARNING") {
		t.Fatalf("an allowlisted domain still warned:\n%s", r.stderr)
	}
}

// TestLogin_BadIDTokens_NothingStored_Req24: each ID token variant the
// verifier refuses ends the login with one error line, and nothing is
// stored or printed (requirement 24, at command level).
func TestLogin_BadIDTokens_NothingStored_Req24(t *testing.T) {
	tests := []struct {
		name string
		opt  func(s *authtest.Server) authtest.Option
		want string
	}{
		{"alg none", func(*authtest.Server) authtest.Option { return authtest.WithIDTokenEncoder(authtest.UnsignedJWT) }, "id token"},
		{"HS256 keyed with the JWKS", func(s *authtest.Server) authtest.Option {
			return authtest.WithIDTokenEncoder(func(c map[string]any) string {
				jwks, err := s.JWKS()
				if err != nil {
					t.Error(err)
				}
				return authtest.HS256JWT(c, jwks, s.KeyID())
			})
		}, "id token"},
		{"unknown kid", func(s *authtest.Server) authtest.Option {
			return authtest.WithIDTokenEncoder(func(c map[string]any) string { return s.SignIDToken(c, "other-kid") })
		}, "signature"},
		{"wrong iss", func(*authtest.Server) authtest.Option {
			return authtest.WithIDTokenMutator(func(c map[string]any) { c["iss"] = "https://evil.example" })
		}, "id token"},
		{"extra audience", func(*authtest.Server) authtest.Option {
			return authtest.WithIDTokenMutator(func(c map[string]any) { c["aud"] = []string{authtest.DefaultClientID, "other"} })
		}, "id token"},
		{"azp other", func(*authtest.Server) authtest.Option {
			return authtest.WithIDTokenMutator(func(c map[string]any) { c["azp"] = "other" })
		}, "azp"},
		{"expired 6 min", func(*authtest.Server) authtest.Option {
			return authtest.WithIDTokenMutator(func(c map[string]any) { c["exp"] = time.Now().Add(-6 * time.Minute).Unix() })
		}, "expired"},
		{"iat 10 min ahead", func(*authtest.Server) authtest.Option {
			return authtest.WithIDTokenMutator(func(c map[string]any) { c["iat"] = time.Now().Add(10 * time.Minute).Unix() })
		}, "clock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.as.Configure(tt.opt(h.as))
			r := h.login()
			if r.code == 0 {
				t.Fatal("login accepted the ID token")
			}
			wantOneErrorLine(t, r, tt.want)
			if h.record() != nil || r.stdout != "" {
				t.Fatalf("stored %v, stdout %q", h.record() != nil, r.stdout)
			}
		})
	}
}
