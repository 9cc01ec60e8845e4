package main

import (
	"io"
	"strconv"
	"strings"

	"github.com/sesame-auth/sesame/internal/redact"
)

// messages writes what sesame tells a person, on stderr. It owns the rules
// every such line follows; the rest of cmd/sesame decides what to say,
// never how it looks.
//
// Streams. stdout carries only the data a command exists to produce: a
// token (token), JSON (--json, --output json), an ExecCredential
// (kubectl), git's or docker's answer, a DPoP proof, the commands setup
// prints, status's table, help and version. Everything meant for a person
// (errors, hints, warnings, progress, the login prompts) goes to stderr,
// so $(sesame token) or a pipe never captures it. The one exception is
// docker's: it reads a helper's error from stdout, so docker-credential
// writes it there too, in the wording docker expects.
//
// Prefixes. Every line starts with "sesame: ": "sesame: error: " for the
// one error that ends the command (report, errors.go), "sesame: hint: "
// for what to do about it, "sesame: warning: " for a problem that did not
// stop the command, plain "sesame: " for progress and information. The
// --debug log's "sesame: debug: " lines are internal/redact's Logger's.
//
// One line per message: a message never holds a line break. Blocks (the
// browser URL, the device-flow prompt) are the exception: their first
// line carries the prefix, and the lines after it are indented.
//
// No stutter: a message never says its subject twice. A wrapper adds only
// what the error it wraps does not already say: the code that names an
// input in its errors ("KUBERNETES_EXEC_INFO is not valid JSON") is the
// one that names it, and its callers pass the error on as it is instead of
// writing "cannot read KUBERNETES_EXEC_INFO: KUBERNETES_EXEC_INFO ...".
// Lists are written for a person ("profiles "a" and "b""), never as Go
// values ("[a b]").
//
// Hints come after the error line, one a line, each saying what to type
// or do next.
//
// Server and user text (error messages and the chains they wrap, ID-token
// claims, names from the configuration) reaches the terminal only through
// oneLine (redact.Line): no control, bidi or escape character, no line
// break, no secret, a bounded length. A block's body lines carry values
// the person must copy exactly (a URL with its state and PKCE challenge, a
// user code), which redaction would spoil; their producers checked them
// (urlcheck, devicecode), and block only drops the characters
// redact.IsUnsafe names, as a last guard.
//
// Exit codes are report's alone to choose: exitOK, exitError, exitUsage,
// exitLoginRequired, exitNotRevoked and exitCancelled in errors.go, listed
// for the person in exitCodesHelp. Every mistake in the command line (an
// unknown command or flag, a bad flag value, flags that exclude each other,
// a missing or extra argument) is a usageError: exit 2.
type messages struct{ w io.Writer }

// Line prefixes.
const (
	prefixInfo    = "sesame: "
	prefixError   = prefixInfo + "error: "
	prefixHint    = prefixInfo + "hint: "
	prefixWarning = prefixInfo + "warning: "
)

// messages are this run's stderr.
func (a *app) messages() messages { return messages{a.env.Stderr} }

// say tells the person something on stderr, one line.
func (a *app) say(msg string) { a.messages().say(msg) }

// warn tells the person about a problem that did not stop the command.
func (a *app) warn(msg string) { a.messages().warn(msg) }

// oneLine makes text safe for one terminal line: no control, bidi or
// format characters, no escape sequences, no secrets (redact.Line, the one
// sanitizer for what reaches a terminal).
func oneLine(s string) string { return redact.Line(s) }

// line writes one message. A failed write to stderr is ignored: there is
// no one left to tell.
func (m messages) line(p, msg string) {
	_, _ = io.WriteString(m.w, p+oneLine(msg)+"\n")
}

// fail writes the error line that ends a command; report calls it.
func (m messages) fail(msg string) { m.line(prefixError, msg) }

// hint writes one hint; it follows the error line.
func (m messages) hint(msg string) { m.line(prefixHint, msg) }

// warn writes a warning: something went wrong, and the command goes on.
func (m messages) warn(msg string) { m.line(prefixWarning, msg) }

// say writes progress or information.
func (m messages) say(msg string) { m.line(prefixInfo, msg) }

// progress replaces the line under the cursor with msg, without ending
// it: a countdown on a terminal. endProgress clears it.
func (m messages) progress(msg string) {
	_, _ = io.WriteString(m.w, "\r\x1b[K"+prefixInfo+oneLine(msg))
}

// endProgress clears a progress line.
func (m messages) endProgress() { _, _ = io.WriteString(m.w, "\r\x1b[K") }

// block writes heading as a "sesame: " line, a blank line, then body: one
// line each, "" for a blank line, written exactly as given apart from the
// characters redact.IsUnsafe names (see messages on why they are not
// redacted).
func (m messages) block(heading string, body ...string) {
	var b strings.Builder
	b.WriteString(prefixInfo + oneLine(heading) + "\n\n")
	for _, l := range body {
		b.WriteString(strings.Map(func(r rune) rune {
			if redact.IsUnsafe(r) {
				return -1
			}
			return r
		}, l) + "\n")
	}
	_, _ = io.WriteString(m.w, b.String())
}

// quotedList names items for a person: "a", "a" and "b", "a", "b" and
// "c" (conj is "and" or "or"); never a Go slice ("[a b]").
func quotedList(items []string, conj string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
}
