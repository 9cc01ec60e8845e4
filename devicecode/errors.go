package devicecode

import (
	"errors"

	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// ErrDenied reports that the person refused the request on the verification
// page: the token endpoint answered access_denied (RFC 8628 §3.5). The flow
// stops at once. The error Token returns is the *oauthwire.Error with Code
// "access_denied"; errors.Is(err, ErrDenied) holds for it.
var ErrDenied = oauthwire.Sentinel(oauthwire.CodeAccessDenied, "sign-in was denied")

// ErrExpired reports that the device code expired before the person approved
// the request, either because the token endpoint said expired_token (RFC 8628
// §3.5; the error is then the *oauthwire.Error, and errors.Is(err,
// ErrExpired) holds for it) or because expires_in passed on our clock (then
// the error is ErrExpired itself, or wraps it together with the connection
// failure of the last poll). The flow never starts a new device
// authorization by itself (requirement 43): only the person can decide to
// try again.
var ErrExpired = oauthwire.Sentinel(oauthwire.CodeExpiredToken, "device code expired before sign-in was approved")

// ErrVerificationURI reports a verification_uri that the flow refuses to show:
// not https, starting with '-', carrying user information, control or format
// characters, or a host that is not a plain DNS name or IP literal
// (requirements 13, 20, 42). The error wraps it with the reason.
var ErrVerificationURI = errors.New("unsafe verification uri")

// ErrVerificationHost reports a verification page on another registrable
// domain than the issuer's, not allowlisted and not accepted with
// Config.AcceptVerificationHost (requirement 42). The error Token
// returns is a *VerificationHostError.
var ErrVerificationHost = errors.New("verification page is not on the issuer's domain")

// ErrInvalidResponse reports a device authorization or token response that is
// not what RFC 8628 §3.2 or RFC 6749 §5.1 describe: not JSON, missing a
// required field, or larger than 1 MiB. It is oauthwire.ErrUnusable: the
// error is the *oauthwire.Error that names the reason.
var ErrInvalidResponse = oauthwire.ErrUnusable

// VerificationHostError is ErrVerificationHost with the hosts involved, so
// the caller can warn loudly and tell the person which flag or allowlist
// entry would accept the page (requirement 42). The user code is
// deliberately not part of it: a person who never sees the code cannot enter
// it on a phishing page.
type VerificationHostError struct {
	// Host is the verification page's host name in ASCII (punycode).
	Host string
	// HostUnicode is Host with punycode labels decoded; equal to Host when
	// there are none.
	HostUnicode string
	// Domain and IssuerDomain are the registrable domains that differ.
	Domain, IssuerDomain string
}

func (e *VerificationHostError) Error() string {
	host := e.Host
	if e.HostUnicode != e.Host {
		host += " (" + e.HostUnicode + ")"
	}
	return "verification page " + host + " is not on the issuer's domain " + e.IssuerDomain
}

// Unwrap makes errors.Is(err, ErrVerificationHost) hold.
func (e *VerificationHostError) Unwrap() error { return ErrVerificationHost }
