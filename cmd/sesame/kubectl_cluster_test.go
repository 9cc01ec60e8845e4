package main

import (
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/profile"
)

const (
	execInfoNoCluster = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
	execInfoCluster   = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false,"cluster":{"server":"https://k8s.example.com:6443"}}}`
)

// TestKubectl_ClusterBoundProfileRefusesRequestWithoutCluster_Req40: a
// profile bound to a cluster (setup kubectl --server) gives no token to a
// request that names no cluster (a kubeconfig without provideClusterInfo,
// or KUBERNETES_EXEC_INFO absent or written by hand): exit 1, nothing on
// stdout, one error line and the hint to turn provideClusterInfo on, which
// setup kubectl writes. Its own cluster still gets the token.
func TestKubectl_ClusterBoundProfileRefusesRequestWithoutCluster_Req40(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	r := h.run("setup", "kubectl", "-p", "work", "--server", "https://k8s.example.com:6443")
	wantExit(t, r, 0)
	if !strings.Contains(r.stdout, "--exec-provide-cluster-info=true") || !strings.Contains(r.stdout, "provideClusterInfo: true") {
		t.Fatalf("setup kubectl --server does not turn provideClusterInfo on:\n%s", r.stdout)
	}
	for _, info := range []string{execInfoNoCluster, ""} {
		h.env["KUBERNETES_EXEC_INFO"] = info
		r := h.run("kubectl", "-p", "work")
		wantExit(t, r, exitError)
		if r.stdout != "" {
			t.Fatalf("KUBERNETES_EXEC_INFO %q: a request without cluster got %q", info, r.stdout)
		}
		wantOneErrorLine(t, r, "did not say which cluster")
		if !strings.Contains(r.stderr, "sesame: hint: turn on provideClusterInfo") || !strings.Contains(r.stderr, "sesame setup kubectl -p work --apply") {
			t.Fatalf("no provideClusterInfo hint:\n%s", r.stderr)
		}
	}
	h.env["KUBERNETES_EXEC_INFO"] = execInfoCluster
	r = h.run("kubectl", "-p", "work")
	wantExit(t, r, 0)
	if !strings.Contains(r.stdout, h.record().AccessToken) {
		t.Fatalf("the profile's own cluster got no token: %s", r.stdout)
	}
}

// TestKubectl_UnboundProfileAnswersWithoutCluster: a profile bound to no
// cluster keeps answering requests without cluster information (it was
// never told which cluster is its own), and still refuses one that names
// a cluster.
func TestKubectl_UnboundProfileAnswersWithoutCluster(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.env["KUBERNETES_EXEC_INFO"] = execInfoNoCluster
	wantExit(t, h.run("kubectl", "-p", "work"), 0)
	h.env["KUBERNETES_EXEC_INFO"] = execInfoCluster
	r := h.run("kubectl", "-p", "work")
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "names no cluster")
}

// TestKubectl_ClusterCheckBeforeAnyToken: the refusal comes before the
// keychain is read or a refresh is made: an expired grant is not
// refreshed for a request that will get nothing.
func TestKubectl_ClusterCheckBeforeAnyToken(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.withProfileSettings(func(p *profile.Profile) { p.KubeServer = "https://k8s.example.com:6443" })
	h.advance(24 * time.Hour)
	h.env["KUBERNETES_EXEC_INFO"] = execInfoNoCluster
	wantExit(t, h.run("kubectl", "-p", "work"), exitError)
	if n := h.as.RefreshCount(); n != 0 {
		t.Fatalf("%d refreshes for a refused request", n)
	}
}
