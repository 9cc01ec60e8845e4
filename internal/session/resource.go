package session

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/tokencache"
	"github.com/sesame-auth/sesame/keychain"
)

// One grant, several audiences (RFC 8707): the login's access token is for
// the profile's first resource and sits in the record's main fields; a
// helper bound to another of the profile's resources gets its own access
// token by a refresh that names that resource (§2.2), kept in the record's
// ResourceTokens and cached under its own key. The refresh token, the ID
// token and the DPoP key are the grant's and shared by all.

// view returns rec as a caller who wants a token for s.Resource sees it:
// rec itself when its main access token is for that resource, otherwise a
// copy whose access-token fields are the ones kept for the resource (empty,
// so not fresh, when there is none yet).
func (s *Grant) view(rec *keychain.Record) *keychain.Record {
	if rec.Resource == s.Resource {
		return rec
	}
	v := *rec
	v.Resource = s.Resource
	v.AccessToken, v.TokenType, v.Expiry, v.Lifetime = "", "", time.Time{}, 0
	if at := rec.ResourceTokens[s.Resource]; at != nil {
		v.AccessToken, v.TokenType, v.Expiry, v.Lifetime = at.AccessToken, at.TokenType, at.Expiry, at.Lifetime
		if at.Scope != "" {
			v.Scope = at.Scope
		}
	}
	v.ResourceTokens = nil
	return &v
}

// apply returns the record to store after a refresh for s.Resource: the
// grant's rotated refresh token and new ID token, and the new access token
// in the slot of s.Resource. The other slots are kept.
func (s *Grant) apply(rec *keychain.Record, tok *oauth2.Token, now time.Time) *keychain.Record {
	next := *rec
	next.ResourceTokens = maps.Clone(rec.ResourceTokens)
	if rec.Resource == s.Resource {
		Apply(&next, tok, now)
		return &next
	}
	v := *rec
	Apply(&v, tok, now)
	next.RefreshToken, next.IDToken, next.RefreshExpiry = v.RefreshToken, v.IDToken, v.RefreshExpiry
	if next.ResourceTokens == nil {
		next.ResourceTokens = map[string]*keychain.AccessToken{}
	}
	scope := ""
	if v.Scope != rec.Scope {
		scope = v.Scope
	}
	next.ResourceTokens[s.Resource] = &keychain.AccessToken{
		AccessToken: v.AccessToken, TokenType: v.TokenType, Expiry: v.Expiry, Lifetime: v.Lifetime, Scope: scope,
	}
	return &next
}

// cacheKey is the volatile cache's key for s.Resource's token.
func (s *Grant) cacheKey() string { return CacheKey(s.Key, s.Resource) }

// CacheKey is the volatile cache's key for the access token of the grant
// stored under key that is meant for resource: key itself when there is no
// resource, else key and a digest of the resource.
func CacheKey(key, resource string) string {
	if resource == "" {
		return key
	}
	h := sha256.Sum256([]byte(resource))
	return key + "." + base64.RawURLEncoding.EncodeToString(h[:12])
}

// Forget drops every cached access token of the grant in rec, under key,
// from c: the main one and those for other resources.
func Forget(c tokencache.Cache, key string, rec *keychain.Record, resources ...string) {
	if c == nil {
		return
	}
	c.Delete(key)
	seen := map[string]bool{"": true}
	drop := func(r string) {
		if !seen[r] {
			seen[r] = true
			c.Delete(CacheKey(key, r))
		}
	}
	for _, r := range resources {
		drop(r)
	}
	if rec != nil {
		drop(rec.Resource)
		for r := range rec.ResourceTokens {
			drop(r)
		}
	}
}

// AccessTokenAudience reads the aud claim of an access token that is a
// JWT (RFC 9068 §2.2), to tell whether the server honoured an RFC 8707
// resource indicator: a server without RFC 8707 ignores the parameter and
// issues a token for its default audience. It reports false for an opaque
// token, whose audience a public client cannot read (introspection is
// for resource servers): nothing is said of those, since opaque tokens
// are as common with servers that do support RFC 8707. The signature is
// not checked: the audience is only reported to the person, never trusted.
func AccessTokenAudience(token string) (aud []string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var claims map[string]json.RawMessage
	if json.Unmarshal(payload, &claims) != nil {
		return nil, false
	}
	raw, present := claims["aud"]
	if !present {
		return nil, true
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return nonEmpty(one), true
	}
	if json.Unmarshal(raw, &aud) == nil {
		return aud, true
	}
	return nil, true
}

// ResourceUnconfirmed reports whether rec's access token is a JWT whose
// audience does not name rec.Resource, the resource the login asked for,
// and returns the audience it names instead.
func ResourceUnconfirmed(rec *keychain.Record) ([]string, bool) {
	if rec.Resource == "" {
		return nil, false
	}
	aud, ok := AccessTokenAudience(rec.AccessToken)
	if !ok || slices.Contains(aud, rec.Resource) {
		return nil, false
	}
	return aud, true
}
