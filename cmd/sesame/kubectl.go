package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/credhelper"
	"github.com/sesame-auth/sesame/internal/session"
)

func newKubectlCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kubectl",
		Short: "kubectl exec credential plugin: print an ExecCredential",
		Long: `Answer kubectl as its exec credential plugin: read KUBERNETES_EXEC_INFO, print an
ExecCredential (client.authentication.k8s.io/v1 or v1beta1, as kubectl asked) whose
status carries a fresh access token and its expiry. stdout carries only that JSON.
With --id-token it carries the ID token instead, refreshed before it expires: clusters that
use Kubernetes' OIDC authentication (--oidc-issuer-url) check ID tokens.

When kubectl says the call is not interactive (an IDE, a pipeline), sesame never opens a
browser: without a usable grant it exits 4 and kubectl shows the hint. A profile bound to
a cluster (setup kubectl --server) gives its token only when kubectl names that cluster: the
kubeconfig entry needs provideClusterInfo: true, which 'sesame setup kubectl' writes; a
request without cluster information is refused (exit 1). When kubectl sends the cluster's
address, it must be the profile's kube server.`,
		Example: `  kubectl config set-credentials work --exec-api-version=client.authentication.k8s.io/v1 \
    --exec-command=sesame --exec-arg=kubectl --exec-arg=-p --exec-arg=work \
    --exec-interactive-mode=IfAvailable --exec-provide-cluster-info=true`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKubectl(cmd.Context(), a)
		},
	}
	cmd.Flags().BoolVar(&a.idToken, "id-token", false, "give kubectl the ID token instead of the access token (for clusters with OIDC authentication, as kubelogin does)")
	addResourceFlag(cmd, a)
	return cmd
}

func runKubectl(ctx context.Context, a *app) error {
	info, err := credhelper.ParseExecInfo(a.env.Getenv(credhelper.ExecInfoEnv))
	if err != nil {
		return err
	}
	_, p, err := a.requireProfile()
	if err != nil {
		return err
	}
	if a.idToken && !slices.Contains(p.EffectiveScopes(), "openid") {
		return usageErrorf("--id-token needs a profile that asks for the openid scope; profile %q asks for %q", p.Name, strings.Join(p.EffectiveScopes(), " "))
	}
	if err := checkCluster(info, p.Name, p.KubeServer); err != nil {
		return err
	}
	rec, err := a.freshToken(ctx, p, 0, info.Interactive())
	if errors.Is(err, session.ErrLoginRequired) {
		return withHint(err, "kubectl ran sesame without a terminal, so no browser was opened")
	}
	if err != nil {
		return err
	}
	if a.idToken {
		// Kubernetes' OIDC authenticator takes the ID token (audience: the
		// client id), as kubelogin gives it by default.
		tok := &oauth2.Token{AccessToken: rec.IDToken, TokenType: "Bearer"}
		return credhelper.KubectlRespond(a.env.Stdout, info, tok, session.IDTokenEarlyExpiry(rec))
	}
	tok := &oauth2.Token{AccessToken: rec.AccessToken, TokenType: tokenType(rec)}
	return credhelper.KubectlRespond(a.env.Stdout, info, tok, session.EarlyExpiry(rec))
}

// checkCluster is requirement 40 for kubectl: a token only for the cluster
// it is meant for. A profile bound to a cluster (--server) answers only a
// request that names that cluster: one that names none (a kubeconfig
// without provideClusterInfo, or KUBERNETES_EXEC_INFO set by hand) could
// be for any server, so it is refused too.
func checkCluster(info *credhelper.ExecInfo, profileName, kubeServer string) error {
	if info.Spec.Cluster == nil {
		if kubeServer == "" {
			return nil
		}
		return withHint(fmt.Errorf("profile %q is bound to cluster %q: %w", profileName, kubeServer, credhelper.ErrNoClusterInfo),
			"turn on provideClusterInfo in the kubeconfig user's exec entry (kubectl config set-credentials USER --exec-provide-cluster-info=true)",
			fmt.Sprintf("'sesame setup kubectl -p %s --apply' writes the entry with it (add --user NAME if the kubeconfig user has another name)", profileName))
	}
	if kubeServer == "" {
		return withHint(fmt.Errorf("kubectl asks for cluster %q, but profile %q names no cluster", info.Spec.Cluster.Server, profileName),
			fmt.Sprintf("bind the profile to it: sesame setup kubectl -p %s --server %s", profileName, info.Spec.Cluster.Server))
	}
	if !credhelper.ServerMatches(info, kubeServer) {
		return fmt.Errorf("kubectl asks for cluster %q, but profile %q is for %q: no token given", info.Spec.Cluster.Server, profileName, kubeServer)
	}
	return nil
}
