package session

import (
	"errors"
	"fmt"
	"strings"
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
	if err := CheckTokenType(tok); err != nil {
		return nil, fmt.Errorf("%w; nothing was stored", err)
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
//
// An access token of a type [CheckTokenType] refuses is not kept: r is left
// with no access token at all (not the previous one, which the refresh has
// replaced at the server), so nothing can ever present it, while the
// rotated refresh token, which exists nowhere else, is still taken. Only a
// refresh gets here with such a type; [NewRecord] refuses it first.
func Apply(r *keychain.Record, tok *oauth2.Token, now time.Time) {
	if typ, ok := tokenType(tok.TokenType); ok {
		r.AccessToken = tok.AccessToken
		r.TokenType = typ
		r.Lifetime = Lifetime(expiresIn(tok, now))
		r.Expiry = now.Add(r.Lifetime).UTC()
	} else {
		r.AccessToken, r.TokenType, r.Lifetime, r.Expiry = "", "", 0, time.Time{}
	}
	if tok.RefreshToken != "" {
		if tok.RefreshToken != r.RefreshToken {
			// A rotated refresh token's lifetime is its own: the old
			// one's expiry is not carried over to it (status would show
			// it); refresh_expires_in below gives the new one's.
			r.RefreshExpiry = time.Time{}
		}
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

// maxTokenTypeText is the longest token_type an error quotes. A longer one
// could carry a secret the server echoes back (the refresh token sent), and
// errors never quote more than a few bytes of a token response.
const maxTokenTypeText = 12

// CheckTokenType refuses a token response whose token_type sesame cannot
// use (RFC 6749 §5.1, §7.1): only "Bearer" (RFC 6750) and "DPoP" (RFC 9449)
// are accepted, in any case, since the type is case-insensitive. The type
// is written into "Authorization: <type> <token>" by `sesame token --output
// header` and the credential helpers, so any other value, above all one
// holding CR LF, would let the server add header lines to the requests of
// whoever uses the token.
//
// An empty or absent token_type is accepted as Bearer: the member is
// REQUIRED, but lenient servers leave it out, x/oauth2 reads it as Bearer,
// and RFC 6750 is the only type such a server can mean.
//
// The error is one line and quotes the type only when it is a short type
// name (RFC 6749 appendix A.13: letters, digits, "-", "." and "_"), so it
// never holds a control character or more than a few bytes of the answer.
// Login calls it through [NewRecord], before anything is stored; a refresh
// must call it only once the rotated refresh token is stored ([Apply] keeps
// no access token of a refused type), and refuse just to hand the access
// token out.
func CheckTokenType(tok *oauth2.Token) error {
	if _, ok := tokenType(tok.TokenType); ok {
		return nil
	}
	if t := tok.TokenType; len(t) <= maxTokenTypeText && isTypeName(t) {
		return fmt.Errorf("the server issued a token of type %q, which sesame cannot use (only Bearer and DPoP)", t)
	}
	return fmt.Errorf("the server issued a token of a type sesame cannot use (%d bytes, not shown; only Bearer and DPoP)", len(tok.TokenType))
}

// isTypeName reports whether t is 1*name-char (RFC 6749 appendix A.13).
func isTypeName(t string) bool {
	for i := 0; i < len(t); i++ {
		c := t[i]
		nameChar := c == '-' || c == '.' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !nameChar {
			return false
		}
	}
	return t != ""
}

// tokenType returns the canonical spelling of a token_type sesame accepts
// ("Bearer" for an empty one, see [CheckTokenType]) and whether it is one.
func tokenType(t string) (string, bool) {
	switch {
	case t == "" || strings.EqualFold(t, "bearer"):
		return "Bearer", true
	case strings.EqualFold(t, "dpop"):
		return "DPoP", true
	}
	return "", false
}
