package authtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Browser is a test double for the system browser, usable wherever the
// loopback package wants an Opener. Open records the URL and returns at
// once, like a real launcher; the navigation, if any, runs in a goroutine
// that [Browser.Wait] waits for. The browser follows the authorization
// server's redirects itself (it does not let net/http do it) so that it
// can stop at the loopback callback, deliver it with a plain HTTP client
// and record the listener's answer.
//
// Create one with [NewBrowser]; the zero value is not usable.
type Browser struct {
	t        testing.TB
	as       *http.Client // trusts the servers' certificates, never follows redirects
	loopback *http.Client // plain HTTP to 127.0.0.1 / [::1], no proxy, no redirects
	cfg      browserConfig
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu        sync.Mutex
	urls      []string
	callbacks []CallbackResponse
	errs      []error
}

// CallbackResponse is what the client's loopback listener answered when
// the browser delivered the authorization response.
type CallbackResponse struct {
	// URL is the callback URL the browser requested.
	URL        string
	StatusCode int
	Header     http.Header
	Body       []byte
}

// BrowserOption configures a Browser.
type BrowserOption func(*browserConfig)

type browserConfig struct {
	recordOnly  bool
	synchronous bool
	openErr     error
	trust       []*Server
	before      []func(ctx context.Context, callback *url.URL)
	rewrite     func(callback *url.URL) *url.URL
	script      func(ctx context.Context, callback *url.URL) // see BrowserCallbackScript
}

// BrowserRecordOnly makes Open record the URL and do nothing else, like a
// user who never looks at the browser.
func BrowserRecordOnly() BrowserOption { return func(c *browserConfig) { c.recordOnly = true } }

// BrowserSynchronous makes Open navigate before it returns. Most tests
// want the default: a launcher that returns at once.
func BrowserSynchronous() BrowserOption { return func(c *browserConfig) { c.synchronous = true } }

// BrowserOpenError makes Open record the URL and then fail with err, as
// when no browser can be launched.
func BrowserOpenError(err error) BrowserOption { return func(c *browserConfig) { c.openErr = err } }

// BrowserTrust adds servers whose certificates the browser trusts, for
// flows that redirect from one test server to another.
func BrowserTrust(servers ...*Server) BrowserOption {
	return func(c *browserConfig) { c.trust = append(c.trust, servers...) }
}

// BrowserBeforeCallback runs f with the real callback URL just before the
// browser delivers it, so a test can inject requests of its own first
// (a wrong state, another path, a POST) and check that the real callback
// still completes the flow.
func BrowserBeforeCallback(f func(ctx context.Context, callback *url.URL)) BrowserOption {
	return func(c *browserConfig) { c.before = append(c.before, f) }
}

// BrowserRewriteCallback replaces the callback URL the browser delivers,
// e.g. to hand one flow's code and state to another flow's listener.
func BrowserRewriteCallback(f func(callback *url.URL) *url.URL) BrowserOption {
	return func(c *browserConfig) { c.rewrite = f }
}

// navigationTimeout bounds each request the browser makes, so Wait cannot
// hang on a server or listener that never answers.
const navigationTimeout = 10 * time.Second

// maxHops bounds redirect chains, as browsers do.
const maxHops = 10

// NewBrowser returns a Browser that trusts s (and any server named by
// [BrowserTrust]). Cleanup on t stops navigations still running and waits
// for them.
func NewBrowser(t testing.TB, s *Server, opts ...BrowserOption) *Browser {
	t.Helper()
	b := &Browser{t: t}
	if s != nil {
		b.cfg.trust = append(b.cfg.trust, s)
	}
	for _, o := range opts {
		o(&b.cfg)
	}
	pool := x509.NewCertPool()
	for _, srv := range b.cfg.trust {
		pool.AddCert(srv.srv.Certificate())
	}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	b.as = &http.Client{
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		},
		CheckRedirect: noRedirect,
		Timeout:       navigationTimeout,
	}
	b.loopback = &http.Client{
		// No keep-alive: the client's listener serves one callback and
		// shuts down, and an idle connection from us must not delay it.
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: noRedirect,
		Timeout:       navigationTimeout,
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	t.Cleanup(func() {
		b.cancel()
		b.wg.Wait()
		b.as.CloseIdleConnections()
	})
	return b
}

// Open records rawURL and, unless the browser is record-only, starts
// playing the user agent on it. An asynchronous navigation does not use
// ctx: a real browser outlives the launch call, and the caller cancelling
// its wait once the callback arrives must not cut the browser off
// mid-response. A synchronous one (see [BrowserSynchronous]) stops when
// ctx is done, as the loopback package requires of an Opener.
func (b *Browser) Open(ctx context.Context, rawURL string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	b.urls = append(b.urls, rawURL)
	b.mu.Unlock()
	if b.cfg.openErr != nil {
		return b.cfg.openErr
	}
	if b.cfg.recordOnly {
		return nil
	}
	if b.cfg.synchronous {
		// Here the caller is waiting, so its context bounds the
		// navigation as well as the browser's own.
		nctx, cancel := context.WithCancel(b.ctx)
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		b.finish(b.navigate(nctx, rawURL))
		return nil
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.finish(b.navigate(b.ctx, rawURL))
	}()
	return nil
}

