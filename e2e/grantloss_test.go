//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
)

// Grant loss: the ways a rotating refresh token can be lost between the
// server's rotation and sesame's keychain write, against the real
// oidc-provider (strict rotation, reuse detection, no reuse grace). Each
// test checks what the person sees (exit code, stdout, the stderr lines)
// and what the server saw: the grant is alive (no grant.revoked, no
// refused grant request) and the keychain holds the server's newest
// refresh token, so one more forced refresh works.

// idTokenWarning starts the one warning line of a refresh whose ID token
// could not be verified for a transient reason.
const idTokenWarning = "sesame: warning: the ID token that came with the refresh could not be verified ("

// cancelledLine is what a caller cancelled while its refresh is on the
// wire prints.
const cancelledLine = "sesame: error: cancelled; the refresh already sent is being finished in the background, and its result will be stored"

// loginOrFatal signs c in and fails the test if that fails.
func loginOrFatal(t *testing.T, c *cli) {
	t.Helper()
	if r := c.login(); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
}

// requireWarnedRefresh checks a forced refresh whose ID token could not be
// verified: exit 0 (checked by forcedRefresh), exactly one stderr line,
// the warning, and the ID token stored before kept.
func requireWarnedRefresh(t *testing.T, r run, idTokenBefore, idTokenAfter string) {
	t.Helper()
	lines := stderrLines(r.stderr)
	if len(lines) != 1 || !strings.HasPrefix(lines[0], idTokenWarning) {
		t.Fatalf("stderr: want exactly one line starting %q, got:\n%s", idTokenWarning, r.stderr)
	}
	if idTokenAfter != idTokenBefore {
		t.Fatal("the unverified ID token replaced the stored one")
	}
}

// TestGrantLoss_JWKSFailsOnceAfterRotation_RealServer: the jwks_uri fails
// (503) right after the server rotated the refresh token. sesame fetched
// the server's keys before it sent the refresh, so the refreshed ID token
// is verified with keys at hand: no request after the rotation, no
// warning, the new ID token stored. When the key endpoint fails before the
// refresh too, the rotated grant is stored all the same and the person is
// warned that the ID token could not be verified.
func TestGrantLoss_JWKSFailsOnceAfterRotation_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{JWKSFailAfterRefresh: 1})
	c := newCLI(t, srv, "e2e-gl-jwks")
	loginOrFatal(t, c)
	before := c.record()

	r := forcedRefresh(t, c, srv)
	if strings.TrimSpace(r.stderr) != "" {
		t.Fatalf("a refresh whose key endpoint fails only after the rotation printed:\n%s", r.stderr)
	}
	if after := c.record(); after.IDToken == before.IDToken || after.IDToken == "" {
		t.Fatal("the refreshed ID token was not verified and stored")
	}
	if n := len(srv.Events("jwks.failed")); n != 0 {
		t.Fatalf("%d jwks.failed events: the ID token check fetched keys after the rotation", n)
	}

	// The rig now fails the next key fetch: the one the next refresh makes
	// before it is sent. The refresh goes on, is stored, and warns.
	idBefore := c.record().IDToken
	r = forcedRefresh(t, c, srv)
	requireWarnedRefresh(t, r, idBefore, c.record().IDToken)
	if n := len(srv.Events("jwks.failed")); n != 1 {
		t.Fatalf("%d jwks.failed events, want 1 (the fetch before the second refresh)", n)
	}
	requireGrantAlive(t, c, srv)
	rec := c.record()
	c.assertNoLeak(before.AccessToken, before.RefreshToken, before.IDToken, rec.AccessToken, rec.RefreshToken)
}

// TestGrantLoss_ServerClockSixMinutesOff_RealServer: after the sign-in,
// the server's clock jumps 6 minutes ahead, beyond the 5-minute leeway, so
// every refreshed ID token is "issued in the future". The login itself is
// made on the right clock: it verifies its ID token strictly, on purpose (a
// person at a login can fix their clock). Refreshes still work: the grant
// is stored first, and the skew only costs the ID token, with one warning
// each.
func TestGrantLoss_ServerClockSixMinutesOff_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{ClockOffset: 6 * time.Minute, ClockOffsetOnSignal: true})
	c := newCLI(t, srv, "e2e-gl-clock")
	loginOrFatal(t, c)
	before := c.record()
	srv.ApplyClockOffset(t)
	for i := range 3 {
		idBefore := c.record().IDToken
		began := time.Now()
		r := forcedRefresh(t, c, srv)
		requireWarnedRefresh(t, r, idBefore, c.record().IDToken)
		t.Logf("refresh %d: exit 0 in %v: %s", i+1, time.Since(began).Round(time.Millisecond), strings.TrimSpace(r.stderr))
	}
	requireGrantAlive(t, c, srv)
	rec := c.record()
	c.assertNoLeak(before.AccessToken, before.RefreshToken, before.IDToken, rec.AccessToken, rec.RefreshToken)
}

