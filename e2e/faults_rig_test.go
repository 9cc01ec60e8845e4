package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/e2e/rig"
)

// These tests prove the rig's fault injection (rig.ServerOptions' fault
// fields, the second public client, holdProxy) with a hand-written x/oauth2
// flow and no sesame code, like rig_test.go.

// TestFaultClockOffset: a server 2 h behind issues ID tokens whose iat is
// 2 h in the past and sends a Date 2 h behind, and a browser sign-in still
// works (its cookies keep their real lifetimes).
func TestFaultClockOffset(t *testing.T) {
	const offset = -2 * time.Hour
	srv := rig.StartServer(t, rig.ServerOptions{ClockOffset: offset})
	before := time.Now()
	_, tok := faultLogin(t, srv, rig.PublicClientID)
	after := time.Now()

	claims := idTokenClaims(t, tok)
	iat := time.Unix(claims.Iat, 0)
	if iat.Before(before.Add(offset).Add(-2*time.Second)) || iat.After(after.Add(offset).Add(2*time.Second)) {
		t.Errorf("id_token iat %v, want within [%v, %v]", iat, before.Add(offset), after.Add(offset))
	}
	if claims.Exp-claims.Iat != 3600 {
		t.Errorf("id_token exp - iat = %d s, want 3600", claims.Exp-claims.Iat)
	}
	// expires_in is relative: the access token's lifetime is unchanged.
	if ttl := time.Until(tok.Expiry); ttl < 20*time.Second || ttl > 31*time.Second {
		t.Errorf("access token expires in %v, want about 30 s", ttl)
	}

	requireServerDate(t, srv, offset)

	// The event log stays on the real clock and says the offset.
	started := srv.Events("server.started")
	if len(started) != 1 || started[0].Fields["clock_offset"] != float64(offset/time.Second) {
		t.Errorf("server.started events: %+v", started)
	}
	if e := started[0]; time.Since(e.Time) < 0 || time.Since(e.Time) > time.Minute {
		t.Errorf("server.started time %v, want real time", e.Time)
	}
	checkNoSecrets(t, srv, tok)
}

// TestFaultClockOffsetOnSignal: a server started with ClockOffsetOnSignal
// runs on the right clock (sign-in, ID token iat, Date header) until
// ApplyClockOffset; from then on the same grant's refresh gets an ID token
// issued 6 min ahead and the Date header is 6 min ahead. The event log says
// when the offset took effect, on the real clock.
func TestFaultClockOffsetOnSignal(t *testing.T) {
	const offset = 6 * time.Minute
	srv := rig.StartServer(t, rig.ServerOptions{ClockOffset: offset, ClockOffsetOnSignal: true})
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.HTTPClient)

	before := time.Now()
	cfg, tok := faultLogin(t, srv, rig.PublicClientID)
	requireIatNear(t, "before the signal: the login's id_token", idTokenClaims(t, tok), before, time.Now())
	requireServerDate(t, srv, 0)
	started := srv.Events("server.started")
	if len(started) != 1 || started[0].Fields["clock_offset"] != nil ||
		started[0].Fields["clock_offset_on_signal"] != float64(offset/time.Second) {
		t.Fatalf("server.started events: %+v", started)
	}
	if n := len(srv.Events("clock.offset")); n != 0 {
		t.Fatalf("%d clock.offset events before the signal", n)
	}

	signalled := time.Now()
	srv.ApplyClockOffset(t)
	events := srv.Events("clock.offset")
	if len(events) != 1 || events[0].Fields["clock_offset"] != float64(offset/time.Second) {
		t.Fatalf("clock.offset events: %+v", events)
	}
	if e := events[0]; e.Time.Before(signalled.Add(-time.Second)) || time.Since(e.Time) < 0 {
		t.Errorf("clock.offset time %v, want real time after %v", e.Time, signalled)
	}
	t.Logf("clock.offset %v after the signal", time.Since(signalled).Round(time.Millisecond))

	before = time.Now()
	tok2, err := faultRefresh(ctx, cfg, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh after the signal: %v", err)
	}
	requireIatNear(t, "after the signal: the refreshed id_token", idTokenClaims(t, tok2), before.Add(offset), time.Now().Add(offset))
	requireServerDate(t, srv, offset)
	checkNoSecrets(t, srv, tok, tok2)
}

