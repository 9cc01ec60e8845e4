package loopback

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
)

// serverClock is the authorization server's clock, moved by the test, so
// a request_uri expires without anyone waiting.
type serverClock struct {
	mu  sync.Mutex
	now time.Time
}

func newServerClock() *serverClock { return &serverClock{now: time.Now()} }

func (c *serverClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *serverClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// parConfig is testConfig for a server that requires PAR.
func parConfig(as *authtest.Server, o Opener) Config {
	cfg := testConfig(as, o)
	cfg.PAREndpoint = as.URL() + authtest.PathPAR
	cfg.RequirePAR = true
	return cfg
}

// startedFlow runs Token in the background and returns what Started
// reported and the channel of Token's error.
func startedFlow(t *testing.T, f *Flow) (Start, <-chan error) {
	t.Helper()
	starts := make(chan Start, 1)
	f.cfg.Events.Started = func(s Start) { starts <- s }
	errc := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	go func() { _, err := f.Token(ctx); errc <- err }()
	select {
	case s := <-starts:
		return s, errc
	case err := <-errc:
		t.Fatalf("Token ended before it started: %v", err)
	}
	return Start{}, nil
}

func TestStartLink_FreshRequestAfterExpiry_Req12(t *testing.T) {
	clk := newServerClock()
	as := authtest.New(t, authtest.WithPAR(true), authtest.WithClock(clk.Now))
	f := mustNew(t, parConfig(as, nil))
	start, errc := startedFlow(t, f)
	if start.AuthURLExpires.IsZero() || !strings.HasPrefix(start.LocalURL, "http://127.0.0.1:") {
		t.Fatalf("Start = %+v, want an expiring pushed request and a loopback start link", start)
	}

	// The person opens the printed links only after the request_uri's
	// 60 s have passed: the pushed request is dead, the start link is not.
	clk.advance(61 * time.Second)
	stale := authtest.NewBrowser(t, as)
	if err := stale.Open(context.Background(), start.AuthURL); err != nil {
		t.Fatal(err)
	}
	if err := stale.Wait(); err == nil || !strings.Contains(err.Error(), "expired request_uri") {
		t.Fatalf("the expired request_uri: browser error %v, want the server's expired request_uri", err)
	}
	b := authtest.NewBrowser(t, as)
	if err := b.Open(context.Background(), start.LocalURL); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Token after the start link: %v", err)
	}
	if err := b.Wait(); err != nil {
		t.Errorf("browser: %v", err)
	}
	if cb, ok := b.LastCallback(); !ok || string(cb.Body) != successPage {
		t.Errorf("the browser did not get the success page: %+v", cb)
	}
	// One pushed request when the login began, a fresh one for the visit.
	pushes := as.RequestsTo(authtest.PathPAR)
	if len(pushes) != 2 {
		t.Fatalf("PAR requests = %d, want 2", len(pushes))
	}
	// Both carry the attempt's one state and challenge (see authRequests).
	for _, k := range []string{"state", "code_challenge", "redirect_uri"} {
		if a, b := pushes[0].PostForm.Get(k), pushes[1].PostForm.Get(k); a == "" || a != b {
			t.Errorf("%s differs between the pushed requests or is empty", k)
		}
	}
}

