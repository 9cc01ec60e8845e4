package registration

import "encoding/json"

// Request is the client metadata sesame registers (RFC 7591 §2).
//
// It holds only what differs between installations; the members that make
// sesame a public native client are fixed in [metadata] and cannot be
// changed by a caller.
type Request struct {
	ClientName   string   // e.g. "sesame"
	RedirectURIs []string // e.g. http://127.0.0.1/callback and http://[::1]/callback (RFC 8252 §7.3 any port)
	GrantTypes   []string // e.g. authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code
	Scope        string   // optional, space separated
}

// Fixed metadata values. A public client cannot authenticate at the token
// endpoint (RFC 7591 §2 "none", RFC 8252 §8.4), runs on the user's device
// (OpenID Connect Dynamic Client Registration 1.0 §2, application_type)
// and uses only the code flow (RFC 7591 §2.1, RFC 8252 §6).
const (
	applicationType         = "native"
	tokenEndpointAuthMethod = "none"
	responseTypeCode        = "code"
)

// metadata is the JSON document of RFC 7591 §3.1. Optional members the
// caller left empty are omitted rather than sent empty, so a server applies
// its own defaults (RFC 7591 §2).
type metadata struct {
	ClientName              string   `json:"client_name,omitempty"`
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	ApplicationType         string   `json:"application_type"`
	Scope                   string   `json:"scope,omitempty"`
}

// encode returns the registration request body for r with the fixed
// members set.
func (r Request) encode() ([]byte, error) {
	return json.Marshal(metadata{
		ClientName:              r.ClientName,
		RedirectURIs:            r.RedirectURIs,
		GrantTypes:              r.GrantTypes,
		ResponseTypes:           []string{responseTypeCode},
		TokenEndpointAuthMethod: tokenEndpointAuthMethod,
		ApplicationType:         applicationType,
		Scope:                   r.Scope,
	})
}