// requireIatNear fails the test unless claims.iat is within [from, to]
// (2 s slack either side: iat is whole seconds).
func requireIatNear(t *testing.T, what string, claims faultIDClaims, from, to time.Time) {
	t.Helper()
	iat := time.Unix(claims.Iat, 0)
	if iat.Before(from.Add(-2*time.Second)) || iat.After(to.Add(2*time.Second)) {
		t.Fatalf("%s: iat %v, want within [%v, %v]", what, iat, from, to)
	}
}

// requireServerDate fails the test unless the Date header of the server's
// answers is about now+offset.
func requireServerDate(t *testing.T, srv *rig.Server, offset time.Duration) {
	t.Helper()
	resp, err := srv.HTTPClient.Get(srv.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		t.Fatalf("Date header %q: %v", resp.Header.Get("Date"), err)
	}
	if skew := time.Until(date) - offset; skew < -5*time.Second || skew > 5*time.Second {
		t.Fatalf("Date header %v, want about now %+v", date, offset)
	}
}

// TestFaultJWKSFailAfterRefresh: after each successful refresh the next N
// requests to the jwks_uri get an empty 503, then it recovers.
func TestFaultJWKSFailAfterRefresh(t *testing.T) {
	srv := rig.StartServer(t, rig.ServerOptions{JWKSFailAfterRefresh: 2})
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.HTTPClient)
	cfg, tok := faultLogin(t, srv, rig.PublicClientID)

	jwks := func(want int) {
		t.Helper()
		resp, err := srv.HTTPClient.Get(srv.Metadata.JWKSURI)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET jwks_uri: %s, want %d", resp.Status, want)
		}
		if want == http.StatusServiceUnavailable && len(body) != 0 {
			t.Fatalf("GET jwks_uri: 503 with a %d-byte body, want none", len(body))
		}
		if want == http.StatusOK && !strings.Contains(string(body), `"keys"`) {
			t.Fatalf("GET jwks_uri: 200 without keys")
		}
	}
	jwks(http.StatusOK) // the code grant does not count

	rt := tok.RefreshToken
	for round := range 2 {
		tok2, err := faultRefresh(ctx, cfg, rt)
		if err != nil {
			t.Fatalf("refresh %d: %v", round+1, err)
		}
		rt = tok2.RefreshToken
		jwks(http.StatusServiceUnavailable)
		jwks(http.StatusServiceUnavailable)
		jwks(http.StatusOK)
		jwks(http.StatusOK)
	}
	var remaining []any
	for _, e := range srv.Events("jwks.failed") {
		remaining = append(remaining, e.Fields["remaining"])
	}
	if want := []any{1.0, 0.0, 1.0, 0.0}; !slices.Equal(remaining, want) {
		t.Errorf("jwks.failed remaining: %v, want %v", remaining, want)
	}
}

