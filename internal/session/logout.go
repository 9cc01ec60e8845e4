package session

import (
	"context"

	"github.com/sesame-auth/sesame/internal/profile"
)

// LoggedOut is what Logout did for one profile.
type LoggedOut struct {
	Profile string
	// SignedIn: a grant was stored.
	SignedIn bool
	// Revoked: the server confirmed the revocation (true when nothing was
	// stored).
	Revoked bool
	// Deregistered: the profile's registered client, if any, is gone at
	// the server (or there was none to delete).
	Deregistered bool
}

// Logout ends p's grant (revoked at the server, deleted here, under the
// profile lock: Grant.End) and deletes its dynamic client registration
// (RFC 7592). The configuration is then updated under its lock: with
// forget the profile goes; a deleted registration takes its client id
// with it, so the next login registers a new client. A registration the
// server did not delete keeps the profile and its management token for
// another logout.
func Logout(ctx context.Context, d *Deps, ui *UI, p *profile.Profile, forget bool) (LoggedOut, error) {
	out := LoggedOut{Profile: p.Name}
	g, err := Open(d, ui, p, TokenRequest{})
	if err != nil {
		return out, err
	}
	ended, err := g.End(ctx, p.Resources...)
	if err != nil {
		return out, err
	}
	out.SignedIn, out.Revoked = ended.Found, ended.Confirmed
	clientID := p.ClientID
	if out.Deregistered, err = deregister(ctx, d, ui, p); err != nil {
		return out, err
	}
	switch {
	case !out.Deregistered:
		return out, nil
	case forget:
		// The app's client secret outlives a logout (the next login needs
		// it), but not the profile it was given for.
		if err = forgetClientSecret(ctx, d, p); err != nil {
			return out, err
		}
		err = UpdateConfig(ctx, d, func(c *profile.Config) error {
			c.Remove(p.Name)
			return nil
		})
	case p.ClientID != clientID:
		err = UpdateConfig(ctx, d, func(c *profile.Config) error {
			if cp := c.Profiles[p.Name]; cp != nil && cp.ClientID == clientID {
				cp.ClientID = ""
			}
			return nil
		})
	}
	return out, err
}
