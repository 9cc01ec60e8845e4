package authtest

import (
	"context"
	"net/url"
)

// BrowserCallbackScript hands the last hop to f: when the server redirects
// the browser to the client's loopback callback, the browser calls f with
// that URL (the issued code, state and iss in its query) instead of
// requesting it, and records no [CallbackResponse]. f plays the user agent
// and any attacker beside it: it may send the callback as it is, altered,
// repeated, with other headers, or not at all, and inspect each answer
// itself. The authorization request before it still goes through the
// server's checks (client, redirect URI, PKCE S256), so the code f holds
// is one the token endpoint will honour for that request only.
//
// ctx ends when the navigation does: for an asynchronous browser, when the
// test ends; see [Browser.Open]. [Browser.Wait] waits for f to return.
// With this option [BrowserBeforeCallback] and [BrowserRewriteCallback]
// are not used.
func BrowserCallbackScript(f func(ctx context.Context, callback *url.URL)) BrowserOption {
	return func(c *browserConfig) { c.script = f }
}
