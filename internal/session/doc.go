// Package tokensource is the one token source every sesame command uses: it
// answers from the keychain record while the access token is fresh, and
// otherwise redeems the stored refresh token once, persisting the rotated
// refresh token before anything is handed out.
//
// # Security
//
// A rotated refresh token is written to the keychain before the new access
// token is returned (RFC 6749 §6, RFC 9700 §4.14.2): if that write fails the
// caller gets an error and no token, because handing out a token whose
// refresh token was lost would end the session silently. A refresh response
// without a refresh token keeps the stored one. Only an authoritative OAuth
// error (invalid_grant) ends a grant; a lost response (timeout, reset, 5xx)
// keeps it and is retried once.
//
// Expiry comes from expires_in and the local receive time, never from a
// server clock, and the token is treated as expired early (requirement 32).
//
// # Concurrency
//
// A Source serialises nothing across processes by itself; see the lock
// issue for the per-profile file lock held around read, refresh and write.
package session
