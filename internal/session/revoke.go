package session

import (
	"context"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/provider"
	"github.com/sesame-auth/sesame/keychain"
)

// revoke revokes rec's refresh token, then its access token (RFC 7009
// §2.1), at p's server, and reports whether the refresh token's
// revocation was confirmed. What fails is told as a warning: local data
// goes whatever the server says (requirement 33).
func revoke(ctx context.Context, d *Deps, ui *UI, p *profile.Profile, rec *keychain.Record) bool {
	client, md, err := discover(ctx, d, p)
	if err != nil {
		ui.warn(err.Error())
		return false
	}
	if md.RevocationEndpoint == "" {
		ui.warn("the server offers no revocation endpoint")
		return false
	}
	confirmed := true
	if rec.RefreshToken != "" {
		if err := provider.Revoke(ctx, client, md.RevocationEndpoint, rec.ClientID, rec.RefreshToken, provider.HintRefreshToken, nil); err != nil {
			ui.warn(err.Error())
			confirmed = false
		}
	}
	if rec.AccessToken != "" {
		if err := provider.Revoke(ctx, client, md.RevocationEndpoint, rec.ClientID, rec.AccessToken, provider.HintAccessToken, nil); err != nil && rec.RefreshToken == "" {
			ui.warn(err.Error())
			confirmed = false
		}
	}
	return confirmed
}
