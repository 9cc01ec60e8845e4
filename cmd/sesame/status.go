package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/internal/dpop"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/redact"
	"github.com/sesame-auth/sesame/internal/session"
	"github.com/sesame-auth/sesame/keychain"
)

type statusOptions struct{ json bool }

func newStatusCmd(a *app) *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show profiles, who is signed in, and when tokens expire",
		Long: `Show each profile (or only the one named with -p): its issuer, the account signed in
(from the ID token verified at login), when the access and refresh tokens expire (the
refresh token's when the server said, as refresh_expires_in), and where the grant is
stored. * marks the profile used without -p ($SESAME_PROFILE, else the saved default).
When the keychain cannot be read, the profiles are still listed, with what could not be
read, and status exits 1. status never contacts the server and never prints a token.`,
		Example: `  sesame status
  sesame status -p work --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(cmd.Context(), a, o, cmd.Flags().Changed("profile"))
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON on stdout")
	return cmd
}

// profileStatus is one profile's line of `sesame status --json`.
type profileStatus struct {
	Profile string `json:"profile"`
	// Active: the profile used without -p.
	Active        bool       `json:"active"`
	Issuer        string     `json:"issuer"`
	ClientID      string     `json:"client_id"`
	SignedIn      bool       `json:"signed_in"`
	Subject       string     `json:"subject,omitempty"`
	Username      string     `json:"preferred_username,omitempty"`
	Email         string     `json:"email,omitempty"`
	Name          string     `json:"name,omitempty"`
	Scope         string     `json:"scope,omitempty"`
	AccessExpiry  *time.Time `json:"access_token_expiry,omitempty"`
	RefreshToken  bool       `json:"refresh_token"`
	RefreshExpiry *time.Time `json:"refresh_token_expiry,omitempty"`
	// GrantRefusedAt is when the server refused the profile's last grant,
	// which sesame then deleted; set only while no grant is stored.
	GrantRefusedAt *time.Time `json:"grant_refused_at,omitempty"`
	// DPoPJKT is the RFC 7638 thumbprint of the key the grant is bound to
	// (RFC 9449), as the server records it: public, and enough to match.
	DPoPJKT string `json:"dpop_jkt,omitempty"`
	// Resources are the profile's RFC 8707 resource indicators; the first
	// is the one the login's token is for.
	Resources []string `json:"resources,omitempty"`
	// RegisteredClient says the client id is this installation's own
	// (login --register).
	RegisteredClient bool `json:"registered_client,omitempty"`
	// DPoP: the profile binds its grants to a key (login --dpop).
	DPoP        bool     `json:"dpop,omitempty"`
	GitHosts    []string `json:"git_hosts,omitempty"`
	DockerHosts []string `json:"docker_hosts,omitempty"`
	KubeServer  string   `json:"kube_server,omitempty"`
	Error       string   `json:"error,omitempty"`
}

type statusJSON struct {
	Storage  string          `json:"storage"`
	Profiles []profileStatus `json:"profiles"`
}

func runStatus(ctx context.Context, a *app, o *statusOptions, onlySelected bool) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	names := cfg.Names()
	if onlySelected {
		if cfg.Profile(a.profile()) == nil {
			_, _, err := a.requireProfile()
			return err
		}
		names = []string{a.profile()}
	}
	active, from := a.defaultProfile()
	if err := profile.ValidateName(active); err != nil {
		return &usageError{msg: err.Error()}
	}
	out := statusJSON{Profiles: []profileStatus{}}
	// A keychain that cannot be opened or read is said once, after the
	// profiles, each listed with what is known without it; it is not
	// asked again for the others (a locked one may wait for each).
	store, unread := a.store()
	if unread == nil {
		out.Storage = store.Name()
	} else {
		out.Storage = "unavailable"
	}
	for _, n := range names {
		p := cfg.Profile(n)
		st := profileSettings(p, n == active)
		if unread == nil {
			var err error
			st, err = a.describeProfile(ctx, store, p, st)
			if errors.Is(err, keychain.ErrUnavailable) || errors.Is(err, keychain.ErrLocked) {
				unread = err
			}
		} else {
			st.Error = "grant not read: " + oneLine(unread.Error())
		}
		out.Profiles = append(out.Profiles, st)
	}
	if o.json {
		err = writeJSON(a.env.Stdout, out)
	} else {
		err = printStatus(a, out, from)
	}
	if err != nil {
		return err
	}
	return unread
}

// profileSettings is what status shows of p without reading the keychain.
func profileSettings(p *profile.Profile, active bool) profileStatus {
	return profileStatus{
		Profile: p.Name, Active: active, Issuer: p.Issuer, ClientID: p.ClientID,
		Resources: p.Resources, RegisteredClient: p.Register, DPoP: p.DPoP,
		GitHosts: p.GitHosts, DockerHosts: p.DockerHosts, KubeServer: p.KubeServer,
	}
}

// describeProfile adds to st what p's stored grant says.
func (a *app) describeProfile(ctx context.Context, store keychain.Store, p *profile.Profile, st profileStatus) (profileStatus, error) {
	rec, err := store.Get(ctx, p.KeychainKey())
	if errors.Is(err, keychain.ErrNotFound) {
		// status and token agree: a grant deleted outside sesame takes its
		// cached access token with it.
		session.Forget(a.env.Cache, p.KeychainKey(), nil, p.Resources...)
		if g, err := session.Open(a.deps(), a.ui(p, loginUI{}), p, session.TokenRequest{}); err == nil {
			if at, _, ok := g.Refused(); ok {
				st.GrantRefusedAt = &at
			}
		}
		return st, nil
	}
	if err != nil {
		st.Error = "grant not read: " + oneLine(err.Error())
		return st, err
	}
	st.SignedIn = rec.RefreshToken != "" || rec.AccessToken != ""
	st.Subject, st.Username, st.Email, st.Name, st.Scope = rec.Subject, rec.Username, rec.Email, rec.Name, rec.Scope
	if rec.AccessToken != "" && !rec.Expiry.IsZero() {
		e := session.EarlyExpiry(rec).UTC().Truncate(time.Second)
		st.AccessExpiry = &e
	}
	st.RefreshToken = rec.RefreshToken != ""
	if rec.DPoPKey != "" {
		if k, err := dpop.Parse(rec.DPoPKey); err == nil {
			st.DPoPJKT = k.Thumbprint()
		}
	}
	if !rec.RefreshExpiry.IsZero() {
		e := rec.RefreshExpiry.UTC().Truncate(time.Second)
		st.RefreshExpiry = &e
	}
	return st, nil
}

// printStatus prints the table; from is where the active profile's
// choice comes from (defaultProfile).
func printStatus(a *app, s statusJSON, from string) error {
	w := a.env.Stdout
	if len(s.Profiles) == 0 {
		a.say(noProfilesYet)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if _, err := fmt.Fprintln(tw, "PROFILE\tISSUER\tACCOUNT\tACCESS TOKEN\tREFRESH TOKEN"); err != nil {
		return err
	}
	now := a.env.Clock.Now()
	anyActive := false
	for _, p := range s.Profiles {
		anyActive = anyActive || p.Active
		// Every cell is one line of text without a tab, control, bidi or
		// format character (tabwriter would split a cell at a tab, and the
		// claims and errors come from servers).
		who := "not signed in"
		if p.GrantRefusedAt != nil {
			who = "not signed in: the server refused the grant"
		}
		if p.SignedIn {
			who = account("signed in", p.Email, p.Username, p.Name, p.Subject)
		}
		if p.Error != "" {
			who = "error: " + redact.Line(p.Error)
		}
		if _, err := fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\n", redact.Line(p.Profile), activeMark(p.Active), redact.Line(p.Issuer), who, describeExpiry(p.AccessExpiry, now, p.SignedIn, p.RefreshToken), describeRefresh(p, now)); err != nil {
			return err
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "\nGrants are stored in: %s\n", s.Storage); err != nil {
		return err
	}
	if anyActive {
		_, err := fmt.Fprintln(w, activeLegend(from))
		return err
	}
	return nil
}

func describeExpiry(t *time.Time, now time.Time, signedIn, refreshable bool) string {
	switch {
	case !signedIn || t == nil:
		return "-"
	case !t.After(now) && !refreshable:
		return "expired"
	case !t.After(now):
		return "expired (refreshed on next use)"
	default:
		return "valid for " + t.Sub(now).Truncate(time.Second).String()
	}
}

func describeRefresh(p profileStatus, now time.Time) string {
	s := describeRefreshExpiry(p, now)
	if p.RefreshToken && p.DPoPJKT != "" {
		s += ", DPoP-bound"
	}
	return s
}

func describeRefreshExpiry(p profileStatus, now time.Time) string {
	switch {
	case !p.RefreshToken && p.SignedIn:
		// Without one, the grant ends with its access token.
		return "none: log in again when the access token expires"
	case !p.RefreshToken:
		return "-"
	case p.RefreshExpiry == nil:
		return "present"
	case !p.RefreshExpiry.After(now):
		return "expired"
	default:
		return "valid for " + p.RefreshExpiry.Sub(now).Truncate(time.Second).String()
	}
}
