package main

import (
	"net/http"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/provider"
)

// httpClient builds the client for talking to p's authorization server:
// TLS verified against the system roots plus the profile's CA file, bounded
// timeouts and bodies, no redirects on credential-bearing requests.
func (a *app) httpClient(p *profile.Profile) (*http.Client, error) {
	return provider.NewHTTPClient(provider.Options{
		CAFile:                p.CAFile,
		AllowInsecureLoopback: p.InsecureLoopbackAS,
		Debug:                 a.log,
	})
}
