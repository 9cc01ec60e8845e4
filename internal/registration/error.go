package registration

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sesame-auth/sesame/internal/redact"
)

// Error is an error response from the registration endpoint (RFC 7591
// §3.2.2, such as invalid_redirect_uri or invalid_client_metadata) or the
// client configuration endpoint (RFC 7592 §2.3), or any status that is
// neither success nor one of the statuses Delete reports as [ErrGone].
//
// Code and Description are the server's error and error_description,
// sanitized for a terminal, redacted and capped at 200 bytes;
// either may be empty. Error names only Code and Status: a description is
// free text from the server, so a caller shows it only deliberately.
type Error struct {
	Status      int
	Code        string
	Description string
}

// Error implements error, e.g.
// "client registration refused: invalid_redirect_uri (HTTP 400)".
func (e *Error) Error() string {
	// Sanitized again because a caller may have built the Error itself;
	// Sanitize is idempotent on text that already went through it.
	if code := redact.Sanitize(e.Code); code != "" {
		return fmt.Sprintf("client registration refused: %s (HTTP %d)", code, e.Status)
	}
	return fmt.Sprintf("client registration refused (HTTP %d)", e.Status)
}

// maxServerText caps, in bytes, the server text an [Error] carries.
const maxServerText = 200

// errorBody is the error response of RFC 7591 §3.2.2 (the RFC 6749 §5.2
// shape, which RFC 7592 §2.3 reuses).
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// newError builds the [*Error] for status from an error body. The body is
// read best effort: an empty, oversized or non-JSON body still gives the
// status. secret, when not empty, is a credential the request carried; the
// server's text is dropped of it in case the server echoes it back.
func newError(status int, body []byte, secret string) *Error {
	e := &Error{Status: status}
	var b errorBody
	if json.Unmarshal(body, &b) != nil {
		return e
	}
	e.Code = serverText(b.Error, secret)
	e.Description = serverText(b.ErrorDescription, secret)
	return e
}

// serverText makes s, a string from a server, fit for an error: the
// secret removed, controls and escape sequences stripped, known secret
// shapes redacted (redact.UntrustedText) and the length capped.
//
// The secret is removed both before sanitizing, so that capping can never
// cut an echoed secret in half and keep a part of it, and after, so that a
// secret broken up by control characters is caught once they are gone.
func serverText(s, secret string) string {
	s = scrub(s, secret)
	s = scrub(redact.UntrustedText(s), secret)
	return capBytes(s, maxServerText)
}

// scrub replaces every occurrence of secret in s with redact.Placeholder.
func scrub(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, redact.Placeholder)
}

// capBytes shortens s to at most n bytes, cut on a rune boundary and
// ending in "…" when it was cut.
func capBytes(s string, n int) string {
	const ellipsis = "…"
	if len(s) <= n {
		return s
	}
	s = strings.TrimSuffix(s, ellipsis)
	if len(s)+len(ellipsis) <= n {
		return s + ellipsis
	}
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
