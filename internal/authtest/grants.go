package authtest

import (
	"crypto/rand"
	"encoding/base64"
	"maps"
	"time"
)

// store is the server's memory of codes, grants, tokens, DPoP proofs and
// registered clients. It lives under Server.mu.
type store struct {
	authz        []AuthorizeRequest
	codes        map[string]*authCode
	par          map[string]*parRequest
	devices      map[string]*deviceGrant // by device_code
	userCodes    map[string]*deviceGrant
	lastUserCode string
	families     []*family
	refresh      map[string]*refreshState
	access       map[string]*accessState
	issued       []Issued
	dpop         dpopState
	reg          registrationState
	// grantScopes is the scope string of each user's grant of a client,
	// by client id and subject ([WithOneGrantPerClient]).
	grantScopes map[string]string
}

func newStore() store {
	return store{
		codes:     map[string]*authCode{},
		par:       map[string]*parRequest{},
		devices:   map[string]*deviceGrant{},
		userCodes: map[string]*deviceGrant{},
		refresh:   map[string]*refreshState{},
		access:    map[string]*accessState{},
	}
}

// family is one grant: everything issued from one authorization code or
// device code, through any number of refreshes. Revoking any refresh token
// of a family, or reusing a rotated one, revokes all of it (RFC 9700
// §4.14.2, RFC 7009 §2.1).
type family struct {
	id        string
	clientID  string
	user      User
	scope     string
	resources []string
	authTime  time.Time
	latest    string // the refresh token that is valid now
	revoked   bool
	jkt       string // the DPoP key thumbprint its refresh tokens are bound to, "" for none
}

type refreshState struct {
	fam *family
	// rotatedAt is when this token was replaced; zero while it is the
	// family's current token.
	rotatedAt time.Time
}

type accessState struct {
	fam     *family
	expiry  time.Time
	revoked bool
	jkt     string // the DPoP key thumbprint it is bound to ("cnf"), "" for a bearer token
}

// Issued describes one successful token response.
type Issued struct {
	// GrantType is the grant_type of the request that produced it.
	GrantType string
	// Family identifies the grant: every token descending from one login
	// shares it.
	Family       string
	AccessToken  string
	RefreshToken string // "" when the response carried none
	IDToken      string // "" when the response carried none
	Scope        string
	ExpiresIn    int
	Time         time.Time
	// TokenType is the token_type sent: "DPoP" when the access token is
	// bound to the request's DPoP key, else "Bearer".
	TokenType string
	// JKT is the RFC 7638 thumbprint of the key of the request's DPoP
	// proof, "" when it carried none. The access token is bound to it when
	// TokenType is "DPoP"; whether the refresh token is, see
	// [Server.RefreshTokenJKT].
	JKT string
}

// Issued returns every successful token response so far, oldest first.
// Dropped responses are included: the server issued them.
func (s *Server) Issued() []Issued {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Issued(nil), s.st.issued...)
}

// LatestRefreshToken returns the current refresh token of the most recently
// created family that is still valid, or "" if there is none. It is what a
// client that never lost a response must hold.
func (s *Server) LatestRefreshToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.st.families) - 1; i >= 0; i-- {
		if f := s.st.families[i]; !f.revoked {
			return f.latest
		}
	}
	return ""
}

// Revoked reports whether token (access or refresh) was revoked, by a
// revocation request, by [Server.Revoke], or because its family was revoked
// after reuse. A refresh token that was merely rotated is spent, not
// revoked; [Server.Introspect] reports it inactive.
func (s *Server) Revoked(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt := s.st.refresh[token]; rt != nil {
		return rt.fam.revoked
	}
	if at := s.st.access[token]; at != nil {
		return at.revoked || at.fam.revoked
	}
	return false
}

// Introspect reports whether token is active in the sense of RFC 7662: a
// known access token that is neither expired nor revoked, or a refresh
// token that is its family's current one (or inside the reuse grace) in a
// family that is not revoked.
func (s *Server) Introspect(token string) (active bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	active, _ = s.introspectLocked(token)
	return active
}

func (s *Server) introspectLocked(token string) (bool, *family) {
	now := s.now()
	if rt := s.st.refresh[token]; rt != nil {
		if rt.fam.revoked {
			return false, nil
		}
		if !rt.rotatedAt.IsZero() && (s.cfg.reuseGrace <= 0 || now.Sub(rt.rotatedAt) > s.cfg.reuseGrace) {
			return false, nil
		}
		return true, rt.fam
	}
	if at := s.st.access[token]; at != nil {
		if at.revoked || at.fam.revoked || !now.Before(at.expiry) {
			return false, nil
		}
		return true, at.fam
	}
	return false, nil
}

// Revoke revokes token as the server's operator would: a refresh token
// takes its whole family with it, an access token goes alone. It reports
// whether the token was known.
func (s *Server) Revoke(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revokeLocked(token)
}

func (s *Server) revokeLocked(token string) bool {
	if rt := s.st.refresh[token]; rt != nil {
		rt.fam.revoked = true
		return true
	}
	if at := s.st.access[token]; at != nil {
		at.revoked = true
		return true
	}
	return false
}

// newFamily starts a grant. The caller holds s.mu.
func (s *Server) newFamily(clientID string, u User, scope string, resources []string) *family {
	f := &family{
		id:        "family-" + randomString(8),
		clientID:  clientID,
		user:      u,
		scope:     scope,
		resources: resources,
		authTime:  s.now(),
	}
	s.st.families = append(s.st.families, f)
	return f
}

// tokenSet is a minted response before the ID token is signed; signing and
// the tests' mutators run outside the lock.
type tokenSet struct {
	grantType    string
	fam          *family
	accessToken  string
	refreshToken string
	expiresIn    int
	scope        string
	idClaims     map[string]any // nil when no ID token is due
	proofJKT     string         // thumbprint of the request's DPoP proof, "" without one
	boundJKT     string         // the access token's DPoP binding, "" for a bearer token
}

// mint issues an access token, and a refresh token when newRefresh is set,
// in family f. The caller holds s.mu.
func (s *Server) mint(grantType string, f *family, scope string, newRefresh bool, nonce string) tokenSet {
	now := s.now()
	ts := tokenSet{
		grantType:   grantType,
		fam:         f,
		accessToken: "SNTL-AT-" + randomString(24),
		expiresIn:   int(s.cfg.accessTTL / time.Second),
		scope:       scope,
	}
	s.st.access[ts.accessToken] = &accessState{fam: f, expiry: now.Add(s.cfg.accessTTL)}
	if newRefresh {
		ts.refreshToken = "SNTL-RT-" + randomString(24)
		s.st.refresh[ts.refreshToken] = &refreshState{fam: f}
		f.latest = ts.refreshToken
	}
	if hasScope(scope, "openid") {
		ts.idClaims = map[string]any{
			"iss":       s.Issuer(),
			"sub":       f.user.Subject,
			"aud":       f.clientID,
			"iat":       now.Unix(),
			"exp":       now.Add(s.cfg.idTokenTTL).Unix(),
			"auth_time": f.authTime.Unix(),
		}
		if !s.cfg.claimsOnlyInUserinfo {
			maps.Copy(ts.idClaims, personClaims(f.user))
		}
		// The nonce binds an authorization request; a refresh has none,
		// so its ID token carries no nonce.
		if nonce != "" {
			ts.idClaims["nonce"] = nonce
		}
	}
	return ts
}

// randomString returns n random bytes from crypto/rand, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never fails on supported platforms (Go 1.24+).
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
