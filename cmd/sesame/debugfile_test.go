package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDebugFile_Req37: SESAME_DEBUG_FILE gets the redacted debug log of a
// helper call, time-stamped, in a 0600 file, and nothing on stderr; a
// symbolic link or a file others can read is refused with one error line.
func TestDebugFile_Req37(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	path := filepath.Join(t.TempDir(), "debug.log")
	h.env["SESAME_DEBUG_FILE"] = path
	h.advance(time.Hour) // the token call refreshes
	r := h.run("token", "-p", "work")
	wantExit(t, r, 0)
	if r.stderr != "" {
		t.Fatalf("stderr without --debug: %q", r.stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	log := string(data)
	if !strings.Contains(log, "sesame: debug: http: POST") || strings.Contains(log, "SNTL-") {
		t.Fatalf("debug file:\n%s", log)
	}
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[\d+\] sesame: debug: `)
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if !stamp.MatchString(line) {
			t.Fatalf("unstamped line %q", line)
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o", st.Mode().Perm())
	}
	// Appended, not truncated.
	wantExit(t, h.run("token", "-p", "work"), 0)
	if again, _ := os.ReadFile(path); !strings.HasPrefix(string(again), log) || len(again) <= len(data) {
		t.Fatal("the second call did not append to the log")
	}

	link := filepath.Join(t.TempDir(), "link.log")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	h.env["SESAME_DEBUG_FILE"] = link
	r = h.run("token", "-p", "work")
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "symbolic link")

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	h.env["SESAME_DEBUG_FILE"] = path
	r = h.run("token", "-p", "work")
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "chmod 600")
}
