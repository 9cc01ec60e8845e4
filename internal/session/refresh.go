package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/oauthwire"
	"github.com/sesame-auth/sesame/keychain"
)

// RefreshTimeout bounds the wait for one refresh answer. It is long,
// because a refresh still running at the server when sesame stops waiting
// can never be safely replayed: the server may rotate the token after
// sesame gave up, and the replay would then be a reuse that revokes the
// whole grant.
const RefreshTimeout = 60 * time.Second

// LockWait bounds how long a command waits for another sesame process
// working on the same grant: a refresh and its one replay after a lost
// answer, each bounded by RefreshTimeout, with room to spare.
const LockWait = 2*RefreshTimeout + 15*time.Second

// attempt is one refresh request and what became of it.
type attempt struct {
	tok *oauth2.Token
	err error
	// sent: the request was written whole, so the server may have carried
	// it out.
	sent bool
	// timedOut: no answer came within the bound; the server may still be
	// carrying the request out.
	timedOut bool
}

// lost reports whether the request reached the server and its answer was
// lost on the way back (a reset connection, a 5xx from a proxy or a
// failing server): the one case where a single replay may recover the
// grant, on servers with a reuse grace period (requirement 27).
func (a attempt) lost() bool {
	return a.err != nil && a.sent && !a.timedOut && !isAnswer(a.err)
}

// RefreshLocked redeems the grant's refresh token once and stores the
// result. The caller holds the profile lock. It re-reads the record
// first: another process may have refreshed already. It is what a
// [Finisher] runs, in this process or in another.
func (s *Grant) RefreshLocked(ctx context.Context) (*Result, error) {
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

// refresh redeems rec's refresh token (RFC 6749 §6) and stores the result
// before anything else can fail. The caller holds the profile lock, and
// ctx must not be cancelled by the caller's fate (see [Finisher]).
func (s *Grant) refresh(ctx context.Context, rec *keychain.Record) (*Result, error) {
	if rec.RefreshToken == "" {
		return nil, &LoginRequiredError{Reason: fmt.Sprintf("the access token of profile %q expired and the server gave no refresh token", s.Binding.Profile)}
	}
	client, err := s.refreshClient(rec)
	if err != nil {
		return nil, &RefreshError{Err: err}
	}
	s.prepareIDToken(ctx, rec)
	m := s.markers()
	interrupted := m.interruptedEarlier(rec.RefreshToken)
	m.write(rec.RefreshToken, s.now())
	a := s.send(ctx, client, rec)
	replayed := false
	if a.lost() {
		// Requirement 27: the server may have rotated the token and the
		// answer was lost; one prompt replay lands inside a reuse-grace
		// window where the server has one. Never a loop, and never after a
		// timeout: that request may still be running.
		s.logf("refresh: the answer was lost (%v); one replay", a.err)
		replayed = true
		a = s.send(ctx, client, rec)
	}
	switch {
	case a.err == nil:
		return s.persist(ctx, rec, a.tok, m)
	case !a.sent:
		// Nothing reached the server: the grant is as it was.
		m.remove()
		return nil, &RefreshError{Err: a.err}
	case a.timedOut:
		// The marker stays: the request may still be carried out.
		return nil, &RefreshError{Err: fmt.Errorf("the server did not answer within %s; the grant is kept, but the server may still rotate it", RefreshTimeout)}
	}
	if re, ok := refusal(a.err); ok {
		m.remove()
		return s.dropGrant(ctx, rec, refused{answer: re, interrupted: interrupted, replayed: replayed})
	}
	if isAnswer(a.err) {
		m.remove()
	}
	return nil, &RefreshError{Err: a.err}
}

// prepareTimeout bounds the fetches made before a refresh for the ID-token
// check that follows it.
const prepareTimeout = 10 * time.Second

// prepareIDToken fetches, before the refresh is sent, what verifying the
// refreshed ID token will need. A grant without an ID token expects none.
func (s *Grant) prepareIDToken(ctx context.Context, rec *keychain.Record) {
	if rec.IDToken == "" || s.PrepareIDToken == nil || s.VerifyIDToken == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, prepareTimeout)
	defer cancel()
	if err := s.PrepareIDToken(ctx, rec.IDToken); err != nil {
		s.logf("refresh: the server's keys are not at hand before the refresh (%v); it goes on", err)
	}
}

// send sends one refresh request and notes whether it reached the server.
func (s *Grant) send(ctx context.Context, client *http.Client, rec *keychain.Record) attempt {
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
	})
	ctx, cancel := context.WithTimeout(ctx, RefreshTimeout)
	defer cancel()
	var auth ClientAuth
	if s.ClientAuth != nil {
		var err error
		if auth, err = s.ClientAuth(ctx); err != nil {
			return attempt{err: err}
		}
	}
	r := refreshRequest{
		auth:         auth,
		tokenURL:     rec.TokenEndpoint,
		clientID:     rec.ClientID,
		refreshToken: rec.RefreshToken,
		resource:     s.Resource,
		accessToken:  rec.AccessToken,
	}
	tok, err := r.post(ctx, client, s.now())
	a := attempt{tok: tok, err: err, sent: err == nil || wrote.Load() || isAnswer(err)}
	a.timedOut = err != nil && !isAnswer(err) && isTimeout(err)
	return a
}

