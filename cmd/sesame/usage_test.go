package main

import (
	"strings"
	"testing"
)

// Every mistake in the command line exits 2 with one error line and the
// hints, and shows no help on stdout: an unknown subcommand of a command
// group, flags that exclude each other, a missing or an extra argument, a
// bad flag value.
func TestUsageMistakes_Exit2(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	for _, c := range []struct {
		args  []string
		lines []string
	}{
		{[]string{"setup", "frob"}, []string{
			`sesame: error: unknown command "frob" for "sesame setup"`,
			`sesame: hint: run 'sesame setup --help' for usage`}},
		{[]string{"setup", "-p", "work", "kubctl"}, []string{
			`sesame: error: unknown command "kubctl" for "sesame setup"`,
			`sesame: hint: did you mean "kubectl"?`,
			`sesame: hint: run 'sesame setup --help' for usage`}},
		{[]string{"setup", "frob", "--help"}, []string{
			`sesame: error: unknown command "frob" for "sesame setup"`,
			`sesame: hint: run 'sesame setup --help' for usage`}},
		{[]string{"completion", "frob"}, []string{
			`sesame: error: unknown command "frob" for "sesame completion"`,
			`sesame: hint: run 'sesame completion --help' for usage`}},
		{[]string{"completion", "bash", "frob"}, []string{
			`sesame: error: unknown command "frob" for "sesame completion bash"`,
			`sesame: hint: run 'sesame --help' for usage`}},
		{[]string{"logn"}, []string{
			`sesame: error: unknown command "logn" for "sesame"`,
			`sesame: hint: did you mean "login"?`,
			`sesame: hint: run 'sesame --help' for usage`}},
		{[]string{"help", "frob"}, []string{
			`sesame: error: unknown command "frob" for "sesame"`,
			`sesame: hint: run 'sesame --help' for usage`}},
		{[]string{"help", "setup", "frob"}, []string{
			`sesame: error: unknown command "frob" for "sesame setup"`,
			`sesame: hint: run 'sesame setup --help' for usage`}},
		{[]string{"login", "-p", "work", "--qr", "--no-qr"}, []string{
			`sesame: error: --qr and --no-qr exclude each other`,
			`sesame: hint: run 'sesame --help' for usage`}},
		{[]string{"logout", "-p", "work", "--all"}, []string{
			`sesame: error: --all and --profile exclude each other: --all logs out of every profile`,
			`sesame: hint: run 'sesame --help' for usage`}},
		{[]string{"login", "-p", "work", "--timeout", "-1s"}, []string{
			`sesame: error: invalid --timeout -1s: it cannot be negative`,
			`sesame: hint: run 'sesame --help' for usage`}},
		{[]string{"git-credential"}, []string{
			`sesame: error: sesame git-credential takes one argument, got 0`,
			`sesame: hint: run 'sesame --help' for usage`}},
		{[]string{"exec"}, []string{
			`sesame: error: exec needs a command: sesame exec -- COMMAND [ARG...]`,
			`sesame: hint: run 'sesame --help' for usage`}},
		{[]string{"token", "-p", "work", "extra"}, []string{
			`sesame: error: sesame token takes no arguments, got "extra"`,
			`sesame: hint: run 'sesame --help' for usage`}},
	} {
		r := h.run(c.args...)
		if r.stdout != "" {
			t.Errorf("sesame %s: stdout %q, want nothing", strings.Join(c.args, " "), r.stdout)
		}
		wantStderr(t, r, exitUsage, c.lines...)
	}
	// The logout and the logins above were refused before they changed
	// anything: the grant mustLogin stored is still there.
	if h.record() == nil {
		t.Fatal("a refused command removed the grant")
	}
}

// A command group without a subcommand, and help for a real command, are
// no mistake: the help on stdout, exit 0.
func TestUsage_GroupHelpStillExit0(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{{"setup"}, {"setup", "--help"}, {"help", "setup"}, {"help"}, {}} {
		r := h.run(args...)
		wantExit(t, r, 0)
		if r.stderr != "" || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("sesame %s: stdout %q, stderr %q", strings.Join(args, " "), r.stdout, r.stderr)
		}
	}
}
