// Package provider talks to an authorization server before and after a
// login: it builds the hardened HTTP client every other package uses,
// discovers the server's endpoints (RFC 8414, OpenID Connect Discovery
// 1.0), verifies ID tokens (OpenID Connect Core 1.0 §3.1.3.7) and revokes
// tokens at logout (RFC 7009).
//
// The flows themselves (loopback, devicecode) live elsewhere; they take an
// [*http.Client] from [NewHTTPClient] and an oauth2.Config from
// [Metadata.OAuth2Config] and know nothing of discovery.
//
// # Security
//
// sesame is a public client (RFC 6749 §2.1): everything it can do for its
// user's safety is in what it checks and refuses. This package is where
// most of the network-facing checks live:
//
//   - Metadata is used only if its issuer equals, byte for byte, the
//     issuer it was fetched for, and every endpoint in it is https
//     (RFC 8414 §3.3, RFC 9700 §2.6; requirements 19, 20 in SECURITY.md).
//   - The client verifies certificates and host names on every connection,
//     with TLS 1.2 or later; a CA file adds roots and never switches checks
//     off (RFC 8414 §6.1; requirement 21).
//   - A redirect of any request but GET is an error, because Go re-sends a
//     POST body on 307 and 308 and would leak a code or refresh token to
//     wherever the server points (RFC 9700 §4.12; requirement 22).
//   - Every request has dial, TLS, header and overall deadlines and every
//     response body is read through a size limit (requirement 23).
//   - ID tokens are accepted only with asymmetric signatures from the
//     jwks_uri, the exact issuer, the client as sole audience, and the
//     nonce the caller sent (requirements 9, 24, 32).
//   - Text a server sends (error codes, issuer values) reaches error
//     strings only through redact.UntrustedText, and no error string ever
//     holds a token, code or response body (requirements 16, 37).
//
// Plain http is allowed only when the parsed host is a loopback IP literal
// and the caller passed AllowInsecureLoopback, which exists for tests
// (requirement 20).
//
// # Concurrency
//
// The client, [Metadata] and the functions are safe for concurrent use.
// JWKS key sets are cached in memory per process, per client and jwks_uri,
// and shared by concurrent verifications; nothing is cached on disk.
package provider
