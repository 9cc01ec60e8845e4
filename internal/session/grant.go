package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sesame-auth/sesame/internal/clock"
	"github.com/sesame-auth/sesame/internal/dpop"
	"github.com/sesame-auth/sesame/internal/filelock"
	"github.com/sesame-auth/sesame/internal/provider"
	"github.com/sesame-auth/sesame/internal/tokencache"
	"github.com/sesame-auth/sesame/keychain"
)

// Grant hands out access tokens for one profile's grant. It is the only
// code that redeems a refresh token, and it does so only under the
// profile's cross-process lock.
type Grant struct {
	Store   keychain.Store
	Key     string
	Binding Binding
	// HTTPClient returns the client for the refresh request (timeouts, CA,
	// no redirects). It is called only when a refresh is needed, so a warm
	// call never pays for loading CA certificates. Its response timeout
	// must fit a slow server: a refresh still running when sesame stops
	// waiting cannot be replayed safely.
	HTTPClient func() (*http.Client, error)
	// MinTTL is how long the token must still be valid (--min-ttl).
	MinTTL time.Duration
	// Clock tells the time and times the pause before a failed write is
	// tried again; nil means the system clock.
	Clock clock.Clock
	// Cache, when set, is the volatile access-token cache consulted before
	// the keychain and updated after every refresh.
	Cache tokencache.Cache
	// Lock, when set, takes the profile's cross-process lock; it is held
	// around re-read, refresh and write (requirement 29). While it waits
	// it calls ready between attempts; when ready reports true it returns
	// a nil Held and a nil error without taking the lock.
	Lock func(ctx context.Context, ready func() bool) (Held, error)
	// Finish carries a refresh through once it is decided, whatever
	// happens to the caller; nil finishes it in this process (see
	// [Finisher]).
	Finish Finisher
	// MarkerDir, when set, returns the directory of the in-flight markers
	// (the lock directory), which let a refused grant be diagnosed
	// honestly (see inflight.go).
	MarkerDir func() (string, error)
	// PrepareIDToken, when set, is called with the stored ID token before
	// a refresh is sent: it fetches what VerifyIDToken will need (the
	// server's metadata and keys), so that a refresh does not depend on
	// requests made after the server rotated the token. Its failure does
	// not stop the refresh.
	PrepareIDToken func(ctx context.Context, storedIDToken string) error
	// VerifyIDToken, when set, verifies an ID token returned by a refresh
	// (requirement 24): signature, iss, aud, azp, exp, iat. The subject
	// check against the stored grant is the Grant's own. It runs after the
	// refreshed grant is stored: a key-fetch failure or a skewed clock
	// must never cost the grant.
	VerifyIDToken func(ctx context.Context, raw string) (*provider.IDToken, error)
	// Revoke, when set, revokes a replaced or ended grant at its server.
	Revoke Revoker
	// Warn, when set, tells the person about a problem that did not stop
	// the token from being handed out.
	Warn func(msg string)
	// Log, when set, receives the redacted debug log.
	Log func(format string, args ...any)
	// Accept, when set, is a further condition on a record before it is
	// handed out, besides a fresh access token: kubectl --id-token needs a
	// fresh ID token. A record that fails it is refreshed; if the refresh
	// still leaves it failing, Token returns an error.
	Accept func(*keychain.Record) bool
	// ClientAuth, when set, returns how the client authenticates at the
	// token endpoint on a refresh: a provider preset's client secret
	// from the keychain. nil: a public client, client_id alone.
	ClientAuth func(ctx context.Context) (ClientAuth, error)
	// Resource is the RFC 8707 resource indicator the token is wanted for,
	// sent on every refresh (§2.2); "" sends none. A token for another
	// resource than the one the record's main access token is for is kept
	// in the record's ResourceTokens and cached under its own key.
	Resource string
}

// Held is a held profile lock.
type Held interface{ Release() }

// Result is a token handed out, with the record it came from.
type Result struct {
	Record    *keychain.Record
	Refreshed bool
	// SignedIn: the grant is new, from a login a helper started.
	SignedIn bool
	// Login is the record that login stored, when SignedIn: Record may
	// come from the token cache, which keeps no refresh token.
	Login *keychain.Record
}