// TestFaultRefreshDelay: a delayed refresh is processed at once; replaying
// its refresh token during the delay is reuse and revokes the grant, before
// the first answer (with the new, now dead, refresh token) arrives.
func TestFaultRefreshDelay(t *testing.T) {
	const delay = 1500 * time.Millisecond
	srv := rig.StartServer(t, rig.ServerOptions{RefreshDelay: delay})
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.HTTPClient)
	cfg, tok := faultLogin(t, srv, rig.PublicClientID)
	rt1 := tok.RefreshToken

	type result struct {
		tok *oauth2.Token
		err error
		at  time.Time
	}
	first := make(chan result, 1)
	start := time.Now()
	go func() {
		tok, err := faultRefresh(ctx, cfg, rt1)
		first <- result{tok, err, time.Now()}
	}()
	rotated := waitEvents(t, srv, "grant.success", func(e rig.Event) bool { return e.GrantType == "refresh_token" }, 1)[0]
	if rotated.Str("rotated_refresh_token_id") != rig.TokenID(rt1) {
		t.Fatalf("grant.success rotated %q, want %q", rotated.Str("rotated_refresh_token_id"), rig.TokenID(rt1))
	}
	if since := time.Since(start); since > delay/2 {
		t.Fatalf("the rotation came %v after the request, want at once", since)
	}
	select {
	case r := <-first:
		t.Fatalf("the refresh was answered after %v, before the delay (err %v)", r.at.Sub(start), r.err)
	default:
	}

	// Replay during the delay: reuse, the grant is revoked.
	_, err := faultRefresh(ctx, cfg, rt1)
	requireInvalidGrant(t, "replay during the delay", err)
	r := <-first
	if r.err != nil {
		t.Fatalf("delayed refresh: %v", r.err)
	}
	if took := r.at.Sub(start); took < delay {
		t.Errorf("the refresh was answered after %v, want at least %v", took, delay)
	}
	rt2 := r.tok.RefreshToken
	if rt2 == "" || rt2 == rt1 || rig.TokenID(rt2) != rotated.Str("refresh_token_id") {
		t.Fatal("the delayed answer does not carry the rotated refresh token")
	}
	_, err = faultRefresh(ctx, cfg, rt2)
	requireInvalidGrant(t, "the delayed answer's refresh token after reuse", err)

	// The log, in order: rotation, revocation on reuse (oidc-provider revokes,
	// then fails the grant), then the delayed answer.
	var order []string
	for _, e := range srv.Events("") {
		switch {
		case e.Kind == "grant.success" && e.GrantType == "refresh_token",
			e.Kind == "grant.error" && e.ErrorDetail == "refresh token already used",
			e.Kind == "grant.revoked":
			order = append(order, e.Kind)
		case e.Kind == "request" && e.GrantType == "refresh_token":
			order = append(order, "request "+http.StatusText(e.Status))
			if e.Fields["delay_ms"] != float64(delay/time.Millisecond) {
				t.Errorf("request event delay_ms = %v, want %d", e.Fields["delay_ms"], delay/time.Millisecond)
			}
		}
	}
	want := []string{"grant.success", "grant.revoked", "grant.error", "request OK", "request Bad Request", "request Bad Request"}
	if !slices.Equal(order, want) {
		t.Errorf("events: %q, want %q", order, want)
	}
	checkNoSecrets(t, srv, tok, r.tok)
}

// TestFaultRefreshErrorCode: a failed refresh answers the configured error
// instead of invalid_grant, with status 400 and the description kept; other
// grants keep invalid_grant.
func TestFaultRefreshErrorCode(t *testing.T) {
	t.Run("unauthorized_client on reuse", func(t *testing.T) {
		srv := rig.StartServer(t, rig.ServerOptions{RefreshErrorCode: "unauthorized_client"})
		ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.HTTPClient)
		cfg, tok := faultLogin(t, srv, rig.PublicClientID)
		tok2, err := faultRefresh(ctx, cfg, tok.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		_, err = faultRefresh(ctx, cfg, tok.RefreshToken)
		requireRetrieveError(t, "replay", err, "unauthorized_client")
		_, err = faultRefresh(ctx, cfg, tok2.RefreshToken)
		requireRetrieveError(t, "the newest refresh token after reuse", err, "unauthorized_client")

		// The server's own view is unchanged: reuse detected, grant revoked.
		errs := srv.Events("grant.error")
		if len(errs) != 2 || errs[0].Error != "invalid_grant" || errs[0].ErrorDetail != "refresh token already used" {
			t.Errorf("grant.error events: %+v", errs)
		}
		if len(srv.Events("grant.revoked")) != 1 {
			t.Errorf("grant.revoked events: %+v", srv.Events("grant.revoked"))
		}
		var rewritten int
		for _, e := range srv.Events("request") {
			if e.Str("rewritten_from") == "invalid_grant" && e.Error == "unauthorized_client" && e.Status == 400 {
				rewritten++
			}
		}
		if rewritten != 2 {
			t.Errorf("%d request events rewritten, want 2", rewritten)
		}
		checkNoSecrets(t, srv, tok, tok2)
	})
	t.Run("invalid_request on an unknown token", func(t *testing.T) {
		srv := rig.StartServer(t, rig.ServerOptions{RefreshErrorCode: "invalid_request"})
		ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.HTTPClient)
		cfg := publicClient(srv, "http://127.0.0.1:9/callback")
		_, err := faultRefresh(ctx, cfg, randomString(t))
		requireRetrieveError(t, "unknown refresh token", err, "invalid_request")
		// Not a refresh: unchanged.
		_, err = cfg.Exchange(ctx, randomString(t), oauth2.VerifierOption(oauth2.GenerateVerifier()))
		requireInvalidGrant(t, "unknown authorization code", err)
	})
}

