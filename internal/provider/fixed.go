package provider

import (
	"fmt"

	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// Fixed returns the metadata of a server that publishes none (GitHub):
// the endpoints of a provider preset built into sesame, never read from a
// file or from the server, so nothing can redirect a code or a token
// (requirement 15). Each endpoint must pass [urlcheck.Endpoint] like a
// discovered one (requirement 20). Such a server issues no ID tokens:
// there is no jwks_uri.
func Fixed(issuer, authorization, token, device, revocation string, allowInsecureLoopback bool) (*Metadata, error) {
	m := &Metadata{
		Issuer:                      issuer,
		AuthorizationEndpoint:       authorization,
		TokenEndpoint:               token,
		DeviceAuthorizationEndpoint: device,
		RevocationEndpoint:          revocation,
	}
	if err := checkIssuer(issuer, allowInsecureLoopback); err != nil {
		return nil, fmt.Errorf("provider: issuer %w", err)
	}
	for _, e := range m.endpoints() {
		if e.url == "" {
			continue
		}
		if err := urlcheck.Endpoint(e.url, allowInsecureLoopback); err != nil {
			return nil, fmt.Errorf("provider: %s %w", e.name, err)
		}
	}
	return m, nil
}
