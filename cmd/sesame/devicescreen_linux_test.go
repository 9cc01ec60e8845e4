package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/ptytest"
)

// The device flow as a person at a terminal sees it: the real sesame (this
// test binary run as sesame, TestMain) in a real pseudo-terminal
// (internal/ptytest), against the test server, with the rows left on the
// screen read back. Linux only, like the other tests of real processes
// (parallel_linux_test.go): they share its environment.

// startDeviceLogin starts the first `sesame login --flow device` of
// profile "work" in a cols×rows terminal.
func startDeviceLogin(t *testing.T, h *harness, cols, rows int) *ptytest.Term {
	t.Helper()
	env := sesameProcessEnv(t, h, t.TempDir(), fmt.Sprintf("SESAME_TEST_RUN=%d", time.Now().UnixNano()))
	args := []string{os.Args[0], "login", "-p", "work", "--issuer", h.as.Issuer(), "--client-id", h.as.ClientID,
		"--ca-file", h.as.CAFile(), "--flow", "device"}
	return ptytest.Start(t, args, env, cols, rows)
}

// lastRows returns the last n rows of screen down to its last non-empty
// one.
func lastRows(screen []string, n int) []string {
	end := len(screen)
	for end > 0 && screen[end-1] == "" {
		end--
	}
	return screen[max(end-n, 0):end]
}

// promptEnd is what the device prompt must end with: the page, the code
// and the link that carries it (then a blank row and the countdown).
func promptEnd(h *harness) []string {
	page := h.as.URL() + authtest.PathDeviceVerification
	code := h.as.LastUserCode()
	return []string{"  page: " + page, "  code: " + code, "  or open this link, which carries the code:", "  " + page + "?user_code=" + code, ""}
}

func hasQR(screen []string) bool {
	return slices.ContainsFunc(screen, func(r string) bool { return strings.Contains(r, "█") })
}

// On 80x24 the page and the code are the last rows above the countdown,
// and the site the page is on is still on the screen; the QR code, which
// would push them off, is not drawn. They stay there after the login.
func TestDeviceScreen_80x24ShowsThePageAndTheCode(t *testing.T) {
	h := newHarness(t, authtest.WithDeviceTiming(10*time.Minute, time.Second))
	term := startDeviceLogin(t, h, 80, 24)
	screen := term.WaitFor("sesame: waiting for approval, ")
	t.Logf("the 80x24 screen while sesame waits:\n%s", ptytest.Dump(screen))
	tail := lastRows(screen, 6)
	if !slices.Equal(tail[:5], promptEnd(h)) || !strings.HasPrefix(tail[5], "sesame: waiting for approval, ") {
		t.Fatalf("the screen does not end with the page, the code and the countdown:\n%s", ptytest.Dump(screen))
	}
	if !slices.Contains(screen, "  "+h.as.URL()) || hasQR(screen) {
		t.Fatalf("the site is not on the screen, or a QR code is:\n%s", ptytest.Dump(screen))
	}

	if err := h.as.ApproveDevice(h.as.LastUserCode()); err != nil {
		t.Fatal(err)
	}
	if code := term.Wait(); code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, ptytest.Dump(term.Screen()))
	}
	screen = term.Screen()
	if !slices.ContainsFunc(screen, func(r string) bool { return strings.HasPrefix(r, "sesame: signed in to ") }) ||
		!slices.Contains(screen, promptEnd(h)[1]) || slices.ContainsFunc(screen, func(r string) bool { return strings.Contains(r, "waiting") }) {
		t.Fatalf("after the approval, the screen:\n%s", ptytest.Dump(screen))
	}
}

