package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/session"
	"github.com/sesame-auth/sesame/keychain"
)

type loginOptions struct {
	issuer, clientID       string
	scopes, resources      []string
	flow                   string
	noBrowser              bool
	port                   int
	caFile                 string
	insecureLoopback       bool
	allowUnannouncedIss    bool
	browserCommand         string
	timeout                time.Duration
	json                   bool
	open                   bool
	qr, noQR               bool
	verificationHosts      []string
	helperLogin            bool
	acceptVerificationHost bool
	dpop                   bool
	register               bool
	save                   bool
	presetFlags
	// changed reports whether a flag was given on the command line.
	changed func(name string) bool
}

func newLoginCmd(a *app) *cobra.Command { return loginCommand(a, &loginOptions{}) }

// loginCommand is `sesame login` with its flags parsed into o; `profile
// set` borrows its setting flags.
func loginCommand(a *app, o *loginOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in and store the grant in the OS keychain",
		Long: `Sign in to the profile's authorization server and store the grant in the OS keychain.

The first login of a profile needs --issuer (or --provider) and --client-id; the flags given then are
saved as the profile, and later logins need only -p. What a later login saves:
  - the server and the grant (--issuer, --client-id, --register, --scope, --resource,
    --dpop, --ca-file, --insecure-loopback-as, --allow-unannounced-iss, --helper-login,
    --verification-host): saved by every login that changes them, as refreshes and
    helper-started logins must agree with the grant; login says what it saved;
  - how this login runs (--flow, --port, --browser-command): for this login only,
    unless --save. Helper-started logins use what the profile saves.
'sesame profile set' changes settings without signing in. --scope takes several scopes
separated by commas or spaces, and may be repeated.

The browser opens on the server's sign-in page; the code comes back to a one-time listener
on http://127.0.0.1:<port>/callback, protected by PKCE (S256), state, nonce and the RFC 9207
iss check. The link printed on stderr is the listener's start link, which works for as
long as sesame waits: open it by hand if the browser does not open, or elsewhere through a
tunnel to --port. With --no-browser the authorization URL itself is printed, for a browser
on another machine (a new one before a pushed request expires); if that browser cannot
reach 127.0.0.1, paste the address it ended on at sesame's prompt.

The server must know the client id as a public client (token_endpoint_auth_method none)
and accept the redirect URI http://127.0.0.1/callback on any port (RFC 8252 §7.3). A server
that compares the port too needs http://127.0.0.1:PORT/callback registered, and --port PORT;
if it does not accept the redirect URI, the browser shows its error page, not a sign-in.`,
		Example: `  sesame login -p work --issuer https://id.example.com --client-id sesame
  sesame login -p work
  sesame login -p work --no-browser
  sesame login -p api --issuer https://id.example.com --register --dpop --resource https://api.example.com
  sesame login -p gh --provider github --client-id Iv23liEXAMPLE
  SESAME_CLIENT_SECRET=... sesame login -p google --provider google --client-id 1234.apps.googleusercontent.com`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.changed = func(name string) bool { return cmd.Flags().Changed(name) }
			return runLogin(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.issuer, "issuer", "", "issuer URL of the authorization server (first login)")
	f.StringVar(&o.clientID, "client-id", "", "OAuth client id registered for sesame (first login)")
	f.StringArrayVar(&o.scopes, "scope", nil, "scopes to request, separated by commas or spaces (repeatable; default: openid offline_access)")
	f.StringArrayVar(&o.resources, "resource", nil, "RFC 8707 resource indicator (repeatable)")
	f.StringVar(&o.flow, "flow", "", "login flow: auto, browser or device")
	f.BoolVar(&o.noBrowser, "no-browser", false, "do not open a browser; only print the URL")
	f.IntVar(&o.port, "port", 0, "fixed callback port (default: any free port)")
	f.StringVar(&o.caFile, "ca-file", "", "PEM file of CA certificates to trust in addition to the system's")
	f.BoolVar(&o.insecureLoopback, "insecure-loopback-as", false, "allow an http issuer on a loopback IP (local test servers only)")
	f.BoolVar(&o.allowUnannouncedIss, "allow-unannounced-iss", false, "accept an iss callback parameter the server did not announce")
	f.StringVar(&o.browserCommand, "browser-command", "", "program that opens the URL (default: $BROWSER, else the system browser)")
	f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait for the browser (at most 15m)")
	f.BoolVar(&o.json, "json", false, "print JSON lines on stdout: the device code event (device flow), then the result")
	f.BoolVar(&o.qr, "qr", false, "device flow: always draw the link as a QR code (by default only on a terminal it fits)")
	f.BoolVar(&o.noQR, "no-qr", false, "device flow: never draw a QR code")
	exclusiveFlags(cmd, "qr", "no-qr")
	f.BoolVar(&o.open, "open", false, "device flow: also open the verification page in a browser on this machine")
	f.BoolVar(&o.helperLogin, "helper-login", true, "let helper commands (token, kubectl, git, docker, exec) start a login for a person at a terminal")
	f.StringArrayVar(&o.verificationHosts, "verification-host", nil, "device flow: a domain besides the issuer's where the verification page may be (repeatable, saved in the profile)")
	f.BoolVar(&o.acceptVerificationHost, "accept-verification-host", false, "device flow: accept a verification page outside the issuer's domain")
	f.BoolVar(&o.dpop, "dpop", false, "bind the grant to a key kept in the keychain (RFC 9449 DPoP; saved in the profile)")
	f.BoolVar(&o.register, "register", false, "register a client id of this installation's own (RFC 7591) instead of --client-id; logout deletes it")
	f.BoolVar(&o.save, "save", false, "also save --flow, --port and --browser-command in an existing profile")
	o.addPresetFlags(f)
	return cmd
}

