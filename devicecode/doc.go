// Package devicecode signs a user in with the OAuth 2.0 device authorization
// grant of RFC 8628, for machines that cannot receive a browser redirect: a
// server reached over SSH, a container, a CI job.
//
// A login is one call to [Flow.Token]. It asks the device authorization
// endpoint for a device code and a user code (RFC 8628 §3.1–3.2), hands the
// person a [Prompt] through [UI.Show] — go to this page, enter this code —
// and polls the token endpoint until the person approves on another device,
// refuses, or the code expires (§3.4–3.5). The package writes nothing to a
// terminal and keeps no globals; the caller's [UI] decides how the prompt, a
// QR code ([QREncoder]) and the countdown ([UI.Waiting]) are shown.
//
//	f, err := devicecode.New(devicecode.Config{OAuth2: conf, Issuer: iss, UI: ui})
//	if err != nil { ... }
//	tok, err := f.Token(ctx)
//	switch {
//	case errors.Is(err, devicecode.ErrDenied): ...
//	case errors.Is(err, devicecode.ErrExpired): ...
//	}
//
// Polling follows §3.5 to the letter: the server's interval, 5 s when it
// names none; 5 s more for this and every later poll after slow_down; the
// same interval after authorization_pending; a doubled interval after a
// connection timeout (and after a refused or reset connection, or a 429,
// 502, 503 or 504 without an OAuth error, which a proxy sends for the same
// reasons); and a stop at once on access_denied ([ErrDenied]), expired_token
// ([ErrExpired]) or any other error (the *oauthwire.Error), or when expires_in has
// passed on the flow's [Clock]. Token never requests a second device code by
// itself. With [Config.PKCE] the device authorization request carries an S256
// code_challenge and every poll its verifier (RFC 7636), which Keycloak
// requires of clients configured for PKCE.
//
// The device authorization request and the polls are plain form POSTs rather
// than x/oauth2's DeviceAuth and DeviceAccessToken: DeviceAuth reads
// expires_in into an absolute time on the system clock and truncates
// oversized bodies silently, and DeviceAccessToken sleeps on the system clock
// and cannot back off after a timeout.
//
// # Security
//
// A device login is a ready-made phishing tool: anyone who gets a person to
// enter a user code on the real verification page receives that person's
// tokens, and a hostile authorization server (RFC 9700 §3) chooses the page
// the person is sent to. So the flow checks what it shows before it shows
// anything (RFC 8628 §5.4; requirements 41–42 in SECURITY.md):
//
//   - verification_uri must be an absolute https URL (http only on a
//     loopback IP with [Config.AllowInsecureLoopback], for tests), with no
//     user information, no leading '-', no spaces, control or format
//     characters, and a host that is an IP literal or a DNS name in ASCII
//     form. Anything else is refused with [ErrVerificationURI] before UI.Show
//     runs and before any poll.
//   - Its registrable domain must be the issuer's, or covered by
//     [Config.AllowedVerificationHosts]; otherwise Token returns a
//     [*VerificationHostError] without showing the user code, unless
//     [Config.AcceptVerificationHost] is set, in which case the prompt says
//     [Prompt.DifferentDomain]. The registrable domain is approximated
//     without the Public Suffix List (see registrableDomain): it knows
//     country-code second levels such as co.uk but not private suffixes
//     such as github.io. IP literals compare exactly.
//   - verification_uri_complete is offered only with the same origin as
//     verification_uri, so a QR code or an opened browser cannot lead
//     somewhere the text did not name.
//   - The host is given in punycode and in Unicode ([Prompt.HostASCII],
//     [Prompt.HostUnicode]), decoded by golang.org/x/net/idna under its
//     strict registration rules (IDNA2008, RFC 5891 §4: NFC, valid code
//     points, hyphen, joiner and Bidi rules); a name that fails them is
//     refused. Hosts sent with raw non-ASCII characters are refused rather
//     than guessed at, since browsers map them in ways that differ.
//   - user_code is shown exactly as received, and refused if it is long or
//     carries control or format characters, so that "exactly" stays safe
//     on a terminal. [PhishingWarning] is the sentence to show beside it.
//
// The device code, the PKCE verifier and any client secret are secrets. They
// travel only in POST bodies to the configured endpoints, never in a [Prompt],
// and are replaced by "REDACTED" in every error, even when a server echoes
// them in error_description. Both requests go through internal/oauthwire, so
// text from the server reaches errors only through redact.UntrustedText
// (control characters and escape sequences removed, 200 runes at most);
// error_uri is not shown; response bodies are never quoted (requirement 16).
//
// Every request has a 30 s bound on top of the caller's client, reads at most
// 1 MiB of response, and never follows a redirect, since Go re-sends a POST
// body on 307 and 308 (RFC 9700 §4.12). expires_in is capped at [MaxExpiry]
// (30 minutes) and the interval at the code's lifetime
// (requirement 23), so no server can keep a login polling longer.
// Certificate failures end the flow at once; only connection failures are
// retried.
//
// # Concurrency
//
// [New] returns a [Flow] that may be shared: each call to [Flow.Token] is an
// independent login with its own device code and verifier, and concurrent
// calls do not interfere, though each shows its own prompt. The [UI]
// callbacks and the [QREncoder] run on the goroutine that called Token, one
// at a time, and the flow waits for them, so they must return promptly. The
// [Clock], when shared by several flows, must be safe for concurrent use.
// Token returns as soon as ctx is done, with ctx.Err(), whether it is waiting
// between polls or has a request in flight.
package devicecode
