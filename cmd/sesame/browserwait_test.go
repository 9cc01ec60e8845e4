package main

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/loopback"
)

// With --no-browser on a terminal: the authorization URL and until when
// it works, the live line, a renewed URL and a failed renewal each above
// the live line, which is drawn again under them, and cleared at the end.
func TestBrowserWait_NoBrowserRenewalOnTerminal(t *testing.T) {
	var buf bytes.Buffer
	clk := &testClock{epoch: scriptEpoch}
	a := &app{env: &Env{Stderr: &buf, StderrTTY: true, Clock: clk}}
	ev := a.browserEvents(loginUI{loginCmd: true, noBrowser: true}, false)
	if ev.NewAuthURL == nil || ev.ReadPasted != nil {
		t.Fatalf("--no-browser without a terminal on stdin: NewAuthURL set %v, ReadPasted set %v; want renewals and no paste",
			ev.NewAuthURL != nil, ev.ReadPasted != nil)
	}
	first, second := scriptEpoch.Add(time.Minute), scriptEpoch.Add(105*time.Second)
	ev.Started(loopback.Start{AuthURL: "https://id.example/authorize?client_id=c&request_uri=urn:1", AuthURLExpires: first, Timeout: 5 * time.Minute})
	ev.NewAuthURL("https://id.example/authorize?client_id=c&request_uri=urn:2", second)
	ev.NewAuthURLFailed(errors.New("pushed authorization request: the server answered 503"))
	ev.Done()
	const live = "\r\x1b[Ksesame: waiting for the browser, 5m0s left"
	want := "sesame: open this URL in your browser to sign in:\n\n  https://id.example/authorize?client_id=c&request_uri=urn:1\n\n" +
		"sesame: it works until " + clockTime(first) + "; a new one is printed before then\n" +
		"sesame: " + errorPageHint + "\n" +
		live + "\r\x1b[K" +
		"sesame: the URL above is about to expire; open this one instead (it works until " + clockTime(second) + "):\n\n" +
		"  https://id.example/authorize?client_id=c&request_uri=urn:2\n\n" +
		live + "\r\x1b[K" +
		"sesame: warning: no new sign-in URL yet: pushed authorization request: the server answered 503\n" +
		live + "\r\x1b[K"
	if got := buf.String(); got != want {
		t.Fatalf("got:\n%q\nwant:\n%q", got, want)
	}
}

// A helper's login (git, kubectl) shares stderr with its caller: no live
// line there, one plain line, and no paste prompt. A renewal while the
// browser here is expected to sign in is not shown; once the browser
// fails to open, the link to open by hand comes at once, with the latest
// authorization request for a browser on another machine.
func TestBrowserWait_HelperLoginOpenerFailure(t *testing.T) {
	var buf bytes.Buffer
	a := &app{env: &Env{Stderr: &buf, StderrTTY: true, StdinTTY: true, Clock: &testClock{epoch: scriptEpoch}}}
	ev := a.browserEvents(loginUI{}, true)
	if ev.ReadPasted != nil {
		t.Fatalf("a helper's login reads pasted addresses")
	}
	ev.Started(loopback.Start{AuthURL: "https://id.example/authorize?request_uri=urn:1", LocalURL: "http://127.0.0.1:5/start/k", Timeout: 5 * time.Minute})
	ev.NewAuthURL("https://id.example/authorize?request_uri=urn:2", time.Time{})
	ev.OpenFailed(errors.New("cannot open the browser: exec: \"nope\": executable file not found in $PATH"))
	ev.Done()
	want := "sesame: " + headingOpening + "\n\n  http://127.0.0.1:5/start/k\n\n" +
		"sesame: " + errorPageHint + "\n" +
		"sesame: waiting for the browser (at most 5m0s)\n" +
		"sesame: warning: cannot open the browser: exec: \"nope\": executable file not found in $PATH\n" +
		"sesame: " + headingByHand + "\n\n  http://127.0.0.1:5/start/k\n\n" +
		"sesame: or in a browser on another machine:\n\n  https://id.example/authorize?request_uri=urn:2\n\n"
	if got := buf.String(); got != want {
		t.Fatalf("got:\n%q\nwant:\n%q", got, want)
	}
}
