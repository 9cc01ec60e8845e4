package loopback

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/clock"
	"github.com/sesame-auth/sesame/internal/urlcheck"
)

const (
	// DefaultTimeout bounds a login when Config.Timeout is zero: long enough
	// to type a password and pass a second factor, short enough that a
	// forgotten terminal does not keep a port open for the afternoon.
	DefaultTimeout = 5 * time.Minute
	// MaxTimeout is the longest wait Config.Timeout can ask for; larger
	// values are clamped (requirement 6).
	MaxTimeout = 15 * time.Minute

	// exchangeTimeout bounds the token request when the caller supplies no
	// HTTP client: http.DefaultClient has no timeout at all.
	exchangeTimeout = 30 * time.Second
)

// Opener opens a URL in the user's browser. Open must return when ctx is
// done. It is called at most once per flow, with the authorization URL the
// flow built, never with anything taken from a callback (RFC 8252 §8.12).
type Opener interface {
	Open(ctx context.Context, url string) error
}

// Config describes one public client and how a login should run. It is plain
// data; New copies it, so later changes do not affect a Flow.
type Config struct {
	// OAuth2 names the client and the server's endpoints. RedirectURL must
	// be empty: the flow sets it to the address it actually binds. A zero
	// Endpoint.AuthStyle becomes AuthStyleInParams: the client is named in
	// the body, and the code is never sent twice to find out how the
	// server wants it (x/oauth2's auto-detection would retry).
	OAuth2 oauth2.Config

	// Issuer is the configured issuer identifier, compared byte for byte
	// with the iss parameter of the authorization response (RFC 9207 §2.4).
	Issuer string
	// IssParameterSupported is the server metadata value
	// authorization_response_iss_parameter_supported. When true, a response
	// without iss is rejected.
	IssParameterSupported bool
	// AllowUnannouncedIss accepts an iss parameter from a server that never
	// announced support for it. It must still match Issuer. By default such
	// a response is discarded (requirement 14).
	AllowUnannouncedIss bool

	// Port is the callback port. Zero, the default, lets the OS choose an
	// unused ephemeral port; a fixed port serves SSH tunnels and servers
	// that registered one.
	Port int
	// Timeout bounds the whole login, from listening to the validated token.
	// Zero means DefaultTimeout; values above MaxTimeout are clamped.
	Timeout time.Duration

	// Opener opens the authorization URL. Nil means the URL is only
	// reported through OnAuthURL, for users who open it themselves.
	Opener Opener
	// OnAuthURL, if set, is called once with the authorization URL before
	// the browser is opened, so the caller can print it for the user.
	OnAuthURL func(authURL string)
	// Events, if set, tell the caller what happens while the login waits:
	// the start link, an opener failure, renewed pushed requests, pasted
	// addresses. See [Events].
	Events Events

	// AuthParams are extra authorization request parameters such as prompt,
	// login_hint or resource (RFC 8707). Parameters the flow owns (state,
	// nonce, PKCE, redirect_uri, response_type, ...) are refused by New.
	AuthParams url.Values
	// TokenParams are extra parameters of the token request that redeems
	// the code, such as the one resource the access token is for (RFC 8707
	// §2.2). Each name may have one value. The parameters the flow owns are
	// refused by New, as are code, code_verifier and grant_type.
	TokenParams url.Values

	// HTTPClient sends the token request. Nil means a client with a 30 s
	// timeout. Either way redirects are not followed: Go re-sends a POST
	// body on 307 and 308, which would carry the code and verifier to the
	// redirect target (RFC 9700 §4.12).
	HTTPClient *http.Client

	// AllowInsecureAuthEndpoint permits http authorization and token
	// endpoints whose host is a loopback IP literal. It exists for test
	// servers only; every other endpoint must be https (RFC 6749 §10.9).
	AllowInsecureAuthEndpoint bool

	// PAREndpoint is the server's pushed_authorization_request_endpoint.
	// When set, every request parameter goes there by POST (RFC 9126 §2.1)
	// and the browser gets only client_id and request_uri (§4), so nothing
	// of the request can be read or altered in the front channel
	// (requirement 12).
	PAREndpoint string
	// RequirePAR is the server's require_pushed_authorization_requests: a
	// PAR failure then ends the flow instead of falling back to a plain
	// authorization request (RFC 9126 §5).
	RequirePAR bool

	// NoConsentPrompt leaves prompt=consent out of an OpenID request for
	// offline_access. By default it is sent: OpenID Connect Core §11 says
	// offline access MUST be asked with prompt=consent, and servers that
	// apply that strictly (oidc-provider's default) otherwise drop the
	// scope and issue no refresh token. A provider known to grant offline
	// access without it, and to make the person consent at every login
	// with it, turns it off. A prompt in AuthParams is sent as it is.
	NoConsentPrompt bool

	// Validate checks the token response, typically the ID token's
	// signature, claims and nonce. It runs after the exchange and before the
	// browser is told that sign-in succeeded; an error shows the failure page
	// and ends the flow with that error. It is required when Scopes contain
	// "openid", because nobody else checks the nonce (OIDC Core §3.1.3.7).
	Validate func(ctx context.Context, tok *oauth2.Token, nonce string) error
}

