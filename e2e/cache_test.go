package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/session"
)

// TestCache_DeletedKeychainItemWithWarmCache_RealServer: the volatile
// cache never outlives the grant. A keychain item deleted behind sesame's
// back (a keychain manager, secret-tool) is seen by status at once, and
// from then on token agrees; without status, token stops handing out the
// cached access token once the cache's trust window has passed.
func TestCache_DeletedKeychainItemWithWarmCache_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{AccessTokenTTL: time.Hour})
	c := newCLI(t, srv, "e2e-cache")
	ctx := context.Background()
	for _, viaStatus := range []bool{true, false} {
		if r := c.login(); r.code != 0 {
			t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
		}
		// A warm call: the kernel keyring holds the access token.
		c.mustRun("token", "-p", c.name)
		if err := c.store().Delete(ctx, c.key()); err != nil {
			t.Fatal(err)
		}
		if viaStatus {
			st := c.mustRun("status", "-p", c.name)
			if !strings.Contains(st.stdout, "not signed in") {
				t.Fatalf("status after the item was deleted:\n%s", st.stdout)
			}
		} else {
			time.Sleep(session.CacheTrust + time.Second)
		}
		r := c.run("token", "-p", c.name)
		if r.code != 4 || r.stdout != "" {
			t.Fatalf("viaStatus=%v: token exit %d, printed %d bytes, want exit 4 and nothing: the cache outlived the grant\n%s", viaStatus, r.code, len(r.stdout), r.stderr)
		}
		oneErrorLine(t, r, "has no stored grant")
	}
}
