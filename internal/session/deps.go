package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sesame-auth/sesame/devicecode"
	"github.com/sesame-auth/sesame/internal/clock"
	"github.com/sesame-auth/sesame/internal/filelock"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/provider"
	"github.com/sesame-auth/sesame/internal/redact"
	"github.com/sesame-auth/sesame/internal/tokencache"
	"github.com/sesame-auth/sesame/keychain"
	"github.com/sesame-auth/sesame/loopback"
)

// Deps are what the use cases need from the outside world. The command
// line builds them once per run from the process; tests build their own.
type Deps struct {
	// Store opens the credential store. It is called only by use cases
	// that need it, so a command that never touches a grant never opens
	// the keychain.
	Store func() (keychain.Store, error)
	// Cache is the volatile access-token cache; nil means none.
	Cache tokencache.Cache
	// LockDir returns the user's private lock directory (filelock.Dir).
	LockDir func() (string, error)
	// ConfigDir returns the configuration directory.
	ConfigDir func() (string, error)
	// HTTPClient builds the client for p's server (its CA file, bounded
	// timeouts, no redirects); a responseTimeout of 0 keeps the default.
	HTTPClient func(p *profile.Profile, responseTimeout time.Duration) (*http.Client, error)
	// Finisher, when set, returns the Finisher of p's refreshes (a child
	// process on Unix); nil finishes them in this process.
	Finisher func(p *profile.Profile, req TokenRequest) Finisher
	// Clock tells the time and waits (the device flow's polls); nil
	// means the system clock.
	Clock clock.Clock
	// Log is the redacted debug log; nil logs nothing.
	Log *redact.Logger
	// PresetOrigins moves provider presets with a fixed host (Google,
	// Codeberg) to a test's in-process server, by preset name. Only
	// tests set it: the command line copies it from its Env, which a
	// release binary builds from the process with none, and nothing reads
	// it from the configuration file or the environment.
	PresetOrigins map[string]string
}

// UI is how the use cases speak to the person: everything that reaches
// a terminal goes through it, so the use cases stay free of output
// formats, as age's plugin.ClientUI keeps plugins free of them.
type UI struct {
	// Warn tells of a problem that did not stop the command.
	Warn func(msg string)
	// Info tells of progress worth a line (a registration deleted).
	Info func(msg string)
	// ShowAuthURL shows the authorization URL of a browser login, always,
	// so it can be opened by hand elsewhere.
	ShowAuthURL func(url string)
	// Opener opens the browser; nil opens none (--no-browser).
	Opener loopback.Opener
	// Browser is told what happens while a browser login waits (the link
	// to open, an opener failure, pasted addresses).
	Browser loopback.Events
	// Device shows the device flow's code, page and countdown.
	Device devicecode.UI
}

// TokenRequest says what kind of token a caller wants.
type TokenRequest struct {
	// MinTTL is how long the token must still be valid.
	MinTTL time.Duration
	// Resource is the RFC 8707 resource the token is for: one of the
	// profile's resources; "" is the profile's default.
	Resource string
	// IDToken: the caller needs a fresh ID token too (kubectl --id-token).
	IDToken bool
}

func (d *Deps) now() time.Time { return d.clock().Now() }

func (d *Deps) clock() clock.Clock {
	if d.Clock != nil {
		return d.Clock
	}
	return clock.System
}

func (d *Deps) logf(format string, args ...any) {
	if d.Log != nil {
		d.Log.Printf(format, args...)
	}
}

func (ui *UI) warn(msg string) {
	if ui.Warn != nil {
		ui.Warn(msg)
	}
}

func (ui *UI) info(msg string) {
	if ui.Info != nil {
		ui.Info(msg)
	}
}

// store opens the credential store.
func (d *Deps) store() (keychain.Store, error) {
	if d.Store == nil {
		return nil, errors.New("no credential store")
	}
	s, err := d.Store()
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errors.New("no credential store")
	}
	return s, nil
}

