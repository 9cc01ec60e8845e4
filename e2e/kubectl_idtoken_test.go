package e2e

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/session"
)

// TestKubectl_IDToken_RealServer: a cluster with Kubernetes' OIDC
// authentication takes only ID tokens of its issuer for its client id. The
// real kubectl, through `sesame kubectl --id-token` (written by setup
// kubectl --id-token), gets in; after the ID token's early expiry, while
// the access token is still fresh, one refresh brings a new one.
func TestKubectl_IDToken_RealServer(t *testing.T) {
	rig.RequireTools(t)
	rig.RequireKubectl(t)
	srv := rig.StartServer(t, rig.ServerOptions{AccessTokenTTL: 10 * time.Minute, IDTokenTTL: 12 * time.Second})
	c := newCLI(t, srv, "e2e-kube-idtoken")
	if r := c.login(); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	// The API server's view: an RS256/ES256 JWT from the issuer, aud = the
	// client id, unexpired, signed by a key from its jwks_uri.
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), srv.HTTPClient), srv.Metadata.JWKSURI)
	verifier := oidc.NewVerifier(srv.Issuer, keys, &oidc.Config{ClientID: srv.ClientID})
	var (
		mu       sync.Mutex
		accepted []string
	)
	api := rig.StartKubeAPI(t, srv.CA, func(ctx context.Context, token string) bool {
		_, err := verifier.Verify(ctx, token)
		if err == nil {
			mu.Lock()
			accepted = append(accepted, token)
			mu.Unlock()
		}
		return err == nil
	})
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(accepted) == 0 {
			return ""
		}
		return accepted[len(accepted)-1]
	}
	r := c.mustRun("setup", "kubectl", "-p", c.name, "--server", api.URL, "--id-token")
	if !strings.Contains(r.stdout, "--exec-arg=--id-token") {
		t.Fatalf("setup kubectl --id-token printed:\n%s", r.stdout)
	}
	kubeconfig := rig.WriteKubeconfig(t, api, c.bin, []string{"kubectl", "-p", c.name, "--id-token"}, nil, "IfAvailable", true)
	env := rig.KubectlEnv(t, c.env()...)
	kubectl := func() (int, string) {
		return runTool(t, env, c.home, "kubectl", "--kubeconfig", kubeconfig, "get", "--raw", "/version")
	}
	if code, out := kubectl(); code != 0 || !strings.Contains(out, "gitVersion") {
		t.Fatalf("kubectl with the ID token: exit %d\n%s", code, out)
	}
	first := c.record()
	if last() != first.IDToken || refreshes(srv) != 0 {
		t.Fatalf("the API server did not get the stored ID token (refreshes %d)", refreshes(srv))
	}

	time.Sleep(time.Until(session.IDTokenEarlyExpiry(first)) + 500*time.Millisecond)
	if code, out := kubectl(); code != 0 {
		t.Fatalf("kubectl after the ID token's early expiry: exit %d\n%s", code, out)
	}
	second := c.record()
	if refreshes(srv) != 1 || second.IDToken == first.IDToken || last() != second.IDToken {
		t.Fatalf("%d refreshes; the API server got the new ID token: %v", refreshes(srv), last() == second.IDToken)
	}
	if second.AccessToken == "" || !session.Fresh(first, time.Now(), 0) {
		t.Fatal("the access token was not fresh: the test did not isolate the ID token's expiry")
	}
}
