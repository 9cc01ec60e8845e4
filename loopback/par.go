package loopback

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// maxPARLifetime bounds the expires_in of a pushed request: RFC 9126 §2.2
// expects a short lifetime (its example is 60 s), and no wait lasts longer
// than MaxTimeout anyway.
const maxPARLifetime = MaxTimeout

// pushAuthorizationRequest sends the parameters of frontURL, the plain
// authorization request, to the PAR endpoint (RFC 9126 §2.1) and returns
// the URL for the browser: the authorization endpoint with client_id and
// request_uri only (§4). state, the PKCE challenge, nonce, scope and
// redirect_uri thus travel only in the TLS-protected POST.
//
// lifetime is the request_uri's expires_in (§2.2), bounded by
// maxPARLifetime; zero when the server sent none or nonsense, in which
// case the flow cannot know when the link dies.
//
// The request goes through internal/oauthwire: a refusal (§2.3) or an
// answer without request_uri is the *oauthwire.Error naming the status
// and the server's error, sanitized; never the body.
func (f *Flow) pushAuthorizationRequest(ctx context.Context, oc *oauth2.Config, frontURL string, s attemptSecrets) (authURL string, lifetime time.Duration, err error) {
	u, err := url.Parse(frontURL)
	if err != nil {
		return "", 0, err
	}
	resp, err := oauthwire.Do(ctx, f.client, oauthwire.Request{Op: opPAR, URL: f.cfg.PAREndpoint, Form: u.Query(), Secrets: s.list()})
	if err != nil {
		return "", 0, err
	}
	// RFC 9126 §2.2 answers 201; 200 is tolerated from lenient servers.
	requestURI := resp.Str("request_uri")
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		return "", 0, resp.Refusal()
	}
	if requestURI == "" {
		return "", 0, resp.Unusable("it has no request_uri")
	}
	if v, _, ok := resp.Seconds("expires_in"); ok && v >= 1 {
		lifetime = min(time.Duration(v*float64(time.Second)), maxPARLifetime)
	}
	q := url.Values{"client_id": {oc.ClientID}, "request_uri": {requestURI}}
	return oc.Endpoint.AuthURL + "?" + q.Encode(), lifetime, nil
}
