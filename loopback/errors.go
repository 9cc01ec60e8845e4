package loopback

import (
	"errors"
	"strings"

	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// The Op of the flow's *oauthwire.Error values, for callers that tell the
// requests apart: an invalid_client from the pushed request means the
// server does not know the client, from the code exchange that it wants
// the client to authenticate.
const (
	OpAuthorization = opAuthorization
	OpExchange      = opExchange
	OpPAR           = opPAR
)

// ErrIssuerMismatch reports an authorization response whose RFC 9207 iss
// parameter is wrong, missing although the server announced it, or present
// although the server never announced it. Such a response may come from a
// mix-up attack (RFC 9700 §4.4), so nothing else in it is trusted: its code is
// not redeemed and its error fields are neither kept nor shown.
var ErrIssuerMismatch = errors.New("authorization response came from an unexpected issuer")

// ErrTimeout reports that no authorization response arrived before the flow's
// deadline. The listener is closed when it is returned.
var ErrTimeout = errors.New("timed out waiting for the browser to complete sign-in")

// ErrPortInUse reports that a fixed callback port could not be bound because
// another socket holds it. The flow does not pick another port: the user chose
// this one, most likely to match an SSH tunnel or a registered redirect URI.
var ErrPortInUse = errors.New("callback port is already in use")

// ErrOpenBrowser reports that Config.Opener failed while there was no
// Config.OnAuthURL to show the URL instead, so the user had no way to go on.
var ErrOpenBrowser = errors.New("cannot open the browser")

// ErrMalformedResponse reports an authorization response that carried the
// right state and iss but neither a code nor an error (RFC 6749 §4.1.2). The
// state is spent by then, so the flow ends.
var ErrMalformedResponse = errors.New("authorization response carried neither a code nor an error")

// RedirectURIError is a pushed authorization request (RFC 9126 §2.3) the
// server refused for its redirect URI. A plain authorization request would
// meet the same refusal on the server's error page, with sesame waiting
// for a callback that never comes, so the flow ends at once. Servers that
// compare redirect URIs exactly, port included, against RFC 8252 §7.3
// (LemonLDAP::NG), take only a registered fixed port.
type RedirectURIError struct {
	// RedirectURI is the one refused, e.g. "http://127.0.0.1:53123/callback".
	RedirectURI string
	// Port is the port the caller asked for; 0 when the OS chose it.
	Port int
	// Err is the server's refusal.
	Err error
}

func (e *RedirectURIError) Error() string { return e.Err.Error() }
func (e *RedirectURIError) Unwrap() error { return e.Err }

// refusedForEveryRequest reports whether a PAR refusal would meet a plain
// authorization request too, so falling back would only show the person
// the server's error page: the client is unknown (invalid_client), or its
// redirect URI is refused (invalid_redirect_uri, oidc-provider's code; an
// invalid_request naming redirect_uri, Keycloak's and others').
func refusedForEveryRequest(err error) (client, redirect bool) {
	e, ok := oauthwire.As(err)
	if !ok || !e.Answered() || e.Status >= 500 {
		return false, false
	}
	switch {
	case e.HasCode(oauthwire.CodeInvalidClient):
		return true, false
	case e.HasCode("invalid_redirect_uri"):
		return false, true
	case e.HasCode(oauthwire.CodeInvalidRequest) && strings.Contains(strings.ToLower(e.Description), "redirect_uri"):
		return false, true
	}
	return false, false
}
