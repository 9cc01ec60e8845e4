package registration

import (
	"net/url"

	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// Limits on what the server returns. A client_id is an opaque string
// (RFC 7591 §3.2.1, RFC 6749 §2.2) but it ends up in URLs, files and
// terminal output, so sesame takes only visible ASCII of a sane length.
// The registration access token is a bearer token (RFC 7592 §3, RFC 6750
// §2.1): it must fit in an Authorization header and in a keychain entry.
const (
	maxClientIDLen    = 512
	maxAccessTokenLen = 4096
)

// visibleASCII reports whether s is 1 to max bytes of %x21-7E: no space,
// no control character, nothing that could end a header line, hide text
// on a terminal or look like something else in another script.
func visibleASCII(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// management returns the management URI and registration access token
// (RFC 7592 §3) worth keeping, or two empty strings.
//
// The token is a bearer credential that [Delete] sends to the URI, so the
// URI must be one the registration endpoint could have sent it to anyway:
// the same scheme, host and port as endpoint (RFC 6750 §5.3, never send a
// bearer token to an unexpected party). A server that names another origin
// is either misconfigured or trying to collect the token; either way the
// pair is dropped and the registration simply cannot be deleted later.
// https is required, or plain http to a loopback IP literal when endpoint
// is itself one (a test server). A URI without a usable token, or a token
// without a usable URI, is of no use, so they are kept or dropped together.
func management(endpoint *url.URL, rawURI, token string) (string, string) {
	if rawURI == "" || !visibleASCII(token, maxAccessTokenLen) {
		return "", ""
	}
	u, err := url.Parse(rawURI)
	if err != nil || urlcheck.Parsed(u, rawURI, true) != nil {
		// No user information, no fragment, absolute, https or http to a
		// loopback IP literal.
		return "", ""
	}
	if !urlcheck.SameOrigin(endpoint, u) {
		return "", ""
	}
	return rawURI, token
}
