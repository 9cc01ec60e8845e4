package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/oauthwire"
	"github.com/sesame-auth/sesame/internal/redact"
	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// Metadata is the authorization server metadata sesame uses, from
// RFC 8414 §2 (with RFC 8628 §4, RFC 9126 §5, RFC 9207 §3 and RFC 9449
// §5.1 additions) and OpenID Connect Discovery 1.0 §3.
//
// A Metadata returned by [Discover] has been validated: its Issuer equals
// the configured issuer and every endpoint in it passed
// [urlcheck.Endpoint].
type Metadata struct {
	Issuer                             string `json:"issuer"`
	AuthorizationEndpoint              string `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                      string `json:"token_endpoint"`
	DeviceAuthorizationEndpoint        string `json:"device_authorization_endpoint,omitempty"`
	RevocationEndpoint                 string `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint              string `json:"introspection_endpoint,omitempty"`
	UserinfoEndpoint                   string `json:"userinfo_endpoint,omitempty"`
	JWKSURI                            string `json:"jwks_uri,omitempty"`
	RegistrationEndpoint               string `json:"registration_endpoint,omitempty"`
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint,omitempty"`

	RequirePushedAuthorizationRequests bool `json:"require_pushed_authorization_requests,omitempty"`
	// AuthorizationResponseIssParameterSupported says the server puts iss
	// in every authorization response (RFC 9207 §3); the loopback flow
	// then rejects a response without it.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`

	// The lists are nil when the server did not send them, which is not
	// the same as an empty list: "absent" means "unknown", "empty" means
	// "none". They have no omitempty so a JSON round trip (a metadata
	// cache) keeps the difference.
	CodeChallengeMethodsSupported    []string `json:"code_challenge_methods_supported"`
	ResponseTypesSupported           []string `json:"response_types_supported"`
	GrantTypesSupported              []string `json:"grant_types_supported"`
	ScopesSupported                  []string `json:"scopes_supported"`
	DPoPSigningAlgValuesSupported    []string `json:"dpop_signing_alg_values_supported"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`

	// IssuerTemplate is the document's issuer when it was a multi-tenant
	// template accepted by [DiscoverTemplated] (Entra's
	// https://login.microsoftonline.com/{tenantid}/v2.0), "" otherwise.
	// It never comes from the server's JSON as such: only Discover sets it.
	IssuerTemplate    string `json:"-"`
	IssuerPlaceholder string `json:"-"`
}

// Well-known suffixes: OpenID Connect Discovery 1.0 §4 and RFC 8414 §3.
const (
	oidcWellKnown  = "/.well-known/openid-configuration"
	oauthWellKnown = "/.well-known/oauth-authorization-server"
)

// Discover fetches and validates the metadata of issuer.
//
// It first tries the OpenID Connect location (issuer +
// "/.well-known/openid-configuration", one trailing slash of the issuer
// removed first; OIDC Discovery §4.1), then the RFC 8414 §3.1 location
// with the well-known segment inserted before the issuer's path
// (https://as.example/t1 → https://as.example/.well-known/oauth-authorization-server/t1).
// It moves to the second only on 404: any other failure is reported, since
// quietly trying elsewhere would hide a broken or hostile server.
//
// The document's issuer must equal issuer exactly, with no normalisation
// (RFC 8414 §3.3, OIDC Discovery §4.3), or the whole document is
// discarded; this is what stops a server from speaking for another
// (requirement 19). Every endpoint must pass [urlcheck.Endpoint],
// token_endpoint must be present, a code_challenge_methods_supported list
// must include S256 (requirement 8) and a response_types_supported list
// must include "code" (requirement 10).
//
// client should come from [NewHTTPClient].
func Discover(ctx context.Context, client *http.Client, issuer string, allowInsecureLoopback bool) (*Metadata, error) {
	return DiscoverTemplated(ctx, client, issuer, allowInsecureLoopback, "")
}

