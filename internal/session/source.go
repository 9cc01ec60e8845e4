package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/dpop"
	"github.com/sesame-auth/sesame/internal/tokencache"
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
	// Cache, when set, is the volatile access-token cache consulted before
	// the keychain and updated after every refresh.
	Cache tokencache.Cache
	// Lock, when set, takes the profile's cross-process lock; it is held
	// around re-read, refresh and write (requirement 29). While it waits
	// it calls ready between attempts; when ready reports true it returns
	// a nil release and a nil error without taking the lock.
	Lock func(ctx context.Context, ready func() bool) (release func(), err error)
	// CheckIDToken, when set, verifies an ID token returned by a refresh
	// against the stored one (requirement 24) before anything is stored.
	CheckIDToken func(ctx context.Context, stored *keychain.Record, raw string) error
	// Accept, when set, is a further condition on a record before it is
	// handed out, besides a fresh access token: kubectl --id-token needs a
	// fresh ID token. A record that fails it is refreshed; if the refresh
	// still leaves it failing, Token returns a LoginRequiredError.
	Accept func(*keychain.Record) bool
	// Resource is the RFC 8707 resource indicator the token is wanted for,
	// sent on every refresh (§2.2); "" sends none. A token for another
	// resource than the one the record's main access token is for is kept
	// in the record's ResourceTokens and cached under its own key.
	Resource string
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

// Token returns a fresh access token: from the volatile cache or the
// keychain record when it is fresh (no network, no keychain write), else
// after one refresh under the profile lock whose result is stored before
// Token returns.
func (s *Source) Token(ctx context.Context) (*Result, error) {
	if rec, ok := s.cached(); ok {
		return &Result{Record: rec}, nil
	}
	if s.Lock != nil && s.hasCache() && s.Accept == nil {
		return s.tokenLockFirst(ctx)
	}
	rec, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	if v := s.view(rec); s.fresh(v) {
		s.remember(v)
		return &Result{Record: v}, nil
	}
	if s.Lock != nil {
		release, err := s.Lock(ctx, nil)
		if err != nil {
			return nil, err
		}
		defer release()
		// Another process may have refreshed while we waited: its token
		// is good, and redeeming the old refresh token now would be a
		// reuse that revokes the whole grant.
		if rec, err = s.load(ctx); err != nil {
			return nil, err
		}
		if v := s.view(rec); s.fresh(v) {
			s.remember(v)
			return &Result{Record: v}, nil
		}
	}
	return s.refresh(ctx, rec)
}

// tokenLockFirst is Token after a cache miss where a volatile cache
// exists: the caller goes to the lock at once and, while it waits, watches
// the cache, where the process that holds the lock puts its result. Fifty
// callers on an expired token thus make one keychain read and one refresh,
// not fifty reads queued on the keychain daemon.
func (s *Source) tokenLockFirst(ctx context.Context) (*Result, error) {
	var hit *keychain.Record
	release, err := s.Lock(ctx, func() bool {
		var ok bool
		hit, ok = s.cached()
		return ok
	})
	if err != nil {
		return nil, err
	}
	if release == nil {
		return &Result{Record: hit}, nil
	}
	defer release()
	rec, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	if v := s.view(rec); s.fresh(v) {
		s.remember(v)
		return &Result{Record: v}, nil
	}
	return s.refresh(ctx, rec)
}

// hasCache reports whether a volatile cache is configured.
func (s *Source) hasCache() bool {
	_, none := s.Cache.(tokencache.None)
	return s.Cache != nil && !none
}

// cached returns the volatile cache's record when it is fresh and bound to
// this profile.
func (s *Source) cached() (*keychain.Record, bool) {
	if s.Cache == nil {
		return nil, false
	}
	e, ok := s.Cache.Get(s.cacheKey())
	if !ok || e.Issuer != s.Binding.Issuer || e.ClientID != s.Binding.ClientID || e.Profile != s.Binding.Profile {
		return nil, false
	}
	rec := &keychain.Record{
		Version: keychain.RecordVersion, Profile: e.Profile, Issuer: e.Issuer, ClientID: e.ClientID,
		AccessToken: e.AccessToken, TokenType: e.TokenType, Scope: e.Scope, Expiry: e.Expiry, Lifetime: e.Lifetime,
		Resource: s.Resource,
	}
	if !s.fresh(rec) {
		return nil, false
	}
	return rec, true
}

// remember puts rec's access token in the volatile cache until its early
// expiry.
func (s *Source) remember(rec *keychain.Record) {
	if s.Cache != nil {
		Remember(s.Cache, s.cacheKey(), rec, s.now())
	}
}

