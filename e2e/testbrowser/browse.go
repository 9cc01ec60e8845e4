package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// maxPages bounds the pages acted on, so that a form that keeps coming back
// (a rejected login) fails fast instead of at the timeout.
const maxPages = 12

// state is what the event handlers saw. mu guards it; poke wakes the loop.
type state struct {
	mu          sync.Mutex
	fatal       error
	blocked     int
	cbRequests  int      // document requests to the callback, redirects included
	cbParams    []string // query parameter names of the first one
	cbNavigated bool     // the main frame committed a document after the first callback request
	cbLoaded    bool     // ... and that document fired its load event
	cbURL       *url.URL // ... its URL
	cbLoader    string   // ... its loader
	status      map[string]int
}

func (s *state) fail(err error) {
	if s.fatal == nil {
		s.fatal = err
	}
}

// pageInfo is what the page script found and did.
type pageInfo struct {
	Page  string `json:"page"`
	Title string `json:"title"`
	Error string `json:"error"`
}

func browse(ctx context.Context, cfg config, startURL string) (run, error) {
	var r run
	dataDir, err := os.MkdirTemp("", "testbrowser-")
	if err != nil {
		return r, err
	}
	defer func() { _ = os.RemoveAll(dataDir) }() // runs after the browser is gone (defers run last-in first-out)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(cfg.chromium),
		chromedp.UserDataDir(dataDir),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		// The authorization server's certificate comes from the test's CA.
		chromedp.Flag("ignore-certificate-errors", true),
	)
	defer cancelAlloc() // waits for the browser process
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	if err := chromedp.Do(tab); err != nil {
		return r, fmt.Errorf("starting %s: %w", cfg.chromium, err)
	}

	st := &state{status: map[string]int{}}
	poke := make(chan struct{}, 1)
	wake := func() {
		select {
		case poke <- struct{}{}:
		default:
		}
	}

	if err := chromedp.Listen(tab, func(ev any) {
		st.mu.Lock()
		defer st.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventResponseReceived:
			if ev.Type == network.ResourceTypeDocument && ev.Response != nil {
				st.status[string(ev.LoaderID)] = int(ev.Response.Status)
			}
		case *page.EventFrameNavigated:
			f := ev.Frame
			if f == nil || f.ParentID != "" {
				return
			}
			if f.UnreachableURL != "" {
				if u, err := url.Parse(f.UnreachableURL); err == nil && cfg.callback(u) {
					st.fail(fmt.Errorf("the callback %s did not answer", redact(u)))
				} else if err == nil {
					st.fail(fmt.Errorf("page %s could not be loaded", redact(u)))
				}
			} else if st.cbRequests > 0 && !st.cbNavigated {
				if u, err := url.Parse(f.URL); err == nil {
					st.cbNavigated, st.cbURL, st.cbLoader = true, u, string(f.LoaderID)
				}
			}
			wake()
		case *page.EventLoadEventFired:
			if st.cbNavigated {
				st.cbLoaded = true
			}
			wake()
		}
	}); err != nil {
		return r, err
	}

	// Every request pauses here: loopback goes on, the rest is refused.
	paused := chromedp.Events(tab, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			u, perr := url.Parse(ev.Request.URL)
			allowed := perr == nil && (u.Scheme == "http" || u.Scheme == "https") && loopbackHost(u.Hostname())
			doc := ev.ResourceType == network.ResourceTypeDocument
			st.mu.Lock()
			if !allowed {
				st.blocked++
				if doc {
					st.fail(fmt.Errorf("refused a navigation to %s: not a loopback host", redactRaw(ev.Request.URL)))
				}
			} else if doc && cfg.callback(u) {
				if st.cbRequests == 0 {
					st.cbParams = paramNames(u)
				}
				st.cbRequests++
			}
			st.mu.Unlock()
			wake()
			if allowed {
				_, err = chromedp.Call(tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			} else {
				_, err = chromedp.Call(tab, fetch.FailRequest, fetch.FailRequestParams{
					RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient,
				})
			}
			if err != nil && tab.Err() == nil {
				st.mu.Lock()
				st.fail(fmt.Errorf("interception: %w", err))
				st.mu.Unlock()
				wake()
			}
		}
	}()
	if _, err := chromedp.Call(tab, fetch.Enable, fetch.EnableParams{
		Patterns: []*fetch.RequestPattern{{URLPattern: "*", RequestStage: fetch.RequestStageRequest}},
	}); err != nil {
		return r, fmt.Errorf("enabling interception: %w", err)
	}

	res, err := chromedp.Call(tab, page.Navigate, page.NavigateParams{URL: startURL})
	if err == nil && res.ErrorText != "" {
		err = errors.New(res.ErrorText)
	}
	if err != nil {
		st.mu.Lock()
		fatal := st.fatal // says which host was refused
		st.mu.Unlock()
		if fatal != nil {
			return r, fatal
		}
		return r, fmt.Errorf("navigate: %w", err)
	}

	script := pageScript(cfg)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		st.mu.Lock()
		fatal, navigated := st.fatal, st.cbNavigated
		r.Blocked = st.blocked
		st.mu.Unlock()
		if fatal != nil {
			return r, fatal
		}
		if navigated {
			return finishCallback(ctx, tab, st, r, poke)
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-poke:
		case <-tick.C:
		}

		evalCtx, cancel := context.WithTimeout(tab, 2*time.Second)
		info, err := chromedp.Run(evalCtx, chromedp.Evaluate[pageInfo](script))
		cancel()
		if err != nil {
			continue // a navigation replaced the document; look again
		}
		switch info.Page {
		case "", "loading", "acted", "other":
			continue
		case "error":
			return r, fmt.Errorf("the server showed an error page: %s", info.Error)
		case "device-success":
			// The device flow ends here: nothing redirects back.
			if err := settle(ctx, 300*time.Millisecond, st); err != nil {
				return r, err
			}
			loc, _ := chromedp.Run(tab, chromedp.Location())
			u, _ := url.Parse(loc)
			r.Outcome, r.Title = "device-success", info.Title
			if u != nil {
				r.URL = redact(u)
			}
			r.Status = latestStatus(tab, st)
			return r, nil
		default:
			r.Pages = append(r.Pages, info.Page)
			if len(r.Pages) > maxPages {
				return r, fmt.Errorf("gave up after %d pages: %v", len(r.Pages), r.Pages)
			}
		}
	}
}

