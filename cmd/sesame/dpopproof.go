package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/internal/dpop"
	"github.com/sesame-auth/sesame/keychain"
)

type dpopProofOptions struct {
	method, url, nonce string
}

func newDPoPProofCmd(a *app) *cobra.Command {
	o := &dpopProofOptions{}
	cmd := &cobra.Command{
		Use:   "dpop-proof --method METHOD --url URL",
		Short: "Print a DPoP proof for one request with the current access token",
		Long: `Print, on stdout, a DPoP proof (RFC 9449) for one request to a resource server: signed with
the profile's key from the keychain, bound to the method and URL given and to the current
access token (its "ath" claim), with a new jti. Send it in the DPoP header, next to
"Authorization: DPoP <token>" from 'sesame token'. The profile must use DPoP (login --dpop).
A proof is valid for one request and a short time: make a new one for each request. When
the resource server answers with a DPoP-Nonce header, pass that value with --nonce.`,
		Example: `  curl -H "Authorization: DPoP $(sesame token -p api)" \
    -H "DPoP: $(sesame dpop-proof -p api --method GET --url https://api.example.com/v1/me)" \
    https://api.example.com/v1/me`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDPoPProof(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.method, "method", "", "HTTP method of the request, e.g. GET (required)")
	f.StringVar(&o.url, "url", "", "URL of the request (required; query and fragment are not part of the proof)")
	f.StringVar(&o.nonce, "nonce", "", "nonce the resource server sent in its DPoP-Nonce header")
	addResourceFlag(cmd, a)
	return cmd
}

func runDPoPProof(ctx context.Context, a *app, o *dpopProofOptions) error {
	if o.method == "" || strings.ToUpper(o.method) != o.method || strings.ContainsAny(o.method, " \t\r\n") {
		return usageErrorf("invalid --method %q: an HTTP method in capitals, e.g. GET", o.method)
	}
	u, err := url.Parse(o.url)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return usageErrorf("invalid --url: an absolute http or https URL is needed")
	}
	if strings.ContainsAny(o.nonce, "\"\\\r\n") {
		return usageErrorf("invalid --nonce: it holds characters a DPoP nonce cannot have")
	}
	_, p, err := a.requireProfile()
	if err != nil {
		return err
	}
	if !p.DPoP {
		return withHint(fmt.Errorf("profile %q does not use DPoP", p.Name),
			fmt.Sprintf("sign in with a DPoP-bound grant: sesame login -p %s --dpop", p.Name))
	}
	tok, err := a.freshToken(ctx, p, 0, a.interactive())
	if err != nil {
		return err
	}
	store, err := a.store()
	if err != nil {
		return err
	}
	rec, err := store.Get(ctx, p.KeychainKey())
	if err != nil {
		if errors.Is(err, keychain.ErrNotFound) {
			return withHint(errors.New("the grant was removed while the proof was being made"), "run the command again")
		}
		return err
	}
	if rec.DPoPKey == "" {
		return withHint(fmt.Errorf("the stored grant of profile %q is not DPoP-bound (it was made before --dpop)", p.Name),
			fmt.Sprintf("sign in again: sesame login -p %s", p.Name))
	}
	key, err := dpop.Parse(rec.DPoPKey)
	if err != nil {
		return fmt.Errorf("the grant's DPoP key is unreadable: %w", err)
	}
	proof, err := key.Proof(o.method, o.url, o.nonce, tok.AccessToken, a.env.Clock.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(a.env.Stdout, proof)
	return err
}