// isTimeout reports whether err is a deadline: the client's, the
// transport's or the context's.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// persist stores the refreshed grant at once, then checks what may still
// fail. The server has rotated the refresh token: from here on, any
// failure that left the new token unstored would lose the grant.
func (s *Grant) persist(ctx context.Context, rec *keychain.Record, tok *oauth2.Token, m markers) (*Result, error) {
	if err := CheckTokenChars(tok); err != nil {
		return nil, &RefreshError{Err: err}
	}
	next := s.apply(rec, tok, s.now())
	// The new ID token is stored only once verified, below.
	rawID, _ := tok.Extra("id_token").(string)
	next.IDToken = rec.IDToken
	if err := s.set(ctx, next); err != nil {
		return nil, &SessionLostError{Err: err}
	}
	m.remove()
	if rawID != "" && s.VerifyIDToken != nil {
		if err := s.adoptIDToken(ctx, rec, next, rawID); err != nil {
			return nil, err
		}
	}
	if err := CheckTokenType(tok); err != nil {
		// The rotated refresh token is stored (Apply keeps no access
		// token of a type sesame cannot hand out): the grant lives on.
		return nil, &RefreshError{Err: fmt.Errorf("%w; the rotated grant is stored, but no token was handed out", err)}
	}
	v := s.view(next)
	s.remember(v)
	if s.Accept != nil && !s.Accept(v) {
		if rawID == "" {
			return nil, &LoginRequiredError{Reason: "the refresh gave no new ID token, and the stored one has expired"}
		}
		return nil, &RefreshError{Err: errors.New("the refresh gave no verifiable ID token, and the stored one has expired; the grant is kept")}
	}
	return &Result{Record: v, Refreshed: true}, nil
}

// set writes the record, trying once more after a short pause: the
// rotated refresh token exists nowhere else.
func (s *Grant) set(ctx context.Context, next *keychain.Record) error {
	err := s.Store.Set(ctx, s.Key, next)
	if err == nil || errors.Is(err, keychain.ErrTooLarge) {
		return err
	}
	s.logf("refresh: storing the rotated grant failed (%v); trying again", err)
	<-s.clock().After(200 * time.Millisecond)
	return s.Store.Set(ctx, s.Key, next)
}

// adoptIDToken verifies the ID token of a stored refresh (requirement 24)
// and, when it holds, stores it in next. One for another subject than the
// grant's is a real refusal: the grant is deleted. Any other failure (a
// key fetch that failed, a skewed clock) keeps the grant and its previous
// ID token, and says what is wrong.
func (s *Grant) adoptIDToken(ctx context.Context, rec, next *keychain.Record, raw string) error {
	idt, err := s.VerifyIDToken(ctx, raw)
	switch {
	case err == nil && rec.Subject != "" && idt.Subject != rec.Subject:
		Forget(s.Cache, s.Key, next, s.Resource)
		if cur, gerr := s.Store.Get(ctx, s.Key); gerr == nil && cur.RefreshToken == next.RefreshToken {
			_ = s.Store.Delete(ctx, s.Key)
		}
		return &LoginRequiredError{Reason: "the server's refreshed ID token names another user than the one signed in; the grant was deleted"}
	case err == nil:
		next.IDToken = raw
		if err := s.Store.Set(ctx, s.Key, next); err != nil {
			next.IDToken = rec.IDToken
			s.warn("the refreshed ID token could not be stored; the grant is kept with the previous one: " + err.Error())
		}
		return nil
	default:
		s.warn("the ID token that came with the refresh could not be verified (" + err.Error() + "); the refreshed grant is stored and the previous ID token kept")
		return nil
	}
}

// refused is a definite refusal of the grant and what is known of its
// cause on this machine.
type refused struct {
	answer *oauthwire.Error
	// interrupted is when an earlier refresh of the same refresh token
	// started and was never settled; zero if none.
	interrupted time.Time
	// replayed: this refresh's first answer was lost and the refusal is
	// the answer to its replay.
	replayed bool
}

// reason is the honest diagnosis (requirement 28): a refusal that sesame
// caused itself is not a theft alarm; one it did not cause is.
func (r refused) reason() string {
	said := serverAnswer(r.answer)
	switch {
	case !r.interrupted.IsZero():
		return fmt.Sprintf("%s: the last refresh on this machine, at %s, was interrupted before its answer was stored, and the server has now ended the grant",
			said, r.interrupted.Local().Format("2006-01-02 15:04:05"))
	case r.replayed:
		return said + ": the answer to the refresh was lost on its way back, and the server ended the grant when it was asked again"
	default:
		return said + ": the grant was revoked, expired, or used elsewhere (if you did not log out or sign in again elsewhere, check your other machines)"
	}
}

// dropGrant handles a definite refusal (requirement 28). It re-reads the
// store: a record with another refresh token was rotated in by another
// process and is returned. Otherwise the grant is deleted, but only if the
// store still holds the refused refresh token (compare-and-delete), and
// the error says a login is required and why.
func (s *Grant) dropGrant(ctx context.Context, rejected *keychain.Record, why refused) (*Result, error) {
	Forget(s.Cache, s.Key, rejected, s.Resource)
	cur, err := s.Store.Get(ctx, s.Key)
	switch {
	case err == nil && cur.RefreshToken != "" && cur.RefreshToken != rejected.RefreshToken && s.Binding.Matches(cur):
		if v := s.view(cur); s.fresh(v) {
			s.remember(v)
			return &Result{Record: v}, nil
		}
		return nil, &RefreshError{Err: errors.New("the stored grant changed while it was being refreshed; run the command again")}
	case err == nil && cur.RefreshToken == rejected.RefreshToken:
		if err := s.Store.Delete(ctx, s.Key); err != nil {
			return nil, err
		}
		// Later commands say the server ended it, not that none was stored.
		s.markers().writeRefused(serverAnswer(why.answer), s.now())
	}
	return nil, &LoginRequiredError{Reason: why.reason(), Err: why.answer}
}

func (s *Grant) warn(msg string) {
	if s.Warn != nil {
		s.Warn(msg)
	}
}

func (s *Grant) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log(format, args...)
	}
}