func TestStartLink_Refusals_Req05(t *testing.T) {
	as := authtest.New(t, authtest.WithPAR(true))
	f := mustNew(t, parConfig(as, nil))
	f.cfg.Timeout = 5 * time.Second
	start, _ := startedFlow(t, f)
	ctx := context.Background()
	u, _ := url.Parse(start.LocalURL)
	wrongKey := "http://" + u.Host + startPrefix + strings.Repeat("A", 22)
	for _, tc := range []struct {
		name string
		resp response
		want int
	}{
		{"wrong key", get(ctx, wrongKey), http.StatusNotFound},
		{"no key", get(ctx, "http://"+u.Host+startPrefix), http.StatusNotFound},
		{"POST", send(ctx, http.MethodPost, start.LocalURL, nil, nil), http.StatusMethodNotAllowed},
		{"a script's fetch", send(ctx, http.MethodGet, start.LocalURL, nil, func(r *http.Request) { r.Header.Set("Sec-Fetch-Mode", "cors") }), http.StatusForbidden},
		{"another Host", send(ctx, http.MethodGet, start.LocalURL, nil, func(r *http.Request) { r.Host = "attacker.example:" + u.Port() }), http.StatusMisdirectedRequest},
	} {
		if tc.resp.status != tc.want || tc.resp.header.Get("Location") != "" {
			t.Errorf("%s: %d (Location %q), want %d and no redirect", tc.name, tc.resp.status, tc.resp.header.Get("Location"), tc.want)
		}
	}
	if n := as.CountRequests(authtest.PathPAR); n != 1 {
		t.Errorf("PAR requests = %d, want only the first", n)
	}
	// The right key gets a 303 to a pushed request at the configured
	// authorization endpoint, nothing else.
	r := get(ctx, start.LocalURL)
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther || checkOpenURL(loc, f.cfg.OAuth2.Endpoint.AuthURL, false, true) != nil || loc == start.AuthURL {
		t.Errorf("start link: %d to %q, want 303 to a fresh pushed request", r.status, loc)
	}
	if r.header.Get("Referrer-Policy") != "no-referrer" || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("start link headers: %v", r.header)
	}
}

// pastingBrowser signs in at the server but, like a browser on another
// machine, cannot reach the listener: it hands the callback URL it would
// have opened to the test instead.
func pastingBrowser(t *testing.T, as *authtest.Server) (*testBrowser, <-chan authRequest) {
	reqs := make(chan authRequest, 1)
	return newBrowser(t, as, func(_ context.Context, _ *testBrowser, p authRequest) { reqs <- p }), reqs
}

// pasteFrom makes Events.ReadPasted read from pastes.
func pasteFrom(pastes <-chan string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		select {
		case s := <-pastes:
			return s, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

func TestPaste_CompletesLogin_Req14(t *testing.T) {
	as := authtest.New(t)
	b, reqs := pastingBrowser(t, as)
	cfg := testConfig(as, b)
	pastes := make(chan string)
	refusals := make(chan error)
	cfg.Events = Events{ReadPasted: pasteFrom(pastes), PasteRefused: func(err error) { refusals <- err }}
	f := mustNew(t, cfg)
	start, errc := startedFlow(t, f)
	if !start.Paste {
		t.Errorf("Start.Paste = false with ReadPasted set")
	}
	p := <-reqs
	good := p.callback("code", p.code, "state", p.state, "iss", as.Issuer())
	for _, tc := range []struct{ name, text, want string }{
		{"another address", strings.Replace(good, "127.0.0.1", "example.com", 1), "not the address this sign-in ends on"},
		{"another path", strings.Replace(good, "/callback", "/start", 1), "not the address this sign-in ends on"},
		{"a wrong state", p.callback("code", p.code, "state", p.state+"x", "iss", as.Issuer()), "its state is not this sign-in's"},
		{"no state", p.callback("code", p.code, "iss", as.Issuer()), "its state is not this sign-in's"},
		{"a repeated code", good + "&code=other", "malformed or repeated"},
		{"nothing", "  ", "it is empty"},
	} {
		pastes <- tc.text
		err := <-refusals
		if !errors.Is(err, ErrPastedAddress) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: refused with %v, want %q", tc.name, err, tc.want)
		}
		assertNoSecrets(t, tc.name, err.Error(), p.code, p.state)
	}
	// What the address bar shows, scheme hidden, with a space copied along.
	pastes <- " " + strings.TrimPrefix(good, "http://") + "\n"
	if err := <-errc; err != nil {
		t.Fatalf("Token after the pasted address: %v", err)
	}
	if n := tokenRequests(as); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	assertRefused(t, strings.TrimPrefix(strings.SplitN(p.redirectURI, "/callback", 2)[0], "http://"))
}

func TestPaste_IssuerChecked_Req14(t *testing.T) {
	for _, tc := range []struct {
		name string
		iss  func(as *authtest.Server) []string
	}{
		{"missing iss", func(*authtest.Server) []string { return nil }},
		{"wrong iss", func(*authtest.Server) []string { return []string{"iss", "https://attacker.example"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := authtest.New(t)
			b, reqs := pastingBrowser(t, as)
			cfg := testConfig(as, b)
			pastes := make(chan string, 1)
			cfg.Events = Events{ReadPasted: pasteFrom(pastes)}
			_, errc := startedFlow(t, mustNew(t, cfg))
			p := <-reqs
			pastes <- p.callback(append([]string{"code", p.code, "state", p.state}, tc.iss(as)...)...)
			if err := <-errc; !errors.Is(err, ErrIssuerMismatch) {
				t.Fatalf("Token = %v, want ErrIssuerMismatch", err)
			}
			if n := tokenRequests(as); n != 0 {
				t.Errorf("the code of a response that failed the iss check was redeemed (%d token requests)", n)
			}
		})
	}
}

func TestPaste_ListenerFirstWins_Req06(t *testing.T) {
	as := authtest.New(t)
	var callback string
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
		callback = p.callback("code", p.code, "state", p.state, "iss", as.Issuer())
		goodCallback(ctx, b, p)
	})
	cfg := testConfig(as, b)
	pastes := make(chan string, 1)
	cfg.Events = Events{ReadPasted: pasteFrom(pastes)}
	_, errc := startedFlow(t, mustNew(t, cfg))
	if err := <-errc; err != nil {
		t.Fatalf("Token: %v", err)
	}
	b.wait(t)
	// Pasted too late: the login is over and the read is abandoned.
	pastes <- callback
	if n := tokenRequests(as); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

func TestOpenerFailure_ReportedAndLoginGoesOn_Req13(t *testing.T) {
	as := authtest.New(t, authtest.WithPAR(false))
	cfg := testConfig(as, failingOpener{msg: func(u string) string { return "xdg-open " + u + ": no method available" }})
	cfg.PAREndpoint = as.URL() + authtest.PathPAR
	failures := make(chan error, 1)
	cfg.Events.OpenFailed = func(err error) { failures <- err }
	start, errc := startedFlow(t, mustNew(t, cfg))
	err := <-failures
	if !errors.Is(err, ErrOpenBrowser) || !strings.Contains(err.Error(), "no method available") || strings.Contains(err.Error(), "request_uri") {
		t.Errorf("OpenFailed(%v), want ErrOpenBrowser with the opener's reason and not its URL", err)
	}
	// The person opens the start link by hand.
	b := authtest.NewBrowser(t, as)
	if err := b.Open(context.Background(), start.LocalURL); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Token: %v", err)
	}
	if err := b.Wait(); err != nil {
		t.Errorf("browser: %v", err)
	}
}

