package devicecode

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// The polling tests of requirement 43 (RFC 8628 §3.4–3.5). Times are
// fake-clock seconds since the device authorization response.

func TestPoll_SlowDown_Req43(t *testing.T) {
	h := newHarness(t, authtest.WithDevicePolls("authorization_pending", "authorization_pending", "slow_down", "authorization_pending"))
	h.approveOnShow()
	tok, err := h.run(t.Context())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if got, want := h.rec.pollTimes(), []int{5, 10, 15, 25, 35}; !slices.Equal(got, want) {
		t.Errorf("polls at %v s, want %v", got, want)
	}
	if tok.AccessToken == "" || tok.Extra("id_token") == nil {
		t.Errorf("token = %+v, want an access token and an id_token extra", tok)
	}
	if n := h.srv.CountRequests(authtest.PathDeviceAuthorization); n != 1 {
		t.Errorf("%d device authorization requests, want 1", n)
	}
}

func TestPoll_SlowDownAccumulates_Req43(t *testing.T) {
	h := newHarness(t, authtest.WithDevicePolls("slow_down", "slow_down", "authorization_pending"))
	h.approveOnShow()
	if _, err := h.run(t.Context()); err != nil {
		t.Fatalf("Token: %v", err)
	}
	// 5, then +10 (5+5), then +15 twice.
	if got, want := h.rec.pollTimes(), []int{5, 15, 30, 45}; !slices.Equal(got, want) {
		t.Errorf("polls at %v s, want %v", got, want)
	}
}

func TestPoll_TimeoutDoublesInterval_Req43(t *testing.T) {
	h := newHarness(t, authtest.WithDevicePolls("authorization_pending"))
	h.approveOnShow()
	h.rec.fail[2] = timeoutError{}
	if _, err := h.run(t.Context()); err != nil {
		t.Fatalf("Token: %v", err)
	}
	if got, want := h.rec.pollTimes(), []int{5, 10, 20}; !slices.Equal(got, want) {
		t.Errorf("polls at %v s, want %v", got, want)
	}
	if !slices.ContainsFunc(h.waits, func(w Wait) bool { return w.Retrying }) {
		t.Error("no Wait reported Retrying after the timeout")
	}
}

func TestPoll_BackoffIsExponentialAndCapped_Req43(t *testing.T) {
	h := newHarness(t)
	h.approveOnShow()
	for i := 1; i <= 5; i++ {
		h.rec.fail[i] = timeoutError{}
	}
	if _, err := h.run(t.Context()); err != nil {
		t.Fatalf("Token: %v", err)
	}
	// Waits 5, 10, 20, 40, 60 (capped), 60.
	if got, want := h.rec.pollTimes(), []int{5, 15, 35, 75, 135, 195}; !slices.Equal(got, want) {
		t.Errorf("polls at %v s, want %v", got, want)
	}
}

func TestPoll_ConnectionDropIsRetried_Req43(t *testing.T) {
	// The server answers the first poll by closing the connection; the
	// client sees EOF or a reset and must carry on with a doubled interval.
	h := newHarness(t, authtest.WithDevicePolls("authorization_pending"), authtest.WithDroppedTokenResponses(1))
	h.approveOnShow()
	if _, err := h.run(t.Context()); err != nil {
		t.Fatalf("Token: %v", err)
	}
	if got, want := h.rec.pollTimes(), []int{5, 15}; !slices.Equal(got, want) {
		t.Errorf("polls at %v s, want %v", got, want)
	}
}

func TestPoll_ConnectionRefusedIsRetried_Req43(t *testing.T) {
	h := newHarness(t)
	h.approveOnShow()
	h.rec.fail[1] = &wrappedErr{syscall.ECONNREFUSED}
	if _, err := h.run(t.Context()); err != nil {
		t.Fatalf("Token: %v", err)
	}
	if got, want := h.rec.pollTimes(), []int{5, 15}; !slices.Equal(got, want) {
		t.Errorf("polls at %v s, want %v", got, want)
	}
}

type wrappedErr struct{ err error }

func (e *wrappedErr) Error() string { return "dial tcp: " + e.err.Error() }
func (e *wrappedErr) Unwrap() error { return e.err }

func TestPoll_ServiceUnavailableIsRetried_Req43(t *testing.T) {
	h := newHarness(t)
	h.approveOnShow()
	var answered atomic.Bool
	h.srv.Configure(authtest.WithTokenHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !answered.Swap(true) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	}))
	if _, err := h.run(t.Context()); err != nil {
		t.Fatalf("Token: %v", err)
	}
	if got, want := h.rec.pollTimes(), []int{5, 15}; !slices.Equal(got, want) {
		t.Errorf("polls at %v s, want %v", got, want)
	}
}

