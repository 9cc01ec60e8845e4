package session

import (
	"errors"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/keychain"
)

// Binding ties a record to the profile configuration that created it
// (requirement 39).
type Binding struct {
	Profile  string
	Issuer   string
	ClientID string
}

// Matches reports whether r was stored for b.
func (b Binding) Matches(r *keychain.Record) bool {
	return r.Profile == b.Profile && r.Issuer == b.Issuer && r.ClientID == b.ClientID
}

// NewRecord builds the record for a fresh grant from a token response
// received at now.
func NewRecord(b Binding, tokenEndpoint string, tok *oauth2.Token, now time.Time) (*keychain.Record, error) {
	if tok.RefreshToken == "" && tok.AccessToken == "" {
		return nil, errors.New("the token response has no token")
	}
	if err := CheckTokenChars(tok); err != nil {
		return nil, err
	}
	r := &keychain.Record{
		Version:       keychain.RecordVersion,
		Profile:       b.Profile,
		Issuer:        b.Issuer,
		ClientID:      b.ClientID,
		TokenEndpoint: tokenEndpoint,
		IssuedAt:      now.UTC(),
	}
	Apply(r, tok, now)
	return r, nil
}

// Apply updates r with a token response received at now: the new access
// token and its expiry, the rotated refresh token when one came (RFC 6749
// §6: otherwise the old one stays valid), the granted scope and ID token.
func Apply(r *keychain.Record, tok *oauth2.Token, now time.Time) {
	r.AccessToken = tok.AccessToken
	r.TokenType = tok.Type()
	r.Lifetime = Lifetime(expiresIn(tok, now))
	r.Expiry = now.Add(r.Lifetime).UTC()
	if tok.RefreshToken != "" {
		r.RefreshToken = tok.RefreshToken
	}
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		r.Scope = s
	}
	if id, ok := tok.Extra("id_token").(string); ok && id != "" {
		r.IDToken = id
	}
	if n, ok := tok.Extra("refresh_expires_in").(float64); ok && n > 0 {
		r.RefreshExpiry = now.Add(time.Duration(n) * time.Second).UTC()
	}
}

// expiresIn returns the response's expires_in in seconds. x/oauth2 fills
// ExpiresIn only for JSON responses; for form-encoded ones it is recovered
// from the Expiry x/oauth2 computed at receipt.
func expiresIn(tok *oauth2.Token, now time.Time) int64 {
	if tok.ExpiresIn != 0 || tok.Expiry.IsZero() {
		return tok.ExpiresIn
	}
	return int64(tok.Expiry.Sub(now).Round(time.Second) / time.Second)
}

// CheckTokenChars refuses a token response whose access or refresh token
// holds characters RFC 6749 (appendix A.12, A.17) does not allow: visible
// ASCII and space only. A byte outside that set would be altered by the
// record's JSON encoding, so the refresh token read back would not be the
// one the server issued, and the grant would be lost at the next refresh;
// a control character could also reach a terminal or a protocol line.
func CheckTokenChars(tok *oauth2.Token) error {
	for _, s := range []string{tok.AccessToken, tok.RefreshToken} {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] > 0x7e {
				return errors.New("the server sent a token with characters RFC 6749 does not allow; nothing was stored")
			}
		}
	}
	return nil
}