// stepClock is the flow's clock in the renewal test: its time stands
// still and each wait is handed to the test, which ends it.
type stepClock struct {
	now   time.Time
	waits chan time.Duration
	fire  chan time.Time
}

func (c *stepClock) Now() time.Time { return c.now }

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	c.waits <- d
	return c.fire
}

func TestRenewal_NewPushedRequestBeforeExpiry_Req12(t *testing.T) {
	clk := newServerClock()
	as := authtest.New(t, authtest.WithPAR(true), authtest.WithClock(clk.Now))
	f := mustNew(t, parConfig(as, nil))
	fc := &stepClock{now: time.Now(), waits: make(chan time.Duration, 4), fire: make(chan time.Time)}
	f.clock = fc
	type renewed struct {
		url     string
		expires time.Time
	}
	news := make(chan renewed, 1)
	f.cfg.Events.NewAuthURL = func(u string, exp time.Time) { news <- renewed{u, exp} }
	start, errc := startedFlow(t, f)
	if d := <-fc.waits; d != 45*time.Second {
		t.Errorf("renewal after %v, want 45 s: three quarters of the 60 s lifetime", d)
	}
	clk.advance(45 * time.Second)
	fc.fire <- time.Now()
	n := <-news
	if n.url == start.AuthURL || !n.expires.Equal(fc.now.Add(60*time.Second)) {
		t.Errorf("renewed %q expiring %v; want a new request_uri expiring 60 s from now", n.url, n.expires)
	}
	<-fc.waits // the next renewal is scheduled
	// Past the first request_uri's lifetime, the renewed one signs in.
	clk.advance(20 * time.Second)
	b := authtest.NewBrowser(t, as)
	if err := b.Open(context.Background(), n.url); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Token with the renewed link: %v", err)
	}
	if err := b.Wait(); err != nil {
		t.Errorf("browser: %v", err)
	}
}
