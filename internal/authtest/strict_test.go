package authtest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestCodeExchange_RefusesWhatAStrictServerRefuses: every way a client can
// get the code exchange wrong is refused, so a client test that reaches a
// token only through this server has proved its request right (PKCE, RFC
// 7636 §4.6; redirect_uri, RFC 6749 §4.1.3; public client authentication,
// §2.3 and §3.2.1). The code is spent by the refused attempt.
func TestCodeExchange_RefusesWhatAStrictServerRefuses(t *testing.T) {
	const redirectURI = "http://127.0.0.1:4242/callback"
	verifier := oauth2.GenerateVerifier()
	tests := []struct {
		name       string
		edit       func(form url.Values, header http.Header)
		wantStatus int
		wantCode   string
	}{
		{"as sent", func(url.Values, http.Header) {}, http.StatusOK, ""},
		{"verifier missing", func(f url.Values, _ http.Header) { f.Del("code_verifier") }, http.StatusBadRequest, "invalid_grant"},
		{"verifier of another request", func(f url.Values, _ http.Header) { f.Set("code_verifier", oauth2.GenerateVerifier()) }, http.StatusBadRequest, "invalid_grant"},
		{"challenge sent as verifier", func(f url.Values, _ http.Header) { f.Set("code_verifier", S256Challenge(verifier)) }, http.StatusBadRequest, "invalid_grant"},
		{"redirect_uri differs", func(f url.Values, _ http.Header) { f.Set("redirect_uri", "http://127.0.0.1:4243/callback") }, http.StatusBadRequest, "invalid_grant"},
		{"redirect_uri missing", func(f url.Values, _ http.Header) { f.Del("redirect_uri") }, http.StatusBadRequest, "invalid_grant"},
		{"unknown code", func(f url.Values, _ http.Header) { f.Set("code", "SNTL-CODE-unknown") }, http.StatusBadRequest, "invalid_grant"},
		{"grant_type implicit", func(f url.Values, _ http.Header) { f.Set("grant_type", "implicit") }, http.StatusBadRequest, "unsupported_grant_type"},
		{"grant_type missing", func(f url.Values, _ http.Header) { f.Del("grant_type") }, http.StatusBadRequest, "invalid_request"},
		{"client_id missing", func(f url.Values, _ http.Header) { f.Del("client_id") }, http.StatusUnauthorized, "invalid_client"},
		{"client in a Basic header", func(_ url.Values, h http.Header) { h.Set("Authorization", "Basic c2VzYW1lLXRlc3Q6") }, http.StatusUnauthorized, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t)
			code := s.IssueCode(AuthorizeRequest{
				ClientID: s.ClientID, RedirectURI: redirectURI, ResponseType: "code",
				CodeChallenge: S256Challenge(verifier), CodeChallengeMethod: "S256",
			}, User{Subject: "alice"})
			form := url.Values{
				"grant_type":    {GrantAuthorizationCode},
				"code":          {code},
				"redirect_uri":  {redirectURI},
				"code_verifier": {verifier},
				"client_id":     {s.ClientID},
			}
			header := http.Header{}
			tt.edit(form, header)
			status, body, err := tryPost(t, s, PathToken, form, header)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantCode == "" {
				if status != http.StatusOK || len(s.Issued()) != 1 {
					t.Fatalf("the right request got %d %v", status, body)
				}
				return
			}
			wantOAuthError(t, status, body, tt.wantStatus, tt.wantCode)
			if len(s.Issued()) != 0 {
				t.Fatal("tokens issued for a wrong request")
			}
		})
	}
}

func TestIssueGrant_RefreshesLikeALogin(t *testing.T) {
	s := New(t, WithRawIDToken("SNTL-ID-seeded"))
	g := s.IssueGrant("openid profile")
	if !strings.HasPrefix(g.AccessToken, "SNTL-AT-") || !strings.HasPrefix(g.RefreshToken, "SNTL-RT-") ||
		g.IDToken != "SNTL-ID-seeded" || g.GrantType != GrantAuthorizationCode || g.Scope != "openid profile" {
		t.Fatalf("issued %+v", g)
	}
	if s.CountRequests(PathToken) != 0 || len(s.Issued()) != 1 || s.Issued()[0] != g || s.LatestRefreshToken() != g.RefreshToken {
		t.Fatal("the seeded grant is not recorded as issued without a request")
	}
	status, body := refresh(t, s, g.RefreshToken)
	if status != http.StatusOK || body["refresh_token"] == g.RefreshToken || body["id_token"] != "SNTL-ID-seeded" {
		t.Fatalf("refresh of the seeded grant: %d %v", status, body)
	}
	// Reuse of the rotated seed revokes the family, as for any grant.
	status, body = refresh(t, s, g.RefreshToken)
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
	if !s.Revoked(g.AccessToken) {
		t.Fatal("the seeded family survived a reuse")
	}
}

// A gateway's 502 after the server acted: the refresh token is rotated,
// the client gets a status page and no token; then the server answers
// again.
func TestLostTokenResponses_StatusAfterProcessing(t *testing.T) {
	s := New(t)
	g := s.IssueGrant("profile")
	s.Configure(WithLostTokenResponses(1, http.StatusBadGateway))
	status, body := refresh(t, s, g.RefreshToken)
	if status != http.StatusBadGateway || body != nil {
		t.Fatalf("lost answer: %d %v", status, body)
	}
	if issued := s.Issued(); len(issued) != 2 || s.LatestRefreshToken() != issued[1].RefreshToken {
		t.Fatal("the refresh behind the lost answer was not processed")
	}
	status, body = refresh(t, s, s.LatestRefreshToken())
	if status != http.StatusOK {
		t.Fatalf("after the lost answer: %d %v", status, body)
	}
	// The drop option given later closes the connection again.
	s.Configure(WithLostTokenResponses(1, http.StatusBadGateway), WithDroppedTokenResponses(1))
	form := url.Values{"grant_type": {GrantRefreshToken}, "refresh_token": {s.LatestRefreshToken()}, "client_id": {s.ClientID}}
	if _, _, err := tryPost(t, s, PathToken, form, nil); err == nil {
		t.Fatal("dropped answer: want a transport error")
	}
}
