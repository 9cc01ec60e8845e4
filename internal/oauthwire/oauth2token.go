package oauthwire

import (
	"time"

	"golang.org/x/oauth2"
)

// OAuth2 returns t as x/oauth2's token: its expiry is now plus expires_in,
// at most maxLifetime (an absurd expires_in must not make a token look
// valid for years; RFC 6749 §5.1 gives no bound), and every member of the
// answer is its extra (id_token and scope among them).
func (t *Token) OAuth2(now time.Time, maxLifetime time.Duration) *oauth2.Token {
	tok := &oauth2.Token{
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		RefreshToken: t.RefreshToken,
	}
	if t.ExpiresIn > 0 {
		d := maxLifetime
		if t.ExpiresIn < int64(maxLifetime/time.Second) {
			d = time.Duration(t.ExpiresIn) * time.Second
		}
		tok.ExpiresIn = int64(d / time.Second)
		tok.Expiry = now.Add(d)
	}
	return tok.WithExtra(t.Fields)
}
