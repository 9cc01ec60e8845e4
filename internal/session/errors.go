package session

import (
	"errors"
	"net/http"
	"strings"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/redact"
)

// RefreshError is a refresh that failed without ending the grant: the
// stored refresh token is kept.
type RefreshError struct{ Err error }

func (e *RefreshError) Error() string {
	var re *oauth2.RetrieveError
	if errors.As(e.Err, &re) {
		// Never the body: it may quote what was sent.
		if re.ErrorCode != "" {
			// Requirement 16: server text is untrusted on a terminal.
			return "refresh failed: the server answered " + redact.Sanitize(re.ErrorCode)
		}
		return "refresh failed: the server answered " + http.StatusText(re.Response.StatusCode)
	}
	msg := e.Err.Error()
	if strings.HasPrefix(msg, "oauth2: cannot parse ") {
		// x/oauth2 formats a 2xx body it cannot parse with %v of the
		// encoding/json or net/url error, which quotes the body (a
		// json.Number error quotes a whole string value): never the body.
		return "refresh failed: the server's answer is not a token response"
	}
	return "refresh failed: " + msg
}
func (e *RefreshError) Unwrap() error { return e.Err }

// isAuthoritative reports whether err is an OAuth error response from the
// token endpoint (RFC 6749 §5.2), as opposed to a lost or garbled answer.
func isAuthoritative(err error) bool {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return false
	}
	return re.ErrorCode != "" || (re.Response != nil && re.Response.StatusCode < 500)
}

func isInvalidGrant(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == "invalid_grant"
}
