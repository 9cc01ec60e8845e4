package devicecode

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/authtest"
)

// This file holds the test doubles: a fake clock that moves only when the
// flow waits, a transport that records when (on that clock) each poll was
// sent and can fail chosen polls, and a harness wiring both to authtest's
// in-process authorization server.

// fakeClock is a Clock whose time moves only when the flow waits. In the
// default mode After advances the time by d at once and fires, so a whole
// polling schedule runs in microseconds; in manual mode After never fires and
// reports the wait on waits instead, for cancellation tests.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	manual bool
	waits  chan time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Now().Truncate(time.Second), waits: make(chan time.Duration, 16)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.manual {
		select {
		case c.waits <- d:
		default:
		}
		return nil // never fires
	}
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// timeoutError is what a dial or read timeout looks like to net/http's
// caller: a net.Error whose Timeout is true.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// recorder is an http.RoundTripper in front of the test server's transport.
// It notes the fake time of every token request and, for the polls listed in
// fail (numbered from 1), returns that error instead of sending anything.
type recorder struct {
	base  http.RoundTripper
	clock *fakeClock
	start time.Time

	mu    sync.Mutex
	polls []time.Duration
	fail  map[int]error
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == authtest.PathToken {
		r.mu.Lock()
		r.polls = append(r.polls, r.clock.Now().Sub(r.start))
		err := r.fail[len(r.polls)]
		r.mu.Unlock()
		if err != nil {
			if req.Body != nil {
				_ = req.Body.Close()
			}
			return nil, err
		}
	}
	return r.base.RoundTrip(req)
}

// pollTimes returns the fake times of the token requests, in seconds since
// the device authorization response.
func (r *recorder) pollTimes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]int, len(r.polls))
	for i, d := range r.polls {
		out[i] = int(d / time.Second)
	}
	return out
}

type harness struct {
	t     *testing.T
	srv   *authtest.Server
	clock *fakeClock
	rec   *recorder
	cfg   Config

	mu      sync.Mutex
	prompts []Prompt
	waits   []Wait
	// onShow runs inside UI.Show, e.g. to approve or deny the user code
	// the way the person would on another device.
	onShow func(Prompt)
}

// newHarness starts a server configured by opts and a flow config pointing
// at it. It marks the test parallel: every harness has its own server and
// clock, and authtest's key generation makes serial runs slow.
func newHarness(t *testing.T, opts ...authtest.Option) *harness {
	t.Helper()
	t.Parallel()
	clk := newFakeClock()
	srv := authtest.New(t, append([]authtest.Option{authtest.WithClock(clk.Now)}, opts...)...)
	rec := &recorder{base: srv.Client().Transport, clock: clk, start: clk.Now(), fail: map[int]error{}}
	h := &harness{t: t, srv: srv, clock: clk, rec: rec}
	h.cfg = Config{
		OAuth2: oauth2.Config{
			ClientID: srv.ClientID,
			Scopes:   []string{"openid", "profile"},
			Endpoint: oauth2.Endpoint{
				DeviceAuthURL: srv.URL() + authtest.PathDeviceAuthorization,
				TokenURL:      srv.URL() + authtest.PathToken,
				AuthStyle:     oauth2.AuthStyleInParams,
			},
		},
		Issuer:     srv.Issuer(),
		HTTPClient: &http.Client{Transport: rec},
		Clock:      clk,
		UI: UI{
			Show: func(p Prompt) {
				h.mu.Lock()
				h.prompts = append(h.prompts, p)
				f := h.onShow
				h.mu.Unlock()
				if f != nil {
					f(p)
				}
			},
			Waiting: func(w Wait) {
				h.mu.Lock()
				h.waits = append(h.waits, w)
				h.mu.Unlock()
			},
		},
	}
	return h
}

// approveOnShow makes the person approve the code they were shown.
func (h *harness) approveOnShow() {
	h.onShow = func(p Prompt) {
		if err := h.srv.ApproveDevice(p.UserCode); err != nil {
			h.t.Errorf("ApproveDevice(%q): %v", p.UserCode, err)
		}
	}
}

func (h *harness) run(ctx context.Context) (*oauth2.Token, error) {
	h.t.Helper()
	f, err := New(h.cfg)
	if err != nil {
		h.t.Fatalf("New: %v", err)
	}
	return f.Token(ctx)
}

func (h *harness) shown() []Prompt {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Prompt(nil), h.prompts...)
}

// deviceAuthHook answers the device authorization endpoint with body, a JSON
// object, in place of the server.
func deviceAuthHook(body map[string]any) authtest.Option {
	return authtest.WithHook(authtest.PathDeviceAuthorization, func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
		return true
	})
}

// jsonHook answers a path with status and body.
func jsonHook(path string, status int, body map[string]any) authtest.Option {
	return authtest.WithHook(path, func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
		return true
	})
}
