package redact

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxText is the most runes [Sanitize] and [UntrustedText] return
// (requirement 16).
const MaxText = 200

// ellipsis marks text that [Sanitize] shortened.
const ellipsis = "…"

// Sanitize makes text that came from a server safe to show on one line of
// a terminal, a header or a log: error and error_description (RFC 6749
// §5.2 allows any of %x20-7E, and servers send more), error bodies, header
// values, ID-token claims (sub, name, email), account names. It is the one
// sanitizer for server text; [UntrustedText] and [Line] are it with
// redaction, and [IsUnsafe] names the characters it never lets through.
//
// It removes C0 and C1 control characters, DEL and whole ANSI escape
// sequences (a bare ESC could recolour or retitle the terminal, move the
// cursor over text already shown, or hide the text that follows), removes
// Unicode format characters (general category Cf: bidirectional
// embeddings, overrides and isolates such as U+202E and U+2066-U+2069,
// the marks U+200E, U+200F and U+061C, zero-width U+200B-U+200D, U+2060 and
// U+FEFF, soft hyphens, tag characters), which can make text read
// differently from what it is or hide part of it; turns tabs, line breaks
// and the line and paragraph separators into spaces so one message stays
// one line; replaces invalid UTF-8; trims spaces and caps the result at
// [MaxText] runes, the last of which is "…" when text was cut.
//
// The result is valid UTF-8, holds no rune for which [IsUnsafe] is true,
// and Sanitize(Sanitize(s)) == Sanitize(s). Text without such characters
// is shown exactly as the server sent it, up to the trim and the cap.
//
// Sanitize does not redact; see [UntrustedText].
func Sanitize(s string) string {
	return capRunes(strings.TrimSpace(stripControls(s)), MaxText)
}

// UntrustedText is [Sanitize] with redaction. Secrets are redacted both
// before and after controls are stripped: before, because stripping an
// escape sequence can swallow the delimiter in front of a field name
// ("\x1b[?code=x" loses "?c"); after, because stripping a NUL can join a
// field name ("co\x00de=x"). The length is capped last: cutting first
// could leave half a token that no longer looks like one.
func UntrustedText(s string) string {
	return untrusted(s, MaxText)
}

// MaxLine is the most runes [Line] returns.
const MaxLine = 2000

// Line is [UntrustedText] for a whole line sesame writes around server text:
// an error message and the chain it wraps, a status row, a warning. The
// server's parts of it went through [Sanitize] or [UntrustedText] already,
// capped at [MaxText] each; Line makes sure that nothing else in the line
// (a wrapped library error quoting a server, a claim stored before this
// check existed) can carry a control, escape or format character, a line
// break or a secret. The cap is [MaxLine], not [MaxText]: sesame's own
// words around the server's must not be cut.
func Line(s string) string {
	return untrusted(s, MaxLine)
}

// untrusted redacts, sanitizes and caps s at n runes.
func untrusted(s string, n int) string {
	s, cut := precut(s)
	s = capRunes(strings.TrimSpace(String(stripControls(String(s)))), n)
	if cut && !strings.HasSuffix(s, ellipsis) {
		s = capRunes(s+" "+ellipsis, n)
	}
	return s
}

