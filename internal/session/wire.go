package session

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// opRefresh names the refresh in its errors.
const opRefresh = "token refresh"

// refreshRequest is one refresh token grant (RFC 6749 §6) of a public
// client: the client is identified by client_id in the body (§2.3, §3.2.1),
// and resource names the one resource server the new access token is for
// (RFC 8707 §2.2).
type refreshRequest struct {
	auth         ClientAuth
	tokenURL     string
	clientID     string
	refreshToken string
	resource     string
	// accessToken is the grant's current access token: not sent, but
	// never to be quoted if a server echoes it.
	accessToken string
}

// post sends the refresh request with c and reads the answer. x/oauth2's
// TokenSource cannot send a resource parameter, so sesame sends the form
// itself (internal/oauthwire); an OAuth error answer is an
// *oauthwire.Error.
func (r refreshRequest) post(ctx context.Context, c *http.Client, now time.Time) (*oauth2.Token, error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {r.refreshToken},
		"client_id":     {r.clientID},
	}
	if r.resource != "" {
		form.Set("resource", r.resource)
	}
	req := oauthwire.Request{Op: opRefresh, URL: r.tokenURL, Form: form, Secrets: []string{r.accessToken}}
	r.auth.apply(&req, r.clientID)
	resp, err := oauthwire.Do(ctx, c, req)
	if err != nil {
		return nil, err
	}
	t, err := resp.Token()
	if err != nil {
		return nil, err
	}
	return tokenFrom(t, now), nil
}

// tokenFrom builds the x/oauth2 token of a successful response (RFC 6749
// §5.1). Extra holds every member, so callers read scope, id_token and
// refresh_expires_in as from x/oauth2's own responses.
//
// token_type is passed on as the server sent it, and not checked here: the
// refresh has rotated the refresh token already, so a token_type sesame
// cannot use ([CheckTokenType]) must still let the new refresh token be
// stored; only the access token is then refused. A token_type that is not
// a string comes in its JSON form, so that it is refused too rather than
// read as an absent one (Bearer).
func tokenFrom(t *oauthwire.Token, now time.Time) *oauth2.Token {
	tok := &oauth2.Token{
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		RefreshToken: t.RefreshToken,
	}
	if t.ExpiresIn > 0 {
		tok.ExpiresIn = t.ExpiresIn
		tok.Expiry = now.Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	return tok.WithExtra(t.Fields)
}