func (s *Grant) now() time.Time { return s.clock().Now() }

func (s *Grant) clock() clock.Clock {
	if s.Clock != nil {
		return s.Clock
	}
	return clock.System
}

// Token returns a fresh access token: from the volatile cache or the
// keychain record when it is fresh (no network, no keychain write), else
// after one refresh under the profile lock whose result is stored before
// Token returns. The lock is needed only to refresh: when it cannot be
// taken at all (an unusable lock directory), a fresh stored token is still
// handed out, and an expired one gives a LockUnusableError.
func (s *Grant) Token(ctx context.Context) (*Result, error) {
	if res, ok := s.Cached(); ok {
		return res, nil
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
	var held Held
	if s.Lock != nil {
		if held, err = s.Lock(ctx, nil); err != nil {
			if lockUnusable(err) {
				return nil, &LockUnusableError{Profile: s.Binding.Profile, Err: err}
			}
			return nil, err
		}
		defer held.Release()
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
	return s.finish(ctx, held, rec)
}

// Cached is the first step of Token alone: the token in the volatile
// cache when it is fresh, bound to this profile and within CacheTrust of
// the keychain's last word on its grant; false for anything else. It
// reads nothing but the cache and writes nothing, so a caller that gets
// false can still call Token and find everything as it was.
func (s *Grant) Cached() (*Result, bool) {
	rec, ok := s.cached()
	if !ok {
		return nil, false
	}
	return &Result{Record: rec}, true
}

// tokenLockFirst is Token after a cache miss where a volatile cache
// exists: the caller goes to the lock at once and, while it waits, watches
// the cache, where the process that holds the lock puts its result. Fifty
// callers on an expired token thus make one keychain read and one refresh,
// not fifty reads queued on the keychain daemon. A lock that cannot be had
// at all (not one that is busy) sends the caller to tokenLockless: the
// keychain is read without the lock, and only a fresh token is handed out.
func (s *Grant) tokenLockFirst(ctx context.Context) (*Result, error) {
	var hit *keychain.Record
	held, err := s.Lock(ctx, func() bool {
		var ok bool
		hit, ok = s.cached()
		return ok
	})
	if err != nil {
		if lockUnusable(err) {
			return s.tokenLockless(ctx, err)
		}
		return nil, err
	}
	if held == nil {
		return &Result{Record: hit}, nil
	}
	defer held.Release()
	rec, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	if v := s.view(rec); s.fresh(v) {
		s.remember(v)
		return &Result{Record: v}, nil
	}
	return s.finish(ctx, held, rec)
}

// tokenLockless is Token when the profile lock cannot be had at all (its
// directory is read-only, another user's, or otherwise unusable): the
// lock is needed only to refresh, so a fresh stored token is handed out
// all the same, with a warning. An expired one is not refreshed: a refresh
// without the lock could race another process's refresh of the same
// rotating refresh token and lose the grant (requirement 29).
func (s *Grant) tokenLockless(ctx context.Context, lockErr error) (*Result, error) {
	rec, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	v := s.view(rec)
	if !s.fresh(v) {
		return nil, &LockUnusableError{Profile: s.Binding.Profile, Err: lockErr}
	}
	s.logf("lock: profile %q: the lock cannot be taken (%v); the stored token is fresh and handed out without it", s.Binding.Profile, lockErr)
	s.warn(fmt.Sprintf("profile %q cannot be locked (%v); its stored token is still fresh and is handed out, but it cannot be refreshed when it expires", s.Binding.Profile, lockErr))
	s.remember(v)
	return &Result{Record: v}, nil
}

// LockUnusableError is a token that needs a refresh while the profile
// lock cannot be taken for another reason than another holder (an
// unusable lock directory): sesame never refreshes without the lock.
type LockUnusableError struct {
	Profile string
	Err     error
}

func (e *LockUnusableError) Error() string {
	return fmt.Sprintf("the token of profile %q needs a refresh, and sesame refreshes only under its lock, which cannot be taken: %v", e.Profile, e.Err)
}

func (e *LockUnusableError) Unwrap() error { return e.Err }

// lockUnusable reports whether a lock error says the lock cannot be had
// at all, rather than that another process holds it (Busy, a timeout) or
// that the caller gave up (a cancelled or expired context).
func lockUnusable(err error) bool {
	var pr *Problem
	switch {
	case errors.As(err, &pr) && pr.Kind == Busy,
		errors.Is(err, filelock.ErrTimeout),
		errors.Is(err, context.Canceled),
		errors.Is(err, context.DeadlineExceeded):
		return false
	}
	return true
}

// hasCache reports whether a volatile cache is configured.
func (s *Grant) hasCache() bool {
	_, none := s.Cache.(tokencache.None)
	return s.Cache != nil && !none
}

// cached returns the volatile cache's record when it is fresh and bound to
// this profile.
func (s *Grant) cached() (*keychain.Record, bool) {
	if s.Cache == nil {
		return nil, false
	}
	e, ok := s.Cache.Get(s.cacheKey())
	if !ok || e.Issuer != s.Binding.Issuer || e.ClientID != s.Binding.ClientID || e.Profile != s.Binding.Profile {
		return nil, false
	}
	if age := s.now().Sub(e.Checked); age < -time.Minute || age > CacheTrust {
		// Past its trust window: the keychain is asked again.
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
func (s *Grant) remember(rec *keychain.Record) {
	if s.Cache != nil {
		Remember(s.Cache, s.cacheKey(), rec, s.now())
	}
}

// CacheTrust is how long a cached access token is handed out without the
// keychain being asked whether its grant is still there. Every change
// sesame makes to a grant (refresh, login, logout, a refusal) updates or
// drops the cache at once; this bounds how long a grant deleted outside
// sesame (a keychain manager, secret-tool) can live on in the cache, at
// the cost of one keychain read per window for a profile in steady use.
const CacheTrust = 10 * time.Second

// Remember caches rec's access token under key until its early expiry;
// now is when the keychain was seen holding it.
func Remember(c tokencache.Cache, key string, rec *keychain.Record, now time.Time) {
	if rec.AccessToken == "" {
		return
	}
	c.Put(key, &tokencache.Entry{
		Issuer: rec.Issuer, ClientID: rec.ClientID, Profile: rec.Profile,
		AccessToken: rec.AccessToken, TokenType: rec.TokenType, Scope: rec.Scope,
		Expiry: rec.Expiry, Lifetime: rec.Lifetime, Checked: now,
	}, EarlyExpiry(rec).Sub(now))
}

// load reads the profile's record and checks its binding.
func (s *Grant) load(ctx context.Context) (*keychain.Record, error) {
	rec, err := s.Store.Get(ctx, s.Key)
	if errors.Is(err, keychain.ErrNotFound) {
		// The volatile cache never outlives the grant it came from.
		Forget(s.Cache, s.Key, nil, s.Resource)
		return nil, &LoginRequiredError{Reason: s.noGrantReason()}
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

// fresh reports whether v may be handed out: a fresh access token, and
// whatever Accept asks.
func (s *Grant) fresh(v *keychain.Record) bool {
	return Fresh(v, s.now(), s.MinTTL) && (s.Accept == nil || s.Accept(v))
}

// refreshClient is the client for rec's refresh requests: the configured
// one, signing with the grant's DPoP key when it is bound to one (RFC 9449
// §5). One client serves a refresh and its retry, so a DPoP nonce learnt
// on the first is used on the second.
func (s *Grant) refreshClient(rec *keychain.Record) (*http.Client, error) {
	client := &http.Client{Timeout: RefreshTimeout}
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
	return dpop.Client(client, key, s.now, rec.TokenEndpoint), nil
}

// Stored returns the stored grant as this Grant's caller sees it (its
// resource's access token), after another process refreshed it. It is
// not checked for freshness: a refresh's result is handed out as it is.
func (s *Grant) Stored(ctx context.Context) (*keychain.Record, error) {
	rec, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	return s.view(rec), nil
}
