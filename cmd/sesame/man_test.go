//go:build man

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMan_GeneratesPages runs the hidden `sesame __man DIR` and checks the
// pages `make man` installs: one per visible command, each with the exit
// codes, none for hidden commands.
func TestMan_GeneratesPages(t *testing.T) {
	h := newHarness(t)
	dir := filepath.Join(t.TempDir(), "man")
	r := h.run("__man", dir)
	wantExit(t, r, 0)
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
	for _, name := range []string{"sesame.1", "sesame-login.1", "sesame-token.1"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		page := string(data)
		for _, want := range []string{
			`.TH "SESAME`,
			".SH EXIT STATUS",
			"login required: no valid grant and the caller cannot log in interactively",
			`logout could not confirm the revocation at the server (local data was deleted)`,
			`cancelled (Ctrl\-C, SIGTERM, SIGHUP or SIGQUIT`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("%s does not contain %q:\n%s", name, want, page)
			}
		}
		if i, j := strings.Index(page, ".SH EXIT STATUS"), strings.Index(page, ".SH SEE ALSO"); j >= 0 && i > j {
			t.Errorf("%s: EXIT STATUS comes after SEE ALSO", name)
		}
	}
	main, err := os.ReadFile(filepath.Join(dir, "sesame.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".SH ENVIRONMENT\n", "\\fBSESAME_PROFILE\\fP\n", "\\fBDOCKER_CONFIG\\fP\n"} {
		if !strings.Contains(string(main), want) {
			t.Errorf("sesame.1 does not contain %q:\n%s", want, main)
		}
	}
	if i, j := strings.Index(string(main), ".SH ENVIRONMENT"), strings.Index(string(main), ".SH SEE ALSO"); i < 0 || j >= 0 && i > j {
		t.Errorf("sesame.1: ENVIRONMENT missing or after SEE ALSO")
	}
	login, err := os.ReadFile(filepath.Join(dir, "sesame-login.1"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(login), "127.0.0.1:<port>/callback") {
		t.Errorf("sesame-login.1 lost the <port> of the redirect URI:\n%s", login)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*__man*")); len(matches) != 0 {
		t.Errorf("a page was written for the hidden command: %v", matches)
	}
	if r := h.run("--help"); strings.Contains(r.stdout, "__man") {
		t.Errorf("sesame --help lists the hidden command:\n%s", r.stdout)
	}
}

// TestMan_NeedsOneDirectory: a missing DIR is a usage error.
func TestMan_NeedsOneDirectory(t *testing.T) {
	h := newHarness(t)
	wantExit(t, h.run("__man"), 2)
}
