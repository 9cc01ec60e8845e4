package authtest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// opener is the loopback package's interface, restated so this package
// does not import it.
type opener interface {
	Open(ctx context.Context, url string) error
}

var _ opener = (*Browser)(nil)

func authURL(s *Server, redirectURI, state string) string {
	return oauthConfig(s, redirectURI).AuthCodeURL(state, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
}

func TestBrowser_RecordOnlyAndOpenError(t *testing.T) {
	s := New(t)
	b := NewBrowser(t, s, BrowserRecordOnly())
	u := authURL(s, "http://127.0.0.1:9/callback", "st")
	if err := b.Open(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(); err != nil || b.Calls() != 1 || b.URLs()[0] != u || s.CountRequests(PathAuthorize) != 0 {
		t.Fatalf("record-only browser navigated: err %v, %d calls", err, b.Calls())
	}
	if _, ok := b.LastCallback(); ok {
		t.Fatal("callback without navigation")
	}

	boom := errors.New("no display")
	b = NewBrowser(t, s, BrowserOpenError(boom))
	if err := b.Open(t.Context(), u); !errors.Is(err, boom) || b.Calls() != 1 {
		t.Fatalf("Open = %v", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := NewBrowser(t, s).Open(ctx, u); !errors.Is(err, context.Canceled) {
		t.Fatalf("Open with a cancelled context = %v", err)
	}
}

// Open returns before the navigation ends, and the callback is delivered
// with browser navigation headers; its answer is recorded.
func TestBrowser_ReturnsAtOnceAndRecordsCallback(t *testing.T) {
	release := make(chan struct{})
	s := New(t, WithHook(PathAuthorize, func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return false
	}))
	l := startListener(t)
	b := NewBrowser(t, s)
	// The authorization server holds the navigation until release is
	// closed, so Open can only return here if it does not wait for it.
	if err := b.Open(t.Context(), authURL(s, l.redirectURI, "st")); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.LastCallback(); ok {
		t.Fatal("callback delivered before the server answered")
	}
	close(release)
	q := l.wait(t)
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	cb, ok := b.LastCallback()
	if !ok || cb.StatusCode != http.StatusOK || string(cb.Body) != "signed in" || !strings.Contains(cb.URL, q.Get("code")) {
		t.Fatalf("callback %+v", cb)
	}
	if r := s.RequestsTo(PathAuthorize); len(r) != 1 || r[0].Header.Get("Sec-Fetch-Mode") != "navigate" || r[0].Header.Get("Sec-Fetch-Dest") != "document" {
		t.Fatal("navigation headers missing")
	}
}

func TestBrowser_InjectsRequestsBeforeCallback(t *testing.T) {
	s := New(t)
	l := startListener(t)
	var injected []string
	b := NewBrowser(t, s, BrowserBeforeCallback(func(ctx context.Context, cb *url.URL) {
		injected = append(injected, sendForgedState(ctx, t, cb))
	}), BrowserSynchronous())
	if err := b.Open(t.Context(), authURL(s, l.redirectURI, "real")); err != nil {
		t.Fatal(err)
	}
	// Synchronous: both requests have reached the listener by now.
	if first, second := l.wait(t), l.wait(t); first.Get("state") != "forged" || second.Get("state") != "real" {
		t.Fatalf("order: %v then %v", first, second)
	}
	if len(injected) != 1 || len(b.Callbacks()) != 1 {
		t.Fatalf("injected %v, callbacks %d", injected, len(b.Callbacks()))
	}
}

// An attacker server redirects the browser to an honest one; the browser
// follows across both (mix-up, requirement 15).
func TestBrowser_FollowsRedirectsAcrossServers(t *testing.T) {
	honest := New(t)
	l := startListener(t)
	target := authURL(honest, l.redirectURI, "via-attacker")
	attacker := New(t, WithAuthorizeHook(func(w http.ResponseWriter, r *http.Request, _ AuthorizeRequest) bool {
		http.Redirect(w, r, target, http.StatusFound)
		return true
	}))
	b := NewBrowser(t, attacker, BrowserTrust(honest))
	if err := b.Open(t.Context(), authURL(attacker, l.redirectURI, "ignored")); err != nil {
		t.Fatal(err)
	}
	q := l.wait(t)
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	if q.Get("iss") != honest.Issuer() || q.Get("state") != "via-attacker" {
		t.Fatalf("callback %v", q)
	}
	if attacker.CountRequests(PathToken)+honest.CountRequests(PathToken) != 0 {
		t.Fatal("token requests without a client")
	}
}

func TestBrowser_ErrorPageAndRefusedSchemes(t *testing.T) {
	s := New(t)
	b := NewBrowser(t, s)
	// An unregistered redirect URI gets an error page, not a redirect.
	if err := b.Open(t.Context(), authURL(s, "http://127.0.0.1:9/elsewhere", "st")); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("Wait = %v", err)
	}
	b = NewBrowser(t, s)
	_ = b.Open(t.Context(), "file:///etc/passwd")
	if err := b.Wait(); err == nil {
		t.Fatal("file: URL navigated")
	}
}

// A rewrite hands one flow's callback to another flow's listener
// (requirement 30).
func TestBrowser_RewriteCallback(t *testing.T) {
	s := New(t)
	a, other := startListener(t), startListener(t)
	target, _ := url.Parse(other.redirectURI)
	b := NewBrowser(t, s, BrowserRewriteCallback(func(u *url.URL) *url.URL {
		moved := *u
		moved.Host = target.Host
		return &moved
	}))
	if err := b.Open(t.Context(), authURL(s, a.redirectURI, "flow-a")); err != nil {
		t.Fatal(err)
	}
	if q := other.wait(t); q.Get("state") != "flow-a" {
		t.Fatalf("callback %v", q)
	}
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	select {
	case q := <-a.got:
		t.Fatalf("flow A's listener got %v", q)
	default:
	}
}
