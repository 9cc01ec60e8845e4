package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/devicecode"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/provider"
)

// chooseFlow picks the login flow: the profile's when it names one; else
// the device flow when the server offers it and either has no
// authorization endpoint or no browser can be shown here; else the browser.
func (a *app) chooseFlow(p *profile.Profile, md *provider.Metadata) string {
	switch p.Flow {
	case profile.FlowBrowser, profile.FlowDevice:
		return p.Flow
	}
	if md.DeviceAuthorizationEndpoint == "" {
		return profile.FlowBrowser
	}
	if md.AuthorizationEndpoint == "" || !a.canShowBrowser(p) {
		return profile.FlowDevice
	}
	return profile.FlowBrowser
}

// canShowBrowser guesses whether a browser can open where sesame runs: a
// configured browser command says yes; an SSH session without a
// forwarded display, a Linux session without a display, or a container
// say no.
func (a *app) canShowBrowser(p *profile.Profile) bool {
	if p.BrowserCommand != "" || a.env.Getenv("BROWSER") != "" || a.env.Opener != nil {
		return true
	}
	display := a.env.Getenv("DISPLAY") != "" || a.env.Getenv("WAYLAND_DISPLAY") != ""
	if a.env.Getenv("SSH_CONNECTION") != "" || a.env.Getenv("SSH_TTY") != "" {
		return display
	}
	for _, marker := range []string{"/.dockerenv", "/run/.containerenv"} {
		if _, err := os.Stat(marker); err == nil {
			return false
		}
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return true
	}
	return display
}

// deviceEvent is one line of `sesame login --json` in the device flow.
type deviceEvent struct {
	Event                   string    `json:"event"`
	VerificationURI         string    `json:"verification_uri"`
	VerificationURIComplete string    `json:"verification_uri_complete,omitempty"`
	UserCode                string    `json:"user_code"`
	ExpiresAt               time.Time `json:"expires_at"`
}

// deviceGrant runs the device authorization grant (RFC 8628): it shows the
// code and the page on stderr (and, with --json, as an event on stdout) and
// polls until the person approves, denies, or the code expires.
func (a *app) deviceGrant(ctx context.Context, p *profile.Profile, md *provider.Metadata, client *http.Client, so signInOptions) (*oauth2.Token, *provider.IDToken, error) {
	if md.DeviceAuthorizationEndpoint == "" {
		return nil, nil, withHint(errors.New("the server offers no device authorization endpoint"), "use --flow browser")
	}
	countdown := a.env.StderrTTY && !so.json
	var qrEncoder devicecode.QREncoder
	if so.qr == qrAlways || (so.qr == qrAuto && a.env.StderrTTY) {
		qrEncoder = terminalQR{}
	}
	flow, err := devicecode.New(devicecode.Config{
		OAuth2:                   md.OAuth2Config(p.ClientID, p.EffectiveScopes()),
		Issuer:                   p.Issuer,
		HTTPClient:               client,
		AcceptVerificationHost:   so.acceptVerificationHost,
		AllowedVerificationHosts: p.VerificationHosts,
		// PKCE on the device grant costs nothing where it is ignored and is
		// required by servers such as Keycloak when the client demands it
		// (int128/kubelogin#1470): send it whenever S256 is advertised.
		PKCE:                  slices.Contains(md.CodeChallengeMethodsSupported, "S256"),
		AllowInsecureLoopback: p.InsecureLoopbackAS,
		AuthParams:            resourceParams(p.Resources),
		TokenParams:           resourceParams(nonEmpty(p.DefaultResource())),
		UI: devicecode.UI{
			Show: func(pr devicecode.Prompt) { a.showDevicePrompt(ctx, p, pr, so) },
			QR:   qrEncoder,
			Waiting: func(w devicecode.Wait) {
				if countdown {
					fmt.Fprintf(a.env.Stderr, "\r\x1b[Ksesame: waiting for approval, %s left", w.Remaining.Truncate(time.Second))
				}
			},
		},
	})
	if err != nil {
		return nil, nil, err
	}
	tok, err := flow.Token(ctx)
	if countdown {
		fmt.Fprint(a.env.Stderr, "\r\x1b[K")
	}
	if errors.Is(err, devicecode.ErrVerificationHost) {
		return nil, nil, withHint(err, "if this page is really your provider's, run the login again with --accept-verification-host")
	}
	if err != nil {
		return nil, nil, err
	}
	var idTok *provider.IDToken
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		if idTok, err = provider.VerifyIDToken(ctx, client, md, p.ClientID, raw, "", a.env.Now); err != nil {
			return nil, nil, err
		}
	}
	return tok, idTok, nil
}

// showDevicePrompt tells the person where to go and what to enter
// (SECURITY-REQUIREMENTS 41): the verification host on a line of its own,
// the full page, the code exactly as received, and the phishing warning.
func (a *app) showDevicePrompt(ctx context.Context, p *profile.Profile, pr devicecode.Prompt, so signInOptions) {
	w := a.env.Stderr
	host := pr.HostASCII
	if pr.HostUnicode != pr.HostASCII {
		host = pr.HostUnicode + " (" + pr.HostASCII + ")"
	}
	fmt.Fprintf(w, "sesame: to sign in to profile %q, open this page on any device:\n\n", p.Name)
	fmt.Fprintf(w, "  %s\n\n", pr.Origin)
	fmt.Fprintf(w, "  host: %s\n  page: %s\n  code: %s\n\n", host, pr.VerificationURI, pr.UserCode)
	if pr.VerificationURIComplete != "" {
		fmt.Fprintf(w, "  or open this link, which carries the code:\n  %s\n\n", pr.VerificationURIComplete)
	}
	if pr.QR != "" {
		fmt.Fprintf(w, "%s\n", pr.QR)
	}
	if pr.DifferentDomain {
		fmt.Fprintf(w, "sesame: WARNING: this page is on %s, not on the issuer's domain %s\n", pr.Domain, pr.IssuerDomain)
	}
	fmt.Fprintf(w, "sesame: %s; the code expires at %s\n", devicecode.PhishingWarning, pr.ExpiresAt.Local().Format("15:04:05"))
	if so.json {
		_ = writeJSON(a.env.Stdout, deviceEvent{
			Event:                   "device_authorization",
			VerificationURI:         pr.VerificationURI,
			VerificationURIComplete: pr.VerificationURIComplete,
			UserCode:                pr.UserCode,
			ExpiresAt:               pr.ExpiresAt.UTC().Truncate(time.Second),
		})
	}
	if so.openDevicePage && a.env.StdinTTY && a.env.StderrTTY {
		if o := a.opener(p, false); o != nil {
			_ = o.Open(ctx, pr.BrowserURI())
		}
	}
}
