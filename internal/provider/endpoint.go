package provider

import (
	"net/url"

	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// CheckEndpointURL reports whether raw may be used as an authorization
// server endpoint (see [urlcheck.Endpoint]; SECURITY-REQUIREMENTS 19, 20).
func CheckEndpointURL(raw string, allowInsecureLoopback bool) error {
	return urlcheck.Endpoint(raw, allowInsecureLoopback)
}

// checkURL is CheckEndpointURL on a parsed URL.
func checkURL(u *url.URL, raw string, allowInsecureLoopback bool) error {
	return urlcheck.Parsed(u, raw, allowInsecureLoopback)
}

// quote renders a server- or user-provided URL for an error message.
func quote(raw string) string { return urlcheck.Quote(raw) }
