package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"github.com/sesame-auth/sesame/credhelper"
	"github.com/sesame-auth/sesame/devicecode"
	"github.com/sesame-auth/sesame/internal/oauthwire"
	"github.com/sesame-auth/sesame/internal/session"
	"github.com/sesame-auth/sesame/keychain"
	"github.com/sesame-auth/sesame/loopback"
)

// Exit codes, documented in `sesame --help` and README.md. report alone
// chooses them; the rules of what sesame prints are in ui.go (messages).
const (
	exitOK            = 0
	exitError         = 1
	exitUsage         = 2
	exitLoginRequired = 4
	exitNotRevoked    = 5
	exitCancelled     = 130
)

const exitCodesHelp = `Exit codes:
  0    success
  1    error
  2    usage error (unknown command or flag, bad argument)
  4    login required: no valid grant and the caller cannot log in interactively
  5    logout could not confirm the revocation at the server (local data was deleted)
  130  cancelled (Ctrl-C, SIGTERM, SIGHUP or SIGQUIT; a second signal ends sesame at once);
       a refresh already sent is still finished and stored`

// certificateHint follows a TLS verification failure.
const certificateHint = "if the server uses a private CA, give its certificate with --ca-file (saved in the profile)"

// redirectHint follows an OAuth request the server answered with a
// redirect, which sesame never follows.
const redirectHint = "an OAuth endpoint of the server answered with a redirect: check the issuer URL, and whether a proxy or a sign-in page stands in front of the server"

// clientRefused reports the server's invalid_client or
// unauthorized_client (RFC 6749 §5.2): it does not know the client, or
// does not let it use this grant.
func clientRefused(err error) bool {
	e, ok := oauthwire.As(err)
	return ok && e.HasCode(oauthwire.CodeInvalidClient, oauthwire.CodeUnauthorizedClient)
}

// notRefresh reports whether err is not a failed refresh. The hints keyed
// on the server's answer are a login's: a refresh's errors reach a helper
// through the refresher's report, which keeps only their text, so a hint
// here would come and go with the process that refreshed; and a refused
// refresh is a login-required error with a hint of its own.
func notRefresh(err error) bool {
	var re *session.RefreshError
	return !errors.As(err, &re)
}

