//go:build linux

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
)

// startLinkRE finds the start link sesame prints in the browser flow.
var startLinkRE = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/start/[A-Za-z0-9_-]+`)

// TestLogin_StartLinkOutlivesPushedRequest_RealServer: oidc-provider
// pushes authorization requests (RFC 9126) whose request_uri lives 60 s.
// The browser launcher "succeeds" without showing anything, so the person
// has only the printed link, and opens it in chromium after the server's
// clock has moved 90 s on: the request_uri sesame pushed first is dead,
// the printed link (the listener's start link, which pushes a fresh
// request) still signs in.
func TestLogin_StartLinkOutlivesPushedRequest_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{ClockOffset: 90 * time.Second, ClockOffsetOnSignal: true})
	c := newCLI(t, srv, "e2e-bw-start")
	browser := rig.BuildTestBrowser(t)

	// The launcher keeps the URL it was given and opens nothing.
	dir := t.TempDir()
	given := filepath.Join(dir, "url")
	launcher := filepath.Join(dir, "launcher")
	if err := os.WriteFile(launcher, []byte("#!/bin/sh\nprintf '%s\\n' \"$1\" > '"+given+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{"BROWSER=" + launcher}
	for _, kv := range c.extraEnv {
		if !strings.HasPrefix(kv, "BROWSER=") {
			env = append(env, kv)
		}
	}
	c.extraEnv = env

	b := c.startBG(t, false, loginArgs(c)...)
	waitAuthURL(t, b)
	link := startLinkRE.FindString(b.readStderr())
	if link == "" {
		t.Fatalf("no start link printed:\n%s", b.readStderr())
	}
	deadline := time.Now().Add(10 * time.Second)
	var pushed []byte
	for len(pushed) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the launcher was not run within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
		pushed, _ = os.ReadFile(given)
	}
	pushedURL := strings.TrimSpace(string(pushed))
	if !strings.Contains(pushedURL, "request_uri=") {
		t.Fatalf("the launcher got no pushed request: %d characters", len(pushedURL))
	}

	// A minute and a half later, at the server.
	srv.ApplyClockOffset(t)

	// The first pushed request is gone: chromium lands on the server's
	// error page.
	var out, errOut bytes.Buffer
	stale := exec.Command(browser, pushedURL)
	stale.Env = append(os.Environ(), "TESTBROWSER_LOG="+c.browserLog)
	stale.Stdout, stale.Stderr = &out, &errOut
	if err := stale.Run(); err == nil {
		t.Fatalf("the expired request_uri still signed in: %s", errOut.String())
	}
	if !hasEvent(srv, "authorization.error", func(e rig.Event) bool { return e.Error == "invalid_request_uri" }) {
		t.Errorf("the server did not refuse the expired request_uri (no authorization.error invalid_request_uri)")
	}

	// The printed link still works.
	runBrowser(t, browser, link, "TESTBROWSER_LOG="+c.browserLog, "TESTBROWSER_LOGIN=alice")
	r := b.wait(60 * time.Second)
	if r.code != 0 || !strings.Contains(r.stderr, "sesame: signed in to "+srv.Issuer+" as alice") {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("login warned:\n%s", r.stderr)
	}
	if c.record() == nil {
		t.Fatal("no grant stored")
	}
	pushes := 0
	for _, e := range srv.Events("request") {
		if e.Route == "pushed_authorization_request" && e.Status == 201 {
			pushes++
		}
	}
	// The first, the start link's, and any renewal sesame made meanwhile
	// for a browser elsewhere (after 45 s of the 60), which nobody opened.
	if pushes < 2 {
		t.Errorf("%d pushed authorization requests, want the first and the start link's", pushes)
	}
	c.assertNoLeak()
}
