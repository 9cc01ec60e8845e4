package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/filelock"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/provider"
	"github.com/sesame-auth/sesame/keychain"
)

// LoginRequest is one login of a profile.
type LoginRequest struct {
	// Profile is the profile as this login will save it: the saved one
	// with the command line's flags applied.
	Profile *profile.Profile
	// Before is the profile as saved before this login; nil for a new one.
	Before *profile.Profile
	// Save writes Profile into the configuration file once signed in (a
	// login command); a helper's login leaves the file alone.
	Save bool
	// SaveAs, when set, is the profile Save writes, made from the one this
	// login used (with a registered client id filled in): the login
	// command's flags for this login only taken out again.
	SaveAs func(used *profile.Profile) *profile.Profile
	// Timeout bounds the wait for the browser.
	Timeout time.Duration
	// CanShowBrowser says whether a browser can open where sesame runs;
	// it decides the flow when the profile names none.
	CanShowBrowser bool
	// AcceptVerificationHost shows a device verification page on another
	// domain than the issuer's.
	AcceptVerificationHost bool
	// LockWait is how long to wait for another login of the profile
	// before refusing with a LoginInProgress problem.
	LockWait time.Duration
	// ClientSecret is the client secret of the profile's app, for a
	// provider preset that demands one; "" uses the stored one. It is
	// stored in the keychain once the login succeeds.
	ClientSecret string
}

// Login signs in for req.Profile and stores the grant. It reads top to
// bottom:
//
//  1. take the profile's login lock: two browsers for one profile would
//     leave one grant orphaned;
//  2. register a client when the profile asks for one (RFC 7591), and
//     save the profile at once, so a failed login does not lose it;
//  3. ask the keychain, so a locked one fails before the browser opens,
//     and take the client secret of a preset that demands one (given, or
//     stored by an earlier login);
//  4. discovery (or a preset's built-in endpoints), then the browser or
//     the device flow, with the ID token
//     verified (nonce included) before anything is stored;
//  5. under the grant lock, replace the newest stored grant and revoke it,
//     and end the grant the profile held before its issuer or client
//     changed (Grant.Replace); keep a given client secret beside it;
//  6. save the profile (config.json under its own lock, re-read).
func Login(ctx context.Context, d *Deps, ui *UI, req LoginRequest) (*keychain.Record, error) {
	p := req.Profile
	lock, err := lockLogin(ctx, d, p, req.LockWait)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	return loginLocked(ctx, d, ui, req)
}

// Relogin is the login a helper command starts for a person at a
// terminal when g's grant is unusable. Of several helpers that need it at
// once (five terminals, a shell loop), one opens the browser and the
// others wait on the login lock, then use its grant (requirement 30).
// notice is called, with the reason, just before a browser opens.
func Relogin(ctx context.Context, d *Deps, ui *UI, g *Grant, req LoginRequest, notice func(reason error)) (*Result, error) {
	lock, err := lockLogin(ctx, d, req.Profile, req.LockWait)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	// Another helper may have signed in while this one waited.
	res, err := g.Token(ctx)
	if !errors.Is(err, ErrLoginRequired) {
		return res, err
	}
	if notice != nil {
		notice(err)
	}
	signed, err := loginLocked(ctx, d, ui, req)
	if err != nil {
		return nil, err
	}
	// The new grant's token, as this caller wants it: another resource
	// than the login's, or a longer --min-ttl, takes a refresh of it.
	res, err = g.Token(ctx)
	if err != nil {
		return nil, err
	}
	// The cache keeps no claims: the account is the login's.
	v := *res.Record
	v.Subject, v.Username, v.Email, v.Name = signed.Subject, signed.Username, signed.Email, signed.Name
	res.Record, res.SignedIn, res.Login = &v, true, signed
	return res, nil
}

// lockLogin takes p's login lock. It is apart from the grant lock, which
// a login holds only to store its grant, so helpers keep refreshing while
// a browser is open.
func lockLogin(ctx context.Context, d *Deps, p *profile.Profile, wait time.Duration) (*filelock.Lock, error) {
	dir, err := d.LockDir()
	if err != nil {
		return nil, err
	}
	l, err := filelock.Acquire(ctx, dir, "login."+p.Name, wait)
	if errors.Is(err, filelock.ErrTimeout) {
		return nil, &Problem{Kind: LoginInProgress, Profile: p.Name, Err: fmt.Errorf("another login of profile %q is in progress", p.Name)}
	}
	return l, err
}

