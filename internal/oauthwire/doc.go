// Package oauthwire is the one way sesame talks to an OAuth endpoint: the
// code exchange (RFC 6749 §4.1.3), pushed authorization requests (RFC 9126
// §2), device authorization and its polls (RFC 8628 §3.1, §3.4), refreshes
// (RFC 6749 §6), revocation (RFC 7009 §2.1) and dynamic client registration
// and its deletion (RFC 7591 §3, RFC 7592 §2.3).
//
// [Send] sends one request, form-encoded or JSON, with Accept:
// application/json and the headers the caller adds (a bearer token; a DPoP
// proof, which internal/dpop's transport adds itself when the caller's
// client carries it), and reads the answer, JSON or form-encoded (GitHub
// answers forms), into a [Response]. [Do] is Send that also turns an OAuth
// error answer into an [*Error].
//
// Every failure is an [*Error]: what sesame was doing (its Op), the HTTP
// status, the OAuth error code and description (RFC 6749 §5.2), or the
// transport's cause. Its text is one line that a person can read, e.g.
//
//	token refresh: the server refused (400 invalid_grant): refresh token expired
//	token refresh: the server closed the connection without an answer
//
// # Security
//
//   - The server's words (error, error_description, error_uri) reach an
//     [*Error] only without the request's secrets, through
//     internal/redact (controls, escape sequences and format characters
//     removed, secret shapes redacted, 200 runes at most) and without markup
//     brackets (requirement 16). A response body is never quoted: a 2xx
//     answer that is not the expected document is [ErrUnusable] with a
//     reason sesame wrote, because the body may hold tokens.
//   - Every body is read through one limit, [MaxBody] (requirement 23);
//     a longer one is an error, never silently cut into something that
//     parses.
//   - No redirect is followed (RFC 9700 §4.12): on 307 and 308 Go re-sends a
//     POST body, which carries a code, a verifier or a refresh token, and a
//     DELETE's bearer token would go along too. A 3xx is an [*Error] naming
//     the status, matched by [ErrRedirect]. The policy is applied to a
//     shallow copy of the caller's client, which is never changed.
//   - The *url.Error net/http wraps around a failed request is removed
//     ([StripURLError]): its text quotes the URL, whose query can hold
//     anything.
//   - The values of the form members that are credentials (code,
//     code_verifier, refresh_token, device_code, token, client_secret, ...),
//     the bearer token and [Request.Secrets] are removed from every text an
//     error keeps, even when a server or a transport echoes them.
//
// # Concurrency
//
// The functions are safe for concurrent use; they share no state.
package oauthwire
