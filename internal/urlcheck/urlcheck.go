// Package urlcheck is the one place that decides whether a URL may name an
// authorization server endpoint: absolute https, no user information, no
// fragment, and plain http only for a loopback IP literal when a test server
// is explicitly allowed (RFC 8414 §2; requirements 19, 20). The
// provider, loopback and devicecode packages and the profile all use it, so
// the rule cannot drift between them.
package urlcheck

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/sesame-auth/sesame/internal/redact"
)

// Endpoint reports whether raw may be used as an authorization
// server endpoint: an absolute https URL with a host, no user info and no
// fragment (RFC 8414 §2, RFC 6749 §3.1 and §3.2; requirements
// 19, 20).
//
// Plain http is accepted only when allowInsecureLoopback is set and the
// parsed host is an IP literal in 127.0.0.0/8 or ::1. The decision is made
// on the parsed host, never on a prefix of the string, so
// http://127.0.0.1.nip.io and http://localhost.evil.example are refused;
// "localhost" itself is refused as well, because a name can be resolved
// anywhere (RFC 8252 §8.3 makes the same point for redirect URIs).
func Endpoint(raw string, allowInsecureLoopback bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s is not a valid url", Quote(raw))
	}
	return Parsed(u, raw, allowInsecureLoopback)
}

// Parsed is Endpoint on a parsed URL; raw is used for messages
// and for the fragment check (url.URL forgets an empty fragment).
func Parsed(u *url.URL, raw string, allowInsecureLoopback bool) error {
	switch {
	case u.Opaque != "" || !u.IsAbs() || u.Host == "":
		return fmt.Errorf("%s is not an absolute url", Quote(raw))
	case u.User != nil:
		// Go turns user info into a Basic Authorization header, and a URL
		// with it is a classic way to disguise the real host.
		return fmt.Errorf("%s must not contain user information", Quote(redactUser(u)))
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%s must not contain a fragment", Quote(raw))
	case u.Hostname() == "":
		return fmt.Errorf("%s has no host", Quote(raw))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if !IsLoopbackIP(u.Hostname()) {
			return fmt.Errorf("%s must use https", Quote(raw))
		}
		if !allowInsecureLoopback {
			return fmt.Errorf("%s must use https (plain http to a loopback address needs --insecure-loopback-as)", Quote(raw))
		}
		return nil
	default:
		return fmt.Errorf("%s must use https", Quote(raw))
	}
}

// IsLoopbackIP reports whether host is an IP literal in 127.0.0.0/8 or
// ::1. Names, zones and IPv4-mapped IPv6 forms are all refused: each is a
// way for a string that looks local to reach something else.
func IsLoopbackIP(host string) bool {
	addr, err := netip.ParseAddr(host)
	if err != nil || addr.Zone() != "" {
		return false
	}
	if addr.Is4() {
		return addr.As4()[0] == 127
	}
	return addr == netip.IPv6Loopback()
}

// Quote renders a server- or user-provided URL for an error message: no
// control characters, no secrets, bounded length, quoted.
func Quote(raw string) string {
	return fmt.Sprintf("%q", redact.UntrustedText(raw))
}

// redactUser drops the password part of user info before a URL is quoted.
func redactUser(u *url.URL) string {
	c := *u
	c.User = url.User(redact.Placeholder)
	return c.String()
}