// TestFaultSecondClient: sesame-e2e-2 signs in and refreshes like
// sesame-e2e, and its refresh tokens are its own.
func TestFaultSecondClient(t *testing.T) {
	srv := rig.StartServer(t, rig.ServerOptions{})
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.HTTPClient)
	cfg, tok := faultLogin(t, srv, rig.SecondPublicClientID)
	if aud := idTokenClaims(t, tok).Aud; aud != rig.SecondPublicClientID {
		t.Errorf("id_token aud %q, want %q", aud, rig.SecondPublicClientID)
	}
	requireActive(t, srv, tok.AccessToken, true)

	// The first client cannot use the second one's refresh token.
	other := *cfg
	other.ClientID = rig.PublicClientID
	_, err := faultRefresh(ctx, &other, tok.RefreshToken)
	requireInvalidGrant(t, "the second client's refresh token as the first client", err)

	tok2, err := faultRefresh(ctx, cfg, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
		t.Fatal("the refresh token was not rotated")
	}
	requireActive(t, srv, tok2.AccessToken, true)
	var clients []string
	for _, e := range srv.Events("grant.success") {
		clients = append(clients, e.GrantType+"/"+e.ClientID)
	}
	want := []string{"authorization_code/" + rig.SecondPublicClientID, "refresh_token/" + rig.SecondPublicClientID}
	if !slices.Equal(clients, want) {
		t.Errorf("grant.success events: %q, want %q", clients, want)
	}
	checkNoSecrets(t, srv, tok, tok2)
}

// TestFaultHoldProxy: the hold proxy passes requests through, holds a
// refresh answer after the server rotated the token and releases it, and a
// held answer whose client went away is never received.
func TestFaultHoldProxy(t *testing.T) {
	srv := rig.StartServer(t, rig.ServerOptions{})
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.HTTPClient)
	direct, tok := faultLogin(t, srv, rig.PublicClientID)
	p := startHoldProxy(t, srv)
	cfg := *direct
	cfg.Endpoint.TokenURL = p.url

	// Not a refresh: through unchanged.
	resp, err := srv.HTTPClient.Get(p.base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var md rig.Metadata
	err = json.NewDecoder(resp.Body).Decode(&md)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || md.Issuer != srv.Issuer || resp.ProtoMajor != 1 {
		t.Fatalf("discovery through the proxy: %s %s, issuer %q, %v", resp.Proto, resp.Status, md.Issuer, err)
	}

	// A refresh not held.
	tok2, err := faultRefresh(ctx, &cfg, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh through the proxy: %v", err)
	}
	if got := [3]int32{p.refreshes.Load(), p.delivered.Load(), p.lost.Load()}; got != [3]int32{1, 1, 0} {
		t.Fatalf("refreshes, delivered, lost = %v, want [1 1 0]", got)
	}

	// Held, then released.
	type result struct {
		tok *oauth2.Token
		err error
	}
	p.HoldNext()
	got := make(chan result, 1)
	go func() {
		tok, err := faultRefresh(ctx, &cfg, tok2.RefreshToken)
		got <- result{tok, err}
	}()
	waitClosed(t, p.Holding(), "the held refresh's answer from the server")
	if n := len(srv.Events("grant.success")); n != 3 {
		t.Fatalf("%d grant.success events while held, want 3 (the rotation happened)", n)
	}
	select {
	case r := <-got:
		t.Fatalf("the client got an answer while it was held (err %v)", r.err)
	case <-time.After(200 * time.Millisecond):
	}
	p.Release()
	r := <-got
	if r.err != nil {
		t.Fatalf("held refresh: %v", r.err)
	}
	tok3 := r.tok
	if tok3.RefreshToken == "" || tok3.RefreshToken == tok2.RefreshToken {
		t.Fatal("the released answer does not carry a new refresh token")
	}
	if got := [3]int32{p.refreshes.Load(), p.delivered.Load(), p.lost.Load()}; got != [3]int32{2, 2, 0} {
		t.Fatalf("refreshes, delivered, lost = %v, want [2 2 0]", got)
	}
	requireActive(t, srv, tok3.AccessToken, true)

	// Held, and the client gives up: the rotation happened, the answer is lost.
	p.HoldNext()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gone := make(chan error, 1)
	go func() {
		_, err := faultRefresh(cctx, &cfg, tok3.RefreshToken)
		gone <- err
	}()
	waitClosed(t, p.Holding(), "the second held refresh's answer from the server")
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("the client that gave up: %v, want context.Canceled", err)
	}
	waitClosed(t, p.ClientGone(), "the proxy to see the client go")
	p.Release()
	if got := [3]int32{p.refreshes.Load(), p.delivered.Load(), p.lost.Load()}; got != [3]int32{3, 2, 1} {
		t.Fatalf("refreshes, delivered, lost = %v, want [3 2 1]", got)
	}
	consumed := false
	for _, e := range srv.Events("refresh_token.consumed") {
		consumed = consumed || e.TokenID == rig.TokenID(tok3.RefreshToken)
	}
	if !consumed {
		t.Error("the server did not consume the refresh token of the lost answer")
	}
	// What the client still holds is a rotated token: using it is reuse.
	_, err = faultRefresh(ctx, &cfg, tok3.RefreshToken)
	requireInvalidGrant(t, "the refresh token whose answer was lost", err)
	if n := len(srv.Events("grant.revoked")); n != 1 {
		t.Errorf("%d grant.revoked events, want 1", n)
	}
	checkNoSecrets(t, srv, tok, tok2, tok3)
}

