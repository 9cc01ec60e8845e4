package tokensource

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/keychain"
)

// ErrLoginRequired means the profile has no usable grant: nothing stored,
// a record bound to another configuration, or a grant the server ended.
// The CLI turns it into exit code 4 with a "sesame login" hint.
var ErrLoginRequired = errors.New("login required")

// LoginRequiredError says why a login is required.
type LoginRequiredError struct{ Reason string }

func (e *LoginRequiredError) Error() string { return "login required: " + e.Reason }

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

// Source hands out access tokens for one profile.
type Source struct {
	Store   keychain.Store
	Key     string
	Binding Binding
	// HTTPClient returns the client for the refresh request (timeouts, CA,
	// no redirects). It is called only when a refresh is needed, so a warm
	// call never pays for loading CA certificates.
	HTTPClient func() (*http.Client, error)
	// MinTTL is how long the token must still be valid (--min-ttl).
	MinTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CheckIDToken, when set, verifies an ID token returned by a refresh
	// against the stored one (requirement 24) before anything is stored.
	CheckIDToken func(ctx context.Context, stored *keychain.Record, raw string) error
}

// Result is a token handed out, with the record it came from.
type Result struct {
	Record    *keychain.Record
	Refreshed bool
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Token returns a fresh access token: from the keychain record when it is
// fresh (no network, no keychain write), else after one refresh whose result
// is stored before Token returns.
func (s *Source) Token(ctx context.Context) (*Result, error) {
	rec, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	if Fresh(rec, s.now(), s.MinTTL) {
		return &Result{Record: rec}, nil
	}
	return s.refresh(ctx, rec)
}

// load reads the profile's record and checks its binding.
func (s *Source) load(ctx context.Context) (*keychain.Record, error) {
	rec, err := s.Store.Get(ctx, s.Key)
	if errors.Is(err, keychain.ErrNotFound) {
		return nil, &LoginRequiredError{Reason: fmt.Sprintf("profile %q has no stored grant", s.Binding.Profile)}
	}
	if err != nil {
		return nil, err
	}
	if !s.Binding.Matches(rec) {
		// Requirement 39: never send a refresh token to a server or client
		// other than the one it was issued for.
		return nil, &LoginRequiredError{Reason: fmt.Sprintf("the stored grant of profile %q was issued for another issuer or client", s.Binding.Profile)}
	}
	return rec, nil
}

// refresh redeems rec's refresh token once (RFC 6749 §6) and stores the
// result before returning it.
func (s *Source) refresh(ctx context.Context, rec *keychain.Record) (*Result, error) {
	if rec.RefreshToken == "" {
		return nil, &LoginRequiredError{Reason: fmt.Sprintf("the access token of profile %q expired and the server gave no refresh token", s.Binding.Profile)}
	}
	tok, err := s.redeem(ctx, rec)
	if err != nil && !isAuthoritative(err) {
		// Requirement 27: the server may have rotated the token and the
		// answer was lost; one prompt retry lands inside a reuse-grace
		// window. Never loop.
		tok, err = s.redeem(ctx, rec)
	}
	if err != nil {
		if isInvalidGrant(err) {
			return nil, s.dropGrant(ctx, rec)
		}
		return nil, &RefreshError{Err: err}
	}
	now := s.now()
	if id, ok := tok.Extra("id_token").(string); ok && id != "" && s.CheckIDToken != nil {
		if err := s.CheckIDToken(ctx, rec, id); err != nil {
			return nil, err
		}
	}
	next := *rec
	Apply(&next, tok, now)
	if err := s.Store.Set(ctx, s.Key, &next); err != nil {
		return nil, &SessionLostError{Err: err}
	}
	return &Result{Record: &next, Refreshed: true}, nil
}

// redeem sends one refresh request.
func (s *Source) redeem(ctx context.Context, rec *keychain.Record) (*oauth2.Token, error) {
	cfg := oauth2.Config{
		ClientID: rec.ClientID,
		Endpoint: oauth2.Endpoint{TokenURL: rec.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams},
	}
	if s.HTTPClient != nil {
		client, err := s.HTTPClient()
		if err != nil {
			return nil, err
		}
		ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
	}
	return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rec.RefreshToken}).Token()
}

// dropGrant handles invalid_grant (requirement 28): the grant is deleted
// only if the store still holds the rejected refresh token, so a token
// another process has just rotated in is never lost.
func (s *Source) dropGrant(ctx context.Context, rejected *keychain.Record) error {
	cur, err := s.Store.Get(ctx, s.Key)
	if err == nil && cur.RefreshToken == rejected.RefreshToken {
		if err := s.Store.Delete(ctx, s.Key); err != nil {
			return err
		}
	}
	return &LoginRequiredError{Reason: "the server refused the stored grant (revoked, expired or reused: if you did not log out, check your other machines)"}
}
