// Package loopback signs a user in with the OAuth 2.0 authorization code flow
// and PKCE, receiving the response on a short-lived listener on the loopback
// interface, as RFC 8252 describes for native apps.
//
// A login is one call to [Flow.Token]. It binds http://127.0.0.1 at a port the
// operating system picks, sends the browser to the authorization endpoint
// with redirect_uri http://127.0.0.1:<port>/callback, waits for the browser
// to come back, redeems the code at the token endpoint with the PKCE
// verifier, and closes the port. The caller prints the URL (through
// [Config.OnAuthURL]) and supplies an [Opener] that starts the browser; the
// package itself writes nothing to the terminal and keeps no globals.
//
//	f, err := loopback.New(loopback.Config{OAuth2: conf, Issuer: iss, Opener: opener})
//	if err != nil { ... }
//	res, err := f.Token(ctx)
//
// The package speaks only the authorization code grant with a query
// response (response_type=code, RFC 6749 §4.1). It knows nothing of discovery,
// ID tokens or storage: the caller builds the [oauth2.Config] from validated
// metadata and checks the ID token in [Config.Validate], which runs before
// the browser is told that sign-in succeeded.
//
// # Security
//
// A loopback port is reachable by every process on the machine and, through
// DNS rebinding, by every web page the user has open. The listener is
// therefore built to accept exactly one thing — the authorization response
// to the request this process made — and to refuse everything else without
// letting it end the login.
//
// The listener binds a loopback IP literal, never a wildcard address or a
// resolved host name, and never with SO_REUSEPORT; on Windows it sets
// SO_EXCLUSIVEADDRUSE so no other process can bind the port beside it (RFC
// 8252 §7.3, §8.3, App. B; RFC 9700 §2.6). It answers only GET on the exact
// path /callback and only when the Host header is exactly the literal and port
// of the redirect URI, which defeats DNS rebinding. Fetch metadata other than
// a top-level navigation, a request body, or a repeated state, code or iss is
// refused. None of these refusals, nor a wrong or missing state, ends the
// flow: a local attacker who guesses the port cannot abort the user's login.
//
// Each attempt has its own 256-bit state, PKCE S256 verifier (RFC 7636; never
// plain) and, when openid is requested, 256-bit nonce, all from crypto/rand.
// The state is compared in constant time and spent on first match (RFC 9700
// §4.2.4). Only then is iss checked against the configured issuer (RFC 9207
// §2.4), and only after that are error or code read: a response that fails
// the iss check may belong to another server's flow, so its code is never
// redeemed and its error text never shown (RFC 9700 §4.4).
//
// Besides /callback the listener serves one more path, the start link
// /start/<key> with a 128-bit key of the attempt: each visit makes a fresh
// authorization request of the attempt and answers 303 to it. A pushed
// request_uri lives about a minute (RFC 9126 §2.2); the start link works for
// the whole wait. Its Location is only ever a request the flow built and
// checked, never anything from the request (requirement 18). Every request
// of an attempt carries its one state, challenge and nonce, so a person who
// signs in through an older link still completes the login, and the state is
// still spent once. When the caller asks ([Events.NewAuthURL]), a pushed
// request is renewed before it expires, for a link printed for another
// machine.
//
// A browser on another machine cannot reach the listener; the person can
// paste the address it ended on ([Events.ReadPasted]). The pasted address
// gets the callback's checks: this attempt's redirect URI, single values,
// the state (spent on match, whichever of paste and listener comes first),
// then iss, then the code exchange with the verifier.
//
// Text from the server is untrusted (RFC 6749 §10.14, RFC 9700 §4.11). The
// two pages the browser sees are constants that reflect nothing from the
// request, carry no scripts, links or forms, and are sent with a strict
// Content-Security-Policy, Referrer-Policy: no-referrer and Cache-Control:
// no-store; the server redirects only from the start link. The code
// exchange and the pushed authorization request go through
// internal/oauthwire, and an error response
// of the authorization endpoint becomes the same *oauthwire.Error: error
// descriptions that reach an error string are stripped of control
// characters, escape sequences and markup brackets, redacted and capped at
// 200 characters; error_uri is kept as inert text and never opened. Token
// endpoint failures keep only the status, the error code and a sanitized
// description, never the response body. No error string contains a code,
// state, nonce, verifier or token.
//
// The browser is opened once, with the URL the flow built from the configured
// authorization endpoint, after checking it is https and cannot be mistaken
// for a command-line option (RFC 8252 §8.12). The token request does not
// follow redirects, since Go re-sends a POST body on 307 and 308 (RFC 9700
// §4.12).
//
// Every wait is bounded. The server cuts connections that are slow to send
// headers (5 s) and limits headers to 8 KiB. It serves connections
// concurrently and holds at most 64 at once, but never makes a new one wait
// for a slot: at the limit it closes the connection that has waited longest
// without a request being handled, so idle or slow-loris connections opened
// by another user cannot keep the browser's request queued. The whole login
// ends after [Config.Timeout] (5 minutes by default, 15 at most) with
// [ErrTimeout], and the port is closed as soon as the response has been
// answered (RFC 8252 §8.3).
//
// # Concurrency
//
// [New] returns a [Flow] that may be shared. Each call to [Flow.Token] is an
// independent attempt with its own listener and secrets, so concurrent calls
// do not interfere, though two calls with the same fixed [Config.Port] cannot
// both bind it. Token blocks until the login completes, fails, times out or
// ctx is cancelled; it returns only after the listener is closed and the
// server has stopped. [Config.OnAuthURL] and [Events] (but for
// ReadPasted) run on the calling goroutine;
// [Config.Opener] runs on its own goroutine and must return when its context
// is done; [Config.Validate] runs on the goroutine serving the callback and
// receives a context that is cancelled when the login is abandoned.
package loopback
