package authtest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The script gets the callback the server redirected to and plays the
// last hop itself: the listener sees only what the script sends.
func TestBrowser_CallbackScript(t *testing.T) {
	s := New(t)
	l := startListener(t)
	scripted := make(chan *url.URL, 1)
	b := NewBrowser(t, s, BrowserCallbackScript(func(ctx context.Context, cb *url.URL) {
		scripted <- cb
		sendForgedState(ctx, t, cb)
	}))
	if err := b.Open(t.Context(), authURL(s, l.redirectURI, "real")); err != nil {
		t.Fatal(err)
	}
	if q := l.wait(t); q.Get("state") != "forged" {
		t.Fatalf("listener got %v", q)
	}
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	cb := <-scripted
	if q := cb.Query(); q.Get("state") != "real" || !strings.HasPrefix(q.Get("code"), "SNTL-CODE-") || q.Get("iss") != s.Issuer() {
		t.Fatalf("script got %v", cb)
	}
	if len(b.Callbacks()) != 0 {
		t.Fatal("the browser delivered the callback itself")
	}
	select {
	case q := <-l.got:
		t.Fatalf("listener got a second request %v", q)
	default:
	}
}

// sendForgedState delivers callback to the listener with its state
// replaced by "forged", as an attacker who saw the URL would, and returns
// that state.
func sendForgedState(ctx context.Context, t *testing.T, callback *url.URL) string {
	t.Helper()
	forged := *callback
	q := forged.Query()
	q.Set("state", "forged")
	forged.RawQuery = q.Encode()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, forged.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return ""
	}
	_ = resp.Body.Close()
	return q.Get("state")
}