// TestGrantLoss_SignalWhileAnswerHeld_RealServer: Ctrl-C (SIGINT) or a
// service manager's SIGTERM reaches `sesame token` while the server has
// rotated the refresh token and its answer is still on the way. The caller
// exits 130 at once; the refresher child, which holds the profile lock,
// receives the answer and stores it. A second caller started meanwhile
// waits for that lock and gets the same new token.
func TestGrantLoss_SignalWhileAnswerHeld_RealServer(t *testing.T) {
	// Mostly waiting on a held or slow answer: it overlaps the other
	// waiting tests.
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			signalWhileAnswerHeld(t, sig)
		})
	}
}

func signalWhileAnswerHeld(t *testing.T, sig syscall.Signal) {
	rig.RequireTools(t)
	// Access tokens outlive --min-ttl 1h (2 h tokens meet it): a refreshed
	// token satisfies a second caller, which then needs no refresh of its
	// own.
	srv := rig.StartServer(t, rig.ServerOptions{AccessTokenTTL: 2 * time.Hour})
	c := newCLI(t, srv, "e2e-gl-"+strings.ToLower(strings.TrimPrefix(sigName(sig), "SIG")))
	loginOrFatal(t, c)
	p := startHoldProxy(t, srv)
	pointTokenEndpoint(t, c, p.url, true)
	old := c.record()

	p.HoldNext()
	caller := c.startBG(t, false, "token", "-p", c.name, "--min-ttl", "1h")
	select {
	case <-p.Holding():
	case <-caller.done:
		t.Fatalf("sesame exited before its refresh reached the server:\n%s", caller.result().stderr)
	case <-time.After(20 * time.Second):
		t.Fatal("the refresh did not reach the server within 20 s")
	}
	child := waitRefresher(c.name, 5*time.Second, nil)
	if child == 0 {
		t.Fatal("no `sesame __refresh` child runs while its answer is held")
	}

	signalled := time.Now()
	if err := syscall.Kill(caller.pid(), sig); err != nil {
		t.Fatal(err)
	}
	r := caller.wait(5 * time.Second)
	exitIn := caller.ended.Sub(signalled)
	t.Logf("%s: exit %d %v after the signal; stderr %q", sigName(sig), r.code, exitIn.Round(time.Millisecond), strings.TrimSpace(r.stderr))
	if r.code != 130 || r.stdout != "" {
		t.Fatalf("after %s: exit %d, stdout %d bytes; want 130 and nothing\n%s", sigName(sig), r.code, len(r.stdout), r.stderr)
	}
	if lines := stderrLines(r.stderr); !slices.Equal(lines, []string{cancelledLine}) {
		t.Fatalf("stderr after %s: want the one line %q, got:\n%s", sigName(sig), cancelledLine, r.stderr)
	}
	if !isRefresher(child, c.name) {
		t.Fatal("the refresher child did not survive its caller's signal")
	}

	// The refresher holds the unread answer: the profile lock must still be
	// held, or another caller would redeem the rotated refresh token.
	lockHeld := c.profileLockHeld(t)
	if !lockHeld {
		t.Errorf("after the caller exited on %s, the profile lock is free while its refresher (pid %d) still waits for the answer", sigName(sig), child)
	}
	second := c.startBG(t, false, "token", "-p", c.name, "--min-ttl", "1h")
	// An observation window, not synchronisation: a second caller that
	// found the lock free would send the old refresh token now (a reuse);
	// one that waits on the lock shows nothing, whatever the wait.
	window := time.Now().Add(3 * time.Second)
	for time.Now().Before(window) && p.refreshes.Load() < 2 && !second.exited() {
		time.Sleep(10 * time.Millisecond)
	}
	if n := p.refreshes.Load(); n != 1 || second.exited() {
		code, stderr := 0, ""
		if second.exited() {
			sr := second.result()
			code, stderr = sr.code, strings.TrimSpace(sr.stderr)
		}
		t.Errorf("while the answer was held, a second caller sent %d refresh(es) and exited %v (code %d): %s",
			n-1, second.exited(), code, stderr)
	}

	p.Release()
	if got := p.delivered.Load(); got != 1 || p.lost.Load() != 0 {
		t.Fatalf("the held answer: delivered %d, lost %d; want it delivered to the refresher", got, p.lost.Load())
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec := c.record()
		if rec != nil && rec.RefreshToken != old.RefreshToken {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the held answer was delivered, the keychain still holds the old refresh token (record present: %v)", rec != nil)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !storesNewest(c, srv) {
		t.Fatal("the refresher stored another refresh token than the server's newest")
	}
	t.Logf("the refresher stored the rotated grant %v after the signal", time.Since(signalled).Round(time.Millisecond))

	sr := second.wait(30 * time.Second)
	rec := c.record()
	if sr.code != 0 || strings.TrimSpace(sr.stdout) != rec.AccessToken {
		t.Fatalf("the second caller: exit %d, printed the refreshed token %v\n%s", sr.code, strings.TrimSpace(sr.stdout) == rec.AccessToken, sr.stderr)
	}
	if got := refreshes(srv); got != 1 {
		t.Fatalf("the server completed %d refreshes, want 1 (the second caller must use the first's)", got)
	}
	waitNoRefresher(t, c.name, 10*time.Second)

	// `token` works, and the grant is alive.
	if r := c.mustRun("token", "-p", c.name); strings.TrimSpace(r.stdout) != rec.AccessToken {
		t.Fatal("`sesame token` printed another token than the stored one")
	}
	requireGrantAlive(t, c, srv)
	now := c.record()
	c.assertNoLeak(old.AccessToken, old.RefreshToken, rec.AccessToken, rec.RefreshToken, now.AccessToken, now.RefreshToken)
}

func sigName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGKILL:
		return "SIGKILL"
	}
	return sig.String()
}

