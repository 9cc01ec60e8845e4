package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

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
	// changed reports whether a flag was given on the command line.
	changed func(name string) bool
}

func newLoginCmd(a *app) *cobra.Command {
	o := &loginOptions{}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in and store the grant in the OS keychain",
		Long: `Sign in to the profile's authorization server and store the grant in the OS keychain.

The first login of a profile needs --issuer and --client-id; the flags given then are
saved as the profile, and later logins need only -p. The browser opens on the server's
sign-in page; the code comes back to a one-time listener on http://127.0.0.1:<port>/callback,
protected by PKCE (S256), state, nonce and the RFC 9207 iss check. The authorization URL is
always printed to stderr, so over SSH you can open it elsewhere (with --port and a tunnel).`,
		Example: `  sesame login -p work --issuer https://id.example.com --client-id sesame
  sesame login -p work
  sesame login -p work --no-browser
  sesame login -p api --issuer https://id.example.com --register --dpop --resource https://api.example.com`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.changed = func(name string) bool { return cmd.Flags().Changed(name) }
			return runLogin(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.issuer, "issuer", "", "issuer URL of the authorization server (first login)")
	f.StringVar(&o.clientID, "client-id", "", "OAuth client id registered for sesame (first login)")
	f.StringArrayVar(&o.scopes, "scope", nil, "scope to request (repeatable; default: openid offline_access)")
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
	return cmd
}

// mergeProfile applies the flags given on the command line to p (a new
// profile when p is nil) and validates the result.
func (o *loginOptions) mergeProfile(name string, p *profile.Profile) (*profile.Profile, error) {
	var merged profile.Profile
	if p != nil {
		merged = *p
	} else {
		if !o.changed("issuer") || (!o.changed("client-id") && !o.register) {
			return nil, &hintedError{
				err:   fmt.Errorf("profile %q does not exist yet", name),
				code:  exitUsage,
				hints: []string{fmt.Sprintf("the first login needs: sesame login -p %s --issuer URL --client-id ID (or --register instead of --client-id)", name)},
			}
		}
		merged.Name = name
	}
	set := func(flag string, apply func()) {
		if o.changed(flag) {
			apply()
		}
	}
	set("issuer", func() { merged.Issuer = o.issuer })
	set("client-id", func() { merged.ClientID = o.clientID })
	set("scope", func() { merged.Scopes = slices.Clone(o.scopes) })
	set("resource", func() { merged.Resources = slices.Clone(o.resources) })
	set("flow", func() { merged.Flow = o.flow })
	set("port", func() { merged.CallbackPort = o.port })
	set("ca-file", func() { merged.CAFile = o.caFile })
	set("insecure-loopback-as", func() { merged.InsecureLoopbackAS = o.insecureLoopback })
	set("allow-unannounced-iss", func() { merged.AllowUnannouncedIss = o.allowUnannouncedIss })
	set("browser-command", func() { merged.BrowserCommand = o.browserCommand })
	set("helper-login", func() { merged.NoHelperLogin = !o.helperLogin })
	set("verification-host", func() { merged.VerificationHosts = slices.Clone(o.verificationHosts) })
	set("dpop", func() { merged.DPoP = o.dpop })
	set("register", func() {
		if o.register && !merged.Register && !o.changed("client-id") {
			// Switching to a registered client: the next step registers one.
			merged.ClientID = ""
		}
		merged.Register = o.register
	})
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
	p, err := o.mergeProfile(name, before)
	if err != nil {
		return err
	}
	if o.changed("ca-file") && p.CAFile != "" {
		a.say(fmt.Sprintf("trusting the CA certificates in %s for profile %q", p.CAFile, name))
	}
	lo := loginUI{noBrowser: o.noBrowser, json: o.json, openDevicePage: o.open, qr: o.qrMode()}
	rec, err := session.Login(ctx, a.deps(), a.ui(p, lo), session.LoginRequest{
		Profile:                p,
		Before:                 before,
		Save:                   true,
		Timeout:                o.timeout,
		CanShowBrowser:         a.canShowBrowser(p),
		AcceptVerificationHost: o.acceptVerificationHost,
		LockWait:               loginLockWait,
	})
	a.endCountdown()
	if err != nil {
		return err
	}
	if store, err := a.store(); err == nil {
		if fb, ok := store.(*keychain.Fallback); ok && fb.UsesSecondary() {
			// Requirement 38: plain text never silently.
			a.warn(fmt.Sprintf("there is no keychain here, so the grant is kept in a file only you can read (%s, as SESAME_STORE=file asks)", strings.TrimPrefix(store.Name(), "file ")))
		}
	}
	return a.reportLogin(rec, o.json)
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

// showAuthURL prints the authorization URL on stderr, always, so a user
// whose browser did not open (or who is on SSH) can copy it.
func (a *app) showAuthURL(u string) {
	a.messages().block("open this URL in your browser to sign in (it is being opened for you unless --no-browser):", "  "+u, "")
}

// reportLogin tells the person (stderr) or the script (--json on stdout)
// who is signed in.
func (a *app) reportLogin(rec *keychain.Record, asJSON bool) error {
	a.say(fmt.Sprintf("signed in to %s as %s (profile %q)", rec.Issuer, who(rec), rec.Profile))
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