// profileFlag is a login flag that is a profile setting: apply copies its
// value into a profile, get reads the setting back (to tell what a login
// changed).
type profileFlag struct {
	name string
	// loginOnly: how one login runs on this machine. The first login of a
	// profile saves it; a later one uses it for itself only, unless
	// --save. Every other setting describes the server or the grant, which
	// every later refresh and helper-started login must agree with, so
	// every login that gives it saves it.
	loginOnly bool
	// grant: it changes which grant the profile holds (the keychain key,
	// or the key it is bound to); only a login, which replaces the grant,
	// changes it, never `profile set`.
	grant bool
	apply func(o *loginOptions, p *profile.Profile)
	get   func(p *profile.Profile) any
}

// profileFlags are login's flags that are profile settings, in the order
// of `sesame login --help`.
var profileFlags = []profileFlag{
	{name: "issuer", grant: true, apply: func(o *loginOptions, p *profile.Profile) { p.Issuer = o.issuer }, get: func(p *profile.Profile) any { return p.Issuer }},
	{name: "client-id", grant: true, apply: func(o *loginOptions, p *profile.Profile) { p.ClientID = o.clientID }, get: func(p *profile.Profile) any { return p.ClientID }},
	{name: "scope", apply: func(o *loginOptions, p *profile.Profile) { p.Scopes = splitScopes(o.scopes) }, get: func(p *profile.Profile) any { return p.Scopes }},
	{name: "resource", apply: func(o *loginOptions, p *profile.Profile) { p.Resources = slices.Clone(o.resources) }, get: func(p *profile.Profile) any { return p.Resources }},
	{name: "flow", loginOnly: true, apply: func(o *loginOptions, p *profile.Profile) { p.Flow = o.flow }, get: func(p *profile.Profile) any { return p.Flow }},
	{name: "port", loginOnly: true, apply: func(o *loginOptions, p *profile.Profile) { p.CallbackPort = o.port }, get: func(p *profile.Profile) any { return p.CallbackPort }},
	{name: "ca-file", apply: func(o *loginOptions, p *profile.Profile) { p.CAFile = o.caFile }, get: func(p *profile.Profile) any { return p.CAFile }},
	{name: "insecure-loopback-as", apply: func(o *loginOptions, p *profile.Profile) { p.InsecureLoopbackAS = o.insecureLoopback }, get: func(p *profile.Profile) any { return p.InsecureLoopbackAS }},
	{name: "allow-unannounced-iss", apply: func(o *loginOptions, p *profile.Profile) { p.AllowUnannouncedIss = o.allowUnannouncedIss }, get: func(p *profile.Profile) any { return p.AllowUnannouncedIss }},
	{name: "browser-command", loginOnly: true, apply: func(o *loginOptions, p *profile.Profile) { p.BrowserCommand = o.browserCommand }, get: func(p *profile.Profile) any { return p.BrowserCommand }},
	{name: "helper-login", apply: func(o *loginOptions, p *profile.Profile) { p.NoHelperLogin = !o.helperLogin }, get: func(p *profile.Profile) any { return p.NoHelperLogin }},
	{name: "verification-host", apply: func(o *loginOptions, p *profile.Profile) { p.VerificationHosts = slices.Clone(o.verificationHosts) }, get: func(p *profile.Profile) any { return p.VerificationHosts }},
	{name: "dpop", grant: true, apply: func(o *loginOptions, p *profile.Profile) { p.DPoP = o.dpop }, get: func(p *profile.Profile) any { return p.DPoP }},
	{name: "register", grant: true, get: func(p *profile.Profile) any { return p.Register }},
}

