package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// forged is one hostile request sent to the loopback listener before the
// real sign-in, and the status it got.
type forged struct {
	Name   string `json:"name"`
	Status int    `json:"status"`
	// Reflected is true when the answer's body quotes the attack payload.
	Reflected bool `json:"reflected,omitempty"`
}

// payload is what an attacker would like the callback page to render.
const payload = "<script>alert(1)</script>"

// forgeCallbacks plays a local attacker or a malicious web page racing the
// real browser (TESTBROWSER_FORGE=1): forged callbacks with a wrong state,
// a rebinding Host header, another path and method, and an error response
// carrying HTML. The listener must refuse each and keep waiting for the real
// callback. The requests come from Go, not chromium, because a page could
// not set the Host header.
func forgeCallbacks(ctx context.Context, start *url.URL) []forged {
	ru, err := url.Parse(start.Query().Get("redirect_uri"))
	if err != nil || ru.Host == "" {
		// A pushed authorization request (RFC 9126) hides the redirect
		// URI from the front channel; a local attacker finds the
		// listener anyway: the launching process's listening socket.
		port, ok := parentListenPort()
		if !ok {
			return []forged{{Name: "no-redirect-uri"}}
		}
		ru = &url.URL{Scheme: "http", Host: "127.0.0.1:" + port, Path: "/callback"}
	}
	cb := func(path, query string) string {
		u := *ru
		u.Path, u.RawQuery = path, query
		return u.String()
	}
	q := url.Values{"code": {"forged-code"}, "state": {"forged-state"}, "iss": {start.Scheme + "://" + start.Host}}
	xss := url.Values{"error": {"access_denied"}, "error_description": {payload + "\x1b[31m"}, "state": {"forged-state"}}
	cases := []struct {
		name, method, url, host string
	}{
		{"wrong-state", http.MethodGet, cb(ru.Path, q.Encode()), ""},
		{"wrong-host", http.MethodGet, cb(ru.Path, q.Encode()), "attacker.example:" + ru.Port()},
		{"wrong-path", http.MethodGet, cb("/other", q.Encode()), ""},
		{"wrong-method", http.MethodPost, cb(ru.Path, q.Encode()), ""},
		{"error-html", http.MethodGet, cb(ru.Path, xss.Encode()), ""},
		{"open-redirect", http.MethodGet, cb(ru.Path, "next=https%3A%2F%2Fevil.example&state=forged-state"), ""},
	}
	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var out []forged
	for _, c := range cases {
		req, err := http.NewRequestWithContext(ctx, c.method, c.url, nil)
		if err != nil {
			out = append(out, forged{Name: c.name})
			continue
		}
		if c.host != "" {
			req.Host = c.host
		}
		resp, err := client.Do(req)
		if err != nil {
			out = append(out, forged{Name: c.name + ": " + err.Error()})
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		f := forged{Name: c.name, Status: resp.StatusCode, Reflected: strings.Contains(string(body), payload) || strings.Contains(string(body), "forged")}
		if loc := resp.Header.Get("Location"); loc != "" {
			f.Name += fmt.Sprintf(" (Location: %s)", loc)
		}
		out = append(out, f)
	}
	return out
}

// parentListenPort finds the TCP port the parent process (sesame, which
// launched this browser) listens on, from /proc: its socket inodes, matched
// against the LISTEN entries of /proc/net/tcp.
func parentListenPort() (string, bool) {
	ppid := os.Getppid()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", ppid))
	if err != nil {
		return "", false
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", ppid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] {
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			if n, err := strconv.ParseUint(hexPort, 16, 16); err == nil {
				return strconv.FormatUint(n, 10), true
			}
		}
	}
	return "", false
}
