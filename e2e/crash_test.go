package e2e

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/keychain"
)

// TestToken_KillDuringRefresh: 100 forced refreshes (c.expire, then
// `sesame token`), each caller killed with SIGKILL at a random instant.
// The refresh itself runs in the `sesame __refresh` child, which the kill
// does not reach, so every refresh already sent is finished and stored.
// After every kill the keychain record must decode, and the next call must
// answer within its deadline with a token from the server's latest grant.
// The in-process server is strict (no reuse grace: a replayed refresh
// token revokes the grant), so a refresh the kill abandoned would show.
// TestGrantLoss_KillCallerGroup_RealServer proves the same against
// oidc-provider, and TestGrantLoss_KillRefresher_RealServer measures what
// killing the child itself costs.
func TestToken_KillDuringRefresh(t *testing.T) {
	rig.RequireTools(t)
	as := authtest.New(t)
	srv := &rig.Server{Issuer: as.Issuer(), CAFile: as.CAFile(), ClientID: as.ClientID}
	c := newCLI(t, srv, "e2e-kill")
	if r := c.login(); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	ctx := context.Background()
	killed := 0
	for i := range 100 {
		// Waits for the last killed caller's refresher to store its result.
		c.expire()
		cmd := c.command(ctx, "token", "-p", c.name)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(40_000)) * time.Microsecond)
		if cmd.Process.Kill() == nil {
			killed++
		}
		_ = cmd.Wait()
		if _, err := c.store().Get(ctx, c.key()); err != nil && !errors.Is(err, keychain.ErrNotFound) {
			t.Fatalf("after kill %d the keychain record is unreadable: %v", i, err)
		}
	}
	c.expire()
	r := c.run("token", "-p", c.name)
	if r.code != 0 {
		t.Fatalf("after 100 killed refreshes: exit %d\n%s", r.code, r.stderr)
	}
	tok := strings.TrimSpace(r.stdout)
	if !as.Introspect(tok) || c.record().RefreshToken != as.LatestRefreshToken() {
		t.Fatal("the surviving grant is not the server's latest")
	}
	t.Logf("%d processes killed; the server completed %d refreshes", killed, as.RefreshCount())
}