// lock takes the cross-process lock of p's grant, waiting at most wait,
// and gives up waiting, with a nil Lock and no error, once ready reports
// true. Its name is the grant's keychain key, so every sesame of this user
// that could redeem the same refresh token waits on the same lock,
// whatever its config directory.
func (d *Deps) lock(ctx context.Context, p *profile.Profile, wait time.Duration, ready func() bool) (*filelock.Lock, error) {
	dir, err := d.LockDir()
	if err != nil {
		return nil, err
	}
	l, err := filelock.AcquireUnless(ctx, dir, p.KeychainKey(), wait, ready)
	if errors.Is(err, filelock.ErrTimeout) {
		return nil, &Problem{Kind: Busy, Profile: p.Name, Err: fmt.Errorf("profile %q is busy: %w", p.Name, err)}
	}
	if err != nil {
		return nil, err
	}
	if l == nil {
		d.logf("lock: profile %q: another process's fresh token arrived while waiting", p.Name)
		return nil, nil
	}
	d.logf("lock: profile %q locked", p.Name)
	return l, nil
}

// Open returns the owner of p's grant for a caller that wants req. Nothing
// expensive happens here: the keychain is opened, but the HTTP client (CA
// pool) is built only if a refresh is needed, so a warm call never pays
// for it.
func Open(d *Deps, ui *UI, p *profile.Profile, req TokenRequest) (*Grant, error) {
	store, err := d.store()
	if err != nil {
		return nil, err
	}
	resource := req.Resource
	if resource == "" {
		resource = p.DefaultResource()
	}
	ids := &idTokenChecker{d: d, p: p}
	g := &Grant{
		Resource: resource,
		MinTTL:   req.MinTTL,
		Store:    store,
		Key:      p.KeychainKey(),
		Binding:  Binding{Profile: p.Name, Issuer: p.Issuer, ClientID: p.ClientID},
		HTTPClient: func() (*http.Client, error) {
			return d.HTTPClient(p, RefreshTimeout)
		},
		PrepareIDToken: ids.prepare,
		VerifyIDToken:  ids.verify,
		Revoke: func(ctx context.Context, rec *keychain.Record) bool {
			return revoke(ctx, d, ui, p, rec)
		},
		Cache: d.Cache,
		Lock: func(ctx context.Context, ready func() bool) (Held, error) {
			l, err := d.lock(ctx, p, LockWait, ready)
			if l == nil {
				// A nil *filelock.Lock in the interface would not be nil.
				return nil, err
			}
			return l, err
		},
		MarkerDir: d.LockDir,
		Warn:      ui.Warn,
		Clock:     d.Clock,
	}
	if d.Log != nil {
		g.Log = d.Log.Printf
	}
	if req.IDToken {
		g.Accept = IDTokenFresh(d.now, 0)
	}
	if d.Finisher != nil {
		g.Finish = d.Finisher(p, req)
	}
	g.ClientAuth = clientAuthFor(d, store, p)
	return g, nil
}

// discover returns p's HTTP client and its server's validated metadata
// (discovery, byte-exact issuer, https endpoints).
func discover(ctx context.Context, d *Deps, p *profile.Profile) (*http.Client, *provider.Metadata, error) {
	client, err := d.HTTPClient(p, 0)
	if err != nil {
		return nil, nil, err
	}
	md, err := serverMetadata(ctx, d, client, p)
	if err != nil {
		return nil, nil, err
	}
	return client, md, nil
}

// idTokenChecker verifies the ID tokens of p's refreshes with one HTTP
// client and one discovery per process, so the keys fetched before a
// refresh are the ones its ID token is checked with.
type idTokenChecker struct {
	d      *Deps
	p      *profile.Profile
	client *http.Client
	md     *provider.Metadata
}

func (c *idTokenChecker) server(ctx context.Context) (*http.Client, *provider.Metadata, error) {
	if c.md == nil {
		client, md, err := discover(ctx, c.d, c.p)
		if err != nil {
			return nil, nil, err
		}
		c.client, c.md = client, md
	}
	return c.client, c.md, nil
}

// prepare fetches discovery and the server's keys before a refresh is
// sent, so nothing the ID-token check needs is fetched after the server
// rotated the refresh token.
func (c *idTokenChecker) prepare(ctx context.Context, storedIDToken string) error {
	client, md, err := c.server(ctx)
	if err != nil {
		return err
	}
	return provider.WarmKeySet(ctx, client, md, storedIDToken)
}

func (c *idTokenChecker) verify(ctx context.Context, raw string) (*provider.IDToken, error) {
	client, md, err := c.server(ctx)
	if err != nil {
		return nil, err
	}
	return provider.VerifyIDToken(ctx, client, md, c.p.ClientID, raw, "", c.d.now)
}