// TestGrantLoss_SlowTokenEndpoint_RealServer: the server rotates at once
// but answers the refresh 25 s later. sesame waits for it (never racing it
// with a replay), and a second caller arriving meanwhile waits for the
// first's result instead of refreshing again.
func TestGrantLoss_SlowTokenEndpoint_RealServer(t *testing.T) {
	// Mostly waiting on a held or slow answer: it overlaps the other
	// waiting tests.
	t.Parallel()
	rig.RequireTools(t)
	const delay = 25 * time.Second
	srv := rig.StartServer(t, rig.ServerOptions{RefreshDelay: delay, AccessTokenTTL: 2 * time.Hour})
	c := newCLI(t, srv, "e2e-gl-slow")
	loginOrFatal(t, c)
	old := c.record()
	c.expire()

	first := c.startBG(t, false, "token", "-p", c.name, "--min-ttl", "1h")
	// The second caller starts 2 s after the first, and in any case once the
	// server has rotated the token: while the first waits for the answer.
	rotated := waitEvents(t, srv, "grant.success", func(e rig.Event) bool { return e.GrantType == "refresh_token" }, 1)[0]
	if rotated.Str("rotated_refresh_token_id") != rig.TokenID(old.RefreshToken) {
		t.Fatal("the server rotated another refresh token than the stored one")
	}
	time.Sleep(time.Until(first.began.Add(2 * time.Second)))
	secondAt := time.Since(first.began)
	second := c.startBG(t, false, "token", "-p", c.name, "--min-ttl", "1h")

	r1 := first.wait(delay + 60*time.Second)
	took := first.ended.Sub(first.began)
	r2 := second.wait(60 * time.Second)
	t.Logf("first caller: exit %d after %v; second (started at %v): exit %d after %v",
		r1.code, took.Round(time.Millisecond), secondAt.Round(time.Millisecond), r2.code, second.ended.Sub(second.began).Round(time.Millisecond))
	if r1.code != 0 || r1.stderr != "" {
		t.Fatalf("first caller: exit %d\n%s", r1.code, r1.stderr)
	}
	if took < delay {
		t.Fatalf("the first caller finished after %v, before the server's answer (%v)", took, delay)
	}
	rec := c.record()
	if strings.TrimSpace(r1.stdout) != rec.AccessToken || rec.AccessToken == old.AccessToken {
		t.Fatal("the first caller did not print the refreshed, stored token")
	}
	if r2.code != 0 || r2.stderr != "" || strings.TrimSpace(r2.stdout) != rec.AccessToken {
		t.Fatalf("second caller: exit %d, printed the first's token %v\n%s", r2.code, strings.TrimSpace(r2.stdout) == rec.AccessToken, r2.stderr)
	}
	if got := refreshes(srv); got != 1 {
		t.Fatalf("the server completed %d refreshes, want exactly 1", got)
	}
	var reqs int
	for _, e := range srv.Events("request") {
		if e.GrantType == "refresh_token" {
			reqs++
		}
	}
	if reqs != 1 {
		t.Fatalf("the server saw %d refresh requests, want exactly 1 (no replay, no second refresh)", reqs)
	}
	requireGrantAlive(t, c, srv) // one more refresh: another 25 s
	now := c.record()
	c.assertNoLeak(old.AccessToken, old.RefreshToken, rec.AccessToken, rec.RefreshToken, now.AccessToken, now.RefreshToken)
}

