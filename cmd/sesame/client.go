package main

import (
	"context"
	"net/http"
	"time"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/provider"
	"github.com/sesame-auth/sesame/internal/session"
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

// refreshHTTPClient is httpClient with a response timeout that fits a
// slow token endpoint: a refresh is never abandoned while the server may
// still be carrying it out (session.RefreshTimeout).
func (a *app) refreshHTTPClient(p *profile.Profile) (*http.Client, error) {
	return provider.NewHTTPClient(provider.Options{
		CAFile:                p.CAFile,
		AllowInsecureLoopback: p.InsecureLoopbackAS,
		Debug:                 a.log,
		HeaderTimeout:         session.RefreshTimeout,
		Timeout:               session.RefreshTimeout + 5*time.Second,
	})
}

// discover returns p's HTTP client and its server's validated metadata
// (discovery, byte-exact issuer, https endpoints).
func (a *app) discover(ctx context.Context, p *profile.Profile) (*http.Client, *provider.Metadata, error) {
	client, err := a.httpClient(p)
	if err != nil {
		return nil, nil, err
	}
	md, err := provider.Discover(ctx, client, p.Issuer, p.InsecureLoopbackAS)
	if err != nil {
		return nil, nil, err
	}
	return client, md, nil
}
