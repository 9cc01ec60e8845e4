// Package keychain persists one grant per profile in the operating system's
// credential store (Secret Service, macOS Keychain, Windows Credential
// Manager) through go-keyring.
//
// It is persistence only: it knows nothing of OAuth flows, refreshes or the
// terminal. Callers build a collision-free key with [Key] and read and write
// a small versioned [Record] through a [Store]. [NewKeyring] returns the OS
// credential store; [NewMemory] an in-memory one for tests, with fault
// injection.
//
// Every keychain call is bounded in time: a keychain that waits for an
// unlock prompt nobody answers yields [ErrLocked] rather than a hung helper.
//
// # Security
//
// A record holds a refresh token; it is written only to the OS credential
// store, never to a file (requirement 35). A record that exceeds
// the platform's size limit is split across several entries, never
// truncated (requirement 39). A record carries the issuer, client,
// profile and token endpoint it was issued for; callers check them with
// [Record.Matches] before use. No error from this package quotes a record's
// contents.
//
// # Concurrency
//
// A Store is safe for concurrent use by several goroutines. It does not
// serialise processes: callers that read, refresh and write hold the
// per-profile file lock around the sequence.
package keychain

import (
	"context"
	"errors"
	"time"
)

// RecordVersion is the schema version written into every new record.
const RecordVersion = 1

// Record is everything sesame keeps for one profile's grant.
//
// Issuer, ClientID, Profile and TokenEndpoint bind the record to the profile
// configuration that created it: a caller MUST refuse a record whose binding
// no longer matches the profile, so a refresh token never reaches a changed
// endpoint (requirement 39).
type Record struct {
	Version       int    `json:"v"`
	Profile       string `json:"profile"`
	Issuer        string `json:"issuer"`
	ClientID      string `json:"client_id"`
	TokenEndpoint string `json:"token_endpoint"`

	RefreshToken string `json:"refresh_token,omitempty"`
	AccessToken  string `json:"access_token,omitempty"`
	TokenType    string `json:"token_type,omitempty"`
	// Expiry is the access token's expiry as computed from expires_in and
	// the local receive time (RFC 6749 §5.1), not from any server clock.
	Expiry time.Time `json:"expiry,omitzero"`
	// Lifetime is the expires_in the access token was issued with; callers
	// use it to refresh early by a fraction of the lifetime.
	Lifetime time.Duration `json:"lifetime,omitempty"`
	// RefreshExpiry is when the refresh token expires, when the server said.
	RefreshExpiry time.Time `json:"refresh_expiry,omitzero"`
	Scope         string    `json:"scope,omitempty"`
	// IDToken is the raw ID token from the last token response, kept so
	// later ID tokens can be checked against the same sub/iss/aud.
	IDToken string `json:"id_token,omitempty"`
	// Subject, Username (preferred_username), Email and Name are the
	// identity claims of the verified ID token, or of the userinfo answer
	// for the same subject when the ID token named no one; shown by
	// `sesame status`.
	Subject  string `json:"sub,omitempty"`
	Username string `json:"preferred_username,omitempty"`
	Email    string `json:"email,omitempty"`
	Name     string `json:"name,omitempty"`

	// IssuedAt is when the grant was first stored (the login).
	IssuedAt time.Time `json:"issued_at,omitzero"`

	// Resource is the RFC 8707 resource indicator the access token above
	// was issued for ("" when the profile names none).
	Resource string `json:"resource,omitempty"`
	// ResourceTokens are access tokens issued, by refreshes of the same
	// grant, for the profile's other resources (RFC 8707 §2.2), by
	// resource indicator.
	ResourceTokens map[string]*AccessToken `json:"resource_tokens,omitempty"`

	// DPoPKey is the private key the grant is bound to (RFC 9449 §5), in
	// the form dpop.Key.Marshal writes; "" when the profile does not use
	// DPoP. It lives in this record, next to the refresh token it binds, so
	// the two are always written and deleted together and the key never
	// touches a file (requirement 31).
	DPoPKey string `json:"dpop_key,omitempty"`

	// RegistrationAccessToken and RegistrationClientURI manage the
	// client's dynamic registration (RFC 7592 §3); they are set only in the
	// record under [RegistrationKey], which holds no grant.
	RegistrationAccessToken string `json:"registration_access_token,omitempty"`
	RegistrationClientURI   string `json:"registration_client_uri,omitempty"`

	// ClientSecret is the client secret of an installed app whose
	// provider demands one (Google's "Desktop app" clients; RFC 8252
	// §8.5: such a secret is not confidential, but it is kept with the
	// same care). It is set only in the record under [ClientSecretKey].
	ClientSecret string `json:"client_secret,omitempty"`
}

// AccessToken is an access token and what sesame knows of it.
type AccessToken struct {
	AccessToken string        `json:"access_token"`
	TokenType   string        `json:"token_type,omitempty"`
	Expiry      time.Time     `json:"expiry,omitzero"`
	Lifetime    time.Duration `json:"lifetime,omitempty"`
	Scope       string        `json:"scope,omitempty"`
}

// Store gets, sets and deletes records by key.
type Store interface {
	// Get returns the record stored under key, or an error wrapping
	// ErrNotFound.
	Get(ctx context.Context, key string) (*Record, error)
	// Set stores r under key, replacing any previous record atomically as
	// far as the backend allows.
	Set(ctx context.Context, key string, r *Record) error
	// Delete removes the record under key. Deleting a missing record is not
	// an error.
	Delete(ctx context.Context, key string) error
	// Name says which backend this is, for `sesame status`.
	Name() string
}

var (
	// ErrNotFound means no record is stored under the key.
	ErrNotFound = errors.New("no stored grant")
	// ErrUnavailable means no credential store could be reached (no Secret
	// Service on the session bus, for example).
	ErrUnavailable = errors.New("keychain unavailable")
	// ErrLocked means the credential store is locked and did not unlock
	// within the allowed time.
	ErrLocked = errors.New("keychain locked")
	// ErrTooLarge means a record cannot be stored even when split.
	ErrTooLarge = errors.New("record too large for the keychain")
	// ErrCorrupt means a stored record could not be decoded.
	ErrCorrupt = errors.New("stored record is corrupt")
)
