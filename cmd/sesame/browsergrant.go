package main

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/provider"
	"github.com/sesame-auth/sesame/loopback"
)

// browserGrant runs the authorization code flow with PKCE on a loopback
// redirect (RFC 8252) and verifies the ID token, nonce included, before
// the success page is shown.
func (a *app) browserGrant(ctx context.Context, p *profile.Profile, md *provider.Metadata, client *http.Client, so signInOptions) (*oauth2.Token, *provider.IDToken, error) {
	if md.AuthorizationEndpoint == "" {
		return nil, nil, errors.New("the server has no authorization endpoint")
	}
	scopes := p.EffectiveScopes()
	oc := md.OAuth2Config(p.ClientID, scopes)
	var idTok *provider.IDToken
	wantIDToken := slices.Contains(scopes, "openid")
	flow, err := loopback.New(loopback.Config{
		OAuth2:                    oc,
		Issuer:                    p.Issuer,
		IssParameterSupported:     md.AuthorizationResponseIssParameterSupported,
		AllowUnannouncedIss:       p.AllowUnannouncedIss,
		Port:                      p.CallbackPort,
		Timeout:                   so.timeout,
		Opener:                    a.opener(p, so.noBrowser),
		OnAuthURL:                 func(u string) { a.showAuthURL(u) },
		AuthParams:                resourceParams(p.Resources),
		TokenParams:               resourceParams(nonEmpty(p.DefaultResource())),
		HTTPClient:                client,
		AllowInsecureAuthEndpoint: p.InsecureLoopbackAS,
		PAREndpoint:               md.PushedAuthorizationRequestEndpoint,
		RequirePAR:                md.RequirePushedAuthorizationRequests,
		Validate: func(ctx context.Context, tok *oauth2.Token, nonce string) error {
			raw, _ := tok.Extra("id_token").(string)
			if raw == "" {
				if wantIDToken {
					return errors.New("the server returned no ID token although the openid scope was requested")
				}
				return nil
			}
			t, err := provider.VerifyIDToken(ctx, client, md, p.ClientID, raw, nonce, a.env.Now)
			idTok = t
			return err
		},
	})
	if err != nil {
		return nil, nil, err
	}
	res, err := flow.Token(ctx)
	if err != nil {
		return nil, nil, err
	}
	return res.Token, idTok, nil
}
