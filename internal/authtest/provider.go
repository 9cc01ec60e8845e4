package authtest

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The options below make the server behave as a provider that departs
// from the plain OAuth 2.0 and OpenID Connect the rest of the server
// speaks: each is one documented behaviour of a real provider, and the
// provider simulations (session and cmd tests of internal/preset) combine
// them.

// WithBasePath serves every endpoint, and the issuer, under path (say
// "/common/v2.0"), as providers whose issuer has a path (Entra, Keycloak,
// Okta) do. It takes effect in [New] only.
func WithBasePath(path string) Option { return func(c *config) { c.basePath = path } }

// WithRoutes serves the endpoints at other paths too: each key is a path
// a provider uses, each value the server's own path it stands for (say
// "/login/oauth/access_token": [PathToken], as GitHub names its token
// endpoint).
func WithRoutes(aliases map[string]string) Option {
	return func(c *config) { c.aliases = aliases }
}

// WithoutDiscovery answers 404 to both metadata documents, as GitHub, which
// publishes none for user sign-in.
func WithoutDiscovery() Option { return func(c *config) { c.noDiscovery = true } }

// WithClientSecret makes the token endpoint require the client secret
// (RFC 6749 §2.3.1): in the body (client_secret_post), or with basic set
// as HTTP Basic, as Google requires of its "Desktop app" clients. The
// other endpoints still refuse any secret, so a test sees a secret sent
// anywhere but the token endpoint.
func WithClientSecret(secret string, basic bool) Option {
	return func(c *config) { c.clientSecret, c.secretBasic = secret, basic }
}

// WithFormAnswers answers the token and device authorization endpoints
// with application/x-www-form-urlencoded bodies unless the request's
// Accept names application/json, and their OAuth errors with HTTP 200, as
// GitHub does.
func WithFormAnswers() Option { return func(c *config) { c.formAnswers = true } }

// WithRefreshTokenOnlyWith issues a refresh token at the code exchange only
// when the authorization request carried param=value, as Google does with
// access_type=offline.
func WithRefreshTokenOnlyWith(param, value string) Option {
	return func(c *config) { c.offlineParam, c.offlineValue = param, value }
}

// checkClient authenticates the client at the token endpoint: a public
// client, or, with [WithClientSecret], a client with that secret.
func (s *Server) checkClient(r *http.Request) *oauthError {
	s.mu.Lock()
	secret, basic := s.cfg.clientSecret, s.cfg.secretBasic
	s.mu.Unlock()
	if secret == "" {
		return checkPublicClient(r, s.knownClient)
	}
	unauthorized := func(desc string) *oauthError {
		return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: desc}
	}
	if basic {
		user, pass, ok := r.BasicAuth()
		id, err1 := url.QueryUnescape(user)
		got, err2 := url.QueryUnescape(pass)
		switch {
		case !ok || err1 != nil || err2 != nil:
			return unauthorized("client authentication by HTTP Basic required")
		case r.PostForm.Has("client_secret"):
			return unauthorized("more than one client authentication method")
		case !s.knownClient(id) || subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1:
			return unauthorized("wrong client id or secret")
		}
		if r.PostForm.Get("client_id") == "" {
			r.PostForm.Set("client_id", id)
		}
		return nil
	}
	switch {
	case r.Header.Get("Authorization") != "":
		return unauthorized("client_secret_post: the Authorization header is not accepted")
	case len(r.PostForm["client_id"]) != 1 || !s.knownClient(r.PostForm.Get("client_id")):
		return unauthorized("unknown client_id")
	case len(r.PostForm["client_secret"]) != 1:
		return unauthorized("client_secret required")
	case subtle.ConstantTimeCompare([]byte(r.PostForm.Get("client_secret")), []byte(secret)) != 1:
		return unauthorized("wrong client secret")
	}
	return nil
}

// writeAnswer writes a token or device authorization answer: JSON, or with
// [WithFormAnswers] and no Accept: application/json a form, errors with
// HTTP 200.
func (s *Server) writeAnswer(w http.ResponseWriter, r *http.Request, status int, body map[string]any) {
	s.mu.Lock()
	form := s.cfg.formAnswers
	s.mu.Unlock()
	if form && status != http.StatusOK && body["error"] != nil {
		status = http.StatusOK
	}
	if !form || strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, status, body)
		return
	}
	v := url.Values{}
	for k, x := range body {
		v.Set(k, fmt.Sprint(x))
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(v.Encode()))
}

// writeAnswerError is writeAnswer for an OAuth error.
func (s *Server) writeAnswerError(w http.ResponseWriter, r *http.Request, e *oauthError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="authtest"`)
	}
	s.writeAnswer(w, r, e.status, e.body())
}

// route maps a provider's path to the server's own, after the base path.
func (s *Server) route(r *http.Request) {
	p := r.URL.Path
	if s.basePath != "" {
		rest, ok := strings.CutPrefix(p, s.basePath)
		if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
			rest = "/not-under-the-base-path"
		}
		p = rest
	}
	s.mu.Lock()
	if to, ok := s.cfg.aliases[p]; ok {
		p = to
	}
	if s.cfg.noDiscovery && (p == PathOIDCDiscovery || p == PathOAuthMetadata) {
		p = "/no-discovery"
	}
	s.mu.Unlock()
	r.URL.Path = p
}
