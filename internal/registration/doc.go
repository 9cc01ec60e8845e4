// Package registration registers sesame with an authorization server as a
// public native client (OAuth 2.0 Dynamic Client Registration, RFC 7591)
// and deletes that registration again (RFC 7592 §2.3).
//
// [Register] sends a fixed shape of metadata: application_type "native",
// token_endpoint_auth_method "none" and response_types ["code"] are always
// set and cannot be changed, because sesame cannot keep a client secret
// (RFC 8252 §8.4) and only ever uses the authorization code flow with
// loopback redirects (RFC 8252 §7.3) or the device grant (RFC 8628).
// [Delete] removes a registration with the registration access token the
// server returned (RFC 7592 §3).
//
// # Security
//
//   - A server's answer is checked against what was asked for: a response
//     that issues a client secret, names another token endpoint
//     authentication method, another application type or other redirect
//     URIs is refused, and the registration it created is deleted on a best
//     effort basis so no orphan client is left behind.
//   - The registration access token is a bearer credential. It is kept only
//     with a management URI of the registration endpoint's own origin
//     (scheme, host and port), so [Delete] can never be made to send it
//     elsewhere; otherwise both are dropped.
//   - Both requests go through internal/oauthwire: every response body is
//     read through its 1 MiB limit, on top of whatever limit the caller's
//     [net/http.Client] enforces, and no redirect is followed.
//   - No error ever quotes a success body, a client secret or the
//     registration access token. The error code and description of an
//     error response (RFC 7591 §3.2.2) reach the *oauthwire.Error only
//     sanitized, redacted and capped.
//
// The caller's [net/http.Client] is trusted to enforce https, TLS
// verification and deadlines; this package only adds the checks above.
//
// # Concurrency
//
// The functions are safe for concurrent use; they share no state.
package registration
