package session

import (
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/keychain"
)

// The refresh token's expiry that status shows is the current refresh
// token's: refresh_expires_in (Keycloak) sets it, a rotated token without
// one leaves it unknown rather than the old token's, and the same token
// sent back keeps it.
func TestApply_RefreshExpiryFollowsTheRefreshToken(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	old := now.Add(time.Hour)
	answer := func(rt string, extra map[string]any) *oauth2.Token {
		tok := &oauth2.Token{AccessToken: "AT", TokenType: "Bearer", RefreshToken: rt, ExpiresIn: 300}
		return tok.WithExtra(extra)
	}
	for _, tc := range []struct {
		name string
		tok  *oauth2.Token
		want time.Time
	}{
		{"told", answer("RT-2", map[string]any{"refresh_expires_in": float64(1800)}), now.Add(30 * time.Minute)},
		{"rotated without expiry", answer("RT-2", nil), time.Time{}},
		{"same token sent back", answer("RT-1", nil), old},
		{"no refresh token", answer("", nil), old},
	} {
		r := &keychain.Record{RefreshToken: "RT-1", RefreshExpiry: old}
		Apply(r, tc.tok, now)
		if !r.RefreshExpiry.Equal(tc.want) {
			t.Errorf("%s: refresh expiry %v, want %v", tc.name, r.RefreshExpiry, tc.want)
		}
	}
}
