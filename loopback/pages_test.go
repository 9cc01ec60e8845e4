package loopback

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/oauthwire"
)

func TestPages_CSPHash_Req17(t *testing.T) {
	for name, page := range map[string]string{"success": successPage, "failure": failurePage} {
		m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatch(page, -1)
		if len(m) != 1 {
			t.Fatalf("%s page has %d style elements, want 1", name, len(m))
		}
		sum := sha256.Sum256([]byte(m[0][1]))
		want := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'"
		if pageCSP != want {
			t.Errorf("%s page: CSP header\n %q\nwant\n %q", name, pageCSP, want)
		}
	}
}

func TestPages_StaticAndBare_Req17(t *testing.T) {
	forbidden := regexp.MustCompile(`(?i)(\ssrc\s*=|\shref\s*=|<script|<form|<link|<img|<iframe|<object|<embed|<base|http-equiv|url\(|@import|javascript:|https?://)`)
	for name, page := range map[string]string{"success": successPage, "failure": failurePage} {
		if loc := forbidden.FindString(page); loc != "" {
			t.Errorf("%s page contains %q", name, loc)
		}
		if strings.Count(page, "<style") != 1 || strings.Contains(page, "style=") {
			t.Errorf("%s page has styles the CSP hash does not cover", name)
		}
	}
	if successPage == failurePage {
		t.Error("success and failure pages are the same")
	}
}

// wantHeaders are the exact headers of every page (requirement 17).
var wantHeaders = map[string]string{
	"Content-Type":            "text/html; charset=utf-8",
	"Referrer-Policy":         "no-referrer",
	"Content-Security-Policy": pageCSP,
	"X-Content-Type-Options":  "nosniff",
	"Cache-Control":           "no-store",
}

func checkPageHeaders(t *testing.T, r response) {
	t.Helper()
	for k, v := range wantHeaders {
		if got := r.header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"Location", "Refresh", "Set-Cookie", "Access-Control-Allow-Origin"} {
		if r.header.Get(k) != "" {
			t.Errorf("response carries %s: %q", k, r.header.Get(k))
		}
	}
}

func TestPages_HeadersAndNoSecrets_Req17(t *testing.T) {
	as := authtest.New(t)
	var page, bad response
	var code, state string
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
		code, state = p.code, p.state
		bad = get(ctx, p.callback("code", p.code, "state", "wrong"))
		page = goodCallback(ctx, b, p)
	})
	if _, err := runFlow(t, mustNew(t, testConfig(as, b))); err != nil {
		t.Fatal(err)
	}
	b.wait(t)
	if page.status != http.StatusOK {
		t.Fatalf("status %d", page.status)
	}
	checkPageHeaders(t, page)
	assertNoSecrets(t, "page", page.body, code, state, issuedAccessToken(as))
	// Bare status answers carry the same protective headers.
	for _, k := range []string{"Referrer-Policy", "Content-Security-Policy", "X-Content-Type-Options", "Cache-Control"} {
		if bad.header.Get(k) != wantHeaders[k] {
			t.Errorf("400 answer header %s = %q", k, bad.header.Get(k))
		}
	}
	assertNoSecrets(t, "400 answer", bad.body, code, state)
}

func TestPages_ErrorNotReflected_Req16(t *testing.T) {
	const payload = "<script>alert(1)</script>\x1b[31mred\x1b]8;;https://evil.example\x07link\u202e\x9b"
	as := authtest.New(t)
	var page response
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
		page = get(ctx, p.callback("error", "<b>access_denied</b>\x1b[2J", "error_description", payload,
			"error_uri", "javascript:alert(1)\x1b[0m", "state", p.state, "iss", b.as.Issuer()))
	})
	_, err := runFlow(t, mustNew(t, testConfig(as, b)))
	b.wait(t)
	ae, ok := oauthwire.As(err)
	if !ok {
		t.Fatalf("Token error = %v, want *oauthwire.Error", err)
	}
	if page.body != failurePage {
		t.Errorf("failure page is not byte-identical to the constant:\n%s", page.body)
	}
	checkPageHeaders(t, page)
	for _, s := range []string{err.Error(), ae.Code, ae.Description, ae.URI} {
		for _, bad := range []string{"\x1b", "<script", "<b>", "\u202e", "\x07", "\x9b"} {
			if strings.Contains(s, bad) {
				t.Errorf("%q contains %q", s, bad)
			}
		}
	}
	if !strings.Contains(ae.Description, "alert(1)") {
		t.Errorf("description %q lost its printable text", ae.Description)
	}
}

func TestPages_NeverRedirects_Req18(t *testing.T) {
	as := authtest.New(t)
	var rs []response
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
		evil := "https://evil.example/"
		rs = append(rs,
			get(ctx, p.callback("next", evil, "state", "wrong")),
			get(ctx, strings.TrimSuffix(p.redirectURI, "callback")+"callback/..?return_to="+evil),
			get(ctx, strings.TrimSuffix(p.redirectURI, "callback")+"?redirect_uri="+evil),
			get(ctx, p.callback("code", p.code, "state", p.state, "iss", b.as.Issuer(),
				"next", evil, "return_to", evil, "redirect_uri", evil)),
		)
	})
	if _, err := runFlow(t, mustNew(t, testConfig(as, b))); err != nil {
		t.Fatal(err)
	}
	b.wait(t)
	for i, r := range rs {
		if r.err != nil || r.status/100 == 3 || r.header.Get("Location") != "" || r.header.Get("Refresh") != "" {
			t.Errorf("response %d: status %d, Location %q, err %v", i, r.status, r.header.Get("Location"), r.err)
		}
		if strings.Contains(r.body, "evil.example") {
			t.Errorf("response %d reflects the redirect target", i)
		}
	}
	if rs[len(rs)-1].body != successPage {
		t.Errorf("the honest callback with extra parameters did not succeed")
	}
}