// finishCallback waits for the callback's page to load (bounded), reads what
// the user sees, and lets a moment pass to count any further navigation to
// the callback.
func finishCallback(ctx context.Context, tab context.Context, st *state, r run, poke <-chan struct{}) (run, error) {
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		st.mu.Lock()
		loaded, fatal := st.cbLoaded, st.fatal
		st.mu.Unlock()
		if fatal != nil {
			return r, fatal
		}
		if loaded {
			break
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-deadline.C:
			loaded = true // report what there is; the page never finished loading
		case <-poke:
		}
		if loaded {
			break
		}
	}
	titleCtx, cancel := context.WithTimeout(tab, 2*time.Second)
	title, _ := chromedp.Run(titleCtx, chromedp.Title())
	cancel()
	if err := settle(ctx, 150*time.Millisecond, st); err != nil {
		return r, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	r.Outcome = "callback"
	r.URL = redact(st.cbURL)
	r.Status = st.status[st.cbLoader]
	r.Title = title
	r.CallbackParams = st.cbParams
	r.CallbackNavigations = st.cbRequests
	r.Blocked = st.blocked
	return r, nil
}

func settle(ctx context.Context, d time.Duration, st *state) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.fatal
}

func latestStatus(tab context.Context, st *state) int {
	tree, err := chromedp.Call(tab, page.GetFrameTree, cdp.Empty{})
	if err != nil || tree.FrameTree == nil || tree.FrameTree.Frame == nil {
		return 0
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.status[string(tree.FrameTree.Frame.LoaderID)]
}

// redactRaw is redact for a URL string that may not parse.
func redactRaw(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return redact(u)
}

// pageScript classifies the current page and acts on it once: a document that
// was acted on is marked, so the next look while the navigation is under way
// does nothing. It returns a pageInfo.
func pageScript(cfg config) string {
	str := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	return fmt.Sprintf(`(() => {
  const login = %s, deny = %t, userCode = %s;
  const q = (s) => document.querySelector(s);
  const r = { page: "other", title: document.title, error: "" };
  if (document.readyState === "loading") { r.page = "loading"; return r; }
  if (window.__testbrowser) { r.page = "acted"; return r; }
  const act = (name, fn) => { window.__testbrowser = name; r.page = name; fn(); return r; };
  if (q('input[name=prompt][value=login]') && q('input[name=login]')) {
    return act("login", () => {
      q('input[name=login]').value = login;
      q('input[name=password]').value = "e2e-password";
      q('input[name=login]').form.querySelector('button[type=submit]').click();
    });
  }
  if (q('input[name=prompt][value=consent]')) {
    if (deny) {
      const cancel = [...document.querySelectorAll('a')].find((a) => /cancel|abort/i.test(a.textContent));
      if (!cancel) { r.page = "error"; r.error = "no cancel link on the consent page"; return r; }
      return act("consent-deny", () => cancel.click());
    }
    return act("consent", () => q('input[name=prompt][value=consent]').form.querySelector('button[type=submit]').click());
  }
  const input = document.getElementById("op.deviceInputForm");
  if (input) {
    const field = input.querySelector('input[name=user_code]');
    if (field && !field.value && userCode) field.value = userCode;
    if (field && !field.value) { r.page = "error"; r.error = "device code page without a code; set TESTBROWSER_USER_CODE"; return r; }
    if (q('p.red')) { r.page = "error"; r.error = q('p.red').textContent.trim(); return r; }
    return act("device-input", () => q('button[form="op.deviceInputForm"]').click());
  }
  if (document.getElementById("op.deviceConfirmForm")) {
    if (deny) return act("device-deny", () => q('button[name=abort]').click());
    return act("device-confirm", () => q('button[form="op.deviceConfirmForm"]:not([name=abort])').click());
  }
  if (/sign-in success/i.test(document.title)) { r.page = "device-success"; return r; }
  if (/something went wrong/i.test(document.title) || q('#error')) {
    const e = q('#error'), d = q('#error_description');
    r.page = "error";
    r.error = [e && e.textContent, d && d.textContent].filter(Boolean).join(": ") || document.body.innerText.slice(0, 200);
    return r;
  }
  return r;
})()`, str(cfg.login), cfg.deny, str(cfg.userCode))
}
