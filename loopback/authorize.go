package loopback

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// secretBytes is the entropy of state and nonce: 256 bits, twice the 128 bits
// RFC 6749 §10.10 and requirements 7 and 9 ask for, at no cost.
const secretBytes = 32

// attemptSecrets are the per-attempt values that bind the authorization
// response and the token response to this attempt and nothing else. They
// live only in memory, inside one call to Flow.Token.
type attemptSecrets struct {
	state    string // RFC 6749 §10.12: binds the response to this request
	verifier string // RFC 7636 §4.1: proves we made the request when redeeming
	nonce    string // OIDC Core §3.1.2.1: binds the ID token; "" without openid
}

func newAttemptSecrets(openid bool) attemptSecrets {
	s := attemptSecrets{
		state:    newSecret(),
		verifier: oauth2.GenerateVerifier(),
	}
	if openid {
		s.nonce = newSecret()
	}
	return s
}

// list returns the secrets and the PKCE challenge, which no error may
// quote: the challenge is not secret on the wire, but it ties a message to
// this attempt.
func (s attemptSecrets) list() []string {
	return []string{s.state, s.nonce, oauth2.S256ChallengeFromVerifier(s.verifier), s.verifier}
}

// newSecret returns 32 bytes from crypto/rand, base64url-encoded without
// padding (43 characters, all URL-safe). crypto/rand.Read never fails on
// supported platforms (it panics instead), so there is no error to return.
func newSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authCodeURL builds the authorization request (RFC 6749 §4.1.1) with
// response_type=code, the S256 challenge (RFC 7636 §4.3; never plain, RFC 9700
// §2.1.1), state, the nonce when openid is requested, then the caller's extra
// parameters, which New has checked do not collide with ours.
func (f *Flow) authCodeURL(c *oauth2.Config, s attemptSecrets) string {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(s.verifier)}
	if s.nonce != "" {
		opts = append(opts, oauth2.SetAuthURLParam("nonce", s.nonce))
	}
	u := c.AuthCodeURL(s.state, opts...)
	if len(f.cfg.AuthParams) > 0 {
		// Appended rather than passed as options so that repeated
		// parameters, such as several RFC 8707 resource values, survive.
		u += "&" + f.cfg.AuthParams.Encode()
	}
	return u
}

// withConsentPrompt adds prompt=consent to params for an OpenID request of
// offline_access (OpenID Connect Core §11), unless off or params already
// name a prompt. Without openid the request is plain OAuth, where prompt
// means nothing and offline_access is the server's own convention.
func withConsentPrompt(params url.Values, scopes []string, off bool) url.Values {
	if off || params.Has("prompt") || !slices.Contains(scopes, "openid") || !slices.Contains(scopes, "offline_access") {
		return params
	}
	if params == nil {
		params = url.Values{}
	}
	params.Set("prompt", "consent")
	return params
}

var errUnsafeAuthURL = errors.New("refusing to open an authorization url that is not the configured authorization endpoint")

// checkOpenURL is the last look before a URL goes to the browser opener
// (RFC 8252 §8.12; requirement 13). The URL must begin with the
// configured authorization endpoint followed by its query, must be https
// (http only for a loopback test server the caller allowed), and must not
// begin with '-', which an opener that runs a program could take as an option.
// New has validated the endpoint already; this guards the string we actually
// hand over.
//
// A pushed request (RFC 9126 §4) carries exactly client_id and request_uri;
// any other carries response_type=code once.
func checkOpenURL(authURL, endpoint string, allowInsecure, pushed bool) error {
	if strings.HasPrefix(authURL, "-") || !strings.HasPrefix(authURL, endpoint) {
		return errUnsafeAuthURL
	}
	if rest := authURL[len(endpoint):]; rest == "" || (rest[0] != '?' && rest[0] != '&') {
		return errUnsafeAuthURL
	}
	u, err := url.Parse(authURL)
	if err != nil || u.Fragment != "" || u.User != nil {
		return errUnsafeAuthURL
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
	case u.Scheme == "http" && allowInsecure && urlcheck.IsLoopbackIP(u.Hostname()):
	default:
		return errUnsafeAuthURL
	}
	q := u.Query()
	if pushed {
		if len(q) != 2 || len(q["client_id"]) != 1 || len(q["request_uri"]) != 1 {
			return errUnsafeAuthURL
		}
		return nil
	}
	if q.Get("response_type") != "code" || len(q["response_type"]) != 1 {
		return errUnsafeAuthURL
	}
	return nil
}