// TestGrantLoss_KillCallerGroup_RealServer: kubectl, an IDE or Ctrl-C in a
// shell kills `sesame token` with its whole process group, 100 times at
// random instants of a forced refresh. The refresher child, in a session of
// its own, finishes every refresh already sent: no grant is lost.
func TestGrantLoss_KillCallerGroup_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-gl-killgroup")
	loginOrFatal(t, c)
	first := c.record()

	const n = 100
	var killed, finished int
	exits := map[int]int{}
	began := time.Now()
	for range n {
		// Waits for the last killed caller's refresher to store its result.
		c.expire()
		cmd := c.command(context.Background(), "token", "-p", c.name)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // stdio: /dev/null
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(80_001)) * time.Microsecond) // the random instant
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			killed++
		} else {
			finished++
			exits[cmd.ProcessState.ExitCode()]++
		}
	}
	waitNoRefresher(t, c.name, 2*time.Minute)
	completed := refreshes(srv)
	lost := len(srv.Events("grant.revoked"))
	if lost == 0 && !storesNewest(c, srv) {
		lost = 1 // not yet revoked, but the next refresh would be a reuse
	}
	t.Logf("%d callers in %v: %d killed with their group, %d had exited first (exit codes %v); the server completed %d refreshes; grants lost: %d; grant errors: %s",
		n, time.Since(began).Round(time.Millisecond), killed, finished, exits, completed, lost, grantErrors(srv))
	if lost != 0 {
		t.Errorf("grants lost: %d, want 0", lost)
	}
	requireGrantAlive(t, c, srv)
	rec := c.record()
	c.assertNoLeak(first.AccessToken, first.RefreshToken, rec.AccessToken, rec.RefreshToken)
}