func (b *Browser) finish(err error) {
	if err == nil {
		return
	}
	b.mu.Lock()
	b.errs = append(b.errs, err)
	b.mu.Unlock()
}

// Wait blocks until every navigation started so far has finished and
// returns their errors joined, or nil.
func (b *Browser) Wait() error {
	b.wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	return errors.Join(b.errs...)
}

// URLs returns the URLs Open was called with, oldest first.
func (b *Browser) URLs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.urls...)
}

// Calls reports how many times Open was called.
func (b *Browser) Calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.urls)
}

// LastCallback returns the listener's answer to the most recent callback
// the browser delivered, and false if it has delivered none.
func (b *Browser) LastCallback() (CallbackResponse, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.callbacks) == 0 {
		return CallbackResponse{}, false
	}
	return b.callbacks[len(b.callbacks)-1], true
}

// Callbacks returns every callback answer, oldest first.
func (b *Browser) Callbacks() []CallbackResponse {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]CallbackResponse(nil), b.callbacks...)
}

// navigate follows redirects from rawURL across the trusted servers until
// one points at a loopback address, then delivers that callback. A page
// that does not redirect ends the navigation: quietly if it is a success
// page, with an error if it is an error page (the user was shown an error
// instead of being sent back to the client).
func (b *Browser) navigate(ctx context.Context, rawURL string) error {
	next := rawURL
	for range maxHops {
		u, err := url.Parse(next)
		if err != nil {
			return fmt.Errorf("authtest browser: parse URL: %w", err)
		}
		if isLoopbackCallback(u) && u.Path != "/callback" {
			// The client's own start link, which redirects to the
			// authorization request it makes then.
			resp, body, err := b.get(ctx, b.loopback, u.String())
			if err != nil {
				return err
			}
			loc, err := resp.Location()
			if err != nil {
				return fmt.Errorf("authtest browser: %s answered %d: %.200s", withoutQuery(u), resp.StatusCode, body)
			}
			next = loc.String()
			continue
		}
		if isLoopbackCallback(u) {
			return b.deliver(ctx, u)
		}
		if u.Scheme != "https" {
			return fmt.Errorf("authtest browser: refusing to open %q URL %s", u.Scheme, withoutQuery(u))
		}
		resp, body, err := b.get(ctx, b.as, u.String())
		if err != nil {
			return err
		}
		loc, err := resp.Location()
		switch {
		case err == nil:
			next = loc.String()
		case resp.StatusCode < 400:
			// A page for the user, such as the device verification
			// page: the navigation ends there.
			return nil
		default:
			return fmt.Errorf("authtest browser: %s answered %d: %.200s", withoutQuery(u), resp.StatusCode, body)
		}
	}
	return fmt.Errorf("authtest browser: more than %d redirects", maxHops)
}

// deliver plays the last hop: the browser requesting the client's loopback
// redirect URI.
func (b *Browser) deliver(ctx context.Context, callback *url.URL) error {
	if b.cfg.script != nil {
		b.cfg.script(ctx, callback)
		return nil
	}
	for _, f := range b.cfg.before {
		f(ctx, callback)
	}
	if b.cfg.rewrite != nil {
		callback = b.cfg.rewrite(callback)
	}
	resp, body, err := b.get(ctx, b.loopback, callback.String())
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.callbacks = append(b.callbacks, CallbackResponse{
		URL:        callback.String(),
		StatusCode: resp.StatusCode,
		Header:     resp.Header.Clone(),
		Body:       body,
	})
	b.mu.Unlock()
	return nil
}

// get sends a top-level navigation with the headers a browser sends, which
// a loopback listener may check (Sec-Fetch-*, requirement 5), and
// reads at most 1 MiB of the answer.
func (b *Browser) get(ctx context.Context, c *http.Client, rawURL string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("authtest browser: %w", err)
	}
	req.Header.Set("User-Agent", "authtest-browser/1")
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Sec-Fetch-Dest", "document")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Sec-Fetch-User", "?1")
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("authtest browser: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("authtest browser: read %s: %w", withoutQuery(req.URL), err)
	}
	return resp, body, nil
}

// isLoopbackCallback reports whether u is plain HTTP to a loopback
// address, which is where a native client listens (RFC 8252 §7.3). The
// name localhost counts, for the compatibility switch the client offers.
func isLoopbackCallback(u *url.URL) bool {
	if u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// withoutQuery renders u for error messages without its query, which may
// carry a code or state that must not reach test logs.
func withoutQuery(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}