// A QR code is drawn only on a terminal where it fits, above the page and
// the code, which still end the prompt. The test server's link needs a
// version 3 code: 29 modules and 8 of quiet zone, indented by 2, is 39
// columns, one more than 38.
func TestDeviceScreen_QRCodeWhereItFits(t *testing.T) {
	for _, size := range []struct {
		cols, rows int
		qr         bool
	}{{80, 60, true}, {38, 60, false}} {
		t.Run(fmt.Sprintf("%dx%d", size.cols, size.rows), func(t *testing.T) {
			h := newHarness(t, authtest.WithDeviceTiming(10*time.Minute, 30*time.Second))
			term := startDeviceLogin(t, h, size.cols, size.rows)
			screen := term.WaitFor("sesame: waiting for approval")
			if hasQR(screen) != size.qr {
				t.Fatalf("QR code shown: %v, want %v:\n%s", hasQR(screen), size.qr, ptytest.Dump(screen))
			}
			if size.qr {
				page := slices.Index(screen, promptEnd(h)[0])
				lastQR := slices.IndexFunc(screen, func(r string) bool { return strings.HasPrefix(r, "sesame: waiting") }) - 1
				for !strings.Contains(screen[lastQR], "█") {
					lastQR--
				}
				if site := slices.Index(screen, "  "+h.as.URL()); site < 0 || page < lastQR {
					t.Fatalf("the site is not on the screen, or the page is not under the QR code:\n%s", ptytest.Dump(screen))
				}
			}
			term.Send("\x03")
			if code := term.Wait(); code != exitCancelled {
				t.Fatalf("exit %d after Ctrl-C, want %d", code, exitCancelled)
			}
		})
	}
}

// Ctrl-C while sesame waits between polls ends it with exit 130 and one
// error line in place of the countdown, and sends no poll: the server's
// interval (30 s) has not passed, so any poll would be one sent after it.
func TestDeviceScreen_CtrlC(t *testing.T) {
	h := newHarness(t, authtest.WithDeviceTiming(10*time.Minute, 30*time.Second))
	term := startDeviceLogin(t, h, 80, 24)
	term.WaitFor("sesame: waiting for approval")
	term.Send("\x03")
	if code := term.Wait(); code != exitCancelled {
		t.Fatalf("exit %d after Ctrl-C, want %d:\n%s", code, exitCancelled, ptytest.Dump(term.Screen()))
	}
	screen := term.Screen()
	t.Logf("the 80x24 screen after Ctrl-C:\n%s", ptytest.Dump(screen))
	tail := lastRows(screen, 6)
	if !slices.Equal(tail[:5], promptEnd(h)) || !strings.HasPrefix(tail[5], "sesame: error: ") || !strings.Contains(tail[5], "cancelled") {
		t.Fatalf("the screen does not end with the prompt and one cancellation line:\n%s", ptytest.Dump(screen))
	}
	if n := h.as.CountRequests(authtest.PathToken); n != 0 {
		t.Fatalf("%d polls were sent", n)
	}
}

// A helper call that signs the person in with the device flow (token at a
// terminal, no grant) ends its countdown before it says who signed in:
// the line starts on a row of its own, not after "… left".
func TestDeviceScreen_HelperLoginEndsTheCountdown(t *testing.T) {
	h := newHarness(t, authtest.WithDeviceTiming(10*time.Minute, time.Second), authtest.WithDeviceAutoApprove())
	// The profile; its grant goes to the in-memory store, so the process,
	// with a file store of its own, has none.
	wantExit(t, h.login("--flow", "device"), 0)
	env := sesameProcessEnv(t, h, t.TempDir(), fmt.Sprintf("SESAME_TEST_RUN=%d", time.Now().UnixNano()))
	term := ptytest.Start(t, []string{os.Args[0], "token", "-p", "work", "--reveal"}, env, 80, 24)
	if code := term.Wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, ptytest.Dump(term.Screen()))
	}
	screen := term.Screen()
	if !slices.ContainsFunc(screen, func(r string) bool { return strings.HasPrefix(r, "sesame: signed in to ") }) ||
		slices.ContainsFunc(screen, func(r string) bool { return strings.Contains(r, "waiting") }) {
		t.Fatalf("the countdown was not cleared before the next line:\n%s", ptytest.Dump(screen))
	}
}
