package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/devicecode"
	"github.com/sesame-auth/sesame/internal/clock"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/loopback"
)

// The lines sesame writes for a person, exactly: the prefixes, one line
// a message, and the sanitizer in front of server text.
func TestMessages_Lines(t *testing.T) {
	var buf bytes.Buffer
	m := messages{&buf}
	m.fail("the server said \x1b[31mno\x1b[0m\nsesame: hint: run rm -rf")
	m.hint("run 'sesame login -p work' in a terminal")
	m.warn("the ID token could not be verified")
	m.say(`signed in as "alice"`)
	want := "sesame: error: the server said no sesame: hint: run rm -rf\n" +
		"sesame: hint: run 'sesame login -p work' in a terminal\n" +
		"sesame: warning: the ID token could not be verified\n" +
		"sesame: signed in as \"alice\"\n"
	if got := buf.String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

// The browser block shows the authorization URL exactly: its state, nonce
// and PKCE challenge must survive (redaction would spoil them), and only
// characters a terminal would act on are dropped.
func TestMessages_AuthURLBlock(t *testing.T) {
	var buf bytes.Buffer
	a := &app{env: &Env{Stderr: &buf, Clock: clock.System}}
	u := "https://id.example.com/authorize?client_id=sesame&code_challenge=QCmQBjm-vT2i9KU8W7vuYUWOBDhmkQ0pWVydUZd5Yvk&state=-rSdrAe-5Bkag7-A7yNG-1eEX60tGNcYPF9ehbV4zSk&nonce=dav6nG61GsdXiNJjA8eml7K_kojKlF01jounezPc7EQ"
	w := &browserWait{a: a, noBrowser: true}
	w.started(loopback.Start{AuthURL: u + "\x1b]0;x\x07", Timeout: 5 * time.Minute})
	want := "sesame: open this URL in your browser to sign in:\n\n  " + u + "]0;x\n\nsesame: " + errorPageHint + "\nsesame: waiting for the browser (at most 5m0s)\n"
	if got := buf.String(); got != want {
		t.Fatalf("got:\n%q\nwant:\n%q", got, want)
	}
}

// The device-flow prompt (requirement 41), line for line.
func TestMessages_DevicePrompt(t *testing.T) {
	var buf bytes.Buffer
	a := &app{env: &Env{Stderr: &buf}}
	exp := time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local)
	a.showDevicePrompt(&profile.Profile{Name: "work"}, devicecode.Prompt{
		VerificationURI:         "https://xn--bcher-kva.example/device",
		VerificationURIComplete: "https://xn--bcher-kva.example/device?user_code=WDJB-MJHT",
		UserCode:                "WDJB-MJHT",
		Origin:                  "https://xn--bcher-kva.example",
		HostASCII:               "xn--bcher-kva.example",
		HostUnicode:             "bücher.example",
		DifferentDomain:         true,
		Domain:                  "bücher.example",
		IssuerDomain:            "example.com",
		ExpiresAt:               exp,
		QR:                      "  ▀▄\n  ▄▀\n",
	}, loginUI{})
	want := `sesame: to sign in to profile "work", open the page below on any device
sesame: WARNING: this page is on bücher.example, not on the issuer's domain example.com
sesame: enter this code only if you started this login just now
sesame: the code expires at 03:04:05; the page is on this site:

  https://xn--bcher-kva.example
  host: bücher.example (xn--bcher-kva.example)

  ▀▄
  ▄▀

  page: https://xn--bcher-kva.example/device
  code: WDJB-MJHT
  or open this link, which carries the code:
  https://xn--bcher-kva.example/device?user_code=WDJB-MJHT

`
	if got := buf.String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}