func TestPoll_CertificateErrorStops_Req43(t *testing.T) {
	h := newHarness(t)
	h.approveOnShow()
	h.rec.fail[1] = &tls.CertificateVerificationError{Err: errors.New("x509: certificate signed by unknown authority")}
	_, err := h.run(t.Context())
	var e *oauthwire.Error
	if !errors.As(err, &e) || e.Op != opToken {
		t.Fatalf("err = %v, want a token *Error", err)
	}
	if got := h.rec.pollTimes(); len(got) != 1 {
		t.Errorf("polls at %v s, want exactly one", got)
	}
}

func TestPoll_AccessDenied_Req43(t *testing.T) {
	h := newHarness(t, authtest.WithDevicePolls("authorization_pending"))
	h.onShow = func(p Prompt) {
		if err := h.srv.DenyDevice(p.UserCode); err != nil {
			t.Errorf("DenyDevice: %v", err)
		}
	}
	_, err := h.run(t.Context())
	if !errors.Is(err, ErrDenied) || errors.Is(err, ErrExpired) {
		t.Fatalf("err = %v, want ErrDenied", err)
	}
	var e *oauthwire.Error
	if !errors.As(err, &e) || e.Code != "access_denied" {
		t.Errorf("err = %#v, want *Error with code access_denied", err)
	}
	if n := h.srv.CountRequests(authtest.PathToken); n != 2 {
		t.Errorf("%d token requests, want 2 (pending, denied) and no more", n)
	}
	if n := h.srv.CountRequests(authtest.PathDeviceAuthorization); n != 1 {
		t.Errorf("%d device authorization requests, want 1", n)
	}
}

func TestPoll_ExpiredToken_Req43(t *testing.T) {
	h := newHarness(t, authtest.WithDevicePolls("expired_token"))
	_, err := h.run(t.Context())
	if !errors.Is(err, ErrExpired) || errors.Is(err, ErrDenied) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
	if n := h.srv.CountRequests(authtest.PathToken); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
	// No new device flow is started by itself.
	if n := h.srv.CountRequests(authtest.PathDeviceAuthorization); n != 1 {
		t.Errorf("%d device authorization requests, want 1", n)
	}
}

func TestPoll_StopsAtExpiresIn_Req43(t *testing.T) {
	h := newHarness(t, authtest.WithDeviceTiming(12*time.Second, 5*time.Second))
	_, err := h.run(t.Context())
	if !errors.Is(err, ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
	if got, want := h.rec.pollTimes(), []int{5, 10}; !slices.Equal(got, want) {
		t.Errorf("polls at %v s, want %v", got, want)
	}
	if got := h.clock.Now().Sub(h.rec.start); got != 12*time.Second {
		t.Errorf("gave up at %v, want at expiry (12s)", got)
	}
	if n := h.srv.CountRequests(authtest.PathDeviceAuthorization); n != 1 {
		t.Errorf("%d device authorization requests, want 1", n)
	}
}

func TestPoll_ExpiryAfterTimeoutsNamesTheCause_Req43(t *testing.T) {
	h := newHarness(t, authtest.WithDeviceTiming(12*time.Second, 5*time.Second))
	h.rec.fail[1], h.rec.fail[2] = timeoutError{}, timeoutError{}
	_, err := h.run(t.Context())
	if !errors.Is(err, ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("err = %v, want it to carry the timeout of the last poll", err)
	}
}

func TestPoll_DefaultInterval_Req43(t *testing.T) {
	// A zero interval is left out of the response: 5 s applies.
	h := newHarness(t, authtest.WithDeviceTiming(10*time.Minute, 0))
	h.approveOnShow()
	if _, err := h.run(t.Context()); err != nil {
		t.Fatalf("Token: %v", err)
	}
	if got, want := h.rec.pollTimes(), []int{5}; !slices.Equal(got, want) {
		t.Errorf("polls at %v s, want %v", got, want)
	}
}

func TestPoll_ServerInterval_Req43(t *testing.T) {
	h := newHarness(t, authtest.WithDeviceTiming(10*time.Minute, 7*time.Second), authtest.WithDevicePolls("authorization_pending"))
	h.approveOnShow()
	if _, err := h.run(t.Context()); err != nil {
		t.Fatalf("Token: %v", err)
	}
	if got, want := h.rec.pollTimes(), []int{7, 14}; !slices.Equal(got, want) {
		t.Errorf("polls at %v s, want %v", got, want)
	}
}

func TestPoll_IntervalBoundedByExpiry_Req23(t *testing.T) {
	h := newHarness(t, authtest.WithDeviceTiming(60*time.Second, time.Hour))
	_, err := h.run(t.Context())
	if !errors.Is(err, ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
	if got := h.clock.Now().Sub(h.rec.start); got != time.Minute {
		t.Errorf("waited %v, want the code's lifetime (1m)", got)
	}
}

func TestPoll_OtherErrorStops_Req43(t *testing.T) {
	h := newHarness(t, authtest.WithDevicePolls("authorization_pending", "invalid_grant"))
	_, err := h.run(t.Context())
	var e *oauthwire.Error
	if !errors.As(err, &e) || e.Code != "invalid_grant" || e.Status != http.StatusBadRequest {
		t.Fatalf("err = %#v, want *Error invalid_grant/400", err)
	}
	if errors.Is(err, ErrDenied) || errors.Is(err, ErrExpired) {
		t.Errorf("invalid_grant matched ErrDenied or ErrExpired")
	}
	if n := h.srv.CountRequests(authtest.PathToken); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
}

func TestPoll_ServerErrorWithoutCodeStops_Req43(t *testing.T) {
	h := newHarness(t)
	h.srv.Configure(authtest.WithTokenHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusInternalServerError)
		return true
	}))
	_, err := h.run(t.Context())
	var e *oauthwire.Error
	if !errors.As(err, &e) || e.Status != http.StatusInternalServerError {
		t.Fatalf("err = %v, want *Error with status 500", err)
	}
	if n := h.srv.CountRequests(authtest.PathToken); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}

