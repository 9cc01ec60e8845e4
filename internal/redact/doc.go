// Package redact removes secrets from text before it reaches a log, an
// error message or a terminal.
//
// sesame is a public client: its only secrets are the tokens, codes and
// verifiers it carries. Each of them travels in a small number of shapes
// (a URL query or form body, a JSON document, an HTTP header, a JWT), so a
// single pass over those shapes can stop a debug log or a wrapped library
// error from quoting one (requirement 37 in SECURITY.md, RFC 6819 §4.6.7,
// RFC 6750 §5.3).
//
// [String] is the redactor. [Sanitize] makes server-provided text safe to
// show on a terminal (requirement 16, RFC 6749 §4.1.2.1, §5.2):
// it removes control characters and escape sequences and caps the length.
// [UntrustedText] does both, in the order that cannot leak. [Logger] is the
// debug logger every package shares; it redacts every line it writes.
//
// # Security
//
// Redaction is a safety net, not a licence: code must still avoid putting
// a token into a log line or error in the first place. The redactor errs
// on the side of hiding too much: a field such as "code" is hidden in
// every syntax it recognises, even when the value is harmless, and any
// JWT-shaped string is hidden wherever it appears.
//
// Field names are matched without a left boundary, so "xcode=1" is
// redacted too; a random prefix can therefore never shield a secret from
// the redactor. FuzzRedact checks that property.
//
// The user_code of the device grant (RFC 8628 §3.2) is deliberately not
// redacted: the person has to read it.
//
// # Concurrency
//
// The functions are safe for concurrent use. A [Logger] serialises its
// writes so lines from several goroutines never interleave.
package redact
