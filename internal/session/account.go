package session

import (
	"context"
	"net/http"
	"time"

	"github.com/sesame-auth/sesame/internal/provider"
	"github.com/sesame-auth/sesame/keychain"
)

// userinfoTimeout bounds the userinfo request of a login: a name is worth
// a moment, not the login.
const userinfoTimeout = 10 * time.Second

// nameAccount asks the userinfo endpoint (OIDC Core §5.3) how the server
// names the person, when the verified ID token named them by sub alone:
// Gitea's "1" is user alice, and zitadel puts email and name only in
// userinfo. The account line a login prints is the defence against a
// login finished by someone else's account (SECURITY.md), so it must name
// the person whenever the server does.
//
// Its failure is logged and never fatal: the grant is good either way.
// A DPoP-bound access token is not sent, since the endpoint would want a
// proof of its own (RFC 9449 §7).
func nameAccount(ctx context.Context, d *Deps, client *http.Client, md *provider.Metadata, rec *keychain.Record) {
	named := rec.Username != "" || rec.Email != "" || rec.Name != ""
	if named || rec.Subject == "" || rec.AccessToken == "" || md.UserinfoEndpoint == "" {
		return
	}
	if rec.TokenType != "Bearer" {
		d.logf("login: the ID token names no one, and the %s access token is not sent to userinfo", rec.TokenType)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, userinfoTimeout)
	defer cancel()
	who, err := provider.Userinfo(ctx, client, md, rec.AccessToken, rec.Subject)
	if err != nil {
		d.logf("login: the ID token names no one, and userinfo did not either: %v", err)
		return
	}
	rec.Username, rec.Email, rec.Name = who.Username, who.Email, who.Name
}
