package authtest

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/oauth2"
)

// TestDevice_XOAuth2Flow: x/oauth2's device client gets through, past an
// authorization_pending. It waits the interval before every poll, a whole
// number of seconds (0 means 5), on the real clock; so the client runs in
// a synctest bubble, where those waits take no time. The server stays
// outside it, and the client keeps no idle connection, whose reader
// blocked on the network would keep the bubble's clock from moving.
func TestDevice_XOAuth2Flow(t *testing.T) {
	s := New(t, WithDeviceTiming(time.Minute, time.Second), WithDevicePolls("authorization_pending"))
	transport := s.Client().Transport.(*http.Transport).Clone()
	transport.DisableKeepAlives = true
	synctest.Test(t, func(t *testing.T) { xoauth2DeviceFlow(t, s, &http.Client{Transport: transport}) })
	if n := s.CountRequests(PathToken); n != 2 {
		t.Fatalf("%d polls, want 2", n)
	}
}

func xoauth2DeviceFlow(t *testing.T, s *Server, client *http.Client) {
	conf := oauthConfig(s, "", "openid")
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, client)
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	if !regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`).MatchString(da.UserCode) {
		t.Fatalf("user code %q", da.UserCode)
	}
	if da.VerificationURI != s.URL()+PathDeviceVerification || da.Interval != 1 || s.LastUserCode() != da.UserCode {
		t.Fatalf("device response %+v", da)
	}
	if err := s.ApproveDevice(strings.ToLower(da.UserCode)); err != nil {
		t.Fatal(err)
	}
	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatalf("DeviceAccessToken: %v", err)
	}
	if !strings.HasPrefix(tok.RefreshToken, "SNTL-RT-") || tok.Extra("id_token") == nil {
		t.Fatalf("token %+v", tok)
	}
}

func TestDevice_ScriptedPolls(t *testing.T) {
	s := New(t, WithDevicePolls("authorization_pending", "slow_down", ""))
	status, body := post(t, s, PathDeviceAuthorization, url.Values{"client_id": {s.ClientID}, "scope": {"openid"}})
	dc, _ := body["device_code"].(string)
	if status != http.StatusOK || !strings.HasPrefix(dc, "SNTL-DC-") {
		t.Fatalf("%d %v", status, body)
	}
	poll := func() (int, map[string]any) { return pollDevice(t, s, dc) }
	for _, want := range []string{"authorization_pending", "slow_down", "authorization_pending"} {
		status, body := poll()
		wantOAuthError(t, status, body, http.StatusBadRequest, want)
	}
	if err := s.ApproveDevice(body["user_code"].(string)); err != nil {
		t.Fatal(err)
	}
	if status, body := poll(); status != http.StatusOK {
		t.Fatalf("after approval: %d %v", status, body)
	}
	status, body = poll()
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
}

func TestDevice_DenyAndExpiry(t *testing.T) {
	s := New(t, WithDeviceTiming(time.Minute, 0))
	start := func() (string, string) {
		_, body := post(t, s, PathDeviceAuthorization, url.Values{"client_id": {s.ClientID}})
		if _, ok := body["interval"]; ok {
			t.Fatal("interval sent although unset")
		}
		return body["device_code"].(string), body["user_code"].(string)
	}
	poll := func(dc string) (int, map[string]any) { return pollDevice(t, s, dc) }
	dc, uc := start()
	if err := s.DenyDevice(uc); err != nil {
		t.Fatal(err)
	}
	status, body := poll(dc)
	wantOAuthError(t, status, body, http.StatusBadRequest, "access_denied")

	dc, _ = start()
	s.Configure(WithClock(func() time.Time { return time.Now().Add(2 * time.Minute) }))
	status, body = poll(dc)
	wantOAuthError(t, status, body, http.StatusBadRequest, "expired_token")

	if err := s.ApproveDevice("NOPE-NOPE"); err == nil {
		t.Fatal("unknown user code approved")
	}
}

// A browser given verification_uri_complete plays the user who approves.
func TestDevice_BrowserApprovesThroughVerificationPage(t *testing.T) {
	s := New(t, WithDeviceTiming(time.Minute, time.Second))
	conf := oauthConfig(s, "", "openid")
	ctx := clientContext(t, s)
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBrowser(t, s)
	if err := b.Open(t.Context(), da.VerificationURIComplete); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if status, body := pollDevice(t, s, da.DeviceCode); status != http.StatusOK {
		t.Fatalf("poll after the browser approved: %d %v", status, body)
	}
}

// The auto answers decide each code as it is issued: the first poll gets
// the tokens, or access_denied; a later WithDeviceAutoApprove does not
// touch a code issued before it.
func TestDevice_AutoApproveAndDeny(t *testing.T) {
	s := New(t, WithDeviceAutoApprove())
	start := func() string {
		_, body := post(t, s, PathDeviceAuthorization, url.Values{"client_id": {s.ClientID}, "scope": {"openid"}})
		return body["device_code"].(string)
	}
	if status, body := pollDevice(t, s, start()); status != http.StatusOK || body["refresh_token"] == nil {
		t.Fatalf("auto-approved code, first poll: %d %v", status, body)
	}
	s.Configure(WithDeviceAutoDeny())
	status, body := pollDevice(t, s, start())
	wantOAuthError(t, status, body, http.StatusBadRequest, "access_denied")

	s = New(t)
	waiting := start()
	s.Configure(WithDeviceAutoApprove())
	status, body = pollDevice(t, s, waiting)
	wantOAuthError(t, status, body, http.StatusBadRequest, "authorization_pending")
}

// pollDevice sends one device access token request (RFC 8628 §3.4).
func pollDevice(t *testing.T, s *Server, deviceCode string) (int, map[string]any) {
	t.Helper()
	return post(t, s, PathToken, url.Values{"grant_type": {GrantDeviceCode}, "device_code": {deviceCode}, "client_id": {s.ClientID}})
}

func TestDevice_VerificationURIOverride(t *testing.T) {
	s := New(t, WithVerificationURI("http://login.evil.example/device", ""))
	_, body := post(t, s, PathDeviceAuthorization, url.Values{"client_id": {s.ClientID}})
	if body["verification_uri"] != "http://login.evil.example/device" || body["verification_uri_complete"] != nil {
		t.Fatalf("%v", body)
	}
}
