package session

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/redact"
)

// ErrLoginRequired means the profile has no usable grant: nothing stored,
// a record bound to another configuration, or a grant the server ended.
// The CLI turns it into exit code 4 with a "sesame login" hint.
var ErrLoginRequired = errors.New("login required")

// LoginRequiredError says why a login is required.
type LoginRequiredError struct {
	Reason string
	// Err is the server's refusal, when it refused the grant.
	Err error
}

func (e *LoginRequiredError) Error() string { return "login required: " + e.Reason }
func (e *LoginRequiredError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrLoginRequired) true.
func (e *LoginRequiredError) Is(target error) bool { return target == ErrLoginRequired }

// SessionLostError means a refresh succeeded but its rotated refresh token
// could not be stored: the grant may be lost, and no access token is given
// out (requirement 26).
type SessionLostError struct{ Err error }

func (e *SessionLostError) Error() string {
	return "the refreshed grant could not be saved, the session may be lost: " + e.Err.Error()
}
func (e *SessionLostError) Unwrap() error { return e.Err }

// RefreshError is a refresh that failed without ending the grant: the
// stored refresh token is kept.
type RefreshError struct{ Err error }

func (e *RefreshError) Error() string {
	var re *oauth2.RetrieveError
	if errors.As(e.Err, &re) {
		// Never the body: it may quote what was sent.
		return "refresh failed: " + serverAnswer(re)
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

// serverAnswer says what the token endpoint answered: its error code and
// description, sanitized (requirement 16), or the HTTP status.
func serverAnswer(re *oauth2.RetrieveError) string {
	if re.ErrorCode == "" {
		if re.Response != nil {
			return "the server answered " + http.StatusText(re.Response.StatusCode)
		}
		return "the server answered with an error"
	}
	s := "the server answered " + redact.Sanitize(re.ErrorCode)
	if d := strings.TrimSpace(redact.Sanitize(re.ErrorDescription)); d != "" {
		if len(d) > 200 {
			d = d[:200] + "…"
		}
		s += fmt.Sprintf(" (%q)", d)
	}
	return s
}

// refusalCodes are the OAuth error codes with which real servers refuse a
// refresh token that is spent, expired or revoked. RFC 6749 §5.2 names
// invalid_grant; Gitea answers a reused token with unauthorized_client and
// LemonLDAP::NG an ended session with invalid_request. Each means the
// grant is unusable: a new login is the only way on.
var refusalCodes = map[string]bool{
	"invalid_grant":       true,
	"unauthorized_client": true,
	"invalid_request":     true,
}

// refusal returns the server's error answer when err is a definite refusal
// of the grant.
func refusal(err error) (*oauth2.RetrieveError, bool) {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && refusalCodes[re.ErrorCode] && re.Response != nil && re.Response.StatusCode < 500 {
		return re, true
	}
	return nil, false
}

// isAnswer reports whether err is an answer from the token endpoint that
// says the refresh was not carried out: an OAuth error or another 4xx
// (RFC 6749 §5.2). A 5xx is no such answer: the server may have rotated
// the token and then failed.
func isAnswer(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500
}
