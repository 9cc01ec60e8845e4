package session

import (
	"time"

	"github.com/sesame-auth/sesame/keychain"
)

const (
	// minMargin is the least time before expiry at which a token counts as
	// expired (requirement 32): clock skew and the caller's own request
	// time must fit in it.
	minMargin = 30 * time.Second
	// maxLifetime bounds a server's expires_in: an absurd value must not
	// make sesame cache a token for years (requirement 23).
	maxLifetime = 24 * time.Hour
	// unknownLifetime is how long a token without expires_in is cached.
	unknownLifetime = 60 * time.Second
)

// Margin is how long before its expiry a token of the given lifetime is
// treated as expired: max(30 s, 10% of the lifetime), but never more than
// half the lifetime, so a server issuing very short tokens still gets each
// one used for a while instead of a refresh on every call.
func Margin(lifetime time.Duration) time.Duration {
	m := max(minMargin, lifetime/10)
	if lifetime > 0 && m > lifetime/2 {
		m = lifetime / 2
	}
	return m
}

// Lifetime turns a token response's expires_in (seconds; 0 when absent)
// into a bounded lifetime.
func Lifetime(expiresIn int64) time.Duration {
	switch {
	case expiresIn <= 0:
		return unknownLifetime
	case expiresIn > int64(maxLifetime/time.Second):
		return maxLifetime
	default:
		return time.Duration(expiresIn) * time.Second
	}
}

// EarlyExpiry is the instant after which sesame no longer hands out the
// record's access token. kubectl's ExecCredential expirationTimestamp is
// this value.
func EarlyExpiry(r *keychain.Record) time.Time {
	return r.Expiry.Add(-Margin(r.Lifetime))
}

// Fresh reports whether the record's access token may be handed out at now
// to a caller that needs it valid for at least minTTL more, with minTTL as
// [EffectiveMinTTL] caps it.
func Fresh(r *keychain.Record, now time.Time, minTTL time.Duration) bool {
	if r.AccessToken == "" || r.Expiry.IsZero() {
		return false
	}
	return !now.Add(EffectiveMinTTL(r, minTTL)).After(EarlyExpiry(r))
}

// Usable is how long a token of the given lifetime is handed out at most:
// from its issue to its early expiry (the lifetime less its [Margin]); 0
// when the lifetime is unknown.
func Usable(lifetime time.Duration) time.Duration {
	if lifetime <= 0 {
		return 0
	}
	return lifetime - Margin(lifetime)
}

// MinTTLUnmet reports whether no token of r's lifetime can satisfy minTTL:
// the server issues tokens that are handed out for less than minTTL even
// when brand new (--min-ttl 10m against 60-second tokens).
func MinTTLUnmet(r *keychain.Record, minTTL time.Duration) bool {
	return minTTL > 0 && r.Lifetime > 0 && minTTL > Usable(r.Lifetime)
}

// EffectiveMinTTL is the minimum remaining validity r's access token is
// held to. A minTTL that tokens of r's lifetime can satisfy is kept. One
// they cannot (MinTTLUnmet) is capped at the token's lifetime less its
// margin, measured from the token's issue: a token that came from a refresh
// is then the best the server gives, handed out until its early expiry
// like any other (0); a token that no refresh has replaced yet (the
// login's) is still held to minTTL, so it is refreshed once. An unmeetable
// --min-ttl thus costs at most one refresh per token lifetime, never one
// on every call.
func EffectiveMinTTL(r *keychain.Record, minTTL time.Duration) time.Duration {
	if MinTTLUnmet(r, minTTL) && FromRefresh(r) {
		return 0
	}
	return minTTL
}

// FromRefresh reports whether r's access token was issued by a refresh of
// the grant, not by its login: it was received after the grant was first
// stored (IssuedAt, the login; a login stores its access token with the
// same instant). A record without IssuedAt tells nothing and counts as not
// refreshed.
func FromRefresh(r *keychain.Record) bool {
	if r.IssuedAt.IsZero() || r.Lifetime <= 0 || r.Expiry.IsZero() {
		return false
	}
	return r.Expiry.Add(-r.Lifetime).After(r.IssuedAt)
}
