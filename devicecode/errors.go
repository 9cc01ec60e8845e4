package devicecode

import (
	"errors"
	"strconv"
	"strings"

	"github.com/sesame-auth/sesame/internal/redact"
)

// RFC 8628 §3.5 error codes of the device access token response.
const (
	codeAuthorizationPending = "authorization_pending"
	codeSlowDown             = "slow_down"
	codeAccessDenied         = "access_denied"
	codeExpiredToken         = "expired_token"
)

// ErrDenied reports that the person refused the request on the verification
// page: the token endpoint answered access_denied (RFC 8628 §3.5). The flow
// stops at once. The error Token returns is an *Error with Code
// "access_denied"; errors.Is(err, ErrDenied) holds for it.
var ErrDenied = errors.New("sign-in was denied")

// ErrExpired reports that the device code expired before the person approved
// the request, either because the token endpoint said expired_token (RFC 8628
// §3.5; the error is then an *Error) or because expires_in passed on our clock
// (then the error is ErrExpired itself, or wraps it together with the
// connection failure of the last poll). The flow never starts a new device authorization by itself
// (requirement 43): only the person can decide to try again.
var ErrExpired = errors.New("device code expired before sign-in was approved")

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
// required field, or larger than 1 MiB. The error wraps it with the reason and
// is an *Error.
var ErrInvalidResponse = errors.New("malformed response from the authorization server")

// Error is a failed request to the device authorization endpoint (RFC 8628
// §3.2) or a poll of the token endpoint (RFC 8628 §3.5) that ended the flow.
//
// It keeps the server's error code, a sanitized description and the HTTP
// status, never the response body: a misbehaving server may echo the device
// code or PKCE verifier back, and its text travels to terminals and logs
// (requirement 16). errors.Is(err, ErrDenied) and
// errors.Is(err, ErrExpired) hold for the codes access_denied and
// expired_token.
type Error struct {
	// Op is "device authorization" or "token".
	Op string
	// Status is the HTTP status of the response, or 0 when none arrived.
	Status int
	// Code is the RFC 6749 §5.2 error parameter, e.g. "invalid_grant",
	// sanitized. It is empty when the server sent no error code.
	Code string
	// Description is error_description with control characters removed,
	// any secret of the flow replaced by "REDACTED", capped at 200 runes.
	// error_uri is not kept: nothing the server names is ever opened.
	Description string
	// Err is the transport or parsing error when the server sent no RFC 6749
	// error response; nil otherwise. Its text is scrubbed the same way
	// before Error quotes it.
	Err error

	errText string // scrubbed text of Err
}

func (e *Error) Error() string {
	s := e.Op + " request failed"
	switch {
	case e.Code != "":
		s += ": " + e.Code
		if e.Description != "" {
			s += ": " + e.Description
		}
	case e.Err != nil && e.errText != "":
		s += ": " + e.errText
	case e.Status != 0:
		s += ": http status " + strconv.Itoa(e.Status)
	}
	return s
}

// Unwrap exposes transport errors (timeouts, TLS failures) and
// ErrInvalidResponse to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// Is makes access_denied match ErrDenied and expired_token match ErrExpired.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrDenied:
		return e.Code == codeAccessDenied
	case ErrExpired:
		return e.Code == codeExpiredToken
	}
	return false
}

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

// scrubber removes the flow's secrets from server and transport text before
// it reaches an error. Redaction by field name (redact.UntrustedText) does
// not catch a bare echo of the device code in an error_description, so the
// known values are replaced first.
type scrubber []string

func (s scrubber) text(t string) string {
	for _, secret := range s {
		if secret != "" {
			t = strings.ReplaceAll(t, secret, redact.Placeholder)
		}
	}
	return redact.UntrustedText(t)
}

// newError builds the *Error for a failed request. code and description come
// from the server; err from the transport or parser.
func (s scrubber) newError(op string, status int, code, description string, err error) *Error {
	e := &Error{
		Op:          op,
		Status:      status,
		Code:        s.text(code),
		Description: s.text(description),
		Err:         err,
	}
	if err != nil {
		e.errText = s.text(err.Error())
	}
	return e
}