// IsUnsafe reports whether r is a character [Sanitize] never lets through:
// a C0 or C1 control (tab and line feed included), DEL, a Unicode format
// character (category Cf: bidi controls, zero-width characters, tags),
// the line or paragraph separator, or a surrogate code point (which valid
// UTF-8 cannot hold anyway). Anything else is text a terminal shows as
// itself.
func IsUnsafe(r rune) bool {
	switch {
	case r < 0x20 || (r >= 0x7f && r <= 0x9f):
		return true
	case r < utf8.RuneSelf:
		return false
	case r == '\u2028' || r == '\u2029':
		return true
	case r >= 0xd800 && r <= 0xdfff:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// maxScan bounds the input [UntrustedText] redacts. Its output is at most
// MaxText runes, but redaction can shrink text a lot (a long JWT becomes
// one word), so it keeps far more than it shows; without a bound, a
// server's 1 MiB error body would cost seconds of regexp time.
const maxScan = 16 << 10

// precut shortens s to about maxScan bytes. The cut can fall inside a
// secret and leave a fragment the redactor no longer recognises (a JWT
// with one dot), so the trailing run of token characters is dropped too.
func precut(s string) (string, bool) {
	if len(s) <= maxScan {
		return s, false
	}
	s = s[:maxScan]
	s = strings.TrimRightFunc(s, func(r rune) bool {
		return r < utf8.RuneSelf && (r == '-' || r == '.' || r == '_' || r == '~' || r == '+' ||
			r == '/' || r == '=' || r == '%' || r == ':' ||
			'0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
	})
	return s, true
}

// stripControls removes control characters and escape sequences and maps
// whitespace controls to a space. It never changes printable text.
func stripControls(s string) string {
	if isPlain(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		case r == 0x1b:
			i = skipEscape(s, i)
		case r == 0x9b: // C1 CSI, the one-character form of ESC [
			i = skipCSI(s, i)
		case r == 0x90 || r == 0x9d || r == 0x98 || r == 0x9e || r == 0x9f:
			// C1 DCS, OSC, SOS, PM, APC: a control string up to ST.
			i = skipString(s, i)
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			// Other C0 and C1 controls and DEL: dropped.
		case unicode.Is(unicode.Cf, r):
			// Format characters: bidirectional embeddings, overrides,
			// isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E,
			// U+200F, U+061C), zero-width characters (U+200B-U+200D,
			// U+2060, U+FEFF), soft hyphens, tags (U+E0000 block). Each
			// can make text on a terminal read other than it is.
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// EscapeJSON rewrites encoded JSON so that no character [IsUnsafe] reports
// reaches a terminal raw, without changing what the JSON means: every such
// rune becomes a \uXXXX escape (a surrogate pair above U+FFFF), and
// invalid UTF-8 becomes \ufffd. encoding/json escapes C0 controls and
// U+2028/U+2029 itself, but writes DEL, C1 controls and format characters
// (U+202E, U+2066-U+2069, U+200B-U+200F, …) as they are. Outside its
// strings, JSON text holds only ASCII punctuation, letters, digits and
// white space, so every rune rewritten here is inside a string, where the
// escape decodes to the very same value: a script reading the JSON gets
// the server's value exactly, and a person whose terminal shows it sees
// the escape instead of its effect.
//
// Tab, CR and LF are left alone: outside strings they are JSON white space
// (the encoder ends its output with a line feed), and inside strings
// encoding/json has escaped them already.
func EscapeJSON(b []byte) []byte {
	clean := true
	for _, c := range b {
		if c >= 0x7f || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			clean = false
			break
		}
	}
	if clean {
		return b
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 0, len(b)+32)
	escape := func(r rune) {
		out = append(out, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
	}
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			escape(utf8.RuneError)
		case r == '\t' || r == '\n' || r == '\r' || !IsUnsafe(r):
			out = append(out, b[i:i+size]...)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			escape(r1)
			escape(r2)
		default:
			escape(r)
		}
		i += size
	}
	return out
}

// isPlain reports whether s is printable ASCII, the common case, so that
// stripControls can return it without copying.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// skipEscape returns the index just past the escape sequence whose ESC
// ended before i (ECMA-48 §5.3).
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', 'X', '^', '_':
		return skipString(s, i+1)
	}
	// Two-character sequences (ESC c, ESC 7) and ESC followed by
	// intermediates (ESC ( B): skip intermediates, then one final byte.
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipCSI skips the parameter, intermediate and final bytes of a control
// sequence (ECMA-48 §5.4).
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipString skips a control string (OSC, DCS, …) up to and including its
// terminator: BEL, ESC \ or the C1 ST. An unterminated string runs to the
// end, which is what a terminal would swallow too.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i + 1
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		}
		i++
	}
	return i
}

// capRunes shortens s to at most n runes, the last being "…".
func capRunes(s string, n int) string {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	count := 0
	for i := range s {
		if count == n-1 {
			return s[:i] + ellipsis
		}
		count++
	}
	return s
}