func loginLocked(ctx context.Context, d *Deps, ui *UI, req LoginRequest) (*keychain.Record, error) {
	p := req.Profile
	if p.Register && p.ClientID == "" && req.Save {
		if err := register(ctx, d, p); err != nil {
			return nil, err
		}
		if err := saveProfile(ctx, d, req.saved()); err != nil {
			return nil, fmt.Errorf("a client was registered, but the profile could not be saved: %w", err)
		}
	}
	if p.ClientID == "" {
		return nil, &Problem{Kind: NoClientID, Profile: p.Name, Err: fmt.Errorf("profile %q has no client id: its registration was deleted at logout", p.Name)}
	}
	store, err := d.store()
	if err != nil {
		return nil, err
	}
	if _, err := store.Get(ctx, p.KeychainKey()); err != nil && !errors.Is(err, keychain.ErrNotFound) && !errors.Is(err, keychain.ErrCorrupt) {
		return nil, err
	}
	auth, err := loginClientAuth(ctx, store, p, req.ClientSecret)
	if err != nil {
		return nil, err
	}
	client, md, err := discover(ctx, d, p)
	if err != nil {
		return nil, err
	}
	client, dpopKey, err := bindDPoP(d, p, md, client)
	if err != nil {
		return nil, err
	}
	flow := ChooseFlow(p, md, req.CanShowBrowser)
	d.logf("login: profile %q: issuer %s, %s flow, token endpoint %s, iss parameter announced: %v",
		p.Name, md.Issuer, flow, md.TokenEndpoint, md.AuthorizationResponseIssParameterSupported)
	var tok *oauth2.Token
	var idTok *provider.IDToken
	if flow == profile.FlowDevice {
		tok, idTok, err = deviceGrant(ctx, d, ui, p, md, client, req, auth)
	} else {
		tok, idTok, err = browserGrant(ctx, d, ui, p, md, client, req, auth)
	}
	if err != nil {
		return nil, explainLogin(p, err)
	}
	rec, err := NewRecord(Binding{Profile: p.Name, Issuer: p.Issuer, ClientID: p.ClientID}, md.TokenEndpoint, tok, d.now())
	if err != nil {
		return nil, err
	}
	if idTok != nil {
		rec.Subject, rec.Username, rec.Email, rec.Name = idTok.Subject, idTok.Username, idTok.Email, idTok.Name
	}
	namePresetUser(ctx, d, client, p, rec)
	nameAccount(ctx, d, client, md, rec)
	rec.Resource = p.DefaultResource()
	if dpopKey != nil {
		rec.DPoPKey = dpopKey.Marshal()
	}
	d.logf("login: token response received; granted scope %q; storing the grant in %s", rec.Scope, store.Name())
	var previous []*Grant
	if b := req.Before; b != nil && b.ClientID != "" && b.KeychainKey() != p.KeychainKey() {
		// The profile now names another issuer or client: the grant it
		// held goes when the new one is stored.
		prev, err := Open(d, ui, b, TokenRequest{})
		if err != nil {
			return nil, err
		}
		previous = append(previous, prev)
	}
	g, err := Open(d, ui, p, TokenRequest{})
	if err != nil {
		return nil, err
	}
	if err := g.Replace(ctx, rec, previous, p.Resources...); err != nil {
		return nil, &Problem{Kind: NotStored, Profile: p.Name, Err: fmt.Errorf("signed in, but the grant could not be stored: %w", err)}
	}
	if req.ClientSecret != "" {
		if err := storeClientSecret(ctx, d, store, p, md.TokenEndpoint, req.ClientSecret); err != nil {
			return nil, &Problem{Kind: NotStored, Profile: p.Name, Err: fmt.Errorf("signed in, but the client secret could not be stored: %w", err)}
		}
	}
	if req.Save {
		if err := saveProfile(ctx, d, req.saved()); err != nil {
			return nil, fmt.Errorf("signed in, but the profile could not be saved: %w", err)
		}
	}
	return rec, nil
}

// saved is the profile Save writes.
func (req *LoginRequest) saved() *profile.Profile {
	if req.SaveAs == nil {
		return req.Profile
	}
	return req.SaveAs(req.Profile)
}

// saveProfile writes p into the configuration file, keeping every other
// profile as it is on disk now (profile.Update).
func saveProfile(ctx context.Context, d *Deps, p *profile.Profile) error {
	return UpdateConfig(ctx, d, func(c *profile.Config) error {
		c.Profiles[p.Name] = p
		return nil
	})
}

// UpdateConfig changes the configuration file under its lock, on a fresh
// read of it: another sesame may have saved a profile since this one
// loaded the file.
func UpdateConfig(ctx context.Context, d *Deps, change func(*profile.Config) error) error {
	dir, err := d.ConfigDir()
	if err != nil {
		return err
	}
	_, err = profile.Update(ctx, dir, change)
	return err
}
