package redact

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// debugPrefix starts every line a [Logger] writes, so debug output is easy
// to tell from the program's messages (ARCHITECTURE.md §1).
const debugPrefix = "sesame: debug: "

// Logger writes redacted debug lines. The zero value and a nil *Logger are
// disabled loggers, so libraries can take one as an optional dependency
// without checking it.
//
// A Logger is safe for concurrent use.
type Logger struct {
	mu      sync.Mutex
	w       io.Writer
	enabled bool
}

// New returns a logger that writes to w when enabled is true. With
// enabled false, or a nil w, it discards everything.
func New(w io.Writer, enabled bool) *Logger {
	return &Logger{w: w, enabled: enabled && w != nil}
}

// Enabled reports whether l writes anything. Callers use it to skip work
// that only feeds the log, such as dumping an HTTP request.
func (l *Logger) Enabled() bool {
	return l != nil && l.enabled
}

// Printf formats a message like fmt.Sprintf, redacts it with [String],
// strips control characters from it, and writes it as one or more lines
// starting with "sesame: debug: ".
//
// When l is disabled nothing is formatted: a debug call on the hot path of
// a credential helper costs a branch, not an allocation.
func (l *Logger) Printf(format string, args ...any) {
	if !l.Enabled() {
		return
	}
	msg := String(fmt.Sprintf(format, args...))

	var b strings.Builder
	for line := range strings.Lines(msg) {
		line = strings.TrimRight(line, "\r\n")
		b.WriteString(debugPrefix)
		// Server text reaches the log too (HTTP dumps): an escape sequence
		// in it must not reach the terminal that shows stderr.
		// Stripping can join a field name ("co\x00de="), so redact again.
		b.WriteString(String(stripControls(line)))
		b.WriteByte('\n')
	}
	if msg == "" {
		b.WriteString(debugPrefix + "\n")
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	// A debug log that cannot be written is not worth failing a login for.
	_, _ = io.WriteString(l.w, b.String())
}