// splitScopes is --scope's values as scopes: each value may hold several,
// separated by commas or spaces ("openid,email", "openid email"), as
// scope parameters are written (RFC 6749 §3.3).
func splitScopes(values []string) []string {
	var scopes []string
	for _, v := range values {
		scopes = append(scopes, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })...)
	}
	return scopes
}

// mergeProfile applies the flags given on the command line to p (a new
// profile when p is nil) and validates the result.
func (o *loginOptions) mergeProfile(name string, p *profile.Profile) (*profile.Profile, error) {
	var merged profile.Profile
	if p != nil {
		merged = *p
	} else {
		if !o.changed("issuer") && !o.changed("provider") || (!o.changed("client-id") && !o.register) {
			return nil, &hintedError{
				err:   fmt.Errorf("profile %q does not exist yet", name),
				code:  exitUsage,
				hints: []string{fmt.Sprintf("the first login needs: sesame login -p %s --issuer URL --client-id ID (or --register instead of --client-id)", name)},
			}
		}
		merged.Name = name
	}
	for _, f := range profileFlags {
		if f.apply != nil && o.changed(f.name) {
			f.apply(o, &merged)
		}
	}
	if err := o.applyPreset(o.changed, &merged, p); err != nil {
		return nil, err
	}
	if o.changed("register") {
		if o.register && !merged.Register && !o.changed("client-id") {
			// Switching to a registered client: the next step registers one.
			merged.ClientID = ""
		}
		merged.Register = o.register
	}
	switch {
	case o.changed("client-id") && o.changed("register") && o.register:
		return nil, &usageError{msg: "--client-id and --register exclude each other: a registered client gets its id from the server"}
	case o.changed("client-id"):
		// A client id of your own replaces a registered one.
		merged.Register = false
	case p != nil && p.Register && !merged.Register:
		return nil, &usageError{msg: "--register=false needs --client-id: the client id to use instead of the registered one"}
	}
	if err := merged.Validate(); err != nil {
		return nil, &usageError{msg: err.Error()}
	}
	return &merged, nil
}

// loginOnlyGiven are the --flow, --port and --browser-command flags this
// login of the existing profile before uses for itself only: given,
// different from the saved setting, and no --save.
func (o *loginOptions) loginOnlyGiven(before, used *profile.Profile) []string {
	var names []string
	for _, f := range profileFlags {
		if before != nil && !o.save && f.loginOnly && o.changed(f.name) && !reflect.DeepEqual(f.get(before), f.get(used)) {
			names = append(names, "--"+f.name)
		}
	}
	return names
}

// saveAs is session.LoginRequest.SaveAs: the profile used, with the
// settings given for this login only (the loginOnly ones of profileFlags)
// put back as before had them.
func (o *loginOptions) saveAs(before *profile.Profile) func(*profile.Profile) *profile.Profile {
	return func(used *profile.Profile) *profile.Profile {
		q := *used
		if before != nil && !o.save {
			q.Flow, q.CallbackPort, q.BrowserCommand = before.Flow, before.CallbackPort, before.BrowserCommand
		}
		return &q
	}
}

// changedSettings are the flags whose setting differs between before and
// after, as "--name" in profileFlags' order.
func changedSettings(before, after *profile.Profile) []string {
	var names []string
	for _, f := range profileFlags {
		if !reflect.DeepEqual(f.get(before), f.get(after)) {
			names = append(names, "--"+f.name)
		}
	}
	return names
}

