package loopback

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxServerText caps any text we keep from the authorization server. RFC 6749
// gives error_description no length limit, and a terminal line is a poor place
// for a novel written by an attacker (requirement 16).
const maxServerText = 200

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

// AuthError is an error response from the authorization endpoint (RFC 6749
// §4.1.2.1), such as access_denied. It is returned only after state and iss
// have been checked, so its fields come from the server the flow talked to.
// They are still untrusted text and are sanitized before they are stored.
type AuthError struct {
	// Code is the error parameter, e.g. "access_denied".
	Code string
	// Description is error_description, stripped of control characters and
	// markup brackets and capped at 200 characters.
	Description string
	// URI is error_uri, kept as inert text: it is never opened, and it is
	// left out of Error so that a terminal does not turn it into a link.
	URI string
}

func (e *AuthError) Error() string {
	s := "authorization server denied the request: " + quoteCode(e.Code)
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// ExchangeError is a failed token request for the authorization code (RFC 6749
// §4.1.3, §5.2). It keeps only the server's error code, a sanitized
// description and the HTTP status. The raw response body never enters it:
// oauth2.RetrieveError quotes the body in its message, and a misbehaving
// server may echo the code or verifier back (requirements 16, 37).
type ExchangeError struct {
	// Status is the HTTP status of the token response, or 0 when no response
	// arrived.
	Status int
	// Code is the RFC 6749 §5.2 error parameter, e.g. "invalid_grant".
	Code string
	// Description is error_description, sanitized like AuthError's.
	Description string
	// Err is the transport or parsing error when the server sent no RFC 6749
	// error response; nil otherwise.
	Err error
}

func (e *ExchangeError) Error() string {
	switch {
	case e.Code != "":
		s := "token request failed: " + quoteCode(e.Code)
		if e.Description != "" {
			s += ": " + e.Description
		}
		return s
	case e.Status != 0:
		return "token request failed: http status " + strconv.Itoa(e.Status)
	case e.Err != nil:
		return "token request failed: " + e.Err.Error()
	default:
		return "token request failed"
	}
}

// Unwrap exposes transport errors (timeouts, cancellation, TLS failures) so
// callers can test for them with errors.Is. It never returns the
// oauth2.RetrieveError, whose message contains the response body.
func (e *ExchangeError) Unwrap() error { return e.Err }

func quoteCode(code string) string {
	if code == "" {
		return "(no error code)"
	}
	return code
}

// sanitize turns text chosen by the authorization server into something safe
// to show on a terminal or to embed in JSON that an editor might render.
//
// RFC 6749 §4.1.2.1 limits error_description to printable ASCII, but a hostile
// server ignores that, and its text reaches a terminal through our error
// strings. So we keep only printable runes: C0 and C1 controls (ESC among
// them, the start of every terminal escape sequence), DEL, Unicode format
// characters (bidi overrides that reorder what the user reads) and invalid
// UTF-8 are dropped; other white space becomes one space. '<' and '>' are
// dropped too, so the text can never become markup wherever it ends up
// (requirement 16). The result is capped at 200 runes.
func sanitize(s string) string {
	var b strings.Builder
	n := 0
	lastSpace := true // trims leading space and collapses runs
	for i := 0; i < len(s) && n < maxServerText; {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1:
			continue
		case r == '<' || r == '>':
			continue
		case unicode.IsSpace(r):
			if lastSpace {
				continue
			}
			b.WriteByte(' ')
			lastSpace = true
			n++
		case unicode.IsPrint(r):
			b.WriteRune(r)
			lastSpace = false
			n++
		}
	}
	return strings.TrimRight(b.String(), " ")
}
