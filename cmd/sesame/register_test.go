package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/keychain"
)

// Dynamic client registration (RFC 7591) and its deletion at logout
// (RFC 7592) in process.

func TestRegister_LoginRefreshLogoutDeregisters(t *testing.T) {
	h := newHarness(t, authtest.WithRegistration())
	h.as.Configure(authtest.WithClock(h.now))
	r := h.run("login", "-p", "work", "--issuer", h.as.Issuer(), "--register", "--ca-file", h.as.CAFile())
	wantExit(t, r, 0)
	ids := h.as.RegisteredClients()
	if len(ids) != 1 || ids[0] == h.as.ClientID {
		t.Fatalf("registered clients %v", ids)
	}
	reg := h.as.Registrations()[0]
	if reg["token_endpoint_auth_method"] != "none" || reg["application_type"] != "native" {
		t.Fatalf("registration metadata %v", reg)
	}
	cfg, _ := os.ReadFile(filepath.Join(h.dir, "config.json"))
	if !strings.Contains(string(cfg), ids[0]) || strings.Contains(string(cfg), "SNTL-") {
		t.Fatalf("config:\n%s", cfg)
	}
	ctx := context.Background()
	grant, err := h.store.Get(ctx, keychain.Key(h.as.Issuer(), ids[0], "work"))
	if err != nil || grant.ClientID != ids[0] {
		t.Fatalf("grant of the registered client: %v", err)
	}
	h.advance(time.Hour)
	wantExit(t, h.run("token", "-p", "work"), 0)

	r = h.run("logout", "-p", "work")
	wantExit(t, r, 0)
	if d := h.as.DeletedClients(); len(d) != 1 || d[0] != ids[0] {
		t.Fatalf("deleted clients %v", d)
	}
	if keys := h.store.Keys(); len(keys) != 0 {
		t.Fatalf("%d keychain entries left after logout", len(keys))
	}
	r = h.run("token", "-p", "work")
	wantExit(t, r, exitLoginRequired)
}

func TestRegister_ServerWithoutRegistration_Fails(t *testing.T) {
	h := newHarness(t)
	r := h.run("login", "-p", "work", "--issuer", h.as.Issuer(), "--register", "--ca-file", h.as.CAFile())
	wantExit(t, r, exitUsage)
	wantOneErrorLine(t, r, "does not offer dynamic client registration")
	if h.browser.Calls() != 0 {
		t.Fatal("a browser opened")
	}
	wantExit(t, h.run("login", "-p", "work", "--issuer", h.as.Issuer(), "--register", "--client-id", "x"), exitUsage)
}

// TestRegister_DeletionNotConfirmed_KeptForAnotherLogout: a server that
// fails the RFC 7592 deletion leaves the profile's client id and the
// management token in place (exit 5, said so), and the next logout
// deletes the registration.
func TestRegister_DeletionNotConfirmed_KeptForAnotherLogout(t *testing.T) {
	h := newHarness(t, authtest.WithRegistration())
	wantExit(t, h.run("login", "-p", "work", "--issuer", h.as.Issuer(), "--register", "--ca-file", h.as.CAFile()), 0)
	id := h.as.RegisteredClients()[0]
	h.as.Configure(authtest.WithHook(authtest.PathRegister+"/"+id, func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	}))
	r := h.run("logout", "-p", "work", "--forget")
	wantExit(t, r, exitNotRevoked)
	wantOneErrorLine(t, r, "client registration")
	ctx := context.Background()
	if _, err := h.store.Get(ctx, keychain.RegistrationKey(h.as.Issuer(), id, "work")); err != nil {
		t.Fatalf("the management token was dropped: %v", err)
	}
	cfg, err := profile.Load(h.dir)
	if err != nil || cfg.Profile("work") == nil || cfg.Profile("work").ClientID != id {
		t.Fatal("the profile or its client id was dropped although the registration still exists")
	}
	h.as.Configure(authtest.WithHook(authtest.PathRegister+"/"+id, nil))
	wantExit(t, h.run("logout", "-p", "work", "--forget"), 0)
	if d := h.as.DeletedClients(); len(d) != 1 || d[0] != id {
		t.Fatalf("deleted clients %v", d)
	}
	if cfg, _ := profile.Load(h.dir); cfg.Profile("work") != nil {
		t.Fatal("--forget kept the profile after the registration was deleted")
	}
}