// usageError is a mistake in the command line: exit 2. help is the command
// whose --help the hint points at; "" is sesame's own.
type usageError struct{ msg, help string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// hintedError carries hints shown after the error line, and an exit code.
type hintedError struct {
	err   error
	code  int
	hints []string
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }

func withHint(err error, hints ...string) error {
	return &hintedError{err: err, code: exitError, hints: hints}
}

// report writes err as one `sesame: error:` line and its hints, and returns
// the exit code. It is the only place that maps errors to exit codes.
func report(w io.Writer, profile string, err error) int {
	m := messages{w}
	code := exitError
	var hints []string
	var he *hintedError
	var ue *usageError
	switch {
	case errors.Is(err, context.Canceled):
		msg := "cancelled"
		var ce *session.CancelledError
		if errors.As(err, &ce) {
			msg = ce.Error()
		}
		m.fail(msg)
		return exitCancelled
	case errors.As(err, &ue):
		code = exitUsage
		hints = append(hints, fmt.Sprintf("run '%s --help' for usage", firstNonEmpty(ue.help, "sesame")))
	case errors.Is(err, session.ErrLoginRequired):
		code = exitLoginRequired
		hints = append(hints, fmt.Sprintf("run 'sesame login -p %s' in a terminal", profile))
	case errors.Is(err, keychain.ErrUnavailable):
		hints = append(hints, "sesame keeps grants in the OS keychain: on Linux start a Secret Service (gnome-keyring or KeePassXC) in your session",
			"on a machine without one (a server, a container), you may opt in to a file only you can read: export SESAME_STORE=file")
	case errors.Is(err, keychain.ErrInsecure):
		hints = append(hints, "the grant file store must be yours alone: directory 0700, files 0600, no symbolic links")
	case errors.Is(err, keychain.ErrLocked):
		hints = append(hints, "unlock your keychain (for example by logging in to the desktop session) and try again")
	case errors.Is(err, credhelper.ErrNotBearer):
		hints = append(hints, fmt.Sprintf("profile %q has DPoP-bound access tokens (login --dpop against a server that binds them), which kubectl, git and docker cannot send; give them a profile without --dpop, and use 'sesame token' with 'sesame dpop-proof' in scripts", profile))
	case isCertificateError(err):
		hints = append(hints, certificateHint)
	case errors.Is(err, devicecode.ErrDenied):
		// access_denied from the browser's callback or the device flow's
		// poll (RFC 6749 §4.1.2.1, RFC 8628 §3.5): the person, or the
		// server's policy, said no.
		hints = append(hints, fmt.Sprintf("the sign-in was denied: approve it on the server's page, or ask its administrator whether your account may use this client; then run 'sesame login -p %s' again", profile))
	case errors.Is(err, devicecode.ErrExpired):
		hints = append(hints, fmt.Sprintf("the code expired before it was approved: run 'sesame login -p %s' again and approve it on the page before the time shown", profile))
	case notRefresh(err) && errors.Is(err, oauthwire.ErrRedirect):
		hints = append(hints, redirectHint)
	case errors.Is(err, loopback.ErrTimeout):
		hints = append(hints, browserTimeoutHint)
	case explainedProblem(err):
		// Its own hints say more than the server's code would.
	case notRefresh(err) && clientRefused(err):
		hints = append(hints, fmt.Sprintf("the server does not accept the client id of profile %q for this sign-in: check the client id, and the grant types it may use, with the server's administrator", profile))
	}
	var pr *session.Problem
	if errors.As(err, &pr) {
		c, h := problemHints(pr)
		if c != exitError {
			code = c
		}
		hints = append(h, hints...)
	}
	if errors.As(err, &he) {
		if he.code != exitError {
			code = he.code
		}
		hints = append(he.hints, hints...)
	}
	m.fail(err.Error())
	for _, h := range hints {
		m.hint(h)
	}
	return code
}

// problemHints are the exit code and hints of a problem the session
// reports: what to type next is the command line's to say.
func problemHints(pr *session.Problem) (int, []string) {
	switch pr.Kind {
	case session.Busy:
		return exitError, []string{"another sesame is refreshing or signing in for this profile; try again, or end that process"}
	case session.LoginInProgress:
		return exitError, []string{"finish or cancel that login first, then run this one again if it is still needed"}
	case session.NoClientID:
		return exitLoginRequired, []string{fmt.Sprintf("run: sesame login -p %s   (it registers a new client)", pr.Profile)}
	case session.NoRegistration:
		return exitUsage, []string{"register a public client with your administrator and log in with --client-id instead of --register"}
	case session.NoDPoP:
		return exitUsage, []string{fmt.Sprintf("log in without DPoP: sesame login -p %s --dpop=false", pr.Profile)}
	case session.NoDeviceFlow:
		return exitError, []string{"use --flow browser"}
	case session.VerificationHost:
		return exitError, []string{"if this page is really your provider's, run the login again with --accept-verification-host"}
	case session.NotStored:
		return exitError, []string{"nothing was saved; fix the keychain and run the login again"}
	case session.UnknownClient:
		return exitError, []string{fmt.Sprintf("the server does not know the client id of profile %q: check it (--client-id), and that it is registered at the issuer as a public client", pr.Profile)}
	case session.ConfidentialClient:
		return exitError, []string{"the server wants a client secret: register sesame as a public client: token_endpoint_auth_method none (PKCE protects the code instead)"}
	case session.RedirectURIRefused:
		return exitError, []string{redirectURIHint(pr)}
	case session.ScopeConflict:
		return exitError, []string{"the server keeps one grant per client and person, and yours has other scopes: revoke sesame's grant in your account page on the server (Gitea, Forgejo: Settings, Applications, Authorized OAuth2 Applications), or log in with the same --scope as before"}
	case session.NoClientSecret:
		return exitUsage, []string{"give it to the login on standard input with --client-secret-stdin, or in $SESAME_CLIENT_SECRET: it is kept in the keychain, never in the configuration file"}
	}
	return exitError, nil
}

// browserTimeoutHint follows a browser login that never came back. The
// likely cause is a page sesame cannot see: the server's error page.
const browserTimeoutHint = "no sign-in came back: if the browser showed an error from the server instead of its sign-in page, the server does not know the client id, or does not accept the redirect URI http://127.0.0.1:<port>/callback (a server that compares the port needs one registered, and --port)"

// redirectURIHint names the redirect URI to register for a refused one:
// with a fixed port, that one; else a port of the person's choosing,
// since a server that refused a loopback port compares it (RFC 8252 §7.3
// asks it not to; LemonLDAP::NG does).
func redirectURIHint(pr *session.Problem) string {
	if pr.Port != 0 {
		return fmt.Sprintf("register the redirect URI %s for the client at the server", pr.RedirectURI)
	}
	return fmt.Sprintf("the server does not accept %s: if it compares the port, register http://127.0.0.1:<port>/callback for a fixed port of your choosing, then log in with --port <port> (saved in profile %q)", pr.RedirectURI, pr.Profile)
}

// explainedProblem reports whether err is a problem about the client
// that has hints of its own.
func explainedProblem(err error) bool {
	var pr *session.Problem
	if !errors.As(err, &pr) {
		return false
	}
	switch pr.Kind {
	case session.UnknownClient, session.ConfidentialClient, session.RedirectURIRefused, session.ScopeConflict:
		return true
	}
	return false
}

// isCertificateError reports whether err is a TLS verification failure.
func isCertificateError(err error) bool {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &verify)
}