// TestGrantLoss_KillRefresher_RealServer measures the physical limit: the
// refresher child itself, the one process holding the unread answer, is
// killed at a random instant of its life. Killed after the server rotated
// the token and before the keychain write, the grant is lost; the next call
// must then say so honestly (an interrupted refresh, not a theft alarm).
// Long: set SESAME_E2E_LONG=1.
func TestGrantLoss_KillRefresher_RealServer(t *testing.T) {
	if os.Getenv("SESAME_E2E_LONG") != "1" {
		t.Skip("long: set SESAME_E2E_LONG=1 to kill the refresher 100 times")
	}
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-gl-killref")
	loginOrFatal(t, c)

	// The refresher's life, from the moment it shows in /proc to its exit,
	// sets the window the kills are spread over.
	var life time.Duration
	for range 5 {
		c.expire()
		caller := c.startBG(t, false, "token", "-p", c.name)
		pid := waitRefresher(c.name, 10*time.Second, caller.exited)
		seen := time.Now()
		for pid != 0 && isRefresher(pid, c.name) {
			time.Sleep(200 * time.Microsecond)
		}
		if r := caller.wait(90 * time.Second); r.code != 0 || pid == 0 {
			t.Fatalf("calibration: exit %d, refresher seen %v\n%s", r.code, pid != 0, r.stderr)
		}
		life = max(life, time.Since(seen))
	}
	window := life * 5 / 4
	t.Logf("a refresher lives up to %v once visible; kills spread over %v", life.Round(time.Millisecond), window.Round(time.Millisecond))

	const want = 100
	var landed, lost, attempts, dishonest, missed int
	for landed < want && attempts < 4*want {
		attempts++
		c.expire()
		caller := c.startBG(t, false, "token", "-p", c.name)
		pid := waitRefresher(c.name, 10*time.Second, caller.exited)
		if pid == 0 {
			r := caller.wait(90 * time.Second)
			t.Fatalf("attempt %d: no refresher was started: exit %d\n%s", attempts, r.code, r.stderr)
		}
		time.Sleep(time.Duration(rand.Int64N(int64(window) + 1)))
		_ = syscall.Kill(pid, syscall.SIGKILL)
		r := caller.wait(90 * time.Second)
		if r.code == 0 {
			missed++ // the refresher had reported: nothing was cut short
			continue
		}
		if !strings.Contains(r.stderr, "the refresher process ended without a report") {
			t.Fatalf("attempt %d: the caller of a killed refresher: exit %d\n%s", attempts, r.code, r.stderr)
		}
		landed++
		waitNoRefresher(t, c.name, 10*time.Second)

		// Did the grant survive? A forced refresh tells.
		c.expire()
		check := c.run("token", "-p", c.name)
		switch check.code {
		case 0:
			if !storesNewest(c, srv) {
				t.Fatalf("kill %d: the refresh worked but the keychain does not hold the newest refresh token", landed)
			}
		case 4:
			lost++
			if !strings.Contains(check.stderr, "was interrupted before its answer was stored") || strings.Contains(check.stderr, "check your other machines") {
				dishonest++
				t.Errorf("kill %d: the lost grant was not diagnosed as an interrupted refresh:\n%s", landed, check.stderr)
			}
			loginOrFatal(t, c)
		default:
			t.Fatalf("kill %d: the next forced refresh: exit %d\n%s", landed, check.code, check.stderr)
		}
	}
	t.Logf("%d of %d kills of the refresher lost the grant (%d attempts, %d refreshers had already reported; %d losses misdiagnosed; the server revoked %d grants)",
		lost, landed, attempts, missed, dishonest, len(srv.Events("grant.revoked")))
	if landed < want {
		t.Errorf("only %d of %d attempts killed a refresher before its report", landed, attempts)
	}
}

// TestGrantLoss_ReuseAnsweredUnauthorizedClient_RealServer: a server that
// answers a reused or revoked refresh token with unauthorized_client (as
// Gitea does) ends the grant. The grant here is ended by a reuse sesame did
// not cause: the test replays a rotated refresh token itself, as a thief
// would. sesame says a login is needed and raises the alarm, deletes the
// dead grant, and stays at exit 4 on the next call.
func TestGrantLoss_ReuseAnsweredUnauthorizedClient_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{RefreshErrorCode: "unauthorized_client"})
	c := newCLI(t, srv, "e2e-gl-unauth")
	loginOrFatal(t, c)
	old := c.record()
	forcedRefresh(t, c, srv)
	current := c.record()

	// The thief's replay of the rotated refresh token: the server revokes
	// the grant.
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.RefreshToken}, "client_id": {srv.ClientID}}
	resp, err := srv.HTTPClient.PostForm(srv.Metadata.TokenEndpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	var answer struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &answer)
	if resp.StatusCode != http.StatusBadRequest || answer.Error != "unauthorized_client" {
		t.Fatalf("the replay: %s %q, want 400 unauthorized_client", resp.Status, answer.Error)
	}
	if n := len(srv.Events("grant.revoked")); n != 1 {
		t.Fatalf("%d grant.revoked events after the replay, want 1", n)
	}

	// The access token from the forced refresh is still fresh: expired, the
	// next call refreshes with the current refresh token of the revoked
	// grant.
	c.expire()
	r := c.run("token", "-p", c.name)
	if r.code != 4 || r.stdout != "" {
		t.Fatalf("token on the revoked grant: exit %d, stdout %d bytes; want 4 and nothing\n%s", r.code, len(r.stdout), r.stderr)
	}
	oneErrorLine(t, r, "sesame: error: login required: the server answered unauthorized_client")
	if !strings.Contains(r.stderr, "check your other machines") {
		t.Fatalf("a reuse sesame did not cause is not flagged:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "interrupted") {
		t.Fatalf("a reuse sesame did not cause is blamed on an interrupted refresh:\n%s", r.stderr)
	}
	hint := "sesame: hint: run 'sesame login -p " + c.name + "' in a terminal"
	if !slices.Contains(stderrLines(r.stderr), hint) {
		t.Fatalf("no login hint %q:\n%s", hint, r.stderr)
	}
	if c.record() != nil {
		t.Fatal("the refused grant is still stored")
	}
	t.Logf("token on the revoked grant: exit 4: %s", strings.TrimSpace(r.stderr))

	// The next calls: still exit 4, never 1, and never the cached token of
	// the revoked grant.
	for _, args := range [][]string{{"token", "-p", c.name}, {"token", "-p", c.name, "--min-ttl", "1h"}} {
		r := c.run(args...)
		if r.code != 4 || r.stdout != "" {
			t.Fatalf("sesame %v after the grant was deleted: exit %d, stdout %d bytes; want 4\n%s", args, r.code, len(r.stdout), r.stderr)
		}
		oneErrorLine(t, r, "login required")
		if !slices.Contains(stderrLines(r.stderr), hint) {
			t.Fatalf("sesame %v: no login hint:\n%s", args, r.stderr)
		}
	}
	if got := refreshes(srv); got != 1 {
		t.Fatalf("the server completed %d refreshes, want 1", got)
	}
	c.assertNoLeak(old.AccessToken, old.RefreshToken, current.AccessToken, current.RefreshToken)
}

