package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/session"
	"github.com/sesame-auth/sesame/keychain"
	"github.com/sesame-auth/sesame/loopback"
)

type tokenOptions struct {
	minTTL time.Duration
	output string
	reveal bool
}

func newTokenCmd(a *app) *cobra.Command {
	o := &tokenOptions{}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a fresh access token",
		Long: `Print a fresh access token for the profile on stdout.

A token that is still fresh comes straight from the keychain, with no network request.
An expired one is refreshed once, and the rotated refresh token is stored before the
token is printed. When no valid grant exists, token exits with code 4.

--resource picks one of the profile's resources (RFC 8707); --require-scope fails unless the
server granted that scope. A DPoP-bound token (login --dpop) has token_type DPoP in --output
json, and every request with it needs a proof from 'sesame dpop-proof'.

--min-ttl asks for a token still valid that long (counted to the early expiry, the expiry in
--output json). When it is longer than the server's tokens ever last once sesame's safety
margin is taken off (--min-ttl 10m against 60-second tokens), it cannot be met: sesame refreshes
at most once per token lifetime (a token from the login is refreshed once; one from a refresh is
already the best the server gives and is kept until its early expiry), prints that best
available token, warns on stderr ("sesame: warning: --min-ttl ... cannot be met") and exits 0.
Scripts that must have the full duration should check the expiry in --output json.`,
		Example: `  curl -H "$(sesame token -p work --output header)" https://api.example.com/
  sesame token -p work --min-ttl 10m --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runToken(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&o.minTTL, "min-ttl", 0, "refresh unless the token stays valid at least this long (capped at what the server's tokens last, with a warning)")
	f.StringVar(&o.output, "output", "raw", "output format: raw, json or header")
	f.BoolVar(&o.reveal, "reveal", false, "print the token even when stdout is a terminal")
	addResourceFlag(cmd, a)
	return cmd
}

// tokenJSON is the --output json object.
type tokenJSON struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	Expiry      time.Time `json:"expiry"`
	Scope       string    `json:"scope,omitempty"`
}

func runToken(ctx context.Context, a *app, o *tokenOptions) error {
	switch o.output {
	case "raw", "json", "header":
	default:
		return usageErrorf("invalid --output %q: use raw, json or header", o.output)
	}
	if o.minTTL < 0 {
		return usageErrorf("invalid --min-ttl %s: it cannot be negative", o.minTTL)
	}
	if a.env.StdoutTTY && !o.reveal {
		// Requirement 36: a token on a terminal ends up in scrollback and
		// screen shares.
		return withHint(errors.New("refusing to print a token to a terminal"),
			"pipe the output to a program, or add --reveal")
	}
	_, p, err := a.requireProfile()
	if err != nil {
		return err
	}
	rec, err := a.freshToken(ctx, p, o.minTTL, a.interactive())
	if err != nil {
		return err
	}
	if session.MinTTLUnmet(rec, o.minTTL) {
		// Exit 0 all the same: this is the longest-lived token the server
		// gives, and refreshing on every call would not make it longer.
		a.warn(fmt.Sprintf("--min-ttl %s cannot be met: the server's tokens last %s and are handed out for at most %s; the token printed is the best available, valid until %s",
			o.minTTL, rec.Lifetime, session.Usable(rec.Lifetime), session.EarlyExpiry(rec).UTC().Truncate(time.Second).Format(time.RFC3339)))
	}
	switch o.output {
	case "json":
		return writeJSON(a.env.Stdout, tokenJSON{
			AccessToken: rec.AccessToken,
			TokenType:   tokenType(rec),
			Expiry:      session.EarlyExpiry(rec).UTC().Truncate(time.Second),
			Scope:       rec.Scope,
		})
	case "header":
		_, err = fmt.Fprintf(a.env.Stdout, "Authorization: %s %s\n", tokenType(rec), rec.AccessToken)
	default:
		_, err = fmt.Fprintln(a.env.Stdout, rec.AccessToken)
	}
	return err
}

// tokenType is the scheme to present the token with; "bearer" from a
// server is written in the canonical case.
func tokenType(rec *keychain.Record) string {
	if rec.TokenType == "" || strings.EqualFold(rec.TokenType, "bearer") {
		return "Bearer"
	}
	return rec.TokenType
}

// grantOf is the owner of p's grant for this helper call (its
// --resource, kubectl's --id-token). Nothing expensive happens here: the
// HTTP client (CA pool) is built only if a refresh is needed.
func (a *app) grantOf(p *profile.Profile) (*session.Grant, error) {
	resource, err := a.resourceFor(p)
	if err != nil {
		return nil, err
	}
	return session.Open(a.deps(), a.ui(p, loginUI{}), p, session.TokenRequest{Resource: resource, IDToken: a.idToken})
}

// freshToken is what every helper command asks for: a fresh access token
// for p, valid for at least minTTL, through the one token source. When no
// grant is usable and interactive is true (a person is at the caller), it
// signs in once under the profile lock; otherwise it fails with
// session.ErrLoginRequired (exit 4).
func (a *app) freshToken(ctx context.Context, p *profile.Profile, minTTL time.Duration, interactive bool) (*keychain.Record, error) {
	a.used = p.Name
	src, err := a.grantOf(p)
	if err != nil {
		return nil, err
	}
	src.MinTTL = minTTL
	if a.warm {
		// A warm call (warm.go) takes a cached token or none.
		res, ok := src.Cached()
		if !ok {
			return nil, errNotWarm
		}
		return a.handOut(p, src, res)
	}
	res, err := src.Token(ctx)
	if errors.Is(err, session.ErrLoginRequired) && interactive && !p.NoHelperLogin {
		res, err = session.Relogin(ctx, a.deps(), a.ui(p, loginUI{}), src, session.LoginRequest{
			Profile:        p,
			Timeout:        loopback.DefaultTimeout,
			CanShowBrowser: a.canShowBrowser(p),
			LockWait:       loopback.DefaultTimeout + session.LockWait,
		}, func(reason error) {
			a.say(fmt.Sprintf("profile %q needs a new login (%s)", p.Name, oneLine(reason.Error())))
		})
		a.endCountdown()
		if err == nil && res.SignedIn {
			a.say(fmt.Sprintf("signed in to %s as %s (profile %q)", res.Record.Issuer, who(res.Record), p.Name))
			a.warnLogin(p, res.Login)
		}
	}
	var lu *session.LockUnusableError
	if errors.As(err, &lu) {
		return nil, withHint(err, "sesame's lock directory ($XDG_RUNTIME_DIR/sesame, else ~/.cache/sesame/locks) must be a writable directory of yours, mode 0700: fix its owner and mode, or remove it and sesame creates it again")
	}
	if err != nil {
		return nil, err
	}
	return a.handOut(p, src, res)
}

// handOut checks the token freshToken got before it is handed out.
func (a *app) handOut(p *profile.Profile, src *session.Grant, res *session.Result) (*keychain.Record, error) {
	rec := res.Record
	// A record stored before token types were checked may hold one that
	// would inject into an Authorization header: never hand it out.
	if err := session.CheckTokenType(&oauth2.Token{TokenType: rec.TokenType}); err != nil {
		return nil, err
	}
	if err := a.checkGrantedScope(p, rec); err != nil {
		return nil, err
	}
	if res.Refreshed {
		a.log.Printf("token: profile %q: refreshed; the rotated grant is stored (%s)", p.Name, src.Store.Name())
	} else {
		a.log.Printf("token: profile %q: cached token still fresh, no request made", p.Name)
	}
	a.log.Printf("token: expires %s (handed out until %s)", rec.Expiry.Format(time.RFC3339), session.EarlyExpiry(rec).Format(time.RFC3339))
	return rec, nil
}

// addResourceFlag gives a helper command --resource, the RFC 8707 resource
// its token is for (one of the profile's resources; the default is the
// first, the one the login's token is for), and --require-scope, the
// scopes its caller needs.
func addResourceFlag(cmd *cobra.Command, a *app) {
	cmd.Flags().StringVar(&a.resource, "resource", "", "resource the token is for: one of the profile's --resource values (default: the first)")
	cmd.Flags().StringArrayVar(&a.requireScopes, "require-scope", nil, "fail unless the token was granted these scopes, separated by commas or spaces (repeatable)")
	_ = cmd.RegisterFlagCompletionFunc("resource", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		if cfg, err := a.loadConfig(); err == nil {
			if p := cfg.Profile(a.profile()); p != nil {
				return p.Resources, cobra.ShellCompDirectiveNoFileComp
			}
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	})
}

// checkGrantedScope refuses a token whose granted scope lacks one the
// caller needs (requirement 11, RFC 6749 §3.3): the server may grant less
// than was asked, and the caller would otherwise get a token that fails
// later, at the resource server, with a less useful error. A response
// without scope means the requested scopes were granted (RFC 6749 §5.1).
func (a *app) checkGrantedScope(p *profile.Profile, rec *keychain.Record) error {
	if len(a.requireScopes) == 0 {
		return nil
	}
	granted := strings.Fields(rec.Scope)
	if rec.Scope == "" {
		granted = p.EffectiveScopes()
	}
	var missing []string
	for _, s := range splitScopes(a.requireScopes) {
		if !slices.Contains(granted, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return withHint(fmt.Errorf("the grant of profile %q lacks the scope %s (granted: %q)", p.Name, strings.Join(missing, ", "), strings.Join(granted, " ")),
		fmt.Sprintf("ask for it at login: sesame login -p %s --scope ... (the server may still refuse it)", p.Name))
}

// resourceFor returns the resource p's token is wanted for.
func (a *app) resourceFor(p *profile.Profile) (string, error) {
	if a.resource == "" {
		return p.DefaultResource(), nil
	}
	if !slices.Contains(p.Resources, a.resource) {
		return "", &hintedError{
			err:   fmt.Errorf("resource %q is not one of profile %q's resources", a.resource, p.Name),
			code:  exitUsage,
			hints: []string{fmt.Sprintf("the grant covers only the resources named at login: sesame login -p %s --resource %s ...", p.Name, a.resource)},
		}
	}
	return a.resource, nil
}
