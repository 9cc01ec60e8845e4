package main

import (
	"errors"
	"strings"
	"testing"
)

// failingWriter fails every write with err.
type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// TestStdoutWriteError_Fails: a command whose answer is its output exits
// with an error when that output cannot be written, instead of exiting 0
// with nothing delivered.
func TestStdoutWriteError_Fails(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.stdoutErr = errors.New("no space left on device")
	for _, args := range [][]string{
		{"token", "-p", "work"},
		{"status"},
		{"setup", "kubectl", "-p", "work"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := h.run(args...)
			wantExit(t, r, exitError)
			if !strings.Contains(r.stderr, "sesame: error: ") || !strings.Contains(r.stderr, "no space left on device") {
				t.Errorf("stderr %q, want the write error", r.stderr)
			}
		})
	}
}
