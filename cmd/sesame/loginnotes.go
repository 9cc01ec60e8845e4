package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/session"
	"github.com/sesame-auth/sesame/keychain"
)

// warnLogin tells the person, after "signed in", what the new grant lacks
// that they would otherwise find out later: a refresh token, without which
// a new login is needed each time the access token expires, and the
// resource asked for, when the access token shows the server ignored it.
func (a *app) warnLogin(p *profile.Profile, rec *keychain.Record) {
	if rec.RefreshToken == "" {
		until := session.EarlyExpiry(rec)
		left := max(until.Sub(a.env.Clock.Now()), 0).Truncate(time.Second)
		a.warn(fmt.Sprintf("the server issued no refresh token: this login lasts only as long as its access token, until %s (%s); then sesame needs a new login",
			until.UTC().Truncate(time.Second).Format(time.RFC3339), left))
		if why := noRefreshCause(p, rec); why != "" {
			a.warn(why)
		}
	}
	if aud, ok := session.ResourceUnconfirmed(rec); ok {
		a.warn(fmt.Sprintf("the server did not confirm the resource %s: the access token %s; it may not support RFC 8707 resource indicators, and a service that checks the audience will refuse the token",
			oneLine(rec.Resource), describeAudience(aud)))
	}
}

// noRefreshCause names the likely reason a login got no refresh token,
// and its fix, or "".
func noRefreshCause(p *profile.Profile, rec *keychain.Record) string {
	const offline = "offline_access"
	switch {
	case !slices.Contains(p.EffectiveScopes(), offline):
		return fmt.Sprintf("the scopes of profile %q do not ask for %s: log in with --scope %s among the others for a grant that lasts", p.Name, offline, offline)
	case rec.Scope != "" && !slices.Contains(strings.Fields(rec.Scope), offline):
		return fmt.Sprintf("the server did not grant the %s scope: ask its administrator to allow refresh tokens (the refresh_token grant) for client %q", offline, oneLine(p.ClientID))
	}
	return ""
}

// describeAudience says whom an access token is for, in its own words.
func describeAudience(aud []string) string {
	if len(aud) == 0 {
		return "names no audience"
	}
	return "is for " + oneLine(strings.Join(aud, ", "))
}
