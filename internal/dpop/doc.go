// Package dpop makes the client side of OAuth 2.0 Demonstrating Proof of
// Possession (RFC 9449).
//
// A public client has no secret to authenticate with (RFC 6749 §2.1), so a
// refresh token copied off the machine works anywhere. With DPoP the
// authorization server binds the refresh token to a key pair the client
// holds (RFC 9449 §5); every later token request has to carry a proof signed
// with that key, and the private key never leaves the keychain. A stolen
// refresh token alone is then useless.
//
// The package has three parts:
//
//   - [Key]: the P-256 key pair, its keychain encoding ([Key.Marshal],
//     [Parse]) and its RFC 7638 thumbprint, the "dpop_jkt" of RFC 9449 §10.
//   - [Key.Proof]: one DPoP proof JWT (RFC 9449 §4.2), signed by go-jose
//     with ES256 or EdDSA, as the key's type fixes; "none" and symmetric
//     algorithms are never used (§4.2, §11.6).
//   - [Transport]: an [net/http.RoundTripper] that puts a proof on every POST
//     to the token endpoint (RFC 9449 §5) and the pushed authorization
//     request endpoint (§10.1, RFC 9126), keeps the latest server-provided
//     nonce per origin (§8, §8.2) and retries once when the server answers
//     use_dpop_nonce (§8, §9).
//
// # Security
//
// Errors never quote a token, key material, a nonce or a response body: they
// say what was wrong, not what was received. Response bodies are inspected
// through a 64 KiB window so a hostile server cannot make the client
// allocate without bound.
//
// # Concurrency
//
// A [Key] is immutable and a [Transport] guards its nonce cache with a
// mutex; both are safe for concurrent use.
package dpop
