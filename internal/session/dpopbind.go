package session

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/sesame-auth/sesame/internal/dpop"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/provider"
	"github.com/sesame-auth/sesame/internal/redact"
)

// bindDPoP makes the key a DPoP profile's new grant will be bound to (RFC
// 9449 §5) and returns client wrapped to sign the token and PAR requests
// with it; PAR's proof binds the authorization code too (§10.1). For a
// profile without DPoP it returns client and no key. A profile that asks
// for DPoP never falls back to an unbound grant (requirement 31): a server
// that offers neither ES256 nor EdDSA is refused before any browser opens.
func bindDPoP(d *Deps, p *profile.Profile, md *provider.Metadata, client *http.Client) (*http.Client, *dpop.Key, error) {
	if !p.DPoP {
		return client, nil, nil
	}
	if !dpop.Supported(md.DPoPSigningAlgValuesSupported) {
		return nil, nil, &Problem{Kind: NoDPoP, Profile: p.Name,
			Err: fmt.Errorf("profile %q uses DPoP, but the server does not offer it with ES256 or EdDSA (dpop_signing_alg_values_supported: %s)", p.Name, algList(md.DPoPSigningAlgValuesSupported))}
	}
	key, err := dpop.GenerateFor(md.DPoPSigningAlgValuesSupported)
	if err != nil {
		return nil, nil, err
	}
	d.logf("login: profile %q: DPoP key %s, thumbprint %s", p.Name, key.Alg(), key.Thumbprint())
	return dpop.Client(client, key, d.now, md.TokenEndpoint, md.PushedAuthorizationRequestEndpoint), key, nil
}

// algList shows a server's algorithm list in an error: "none" when absent.
func algList(algs []string) string {
	if len(algs) == 0 {
		return "none"
	}
	return redact.Sanitize(strings.Join(algs, ", "))
}
