package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/registration"
	"github.com/sesame-auth/sesame/keychain"
)

// registeredClientName is the client_name sesame registers: it is shown on
// the server's consent page, so it says what asks for access, and nothing
// about the machine.
const registeredClientName = "sesame"

// deviceGrantType is RFC 8628's grant type.
const deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// register gives p a client id of its own by dynamic client registration
// (RFC 7591): a public native client (no secret, token_endpoint_auth_method
// none) with loopback redirect URIs on any port (RFC 8252 §7.3). A
// per-installation client id means one stolen or misused installation can
// be cut off alone (RFC 6819 §5.2.3.4). The management token, when the
// server gives one with a management URI, is kept in the keychain so
// logout can deregister (RFC 7592).
func register(ctx context.Context, d *Deps, p *profile.Profile) error {
	store, err := d.store()
	if err != nil {
		return err
	}
	client, md, err := discover(ctx, d, p)
	if err != nil {
		return err
	}
	if md.RegistrationEndpoint == "" {
		return &Problem{Kind: NoRegistration, Profile: p.Name, Err: errors.New("the server does not offer dynamic client registration (no registration_endpoint in its metadata)")}
	}
	grants := []string{"authorization_code", "refresh_token"}
	if md.DeviceAuthorizationEndpoint != "" {
		grants = append(grants, deviceGrantType)
	}
	reg, err := registration.Register(ctx, client, md.RegistrationEndpoint, registration.Request{
		ClientName:   registeredClientName,
		RedirectURIs: []string{"http://127.0.0.1/callback", "http://[::1]/callback"},
		GrantTypes:   grants,
	})
	if err != nil {
		// Its errors name the registration already.
		return err
	}
	d.logf("login: profile %q: registered client %s (management: %v)", p.Name, reg.ClientID, reg.RegistrationClientURI != "")
	if reg.RegistrationClientURI != "" && reg.RegistrationAccessToken != "" {
		rec := &keychain.Record{
			Version:                 keychain.RecordVersion,
			Profile:                 p.Name,
			Issuer:                  p.Issuer,
			ClientID:                reg.ClientID,
			TokenEndpoint:           md.TokenEndpoint,
			RegistrationAccessToken: reg.RegistrationAccessToken,
			RegistrationClientURI:   reg.RegistrationClientURI,
			IssuedAt:                d.now().UTC(),
		}
		if err := store.Set(ctx, keychain.RegistrationKey(p.Issuer, reg.ClientID, p.Name), rec); err != nil {
			// Without its management token the registration could never
			// be deleted: undo it now rather than leave an orphan.
			_ = registration.Delete(ctx, client, reg.RegistrationClientURI, reg.RegistrationAccessToken)
			return fmt.Errorf("the client was registered, but its management token could not be stored (the registration was withdrawn): %w", err)
		}
	}
	p.ClientID = reg.ClientID
	return nil
}

// deregister deletes p's dynamic registration (RFC 7592 §2.3) when sesame
// holds its management token, and then forgets the client id, so the next
// login registers a new one. It reports whether the server confirmed (or
// no longer knew the client). Without a management token there is nothing
// to delete and the client id stays for the next login.
func deregister(ctx context.Context, d *Deps, ui *UI, p *profile.Profile) (bool, error) {
	if !p.Register || p.ClientID == "" {
		return true, nil
	}
	store, err := d.store()
	if err != nil {
		return false, err
	}
	key := keychain.RegistrationKey(p.Issuer, p.ClientID, p.Name)
	rec, err := store.Get(ctx, key)
	if errors.Is(err, keychain.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	c, err := d.HTTPClient(p, 0)
	if err != nil {
		return false, err
	}
	err = registration.Delete(ctx, c, rec.RegistrationClientURI, rec.RegistrationAccessToken)
	switch {
	case err == nil:
		ui.info(fmt.Sprintf("deleted the client registration of %q at the server", p.Name))
	case errors.Is(err, registration.ErrGone):
		ui.info(fmt.Sprintf("the server no longer knew the client registration of %q", p.Name))
	default:
		// Keep the management token: a later logout can try again. The
		// error reads "deleting the client registration: ...".
		ui.warn(err.Error())
		return false, nil
	}
	if err := store.Delete(ctx, key); err != nil {
		return false, err
	}
	p.ClientID = ""
	return true, nil
}