// Result is the outcome of a successful login.
type Result struct {
	// Token is the token response, already passed through Config.Validate.
	Token *oauth2.Token
	// Nonce is the nonce sent in the authorization request, or "" when the
	// scopes did not include openid.
	Nonce string
	// RedirectURI is the redirect_uri used in the authorization and token
	// requests, e.g. "http://127.0.0.1:53123/callback".
	RedirectURI string
}

// Flow runs logins for one Config. Each call to Token is an independent
// attempt with its own listener, state, verifier and nonce.
type Flow struct {
	cfg     Config
	client  *http.Client
	timeout time.Duration
	openid  bool
	limits  serverLimits
	clock   clock.Clock // when pushed requests are renewed; tests replace it
}

// reservedParams are authorization request parameters the flow sets itself.
// Letting AuthParams override them would undo the flow's protections: a
// fixed state, a plain PKCE method, an implicit response_type, or a
// response_mode that does not use the query (RFC 9700 §2.1.2). request and
// request_uri are refused because they would replace the parameters the flow
// checked.
var reservedParams = []string{
	"client_id", "code_challenge", "code_challenge_method", "nonce",
	"redirect_uri", "request", "request_uri", "response_mode",
	"response_type", "scope", "state",
}

// exchangeParams are the token request parameters of the code exchange
// (RFC 6749 §4.1.3, RFC 7636 §4.5).
var exchangeParams = []string{"code", "code_verifier", "grant_type"}

// New checks cfg and returns a Flow. It does not touch the network.
func New(cfg Config) (*Flow, error) {
	c := cfg.OAuth2
	if c.ClientID == "" {
		return nil, errors.New("client id is empty")
	}
	if c.RedirectURL != "" {
		return nil, errors.New("redirect url must be empty; the flow sets it to the address it binds")
	}
	if err := checkEndpoint("authorization", c.Endpoint.AuthURL, cfg.AllowInsecureAuthEndpoint); err != nil {
		return nil, err
	}
	if err := checkEndpoint("token", c.Endpoint.TokenURL, cfg.AllowInsecureAuthEndpoint); err != nil {
		return nil, err
	}
	if cfg.PAREndpoint != "" {
		if err := checkEndpoint("pushed authorization request", cfg.PAREndpoint, cfg.AllowInsecureAuthEndpoint); err != nil {
			return nil, err
		}
	} else if cfg.RequirePAR {
		return nil, errors.New("the server requires pushed authorization requests but names no endpoint for them")
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("callback port %d is out of range", cfg.Port)
	}
	if cfg.IssParameterSupported && cfg.Issuer == "" {
		return nil, errors.New("issuer is empty but the server sends iss")
	}
	for k := range cfg.AuthParams {
		if slices.Contains(reservedParams, strings.ToLower(k)) {
			return nil, fmt.Errorf("authorization parameter %q is set by the flow", k)
		}
	}
	for k, vs := range cfg.TokenParams {
		switch {
		case slices.Contains(reservedParams, strings.ToLower(k)) || slices.Contains(exchangeParams, strings.ToLower(k)):
			return nil, fmt.Errorf("token request parameter %q is set by the flow", k)
		case len(vs) != 1:
			return nil, fmt.Errorf("token request parameter %q needs exactly one value", k)
		}
	}
	openid := slices.Contains(c.Scopes, "openid")
	if openid && cfg.Validate == nil {
		return nil, errors.New("openid scope needs a Validate function to check the id token and nonce")
	}

	if c.Endpoint.AuthStyle == oauth2.AuthStyleAutoDetect {
		c.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	c.Scopes = slices.Clone(c.Scopes)
	cfg.OAuth2 = c
	cfg.AuthParams = withConsentPrompt(cloneValues(cfg.AuthParams), c.Scopes, cfg.NoConsentPrompt)
	cfg.TokenParams = cloneValues(cfg.TokenParams)

	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	timeout = min(timeout, MaxTimeout)

	return &Flow{
		cfg:     cfg,
		client:  defaultClient(cfg.HTTPClient),
		timeout: timeout,
		openid:  openid,
		limits:  defaultLimits,
		clock:   clock.System,
	}, nil
}

// checkEndpoint applies the project's one endpoint rule (absolute https,
// no fragment or user information; http only on a loopback IP literal when
// allowed: RFC 8414 §2, requirement 20) and names the endpoint.
func checkEndpoint(name, raw string, allowInsecure bool) error {
	if err := urlcheck.Endpoint(raw, allowInsecure); err != nil {
		return fmt.Errorf("%s endpoint: %w", name, err)
	}
	return nil
}

// defaultClient returns c, or a client with a 30 s timeout when it is nil.
// Redirects are refused per request by internal/oauthwire, without
// changing c.
func defaultClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: exchangeTimeout}
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
