package main

import (
	"strings"
	"testing"
)

// A profile that does not exist is named, and the hint says what the
// person most likely meant: the only profile there is, or the one a typo
// away; else how to create it.
func TestMissingProfile_HintsWhatWasMeant(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	for _, tc := range []struct {
		args []string
		hint string
	}{
		{[]string{"token"}, `sesame: hint: the only profile is "work": add -p work, or make it the default with 'sesame profile use work'`},
		{[]string{"token", "-p", "wrok"}, `sesame: hint: did you mean "work"? (profiles: work)`},
		{[]string{"token", "-p", "staging"}, `sesame: hint: create it with 'sesame login -p staging --issuer URL --client-id ID'`},
	} {
		r := h.run(tc.args...)
		wantExit(t, r, exitError)
		if !strings.Contains(r.stderr, "sesame: error: no profile ") || !strings.Contains(r.stderr, tc.hint+"\n") {
			t.Errorf("%v:\n%s", tc.args, r.stderr)
		}
	}
}

// sesame --version prints what sesame version prints.
func TestVersionFlag(t *testing.T) {
	h := newHarness(t)
	flag, cmd := h.run("--version"), h.run("version")
	wantExit(t, flag, exitOK)
	if flag.stdout == "" || flag.stdout != cmd.stdout || !strings.HasPrefix(flag.stdout, "sesame ") {
		t.Fatalf("--version printed %q, version printed %q", flag.stdout, cmd.stdout)
	}
}
