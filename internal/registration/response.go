package registration

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"

	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// Client is what the server registered (RFC 7591 §3.2.1, RFC 7592 §3).
type Client struct {
	ClientID                string
	RegistrationAccessToken string // secret: keychain only
	RegistrationClientURI   string // "" when the server gave none or it failed the checks below
}

// registered is the client information response of RFC 7591 §3.2.1 and
// RFC 7592 §3, reduced to the members sesame uses or checks.
//
// ClientSecret is decoded as any so that its presence is seen whatever its
// type; the optional members it checks are pointers so that "absent" (or
// null) can be told from "present and wrong".
type registered struct {
	ClientID                string    `json:"client_id"`
	ClientSecret            any       `json:"client_secret"`
	RegistrationAccessToken string    `json:"registration_access_token"`
	RegistrationClientURI   string    `json:"registration_client_uri"`
	TokenEndpointAuthMethod *string   `json:"token_endpoint_auth_method"`
	ApplicationType         *string   `json:"application_type"`
	RedirectURIs            *[]string `json:"redirect_uris"`
}

// Reasons a successful response is refused. None quotes the response: the
// values are the server's and could be anything, including the secret
// that was refused.
var (
	errNoClientID   = errors.New("client registration refused: the server returned no client_id")
	errBadClientID  = errors.New("client registration refused: the server returned a client_id that is not 1 to 512 visible ASCII characters")
	errClientSecret = errors.New("client registration refused: the server issued a client secret, which a public client cannot keep (RFC 8252 §8.4)")
	errAuthMethod   = errors.New(`client registration refused: the server registered a token endpoint authentication method other than "none" (RFC 8252 §8.4)`)
	errAppType      = errors.New(`client registration refused: the server registered an application_type other than "native"`)
	errRedirectURIs = errors.New("client registration refused: the server registered redirect URIs other than the ones sent (RFC 7591 §3.2.1)")
)

// parseRegistered decodes a client information response.
func parseRegistered(resp *oauthwire.Response) (*registered, error) {
	var reg *registered
	// The decoder's own messages can quote a character of the body, so
	// only sesame's words are returned.
	if json.Unmarshal(resp.Body, &reg) != nil || reg == nil {
		return nil, resp.Unusable("it is not a JSON object of client information (RFC 7591 §3.2.1)")
	}
	return reg, nil
}

// check compares the response with the request. The server may change
// metadata it does not accept (RFC 7591 §3.2.1), but sesame must not run
// as a client it did not ask to be, so any change to the members below is
// a refusal rather than something to adapt to.
func (reg *registered) check(r Request) error {
	switch {
	case reg.hasSecret():
		return errClientSecret
	case reg.TokenEndpointAuthMethod != nil && *reg.TokenEndpointAuthMethod != tokenEndpointAuthMethod:
		return errAuthMethod
	case reg.ClientID == "":
		return errNoClientID
	case !visibleASCII(reg.ClientID, maxClientIDLen):
		return errBadClientID
	case reg.ApplicationType != nil && *reg.ApplicationType != applicationType:
		return errAppType
	case reg.RedirectURIs != nil && !sameSet(*reg.RedirectURIs, r.RedirectURIs):
		return errRedirectURIs
	}
	return nil
}

// hasSecret reports whether the response carries a client secret. An
// empty string or null, which some servers send to public clients, is no
// secret; any other value, of any type, is.
func (reg *registered) hasSecret() bool {
	s, isString := reg.ClientSecret.(string)
	empty := isString && s == ""
	return reg.ClientSecret != nil && !empty
}

// sameSet reports whether a and b hold the same strings, compared exactly
// (RFC 6749 §3.1.2.3 compares redirect URIs as strings) but in any order
// and ignoring repeats: RFC 7591 gives the order no meaning.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// client returns what sesame keeps of an accepted response: the
// management URI and its token only as [management] allows.
func (reg *registered) client(endpoint *url.URL) *Client {
	uri, token := management(endpoint, reg.RegistrationClientURI, reg.RegistrationAccessToken)
	return &Client{
		ClientID:                reg.ClientID,
		RegistrationAccessToken: token,
		RegistrationClientURI:   uri,
	}
}
