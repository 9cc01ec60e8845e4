// Package credhelper speaks the three credential-helper protocols through
// which other programs ask sesame for an access token: kubectl's exec
// credential plugin (client-go's ExecCredential, API group
// client.authentication.k8s.io, versions v1 and v1beta1), git's credential
// helper protocol (gitcredentials(7), git-credential(1)) and docker's
// credential helpers (github.com/docker/docker-credential-helpers).
//
// Each protocol gets a parser for what the caller sends, a writer for what
// sesame answers, and a matcher that says whether the caller's resource is the
// one a profile serves. The package knows nothing of keychains, flows or
// profiles: the caller brings a token and a profile's host or server, and
// this package turns them into bytes. Readers and writers are plain io.Reader
// and io.Writer values, so nothing here touches the process's own streams.
//
// Output is produced from structs or fixed sequences, never from map
// iteration, so the same input always gives the same bytes; the golden files
// in testdata pin those bytes.
//
// # Security
//
// The callers are other programs, and their input is untrusted text. Git's
// protocol is line based, so a carriage return, line feed or NUL inside a
// value could smuggle an extra attribute into a request or an answer: that is
// how git's CVE-2020-5260 and CVE-2020-11008 leaked credentials to the wrong
// host. Every reader here rejects such a value with ErrUnsafeValue instead of
// cleaning it, and every writer checks each value before it writes anything,
// so an error never leaves half an answer behind. Tokens are held to the
// visible ASCII characters of RFC 6749 Appendix A.12 (without the space, which
// would split an Authorization header), whichever protocol carries them.
//
// A token goes only to the resource it was issued for (requirement 40,
// SECURITY.md). GitHostMatches, ServerMatches and DockerHostMatches compare
// parsed hosts, ports and paths exactly, never by string prefix, and refuse
// plain http, so https://api.example.com.evil.example is not
// https://api.example.com. Only bearer tokens are handed to these callers:
// kubectl, git and docker cannot compute a DPoP proof (RFC 9449), so
// RequireBearer refuses a DPoP-bound token rather than leaking one that would
// be rejected anyway (requirement 31).
//
// Inputs are bounded: KUBERNETES_EXEC_INFO to 1 MiB, a git request to 64 KiB
// with lines of at most 8 KiB, docker's inputs to 64 KiB. Types that carry a
// secret format it as "REDACTED" under %v and %#v.
//
// # Concurrency
//
// The package holds no state. Every function is safe for concurrent use;
// a request or answer value is not, while it is being modified.
package credhelper