// Remember caches rec's access token under key until its early expiry.
func Remember(c tokencache.Cache, key string, rec *keychain.Record, now time.Time) {
	if rec.AccessToken == "" {
		return
	}
	c.Put(key, &tokencache.Entry{
		Issuer: rec.Issuer, ClientID: rec.ClientID, Profile: rec.Profile,
		AccessToken: rec.AccessToken, TokenType: rec.TokenType, Scope: rec.Scope,
		Expiry: rec.Expiry, Lifetime: rec.Lifetime,
	}, EarlyExpiry(rec).Sub(now))
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
	client, err := s.refreshClient(rec)
	if err != nil {
		return nil, &RefreshError{Err: err}
	}
	tok, err := s.redeem(ctx, client, rec)
	if err != nil && !isAuthoritative(err) {
		// Requirement 27: the server may have rotated the token and the
		// answer was lost; one prompt retry lands inside a reuse-grace
		// window. Never loop.
		tok, err = s.redeem(ctx, client, rec)
	}
	if err != nil {
		if !isInvalidGrant(err) {
			return nil, &RefreshError{Err: err}
		}
		newer, err := s.dropGrant(ctx, rec)
		if err != nil {
			return nil, err
		}
		// Requirement 28: another process rotated the grant after our
		// read (possible only without the lock); its token is the live one.
		if v := s.view(newer); s.fresh(v) {
			s.remember(v)
			return &Result{Record: v}, nil
		}
		return nil, &LoginRequiredError{Reason: "the stored grant changed while it was being refreshed; run the command again"}
	}
	if err := CheckTokenChars(tok); err != nil {
		return nil, &RefreshError{Err: err}
	}
	now := s.now()
	if id, ok := tok.Extra("id_token").(string); ok && id != "" && s.CheckIDToken != nil {
		if err := s.CheckIDToken(ctx, rec, id); err != nil {
			return nil, err
		}
	}
	next := s.apply(rec, tok, now)
	if err := s.Store.Set(ctx, s.Key, next); err != nil {
		return nil, &SessionLostError{Err: err}
	}
	v := s.view(next)
	s.remember(v)
	if s.Accept != nil && !s.Accept(v) {
		return nil, &LoginRequiredError{Reason: "the refresh gave no new ID token, and the stored one has expired"}
	}
	return &Result{Record: v, Refreshed: true}, nil
}

// fresh reports whether v may be handed out: a fresh access token, and
// whatever Accept asks.
func (s *Source) fresh(v *keychain.Record) bool {
	return Fresh(v, s.now(), s.MinTTL) && (s.Accept == nil || s.Accept(v))
}

// refreshClient is the client for rec's refresh requests: the configured
// one, signing with the grant's DPoP key when it is bound to one (RFC 9449
// §5). One client serves a refresh and its retry, so a DPoP nonce learnt
// on the first is used on the second.
func (s *Source) refreshClient(rec *keychain.Record) (*http.Client, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	if s.HTTPClient != nil {
		c, err := s.HTTPClient()
		if err != nil {
			return nil, err
		}
		client = c
	}
	if rec.DPoPKey == "" {
		return client, nil
	}
	key, err := dpop.Parse(rec.DPoPKey)
	if err != nil {
		return nil, fmt.Errorf("the grant's DPoP key is unreadable: %w", err)
	}
	return dpop.Client(client, key, s.Now, rec.TokenEndpoint), nil
}

// redeem sends one refresh request.
func (s *Source) redeem(ctx context.Context, client *http.Client, rec *keychain.Record) (*oauth2.Token, error) {
	r := refreshRequest{
		tokenURL:     rec.TokenEndpoint,
		clientID:     rec.ClientID,
		refreshToken: rec.RefreshToken,
		resource:     s.Resource,
	}
	return r.post(ctx, client, s.now())
}

// dropGrant handles invalid_grant (requirement 28). It re-reads the
// store: a record with another refresh token was rotated in by another
// process and is returned. Otherwise the grant is deleted, but only if the
// store still holds the rejected refresh token (compare-and-delete), and
// the error says a login is required.
func (s *Source) dropGrant(ctx context.Context, rejected *keychain.Record) (*keychain.Record, error) {
	Forget(s.Cache, s.Key, rejected, s.Resource)
	cur, err := s.Store.Get(ctx, s.Key)
	switch {
	case err == nil && cur.RefreshToken != "" && cur.RefreshToken != rejected.RefreshToken && s.Binding.Matches(cur):
		return cur, nil
	case err == nil && cur.RefreshToken == rejected.RefreshToken:
		if err := s.Store.Delete(ctx, s.Key); err != nil {
			return nil, err
		}
	}
	return nil, &LoginRequiredError{Reason: "the server refused the stored grant (revoked, expired or reused: if you did not log out, check your other machines)"}
}