// TestGrantLoss_DiagnosisAfterLocalLoss_RealServer: the refresher holding
// an unread answer is killed (SIGKILL: the physical limit), so the rotated
// refresh token is lost on this machine and the next refresh is a reuse
// that ends the grant. sesame caused it, and says so: an interrupted
// refresh, not a theft alarm.
func TestGrantLoss_DiagnosisAfterLocalLoss_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-gl-diagnosis")
	loginOrFatal(t, c)
	p := startHoldProxy(t, srv)
	pointTokenEndpoint(t, c, p.url, true)
	old := c.record()

	p.HoldNext()
	caller := c.startBG(t, false, "token", "-p", c.name)
	select {
	case <-p.Holding():
	case <-caller.done:
		t.Fatalf("sesame exited before its refresh reached the server:\n%s", caller.result().stderr)
	case <-time.After(20 * time.Second):
		t.Fatal("the refresh did not reach the server within 20 s")
	}
	child := waitRefresher(c.name, 5*time.Second, nil)
	if child == 0 {
		t.Fatal("no `sesame __refresh` child runs while its answer is held")
	}
	if err := syscall.Kill(child, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r := caller.wait(10 * time.Second)
	t.Logf("the caller of the killed refresher: exit %d: %s", r.code, strings.TrimSpace(r.stderr))
	if r.code == 0 || r.stdout != "" {
		t.Fatalf("the caller of a killed refresher: exit %d, stdout %d bytes; want a failure and nothing", r.code, len(r.stdout))
	}
	oneErrorLine(t, r, "the refresher process ended without a report")
	waitClosed(t, p.ClientGone(), "the proxy to see the killed refresher's connection close")
	p.Release()
	if p.lost.Load() != 1 {
		t.Fatalf("held answers lost: %d, want 1", p.lost.Load())
	}
	if rec := c.record(); rec == nil || rec.RefreshToken != old.RefreshToken {
		t.Fatal("the keychain does not hold the refresh token of before the killed refresh")
	}

	// Nothing is held now: the proxy passes the next refresh through.
	c.expire()
	r = c.run("token", "-p", c.name)
	if r.code != 4 || r.stdout != "" {
		t.Fatalf("token after the lost answer: exit %d, stdout %d bytes; want 4 and nothing\n%s", r.code, len(r.stdout), r.stderr)
	}
	oneErrorLine(t, r, "was interrupted before its answer was stored")
	if strings.Contains(r.stderr, "check your other machines") {
		t.Fatalf("a loss sesame caused raises the theft alarm:\n%s", r.stderr)
	}
	if hint := "sesame: hint: run 'sesame login -p " + c.name + "' in a terminal"; !slices.Contains(stderrLines(r.stderr), hint) {
		t.Fatalf("no login hint:\n%s", r.stderr)
	}
	if c.record() != nil {
		t.Fatal("the refused grant is still stored")
	}
	t.Logf("token after the lost answer: exit 4: %s", strings.TrimSpace(r.stderr))
	if got := fmt.Sprint(refreshes(srv), len(srv.Events("grant.revoked"))); got != "1 1" {
		t.Fatalf("refreshes completed, grants revoked: %s; want 1 1 (the lost rotation, then the reuse)", got)
	}
	c.assertNoLeak(old.AccessToken, old.RefreshToken)
}
