package main

import (
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
)

// Resource indicators (RFC 8707) and granted scopes
// (requirement 11) in process.

// TestResource_SentOnTokenAndRefresh_Req11: the authorization request names
// every resource; the code exchange and the refresh name the first; a
// helper bound to the second gets a token for it by a refresh naming it,
// kept apart from the first's.
func TestResource_SentOnTokenAndRefresh_Req11(t *testing.T) {
	h := newHarness(t)
	h.as.Configure(authtest.WithClock(h.now))
	const a, b = "https://a.example/", "https://b.example/"
	wantExit(t, h.login("--resource", a, "--resource", b), 0)
	first := h.record()
	if first.Resource != a {
		t.Fatalf("record resource %q", first.Resource)
	}
	h.advance(time.Hour)
	wantExit(t, h.run("token", "-p", "work"), 0)
	r := h.run("token", "-p", "work", "--resource", b)
	wantExit(t, r, 0)
	var auth, token []string
	for _, req := range h.as.Requests() {
		switch {
		case req.Path == authtest.PathToken:
			token = append(token, req.PostForm.Get("grant_type")+" "+strings.Join(req.PostForm["resource"], ","))
		case len(req.Form["resource"]) > 0 && req.Form.Get("response_type") == "code":
			auth = append(auth, strings.Join(req.Form["resource"], ","))
		}
	}
	want := []string{"authorization_code " + a, "refresh_token " + a, "refresh_token " + b}
	if strings.Join(token, "|") != strings.Join(want, "|") {
		t.Fatalf("token requests %q, want %q", token, want)
	}
	if len(auth) != 1 || auth[0] != a+","+b {
		t.Fatalf("authorization requests named %q, want both resources", auth)
	}
	rec := h.record()
	if rec.ResourceTokens[b] == nil || strings.TrimSpace(r.stdout) != rec.ResourceTokens[b].AccessToken || rec.AccessToken == rec.ResourceTokens[b].AccessToken {
		t.Fatal("the second resource's token is not kept apart from the first's")
	}
	// Served again from the keychain record, without a request.
	n := len(h.as.Requests())
	h.cache.Delete(rec.Profile) // not the cache key: the cache stays warm
	wantExit(t, h.run("token", "-p", "work", "--resource", b), 0)
	wantExit(t, h.run("token", "-p", "work"), 0)
	if len(h.as.Requests()) != n {
		t.Fatal("a fresh per-resource token was refreshed again")
	}
	wantExit(t, h.run("token", "-p", "work", "--resource", "https://c.example/"), exitUsage)
}

// TestScope_ConsumerNeedingUngrantedScopeRefused_Req11: the server grants
// less than was asked; a caller that needs the missing scope gets an error
// instead of a token that fails later, one that needs a granted scope gets
// its token.
func TestScope_ConsumerNeedingUngrantedScopeRefused_Req11(t *testing.T) {
	h := newHarness(t, authtest.WithTokenResponseMutator(func(resp map[string]any) { resp["scope"] = "openid" }))
	wantExit(t, h.login("--scope", "openid", "--scope", "email"), 0)
	if got := h.record().Scope; got != "openid" {
		t.Fatalf("recorded scope %q, want the granted openid", got)
	}
	r := h.run("token", "-p", "work", "--require-scope", "email")
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "lacks the scope email")
	if r.stdout != "" {
		t.Fatalf("a token was printed: %q", r.stdout)
	}
	h.env["KUBERNETES_EXEC_INFO"] = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
	if r := h.run("kubectl", "-p", "work", "--require-scope", "email"); r.code == 0 || r.stdout != "" {
		t.Fatalf("kubectl: exit %d stdout %q", r.code, r.stdout)
	}
	wantExit(t, h.run("token", "-p", "work", "--require-scope", "openid"), 0)

	// A response without scope means the requested scopes were granted.
	h2 := newHarness(t, authtest.WithTokenResponseMutator(func(resp map[string]any) { delete(resp, "scope") }))
	wantExit(t, h2.login("--scope", "openid", "--scope", "email"), 0)
	wantExit(t, h2.run("token", "-p", "work", "--require-scope", "email"), 0)
	wantExit(t, h2.run("token", "-p", "work", "--require-scope", "admin"), exitError)
}

// TestSetupKubectl_BindsHelperToResource: setup passes --resource and
// --require-scope on to the helper it writes, after checking the resource
// is the profile's.
func TestSetupKubectl_BindsHelperToResource(t *testing.T) {
	h := newHarness(t)
	wantExit(t, h.login("--resource", "https://a.example/", "--resource", "https://b.example/"), 0)
	r := h.run("setup", "kubectl", "-p", "work", "--resource", "https://b.example/", "--require-scope", "openid")
	wantExit(t, r, 0)
	for _, want := range []string{"--exec-arg=kubectl --exec-arg=-p --exec-arg=work --exec-arg=--resource --exec-arg=https://b.example/ --exec-arg=--require-scope --exec-arg=openid",
		"args: [kubectl, -p, work, --resource, https://b.example/, --require-scope, openid]"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("setup kubectl output lacks %q:\n%s", want, r.stdout)
		}
	}
	wantExit(t, h.run("setup", "kubectl", "-p", "work", "--resource", "https://c.example/"), exitUsage)
}

// TestResource_DeviceFlow_Req11: the device flow names every resource on
// its device authorization request and the first on every token poll.
func TestResource_DeviceFlow_Req11(t *testing.T) {
	h := newHarness(t, authtest.WithDeviceTiming(time.Minute, time.Second), authtest.WithDeviceAutoApprove(),
		authtest.WithDevicePolls("authorization_pending"))
	const a, b = "https://a.example/", "https://b.example/"
	wantExit(t, h.login("--flow", "device", "--resource", a, "--resource", b), 0)
	polls := 0
	for _, req := range h.as.Requests() {
		switch req.Path {
		case authtest.PathDeviceAuthorization:
			if got := strings.Join(req.PostForm["resource"], ","); got != a+","+b {
				t.Fatalf("device authorization resources %q", got)
			}
		case authtest.PathToken:
			polls++
			if got := strings.Join(req.PostForm["resource"], ","); got != a {
				t.Fatalf("token poll resources %q, want the first only", got)
			}
		}
	}
	if polls != 2 || h.record().Resource != a {
		t.Fatalf("%d polls, record resource %q", polls, h.record().Resource)
	}
}

// TestResource_Completion: --resource completes to the profile's resources.
func TestResource_Completion(t *testing.T) {
	h := newHarness(t)
	wantExit(t, h.login("--resource", "https://a.example/", "--resource", "https://b.example/"), 0)
	r := h.run("__complete", "token", "-p", "work", "--resource", "")
	if !strings.Contains(r.stdout, "https://a.example/\nhttps://b.example/\n") {
		t.Fatalf("completion:\n%s", r.stdout)
	}
}