// faultLogin signs alice in as clientID with the browser (code flow, PKCE)
// and returns the client's configuration and its tokens.
func faultLogin(t *testing.T, srv *rig.Server, clientID string) (*oauth2.Config, *oauth2.Token) {
	t.Helper()
	browser := rig.BuildTestBrowser(t)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.HTTPClient)
	cb := startCallback(t)
	cfg := publicClient(srv, cb.redirectURI)
	cfg.ClientID = clientID
	verifier := oauth2.GenerateVerifier()
	state := randomString(t)
	runBrowser(t, browser, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), consentPrompt))
	q := cb.wait(t)
	if q.Get("error") != "" || q.Get("state") != state {
		t.Fatalf("callback: error %q, state matches %v", q.Get("error"), q.Get("state") == state)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	return cfg, tok
}

// faultRefresh makes one refresh_token grant.
func faultRefresh(ctx context.Context, cfg *oauth2.Config, refreshToken string) (*oauth2.Token, error) {
	return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
}

type faultIDClaims struct {
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
	Aud string `json:"aud"`
}

// idTokenClaims decodes the ID token's payload, unverified.
func idTokenClaims(t *testing.T, tok *oauth2.Token) faultIDClaims {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatal("no id_token, or not a JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("id_token payload: %v", err)
	}
	var c faultIDClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatalf("id_token payload: %v", err)
	}
	return c
}

func requireRetrieveError(t *testing.T, what string, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != code || re.Response.StatusCode != http.StatusBadRequest ||
		re.ErrorDescription != "grant request is invalid" {
		t.Fatalf("%s: got %v, want 400 %s (grant request is invalid)", what, err, code)
	}
}

// waitEvents waits (5 s at most) until the server has logged n events of the
// kind that match, and returns them.
func waitEvents(t *testing.T, srv *rig.Server, kind string, match func(rig.Event) bool, n int) []rig.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var found []rig.Event
		for _, e := range srv.Events(kind) {
			if match(e) {
				found = append(found, e)
			}
		}
		if len(found) >= n {
			return found
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s events after 5 s, want %d", len(found), kind, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitClosed(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second):
		t.Fatalf("waited 10 s for %s", what)
	}
}