func runLogin(ctx context.Context, a *app, o *loginOptions) error {
	if o.timeout < 0 {
		return usageErrorf("invalid --timeout %s: it cannot be negative", o.timeout)
	}
	name := a.profile()
	if err := profile.ValidateName(name); err != nil {
		return &usageError{msg: err.Error()}
	}
	if err := o.resolveCAFile(); err != nil {
		return err
	}
	cfg, err := a.loadConfig()
	var rel *profile.RelativeCAFileError
	if errors.As(err, &rel) && rel.Profile == name && o.changed("ca-file") {
		// The fix the load error asks for: write the absolute path now,
		// as the relative one is refused everywhere anyway.
		err = a.repairCAFile(ctx, name, o.caFile)
		if err == nil {
			cfg, err = a.loadConfig()
		}
	}
	if err != nil {
		return err
	}
	before := cfg.Profile(name)
	o.origins = a.env.PresetOrigins
	p, err := o.mergeProfile(name, before)
	if err != nil {
		return err
	}
	secret, err := o.clientSecret(a, p)
	if err != nil {
		return err
	}
	if o.changed("ca-file") && p.CAFile != "" {
		a.say(fmt.Sprintf("trusting the CA certificates in %s for profile %q", p.CAFile, name))
	}
	if only := o.loginOnlyGiven(before, p); len(only) > 0 {
		a.say(fmt.Sprintf("%s: for this login only; add --save to keep %s in profile %q", strings.Join(only, ", "), pronoun(len(only)), name))
	}
	lo := loginUI{noBrowser: o.noBrowser, json: o.json, openDevicePage: o.open, qr: o.qrMode(), loginCmd: true}
	rec, err := session.Login(ctx, a.deps(), a.ui(p, lo), session.LoginRequest{
		Profile:                p,
		Before:                 before,
		Save:                   true,
		SaveAs:                 o.saveAs(before),
		Timeout:                o.timeout,
		CanShowBrowser:         a.canShowBrowser(p),
		AcceptVerificationHost: o.acceptVerificationHost,
		LockWait:               loginLockWait,
		ClientSecret:           secret,
	})
	a.endCountdown()
	if err != nil {
		return err
	}
	a.sayProfileSaved(before, o.saveAs(before)(p))
	if store, err := a.store(); err == nil {
		if fb, ok := store.(*keychain.Fallback); ok && fb.UsesSecondary() {
			// Requirement 38: plain text never silently.
			a.warn(fmt.Sprintf("there is no keychain here, so the grant is kept in a file only you can read (%s, as SESAME_STORE=file asks)", strings.TrimPrefix(store.Name(), "file ")))
		}
	}
	return a.reportLogin(p, rec, o.json)
}

// pronoun is "it" or "them".
func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// sayProfileSaved announces what a login wrote into the profile: the new
// profile, or the settings it changed.
func (a *app) sayProfileSaved(before, saved *profile.Profile) {
	if before == nil {
		a.say(fmt.Sprintf("saved profile %q; later logins need only -p %s ('sesame profile set' changes it)", saved.Name, saved.Name))
	} else if changed := changedSettings(before, saved); len(changed) > 0 {
		a.say(fmt.Sprintf("saved in profile %q: %s", saved.Name, strings.Join(changed, ", ")))
	}
}

// resolveCAFile makes --ca-file an absolute, clean path, resolved once
// against login's working directory: the profile keeps that path, never a
// relative one, which each later caller would read from its own working
// directory (a git credential helper runs at the top of the repository).
func (o *loginOptions) resolveCAFile() error {
	if !o.changed("ca-file") || o.caFile == "" {
		return nil
	}
	abs, err := filepath.Abs(o.caFile)
	if err != nil {
		return &usageError{msg: fmt.Sprintf("cannot resolve --ca-file %s: %v", o.caFile, err)}
	}
	o.caFile = abs
	return nil
}

// repairCAFile replaces the relative ca_file that keeps the configuration
// from loading with the one this login was given.
func (a *app) repairCAFile(ctx context.Context, name, caFile string) error {
	dir, err := profile.Dir(a.env.Getenv)
	if err != nil {
		return err
	}
	return profile.RepairCAFile(ctx, dir, name, caFile)
}

// loginLockWait is how long a login waits for another login of the same
// profile before it refuses: long enough to pass a helper that is just
// storing its grant, short enough to say at once that a browser is open.
const loginLockWait = 3 * time.Second

// reportLogin tells the person (stderr) or the script (--json on stdout)
// who is signed in.
func (a *app) reportLogin(p *profile.Profile, rec *keychain.Record, asJSON bool) error {
	a.say(fmt.Sprintf("signed in to %s as %s (profile %q)", rec.Issuer, who(rec), rec.Profile))
	a.warnLogin(p, rec)
	if !asJSON {
		return nil
	}
	return writeJSON(a.env.Stdout, loginResult{
		Event:     "login",
		Profile:   rec.Profile,
		Issuer:    rec.Issuer,
		Subject:   rec.Subject,
		Email:     rec.Email,
		ExpiresAt: session.EarlyExpiry(rec),
	})
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// loginResult is the --json output of login.
type loginResult struct {
	Event     string    `json:"event"`
	Profile   string    `json:"profile"`
	Issuer    string    `json:"issuer"`
	Subject   string    `json:"subject,omitempty"`
	Email     string    `json:"email,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (o *loginOptions) qrMode() qrMode {
	switch {
	case o.noQR:
		return qrNever
	case o.qr:
		return qrAlways
	default:
		return qrAuto
	}
}