// DiscoverTemplated is [Discover] for a provider whose multi-tenant
// documents carry a templated issuer: with placeholder "{tenantid}", the
// document of https://login.microsoftonline.com/common/v2.0 may say
// https://login.microsoftonline.com/{tenantid}/v2.0. It is accepted when
// the placeholder stands in the document's issuer exactly where the
// configured issuer has its tenant segment, and the ID tokens are then
// checked as Microsoft's own libraries check them: iss must equal the
// template with the placeholder replaced by the token's tid claim
// ([VerifyIDToken]). Everything else is Discover's, byte-exact issuer
// included when the document is not templated.
func DiscoverTemplated(ctx context.Context, client *http.Client, issuer string, allowInsecureLoopback bool, placeholder string) (*Metadata, error) {
	if client == nil {
		return nil, errors.New("discovery: no http client")
	}
	if err := checkIssuer(issuer, allowInsecureLoopback); err != nil {
		return nil, fmt.Errorf("discovery: issuer %w", err)
	}
	urls := wellKnownURLs(issuer)
	var m *Metadata
	var err error
	for _, u := range urls {
		if m, err = fetchMetadata(ctx, client, u); !errors.Is(err, errNotFound) {
			break
		}
	}
	if errors.Is(err, errNotFound) {
		return nil, fmt.Errorf("discovery: no metadata for %q (404 from %s)", issuer, strings.Join(urls, " and "))
	}
	if err != nil {
		return nil, err
	}
	if placeholder != "" && m.Issuer != issuer && matchesTemplate(m.Issuer, issuer, placeholder) {
		m.IssuerTemplate, m.IssuerPlaceholder, m.Issuer = m.Issuer, placeholder, issuer
	}
	if err := m.validate(issuer, allowInsecureLoopback); err != nil {
		return nil, err
	}
	return m, nil
}

// matchesTemplate reports whether template is issuer with one path segment
// replaced by placeholder, once.
func matchesTemplate(template, issuer, placeholder string) bool {
	before, after, ok := strings.Cut(template, placeholder)
	if !ok || strings.Contains(after, placeholder) || !strings.HasSuffix(before, "/") || (after != "" && !strings.HasPrefix(after, "/")) {
		return false
	}
	tenant, ok := strings.CutPrefix(issuer, before)
	if !ok {
		return false
	}
	tenant, ok = strings.CutSuffix(tenant, after)
	return ok && tenant != "" && !strings.Contains(tenant, "/")
}

// checkIssuer applies RFC 8414 §2 to the configured issuer: https (or the
// loopback test exception), no query, no fragment.
func checkIssuer(issuer string, allowInsecureLoopback bool) error {
	u, err := url.Parse(issuer)
	if err != nil {
		return fmt.Errorf("%s is not a valid url", urlcheck.Quote(issuer))
	}
	if err := urlcheck.Parsed(u, issuer, allowInsecureLoopback); err != nil {
		return err
	}
	if u.RawQuery != "" || u.ForceQuery {
		return fmt.Errorf("%s must not contain a query", urlcheck.Quote(issuer))
	}
	return nil
}

// wellKnownURLs returns the OIDC and RFC 8414 metadata URLs for issuer,
// which checkIssuer has accepted.
func wellKnownURLs(issuer string) []string {
	oidc := strings.TrimSuffix(issuer, "/") + oidcWellKnown

	// RFC 8414 §3.1: remove a terminating "/" of the path, then insert the
	// well-known segment between the host and the path. The path is kept
	// as sent (escaped form), so the fetched URL names the same resource.
	u, _ := url.Parse(issuer)
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	oauth := u.Scheme + "://" + u.Host + oauthWellKnown + path
	if oauth == oidc {
		return []string{oidc}
	}
	return []string{oidc, oauth}
}

var errNotFound = errors.New("metadata not found")

