package session

import (
	"errors"
	"fmt"

	"github.com/sesame-auth/sesame/internal/oauthwire"
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

// Error reads "token refresh: ...": an *oauthwire.Error names the refresh
// itself, any other cause gets the name in front.
func (e *RefreshError) Error() string {
	if _, ok := oauthwire.As(e.Err); ok {
		return e.Err.Error()
	}
	return opRefresh + ": " + e.Err.Error()
}
func (e *RefreshError) Unwrap() error { return e.Err }

// serverAnswer says what the token endpoint answered when it ended the
// grant: its error code and description, already sanitized by
// internal/oauthwire (requirement 16).
func serverAnswer(e *oauthwire.Error) string {
	s := "the server answered " + e.Code
	if e.Description != "" {
		s += fmt.Sprintf(" (%q)", e.Description)
	}
	return s
}

// refusalCodes are the OAuth error codes with which real servers refuse a
// refresh token that is spent, expired or revoked. RFC 6749 §5.2 names
// invalid_grant; Gitea answers a reused token with unauthorized_client and
// LemonLDAP::NG an ended session with invalid_request. Each means the
// grant is unusable: a new login is the only way on.
var refusalCodes = map[string]bool{
	oauthwire.CodeInvalidGrant:       true,
	oauthwire.CodeUnauthorizedClient: true,
	oauthwire.CodeInvalidRequest:     true,
}

// refusal returns the server's error answer when err is a definite refusal
// of the grant: one of refusalCodes, with any status below 500 (some
// servers answer an error with 200).
func refusal(err error) (*oauthwire.Error, bool) {
	if e, ok := oauthwire.As(err); ok && refusalCodes[e.Code] && e.Answered() && e.Status < 500 {
		return e, true
	}
	return nil, false
}

// isAnswer reports whether err is an answer from the token endpoint that
// says the refresh was not carried out: an OAuth error, a redirect or
// another 4xx (RFC 6749 §5.2). A 5xx is no such answer: the server may
// have rotated the token and then failed; nor is a 2xx that is not a
// token response.
func isAnswer(err error) bool {
	e, ok := oauthwire.As(err)
	if !ok || !e.Answered() || e.Status >= 500 {
		return false
	}
	return e.Code != "" || e.Status >= 300
}
