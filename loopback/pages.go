package loopback

import (
	"net/http"
	"strconv"
)

// The browser lands on one of two fixed pages. Neither reflects anything from
// the request: RFC 6749 allows '<', '>' and '&' in error_description, and
// several CLIs have shipped an XSS by echoing it (requirement 16).
// The details go to the terminal, sanitized, where the user started the login.
//
// The pages have no scripts, forms, links, images or meta refresh, so they
// can neither leak the callback URL through a Referer nor redirect anywhere
// (RFC 9700 §4.2.4, §4.11.1). Their one inline style element is allowed by
// hash in the Content-Security-Policy; everything else is denied.

// pageStyle is the exact content of the style element. Its SHA-256 is pinned
// in pageCSP; TestPages_CSPHash_Req17 recomputes it, so editing one without
// the other fails the tests rather than silently unstyling the page.
const pageStyle = "body{font:16px/1.5 system-ui,sans-serif;max-width:32em;margin:4em auto;padding:0 1em;color:#222}" +
	"h1{font-size:1.4em}" +
	"@media (prefers-color-scheme:dark){body{background:#111;color:#ddd}}"

const pageHead = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
	"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"

// successPage is sent once the code has been exchanged and the token
// response validated, never earlier: a page that says "signed in" before the
// exchange would be a lie whenever the exchange fails.
const successPage = pageHead +
	"<title>Signed in</title>\n<style>" + pageStyle + "</style>\n</head>\n<body>\n" +
	"<h1>Signed in</h1>\n" +
	"<p>sesame has your sign-in. You can close this tab and return to the terminal.</p>\n" +
	"</body>\n</html>\n"

// failurePage is sent for every failure after the state matched: an error
// response, an iss mismatch, a failed exchange or a rejected token.
const failurePage = pageHead +
	"<title>Sign-in failed</title>\n<style>" + pageStyle + "</style>\n</head>\n<body>\n" +
	"<h1>Sign-in did not complete</h1>\n" +
	"<p>The terminal where you started sesame says why. You can close this tab.</p>\n" +
	"</body>\n</html>\n"

// pageCSP denies everything except the pinned inline style, and forbids
// framing so another page cannot overlay or clickjack the callback.
const pageCSP = "default-src 'none'; style-src 'sha256-PmhJ4I6NA5Rjh5jyKJb10NrUNxAC9nBrKzxKNpZuc1A='; frame-ancestors 'none'"

// setSecurityHeaders sets the headers every response from the listener
// carries, pages and bare status answers alike (requirement 17).
func setSecurityHeaders(h http.Header) {
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}

// writePage sends one of the two fixed pages with status 200. The connection
// is closed after it, because this is the last response the flow sends and
// the server is shut down next.
func writePage(w http.ResponseWriter, page string) {
	h := w.Header()
	setSecurityHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(page)))
	h.Set("Connection", "close")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(page))
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// writeStatus answers a request that does not get a page: a wrong path,
// method, host or state. The body is the bare status text, the same for every
// cause, so a prober learns nothing about which check failed beyond the code.
func writeStatus(w http.ResponseWriter, code int) {
	body := strconv.Itoa(code) + " " + http.StatusText(code) + "\n"
	h := w.Header()
	setSecurityHeaders(h)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}