// fetchMetadata GETs one metadata URL. It returns errNotFound for a 404 so
// Discover can try the next location.
func fetchMetadata(ctx context.Context, client *http.Client, u string) (*Metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("discovery: %s is not a valid url", urlcheck.Quote(u))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		// The URL is named once, by sesame: net/http's *url.Error would
		// quote it again.
		return nil, wrapSanitized("discovery: GET "+u, oauthwire.StripURLError(err))
	}
	defer func() { _ = resp.Body.Close() }()

	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, errNotFound
	case resp.StatusCode != http.StatusOK:
		// The body is not quoted: it is the server's text, and the status
		// is what the user can act on.
		return nil, fmt.Errorf("discovery: GET %s: the server answered %s", u, redact.Sanitize(resp.Status))
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, wrapSanitized("discovery: GET "+u, oauthwire.StripURLError(err))
	}
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("discovery: GET %s: not a valid metadata document: %s", u, redact.Error(err))
	}
	return &m, nil
}

// validate applies the checks described on Discover.
func (m *Metadata) validate(issuer string, allowInsecureLoopback bool) error {
	if m.Issuer != issuer {
		return fmt.Errorf("discovery: issuer mismatch: the server says %q but the profile says %q",
			redact.UntrustedText(m.Issuer), issuer)
	}
	if m.TokenEndpoint == "" {
		return errors.New("discovery: the metadata has no token_endpoint")
	}
	for _, e := range m.endpoints() {
		if e.url == "" {
			continue
		}
		if err := urlcheck.Endpoint(e.url, allowInsecureLoopback); err != nil {
			return fmt.Errorf("discovery: %s %w", e.name, err)
		}
	}
	if m.CodeChallengeMethodsSupported != nil && !slices.Contains(m.CodeChallengeMethodsSupported, "S256") {
		// RFC 7636 §4.2: plain offers no protection if the request leaks,
		// and sesame never falls back to it (requirement 8).
		return fmt.Errorf("discovery: the server does not offer PKCE with S256 (code_challenge_methods_supported: %s)",
			listForError(m.CodeChallengeMethodsSupported))
	}
	if m.ResponseTypesSupported != nil && !slices.Contains(m.ResponseTypesSupported, "code") {
		// The authorization code flow is the only one sesame uses
		// (RFC 9700 §2.1.2, requirement 10).
		return fmt.Errorf("discovery: the server does not offer the authorization code flow (response_types_supported: %s)",
			listForError(m.ResponseTypesSupported))
	}
	return nil
}

type namedEndpoint struct{ name, url string }

// endpoints lists every URL field, in document order, for validation.
func (m *Metadata) endpoints() []namedEndpoint {
	return []namedEndpoint{
		{"authorization_endpoint", m.AuthorizationEndpoint},
		{"token_endpoint", m.TokenEndpoint},
		{"device_authorization_endpoint", m.DeviceAuthorizationEndpoint},
		{"revocation_endpoint", m.RevocationEndpoint},
		{"introspection_endpoint", m.IntrospectionEndpoint},
		{"userinfo_endpoint", m.UserinfoEndpoint},
		{"jwks_uri", m.JWKSURI},
		{"registration_endpoint", m.RegistrationEndpoint},
		{"pushed_authorization_request_endpoint", m.PushedAuthorizationRequestEndpoint},
	}
}

// listForError renders a server-provided list for a one-line message.
func listForError(values []string) string {
	return redact.UntrustedText("[" + strings.Join(values, ", ") + "]")
}

// OAuth2Config returns an x/oauth2 configuration for a public client
// (RFC 6749 §2.1): no secret, and client_id in the request body
// (AuthStyleInParams). x/oauth2's default, auto-detection, first tries
// HTTP Basic and on failure sends the same request again, which spends a
// code or a rotating refresh token twice. The redirect URL is left to the
// flow that owns the listener.
func (m *Metadata) OAuth2Config(clientID string, scopes []string) oauth2.Config {
	return oauth2.Config{
		ClientID: clientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:       m.AuthorizationEndpoint,
			TokenURL:      m.TokenEndpoint,
			DeviceAuthURL: m.DeviceAuthorizationEndpoint,
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		Scopes: slices.Clone(scopes),
	}
}
