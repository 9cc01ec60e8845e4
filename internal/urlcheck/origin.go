package urlcheck

import (
	"net/url"
	"strings"
)

// Origin is u's origin (RFC 6454 §4) as one comparable string: scheme and
// host lower-cased, the scheme's default port made explicit, so
// "https://AS.example" and "https://as.example:443" are one origin.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// SameOrigin reports whether a and b have the same scheme, host and port
// (RFC 6454 §5). Redirects may be followed, and a registration's
// management token sent, only within one origin.
func SameOrigin(a, b *url.URL) bool { return Origin(a) == Origin(b) }
