// Command testbrowser is the user's browser in sesame's end-to-end tests.
//
//	testbrowser URL
//
// It takes exactly one argument, as a browser launcher does, starts headless
// chromium through chromedp, and signs in at oidc-provider's development
// pages: it fills the login form, continues on the consent page and, for the
// device flow, confirms the user code. It stops at the first navigation to the
// loopback redirect URI (http://127.0.0.1 or http://[::1], path /callback, or
// exactly the redirect_uri of the authorization URL when it has one), or at the
// device flow's success page.
//
// Every request to a host other than 127.0.0.1 or ::1 is refused: the pages
// import a web font from the internet, and a test must not leave the machine.
//
// stdout stays empty. One summary line goes to stderr, with no query values
// (the callback carries the code and state). Exit status 0 when the flow
// reached the callback or the success page, 1 otherwise, 2 for a usage error.
//
// Environment:
//
//	TESTBROWSER_CHROMIUM  browser binary (default /usr/bin/chromium)
//	TESTBROWSER_LOGIN     login name (default alice)
//	TESTBROWSER_DENY=1    abort on the consent (or device confirmation) page
//	TESTBROWSER_USER_CODE user code for a device verification page without one
//	TESTBROWSER_LOG       append one JSON line per run (see rig.BrowserRun)
//	TESTBROWSER_TIMEOUT   overall limit, a Go duration (default 60s)
//	TESTBROWSER_FORGE=1   first send forged callbacks to the redirect URI (see forge.go)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"sort"
	"time"
)

const (
	defaultChromium = "/usr/bin/chromium"
	defaultTimeout  = 60 * time.Second
)

// run is what the user saw; it becomes the TESTBROWSER_LOG line.
type run struct {
	Time                time.Time `json:"time"`
	Outcome             string    `json:"outcome"`
	Error               string    `json:"error,omitempty"`
	URL                 string    `json:"url,omitempty"`
	Status              int       `json:"status,omitempty"`
	Title               string    `json:"title,omitempty"`
	StartParams         []string  `json:"start_params"` // names (never values) of the opened URL's query parameters
	CallbackParams      []string  `json:"callback_params"`
	CallbackNavigations int       `json:"callback_navigations"`
	Pages               []string  `json:"pages"`
	Blocked             int       `json:"blocked"`
	ElapsedMS           int64     `json:"elapsed_ms"`
	Forged              []forged  `json:"forged,omitempty"`
}

func main() {
	if len(os.Args) != 2 || os.Args[1] == "" || os.Args[1] == "-h" || os.Args[1] == "--help" {
		fmt.Fprintln(os.Stderr, "usage: testbrowser URL")
		os.Exit(2)
	}
	start, err := url.Parse(os.Args[1])
	if err != nil || (start.Scheme != "http" && start.Scheme != "https") {
		fmt.Fprintln(os.Stderr, "testbrowser: error: the argument is not an http(s) URL")
		os.Exit(2)
	}
	timeout := defaultTimeout
	if v := os.Getenv("TESTBROWSER_TIMEOUT"); v != "" {
		if timeout, err = time.ParseDuration(v); err != nil || timeout <= 0 {
			fmt.Fprintln(os.Stderr, "testbrowser: error: TESTBROWSER_TIMEOUT is not a positive duration")
			os.Exit(2)
		}
	}
	cfg := config{
		chromium: envOr("TESTBROWSER_CHROMIUM", defaultChromium),
		login:    envOr("TESTBROWSER_LOGIN", "alice"),
		deny:     os.Getenv("TESTBROWSER_DENY") == "1",
		userCode: os.Getenv("TESTBROWSER_USER_CODE"),
		callback: callbackMatcher(start),
	}

	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var attacks []forged
	if os.Getenv("TESTBROWSER_FORGE") == "1" {
		attacks = forgeCallbacks(ctx, start)
	}
	r, err := browse(ctx, cfg, start.String())
	r.Forged = attacks
	r.StartParams = []string{}
	for k := range start.Query() {
		r.StartParams = append(r.StartParams, k)
	}
	sort.Strings(r.StartParams)
	r.Time = began.UTC()
	r.ElapsedMS = time.Since(began).Milliseconds()
	if r.Pages == nil {
		r.Pages = []string{}
	}
	if r.CallbackParams == nil {
		r.CallbackParams = []string{}
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no callback after %s (pages: %v): %w", timeout, r.Pages, err)
		}
		r.Outcome = "error"
		r.Error = err.Error()
	}
	writeLog(r)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testbrowser: error: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "testbrowser: %s %s status %d title %q pages %v (%d ms)\n",
		r.Outcome, r.URL, r.Status, r.Title, r.Pages, r.ElapsedMS)
}

type config struct {
	chromium string
	login    string
	deny     bool
	userCode string
	callback func(*url.URL) bool
}

// callbackMatcher recognises the redirect URI. When the authorization URL
// names one, only that scheme, host, port and path match. Otherwise (an opener
// that starts at a local page of its own) any http loopback URL with path
// /callback does.
func callbackMatcher(start *url.URL) func(*url.URL) bool {
	if ru, err := url.Parse(start.Query().Get("redirect_uri")); err == nil && ru.Host != "" {
		return func(u *url.URL) bool {
			return u.Scheme == ru.Scheme && u.Host == ru.Host && u.Path == ru.Path
		}
	}
	return func(u *url.URL) bool {
		return u.Scheme == "http" && loopbackHost(u.Hostname()) && u.Path == "/callback"
	}
}

func loopbackHost(h string) bool { return h == "127.0.0.1" || h == "::1" }

// redact keeps scheme://host/path: query values may be codes or tokens.
func redact(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

func paramNames(u *url.URL) []string {
	var names []string
	for k := range u.Query() {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func writeLog(r run) {
	path := os.Getenv("TESTBROWSER_LOG")
	if path == "" {
		return
	}
	line, err := json.Marshal(r)
	if err != nil {
		return
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testbrowser: warning: TESTBROWSER_LOG: %v\n", err)
		return
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Write(append(line, '\n')); err != nil {
		fmt.Fprintf(os.Stderr, "testbrowser: warning: TESTBROWSER_LOG: %v\n", err)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
