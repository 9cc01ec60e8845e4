package authtest

import (
	"net/http"
	"strings"
)

// Quirks of real servers that a client must meet with a clear message
// rather than a raw error (sesame issue 15). Each option turns its quirk
// on or, with false, off again.

// WithStrictOfflineAccess applies OpenID Connect Core §11 as
// oidc-provider does by default: an authorization request's
// offline_access is dropped unless prompt includes consent, and a refresh
// token is issued only for a grant that holds offline_access (the device
// grant keeps the scope: it has no prompt).
func WithStrictOfflineAccess(on bool) Option { return func(c *config) { c.strictOffline = on } }

// WithConfidentialClient makes the token endpoint refuse every request
// of the client with 401 invalid_client, as a server does whose client is
// registered as confidential and gets no secret (Hydra's default: its
// description is the one sent). The authorization endpoint still signs
// the person in: the refusal comes after they consented.
func WithConfidentialClient(on bool) Option { return func(c *config) { c.confidential = on } }

// confidentialDescription is Hydra's answer to a public client's code
// exchange for a client registered with client_secret_basic.
const confidentialDescription = "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method). The provided authentication method does not match: passwords do not match"

// WithOneGrantPerClient keeps, as Gitea and Forgejo do, one grant per
// client and user with the scope string of the first authorization: a
// later authorization request with another scope string is answered
// error=server_error, "a grant exists with different scope".
func WithOneGrantPerClient(on bool) Option { return func(c *config) { c.oneGrant = on } }

// WithClaimsOnlyInUserinfo leaves the person's names (preferred_username,
// email, name) out of the ID token, which then carries sub alone; the
// userinfo endpoint still answers them, as zitadel does by default.
func WithClaimsOnlyInUserinfo(on bool) Option { return func(c *config) { c.claimsOnlyInUserinfo = on } }

// offlineAccessScope returns scope without offline_access when the
// server applies §11 strictly and params ask for no consent.
func (s *Server) offlineAccessScope(scope string, prompt string) string {
	s.mu.Lock()
	strict := s.cfg.strictOffline
	s.mu.Unlock()
	if !strict || !hasScope(scope, "offline_access") || hasScope(prompt, "consent") {
		return scope
	}
	kept := strings.Fields(scope)[:0]
	for _, sc := range strings.Fields(scope) {
		if sc != "offline_access" {
			kept = append(kept, sc)
		}
	}
	return strings.Join(kept, " ")
}

// issuesRefreshTokenLocked reports whether a new grant of scope gets a refresh
// token. The caller holds s.mu.
func (s *Server) issuesRefreshTokenLocked(scope string) bool {
	return !s.cfg.strictOffline || hasScope(scope, "offline_access")
}

// grantScopeConflict reports whether user already holds a grant of
// clientID with another scope string, recording this one when it is the
// first.
func (s *Server) grantScopeConflict(clientID string, user User, scope string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.cfg.oneGrant {
		return false
	}
	if s.st.grantScopes == nil {
		s.st.grantScopes = map[string]string{}
	}
	key := clientID + "\x00" + user.Subject
	prev, ok := s.st.grantScopes[key]
	if !ok {
		s.st.grantScopes[key] = scope
		return false
	}
	return prev != scope
}

// confidentialRefusal is the token endpoint's refusal of a client
// [WithConfidentialClient] registered as confidential, nil otherwise.
func (s *Server) confidentialRefusal() *oauthError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.cfg.confidential {
		return nil
	}
	return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: confidentialDescription}
}

// personClaims are the claims that name u, as an ID token or userinfo
// carries them; empty ones are left out.
func personClaims(u User) map[string]any {
	c := map[string]any{}
	if u.Username != "" {
		c["preferred_username"] = u.Username
	}
	if u.Email != "" {
		c["email"], c["email_verified"] = u.Email, true
	}
	if u.Name != "" {
		c["name"] = u.Name
	}
	return c
}
