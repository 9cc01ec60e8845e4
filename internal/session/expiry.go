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
// to a caller that needs it valid for at least minTTL more.
func Fresh(r *keychain.Record, now time.Time, minTTL time.Duration) bool {
	if r.AccessToken == "" || r.Expiry.IsZero() {
		return false
	}
	return !now.Add(minTTL).After(EarlyExpiry(r))
}
