// Package session owns the life cycle of a profile's grant: it hands out
// access tokens, refreshes the grant, stores a new one at login, and ends
// it at logout. It is the only code that writes or deletes a grant, and it
// does so under the profile's cross-process lock. The command line parses
// flags, calls it, and maps its errors to messages and exit codes.
//
// A token is read top to bottom in [Grant.Token]: the volatile cache or
// the keychain record while the access token is fresh (no lock, no
// network, no write); else the lock, a re-read (another process may have
// refreshed), and one refresh, carried through by a [Finisher] so that it
// survives whatever happens to the caller.
//
// # Security
//
// Persist first: a rotated refresh token is written to the keychain before
// anything else can fail (RFC 6749 §6, RFC 9700 §4.14.2) — ID-token
// verification, key fetches, clock checks, printing. If that write fails
// the caller gets an error and no token. A refresh response without a
// refresh token keeps the stored one.
//
// Only a definite refusal (invalid_grant, and the non-standard answers real
// servers give for a spent or ended grant) deletes a grant. A lost answer
// keeps it and is replayed once; an answer that is late is waited for and
// never raced by a replay, since the server may still rotate the token.
// An in-flight marker tells an interrupted local refresh apart from a
// reuse sesame did not cause, so only the latter raises a theft alarm.
//
// Expiry comes from expires_in and the local receive time, never from a
// server clock, and the token is treated as expired early
// (requirement 32, SECURITY.md).
//
// # Concurrency
//
// Every write or delete of a grant happens under the profile lock (see
// internal/filelock); readers of a fresh token take no lock. The volatile
// cache is written by the lock holder and dropped whenever the grant it
// came from is replaced or deleted.
package session
