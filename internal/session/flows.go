package session

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/devicecode"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/provider"
	"github.com/sesame-auth/sesame/loopback"
)

// ChooseFlow picks the login flow: the profile's when it names one; else
// the device flow when the server offers it and either has no
// authorization endpoint or no browser can be shown here; else the
// browser.
func ChooseFlow(p *profile.Profile, md *provider.Metadata, canShowBrowser bool) string {
	switch p.Flow {
	case profile.FlowBrowser, profile.FlowDevice:
		return p.Flow
	}
	if md.DeviceAuthorizationEndpoint == "" {
		return profile.FlowBrowser
	}
	if md.AuthorizationEndpoint == "" || !canShowBrowser {
		return profile.FlowDevice
	}
	return profile.FlowBrowser
}

// browserGrant runs the authorization code flow with PKCE on a loopback
// redirect (RFC 8252) and verifies the ID token, nonce included, before
// the success page is shown.
func browserGrant(ctx context.Context, d *Deps, ui *UI, p *profile.Profile, md *provider.Metadata, client *http.Client, req LoginRequest, auth ClientAuth) (*oauth2.Token, *provider.IDToken, error) {
	if md.AuthorizationEndpoint == "" {
		return nil, nil, errors.New("the server has no authorization endpoint")
	}
	scopes := p.EffectiveScopes()
	var idTok *provider.IDToken
	wantIDToken := slices.Contains(scopes, "openid")
	flow, err := loopback.New(loopback.Config{
		OAuth2:                    auth.oauth2Config(md.OAuth2Config(p.ClientID, scopes)),
		Issuer:                    p.Issuer,
		IssParameterSupported:     md.AuthorizationResponseIssParameterSupported,
		AllowUnannouncedIss:       p.AllowUnannouncedIss,
		Port:                      p.CallbackPort,
		Timeout:                   req.Timeout,
		Opener:                    ui.Opener,
		OnAuthURL:                 ui.ShowAuthURL,
		Events:                    ui.Browser,
		AuthParams:                presetAuthParams(p, resourceParams(p.Resources)),
		TokenParams:               resourceParams(nonEmpty(p.DefaultResource())),
		HTTPClient:                client,
		AllowInsecureAuthEndpoint: p.InsecureLoopbackAS,
		PAREndpoint:               md.PushedAuthorizationRequestEndpoint,
		RequirePAR:                md.RequirePushedAuthorizationRequests,
		NoConsentPrompt:           noConsentPrompt(p),
		Validate: func(ctx context.Context, tok *oauth2.Token, nonce string) error {
			raw, _ := tok.Extra("id_token").(string)
			if raw == "" {
				if wantIDToken {
					return errors.New("the server returned no ID token although the openid scope was requested")
				}
				return nil
			}
			t, err := provider.VerifyIDToken(ctx, client, md, p.ClientID, raw, nonce, d.now)
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

// deviceGrant runs the device authorization grant (RFC 8628): ui.Device
// shows the code and the page, and the flow polls until the person
// approves, denies, or the code expires.
func deviceGrant(ctx context.Context, d *Deps, ui *UI, p *profile.Profile, md *provider.Metadata, client *http.Client, req LoginRequest, auth ClientAuth) (*oauth2.Token, *provider.IDToken, error) {
	if md.DeviceAuthorizationEndpoint == "" {
		return nil, nil, &Problem{Kind: NoDeviceFlow, Profile: p.Name, Err: errors.New("the server offers no device authorization endpoint")}
	}
	flow, err := devicecode.New(devicecode.Config{
		OAuth2:                   auth.oauth2Config(md.OAuth2Config(p.ClientID, p.EffectiveScopes())),
		Issuer:                   p.Issuer,
		HTTPClient:               client,
		AcceptVerificationHost:   req.AcceptVerificationHost,
		AllowedVerificationHosts: p.VerificationHosts,
		// PKCE on the device grant costs nothing where it is ignored and is
		// required by servers such as Keycloak when the client demands it
		// (int128/kubelogin#1470): send it whenever S256 is advertised.
		PKCE:                  slices.Contains(md.CodeChallengeMethodsSupported, "S256"),
		AllowInsecureLoopback: p.InsecureLoopbackAS,
		AuthParams:            resourceParams(p.Resources),
		TokenParams:           resourceParams(nonEmpty(p.DefaultResource())),
		UI:                    ui.Device,
		Clock:                 d.clock(),
	})
	if err != nil {
		return nil, nil, err
	}
	tok, err := flow.Token(ctx)
	if errors.Is(err, devicecode.ErrVerificationHost) {
		return nil, nil, &Problem{Kind: VerificationHost, Profile: p.Name, Err: err}
	}
	if err != nil {
		return nil, nil, err
	}
	var idTok *provider.IDToken
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		if idTok, err = provider.VerifyIDToken(ctx, client, md, p.ClientID, raw, "", d.now); err != nil {
			return nil, nil, err
		}
	}
	return tok, idTok, nil
}

// resourceParams turns RFC 8707 resource indicators into request
// parameters.
func resourceParams(resources []string) map[string][]string {
	if len(resources) == 0 {
		return nil
	}
	return map[string][]string{"resource": slices.Clone(resources)}
}

// nonEmpty returns s as a list of one, or nil when it is empty.
func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
