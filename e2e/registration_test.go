package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/tokencache"
	"github.com/sesame-auth/sesame/keychain"
)

// Dynamic client registration (RFC 7591) and deletion (RFC 7592) against
// the real oidc-provider.

// TestRegistration_RealServer: login --register makes a public native
// client of this installation's own, which logs in and refreshes; logout
// deletes it at the server (RFC 7592) and the next login registers anew.
func TestRegistration_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{AccessTokenTTL: 20 * time.Second})
	c := newCLI(t, srv, "e2e-register")
	store := c.store()
	ctx := context.Background()

	r := c.run("login", "-p", c.name, "--issuer", srv.Issuer, "--register", "--ca-file", srv.CAFile,
		"--scope", "openid", "--scope", "email", "--scope", "offline_access")
	if r.code != 0 {
		t.Fatalf("login --register: exit %d\n%s", r.code, r.stderr)
	}
	created := srv.Events("registration_create.success")
	if len(created) != 1 || created[0].Str("token_endpoint_auth_method") != "none" || created[0].Str("application_type") != "native" {
		t.Fatalf("registrations at the server: %+v", created)
	}
	clientID := created[0].Str("client_id")
	p := readProfile(t, c)
	if p.ClientID != clientID || clientID == srv.ClientID || !p.Register {
		t.Fatalf("profile client_id %q register %v, server registered %q", p.ClientID, p.Register, clientID)
	}
	key := keychain.Key(srv.Issuer, clientID, c.name)
	t.Cleanup(func() { _ = store.Delete(ctx, key) })
	rec, err := store.Get(ctx, key)
	if err != nil || rec.ClientID != clientID {
		t.Fatalf("grant of the registered client: %v", err)
	}
	regKey := keychain.RegistrationKey(srv.Issuer, clientID, c.name)
	t.Cleanup(func() { _ = store.Delete(ctx, regKey) })
	reg, err := store.Get(ctx, regKey)
	if err != nil || reg.RegistrationAccessToken == "" || !strings.HasPrefix(reg.RegistrationClientURI, srv.Issuer+"/") {
		t.Fatalf("registration record: %v", err)
	}
	configDir, _ := os.ReadFile(filepath.Join(c.cfgDir, "config.json"))
	if strings.Contains(string(configDir), reg.RegistrationAccessToken) {
		t.Fatal("the registration access token is in the config file")
	}

	// The registered client refreshes.
	rec.Expiry = time.Now().Add(-time.Minute)
	if err := store.Set(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	tokencache.New().Delete(key)
	tok := strings.TrimSpace(c.mustRun("token", "-p", c.name).stdout)
	if tok == rec.AccessToken || refreshes(srv) != 1 {
		t.Fatal("the registered client did not refresh")
	}
	for _, g := range srv.Events("grant.success") {
		if g.ClientID != clientID {
			t.Fatalf("a grant for client %q, want the registered %q", g.ClientID, clientID)
		}
	}

	r = c.mustRun("logout", "-p", c.name)
	if !strings.Contains(r.stderr, "deleted the client registration") {
		t.Fatalf("logout did not say it deleted the registration:\n%s", r.stderr)
	}
	deleted := srv.Events("registration_delete.success")
	if len(deleted) != 1 || deleted[0].Str("client_id") != clientID {
		t.Fatalf("deregistrations at the server: %+v", deleted)
	}
	if _, err := store.Get(ctx, regKey); err == nil {
		t.Fatal("the registration record survived logout")
	}
	if p := readProfile(t, c); p.ClientID != "" || !p.Register {
		t.Fatalf("after logout the profile has client id %q (register %v), want none", p.ClientID, p.Register)
	}
	if r := c.run("token", "-p", c.name); r.code != 4 {
		t.Fatalf("token after logout: exit %d\n%s", r.code, r.stderr)
	}

	// The next login registers a new client.
	c.mustRun("login", "-p", c.name)
	created = srv.Events("registration_create.success")
	if len(created) != 2 || created[1].Str("client_id") == clientID {
		t.Fatalf("the second login did not register a new client: %+v", created)
	}
	newID := created[1].Str("client_id")
	t.Cleanup(func() {
		_ = store.Delete(ctx, keychain.Key(srv.Issuer, newID, c.name))
		_ = store.Delete(ctx, keychain.RegistrationKey(srv.Issuer, newID, c.name))
	})
	c.mustRun("logout", "-p", c.name)
}

// readProfile reads c's profile from its configuration file.
func readProfile(t *testing.T, c *cli) *profile.Profile {
	t.Helper()
	cfg, err := profile.Load(c.cfgDir)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Profile(c.name)
	if p == nil {
		t.Fatalf("no profile %q", c.name)
	}
	return p
}
