package oauthwire

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// OAuth error codes (RFC 6749 §4.1.2.1, §5.2; RFC 8628 §3.5; RFC 9449 §8)
// that sesame acts on.
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeInvalidGrant         = "invalid_grant"
	CodeUnauthorizedClient   = "unauthorized_client"
	CodeAccessDenied         = "access_denied"
	CodeAuthorizationPending = "authorization_pending"
	CodeSlowDown             = "slow_down"
	CodeExpiredToken         = "expired_token"
	CodeUseDPoPNonce         = "use_dpop_nonce"
)

var (
	// ErrUnusable is matched (errors.Is) by the [*Error] of an answer that
	// is not the document expected: a successful answer that is not JSON
	// or a form, an access token response without access_token; or any
	// answer over [MaxBody]. The error names the reason in sesame's words
	// and never quotes the body, which may hold tokens.
	ErrUnusable = errors.New("the server's answer is unusable")

	// ErrRedirect is matched by the [*Error] of a 3xx answer, which is
	// never followed. The error names the status.
	ErrRedirect = errors.New("the server answered with a redirect")
)

// Error is a request to an OAuth endpoint that failed: refused by the
// server (an error code, a status other than 2xx), answered with
// something unusable, or never answered.
//
// Code, Description and URI are the server's error, error_description
// and error_uri, without the request's secrets, sanitized for a terminal
// and capped at 200 runes; any may be empty. URI is kept as inert text: it
// is never opened, and Error leaves it out.
type Error struct {
	// Op is what sesame was doing: "code exchange", "token refresh", ...
	Op string
	// Status is the HTTP status of the answer, or 0 when none came (or for
	// an authorization response, which comes through the browser).
	Status int
	// Code is the OAuth error code, e.g. "invalid_grant".
	Code string
	// Description is error_description.
	Description string
	// URI is error_uri.
	URI string
	// Err is the cause when the server sent no OAuth error: a transport
	// failure (reachable for errors.Is and errors.As: a deadline, a TLS
	// error), [ErrRedirect], or [ErrUnusable] with a reason.
	Err error

	text string // Err's text without the request's secrets
}

// NewError returns the [*Error] for an OAuth error the server sent: code,
// description and uri are its words, cleaned of secrets and sanitized.
// status is 0 for an authorization response (RFC 6749 §4.1.2.1).
func NewError(op string, status int, code, description, uri string, secrets ...string) *Error {
	return &Error{
		Op:          op,
		Status:      status,
		Code:        serverText(code, secrets),
		Description: serverText(description, secrets),
		URI:         serverText(uri, secrets),
	}
}

// Unusable returns the [*Error] of an answer with the given status that is
// not the document expected, for reason, which is sesame's own words
// ("it has no access_token") and never a part of the answer.
func Unusable(op string, status int, reason string) *Error {
	return newCause(op, status, unusable(reason), nil)
}

// unusable wraps [ErrUnusable] with reason.
func unusable(reason string) error {
	if reason == "" {
		return ErrUnusable
	}
	return &kindError{kind: ErrUnusable, text: ErrUnusable.Error() + ": " + reason}
}

// redirected is [ErrRedirect] naming status.
func redirected(status int) error {
	return &kindError{kind: ErrRedirect, text: "the server answered " + statusText(status) + ", a redirect, which sesame does not follow for this request"}
}

// kindError is a sentinel, for errors.Is, with text in sesame's words.
type kindError struct {
	kind error
	text string
}

func (e *kindError) Error() string { return e.text }
func (e *kindError) Unwrap() error { return e.kind }

// newCause returns the [*Error] whose cause is err, its text cleaned of
// secrets.
func newCause(op string, status int, err error, secrets []string) *Error {
	return &Error{Op: op, Status: status, Err: err, text: serverText(err.Error(), secrets)}
}

// Error reads as one line: what sesame was doing, then what happened, e.g.
// "token refresh: the server refused (400 invalid_grant): token expired".
func (e *Error) Error() string {
	var b strings.Builder
	op := e.Op
	if op == "" {
		op = "oauth request"
	}
	b.WriteString(op)
	b.WriteString(": ")
	code := cleanText(e.Code)
	switch {
	case code != "":
		b.WriteString("the server refused (")
		if e.Status != 0 {
			b.WriteString(strconv.Itoa(e.Status))
			b.WriteByte(' ')
		}
		b.WriteString(code)
		b.WriteByte(')')
	case e.Err != nil:
		text := e.text
		if text == "" {
			// Built by a caller without the constructor.
			text = serverText(e.Err.Error(), nil)
		}
		b.WriteString(text)
		return b.String()
	case e.Status != 0:
		b.WriteString("the server answered ")
		b.WriteString(statusText(e.Status))
	default:
		b.WriteString("the server refused")
	}
	if d := cleanText(e.Description); d != "" {
		b.WriteString(": ")
		b.WriteString(d)
	}
	return b.String()
}

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is makes a [Sentinel] for e's code match e.
func (e *Error) Is(target error) bool {
	s, ok := target.(*sentinel)
	return ok && e.Code != "" && e.Code == s.code
}

// HasCode reports whether the server's error code is one of codes.
func (e *Error) HasCode(codes ...string) bool {
	for _, c := range codes {
		if e.Code != "" && e.Code == c {
			return true
		}
	}
	return false
}

// Answered reports whether the server answered the request over HTTP,
// whatever it said: false for a transport failure, and for an
// authorization response, which has no status.
func (e *Error) Answered() bool { return e.Status != 0 }

// As returns the first [*Error] in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CodeOf returns the OAuth error code of the first [*Error] in err's
// chain, or "".
func CodeOf(err error) string {
	if e, ok := As(err); ok {
		return e.Code
	}
	return ""
}

// Sentinel returns an error value, with text as its message, that
// errors.Is matches against every [*Error] with the OAuth error code code:
// a package's ErrDenied can then stand both for itself and for the
// server's access_denied.
func Sentinel(code, text string) error { return &sentinel{code: code, text: text} }

type sentinel struct{ code, text string }

func (s *sentinel) Error() string { return s.text }

// statusText is "502 Bad Gateway", or the bare number for a status
// without a name.
func statusText(status int) string {
	s := strconv.Itoa(status)
	if t := http.StatusText(status); t != "" {
		s += " " + t
	}
	return s
}