func TestToken_SuccessToken(t *testing.T) {
	h := newHarness(t, authtest.WithAccessTokenLifetime(10*time.Minute))
	h.approveOnShow()
	tok, err := h.run(t.Context())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	iss := h.srv.Issued()
	if len(iss) != 1 || tok.AccessToken != iss[0].AccessToken || tok.RefreshToken != iss[0].RefreshToken {
		t.Fatalf("token does not match what the server issued")
	}
	if want := h.clock.Now().Add(10 * time.Minute); !tok.Expiry.Equal(want) || tok.ExpiresIn != 600 {
		t.Errorf("expiry = %v (%d s), want %v on the flow's clock", tok.Expiry, tok.ExpiresIn, want)
	}
	if tok.Type() != "Bearer" {
		t.Errorf("token type %q", tok.Type())
	}
}

func TestToken_TokenLifetimeClamped_Req23(t *testing.T) {
	h := newHarness(t, authtest.WithTokenResponseMutator(func(m map[string]any) { m["expires_in"] = 1e12 }))
	h.approveOnShow()
	tok, err := h.run(t.Context())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if got := tok.Expiry.Sub(h.clock.Now()); got != 24*time.Hour {
		t.Errorf("token lifetime %v, want clamped to 24h", got)
	}
}

func TestToken_CancelWhileWaiting(t *testing.T) {
	h := newHarness(t)
	h.clock.manual = true
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := h.run(ctx)
		done <- err
	}()
	select {
	case <-h.clock.waits:
	case <-time.After(10 * time.Second):
		t.Fatal("flow never started waiting")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Token did not return after cancellation")
	}
	if n := h.srv.CountRequests(authtest.PathToken); n != 0 {
		t.Errorf("%d token requests, want 0", n)
	}
}

func TestToken_CancelDuringPoll(t *testing.T) {
	started := make(chan struct{})
	h := newHarness(t, authtest.WithTokenHook(func(w http.ResponseWriter, r *http.Request) bool {
		close(started)
		<-r.Context().Done() // a server that never answers
		return true
	}))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := h.run(ctx)
		done <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("no poll arrived")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Token did not return after cancellation")
	}
}

func TestToken_CancelledBeforeStart(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := h.run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := h.srv.CountRequests(authtest.PathDeviceAuthorization); n != 0 {
		t.Errorf("%d device authorization requests, want 0", n)
	}
}

func TestToken_WaitingReportsCountdown(t *testing.T) {
	h := newHarness(t, authtest.WithDeviceTiming(10*time.Minute, 5*time.Second), authtest.WithDevicePolls("authorization_pending"))
	h.approveOnShow()
	if _, err := h.run(t.Context()); err != nil {
		t.Fatalf("Token: %v", err)
	}
	want := []Wait{
		{Remaining: 10 * time.Minute, Next: 5 * time.Second, Polls: 0},
		{Remaining: 10*time.Minute - 5*time.Second, Next: 5 * time.Second, Polls: 1},
	}
	if !slices.Equal(h.waits, want) {
		t.Errorf("waits = %+v, want %+v", h.waits, want)
	}
}

// TestToken_CancelAsTheWaitEnds: Ctrl-C at the moment the wait between
// polls ends sends no poll. The clock's wait has already fired when ctx is
// cancelled, so the flow's select sees both; it runs many times because
// select picks between ready cases at random.
func TestToken_CancelAsTheWaitEnds(t *testing.T) {
	h := newHarness(t)
	for range 32 {
		ctx, cancel := context.WithCancel(t.Context())
		h.cfg.UI.Waiting = func(Wait) { cancel() }
		if _, err := h.run(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	}
	if n := len(h.rec.pollTimes()); n != 0 {
		t.Fatalf("%d polls were sent after Ctrl-C", n)
	}
}
