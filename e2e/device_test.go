package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
)

// deviceLogin runs `sesame login --flow device --json`, reads the
// device_authorization event from its stdout as a script would, and hands
// the complete verification URI to headless chromium (the person on their
// phone). It returns sesame's outcome.
func deviceLogin(t *testing.T, c *cli, browserEnv ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := c.command(ctx, "login", "-p", c.name, "--issuer", c.srv.Issuer, "--client-id", c.srv.ClientID,
		"--ca-file", c.srv.CAFile, "--scope", "openid", "--scope", "email", "--scope", "offline_access", "--flow", "device", "--json")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut strings.Builder
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		_ = cmd.Wait()
		t.Fatalf("no device event on stdout; stderr:\n%s", errOut.String())
	}
	var ev struct {
		Event, VerificationURI, UserCode, VerificationURIComplete string
	}
	var raw map[string]string
	if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
		t.Fatalf("first stdout line is not JSON: %q", sc.Text())
	}
	ev.Event, ev.VerificationURI, ev.UserCode, ev.VerificationURIComplete = raw["event"], raw["verification_uri"], raw["user_code"], raw["verification_uri_complete"]
	if ev.Event != "device_authorization" || ev.UserCode == "" || !strings.HasPrefix(ev.VerificationURI, c.srv.Issuer) {
		t.Fatalf("device event: %s", sc.Text())
	}
	browser := exec.CommandContext(ctx, rig.BuildTestBrowser(t), ev.VerificationURIComplete)
	browser.Env = append(c.env(), browserEnv...)
	browserOut, _ := browser.CombinedOutput()
	rest := ""
	for sc.Scan() {
		rest += sc.Text() + "\n"
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(errOut.String(), ev.UserCode) == false {
		t.Fatalf("the user code was not shown on stderr:\n%s", errOut.String())
	}
	t.Logf("testbrowser: %s", strings.TrimSpace(string(browserOut)))
	return code, rest, errOut.String()
}

// TestLogin_DeviceFlow_RealServer: a scripted headless login. The script
// reads the JSON event, the code is approved in chromium, the grant lands in
// the real keychain and `sesame token` serves it.
func TestLogin_DeviceFlow_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{DeviceInterval: time.Second})
	c := newCLI(t, srv, "e2e-device")
	code, stdout, stderr := deviceLogin(t, c)
	if code != 0 || !strings.Contains(stdout, `"event":"login"`) {
		t.Fatalf("device login: exit %d stdout %q\n%s", code, stdout, stderr)
	}
	rec := c.record()
	if rec == nil || rec.RefreshToken == "" {
		t.Fatal("no grant in the keychain after the device login")
	}
	r := c.mustRun("token", "-p", c.name)
	if strings.TrimSpace(r.stdout) != rec.AccessToken {
		t.Fatal("token did not serve the device login's grant")
	}
	if active, err := srv.Introspect(context.Background(), rec.AccessToken); err != nil || !active {
		t.Fatalf("device grant's token not active: %v %v", active, err)
	}
	c.stderrs = append(c.stderrs, stderr)
	c.assertNoLeak(rec.AccessToken, rec.RefreshToken, rec.IDToken)
}

// TestLogin_DeviceFlowDenied_RealServer: the person refuses in the browser;
// sesame stops at once with the denied error and stores nothing.
func TestLogin_DeviceFlowDenied_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{DeviceInterval: time.Second})
	c := newCLI(t, srv, "e2e-device-denied")
	code, _, stderr := deviceLogin(t, c, "TESTBROWSER_DENY=1")
	if code != 1 || !strings.Contains(stderr, "denied") {
		t.Fatalf("exit %d, want 1 with the denied error:\n%s", code, stderr)
	}
	if c.record() != nil {
		t.Fatal("a denied login stored a grant")
	}
}

// TestLogin_DeviceCodeExpires_RealServer: nobody approves; the device code
// expires (5 s here) and sesame stops with the expired error within the
// code's lifetime plus one interval, never starting a new device flow.
func TestLogin_DeviceCodeExpires_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{DeviceInterval: time.Second, DeviceCodeTTL: 5 * time.Second})
	c := newCLI(t, srv, "e2e-device-expired")
	began := time.Now()
	r := c.run("login", "-p", c.name, "--issuer", srv.Issuer, "--client-id", srv.ClientID,
		"--ca-file", srv.CAFile, "--flow", "device")
	took := time.Since(began)
	oneErrorLine(t, r, "expired")
	if took > 5*time.Second+time.Second+3*time.Second {
		t.Fatalf("sesame stopped %v after start, want within the 5 s lifetime plus one interval (and start-up)", took)
	}
	if n := len(srv.Events("device_authorization.success")); n != 1 {
		t.Fatalf("%d device authorizations, want 1 (no new flow without the user asking)", n)
	}
	if c.record() != nil {
		t.Fatal("an expired device login stored a grant")
	}
}
