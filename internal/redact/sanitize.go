package redact

import (
	"strings"
	"unicode/utf8"
)

// MaxText is the most runes [Sanitize] and [UntrustedText] return
// (SECURITY-REQUIREMENTS 16).
const MaxText = 200

// ellipsis marks text that [Sanitize] shortened.
const ellipsis = "…"

// Sanitize makes text that came from a server safe to show on a terminal:
// error and error_description (RFC 6749 §5.2 allows any of %x20-7E, and
// servers send more), error bodies, header values.
//
// It removes C0 and C1 control characters, DEL and whole ANSI escape
// sequences (a bare ESC could recolour or retitle the terminal, or hide
// the text that follows), removes Unicode bidirectional overrides (which
// can make text read differently from what it is), turns tabs, line breaks
// and line separators into spaces so one message stays one line, replaces
// invalid UTF-8, trims spaces and caps the result at [MaxText] runes, the
// last of which is "…" when text was cut.
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
	s, cut := precut(s)
	s = capRunes(strings.TrimSpace(String(stripControls(String(s)))), MaxText)
	if cut && !strings.HasSuffix(s, ellipsis) {
		s = capRunes(s+" "+ellipsis, MaxText)
	}
	return s
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
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			// Bidirectional embeddings, overrides and isolates.
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
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
