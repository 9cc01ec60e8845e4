package loopback

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// expect records a mismatch between a response and the wanted status; the
// test reads the notes after the browser script is done.
func expect(b *testBrowser, label string, r response, want int) {
	if r.err != nil {
		b.note(fmt.Sprintf("%s: %v", label, r.err))
		return
	}
	if r.status != want {
		b.note(fmt.Sprintf("%s: got %d, want %d", label, r.status, want))
	}
	if strings.Contains(r.body, "<html") {
		b.note(fmt.Sprintf("%s: got a page, want a bare status answer", label))
	}
}

// hostileThenGood runs hostile, then the honest callback, and checks the
// login still succeeds: bad requests must not end the flow.
func hostileThenGood(t *testing.T, hostile func(ctx context.Context, b *testBrowser, p authRequest)) {
	t.Helper()
	as := authtest.New(t)
	var final response
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
		hostile(ctx, b, p)
		final = goodCallback(ctx, b, p)
	})
	res, err := runFlow(t, mustNew(t, testConfig(as, b)))
	notes := b.wait(t)
	for _, n := range notes {
		t.Error(n)
	}
	if err != nil {
		t.Fatalf("Token after hostile requests: %v", err)
	}
	if res.Token.AccessToken != issuedAccessToken(as) || final.body != successPage {
		t.Errorf("honest callback did not complete the login")
	}
	// The server refuses a wrong exchange, so the success above says the
	// honest one was right; it must also have been the only one.
	if n := tokenRequests(as); n != 1 {
		t.Errorf("token requests = %d; want exactly the honest one", n)
	}
}

func TestCallback_PathMethodParams_Req04(t *testing.T) {
	hostileThenGood(t, func(ctx context.Context, b *testBrowser, p authRequest) {
		good := p.callback("code", p.code, "state", p.state, "iss", b.as.Issuer())
		base := strings.TrimSuffix(p.redirectURI, "/callback")
		query := good[len(p.redirectURI):]
		for _, path := range []string{"/other", "/callback/", "/CALLBACK", "/%63allback", "/callback/..", "/", "/favicon.ico"} {
			expect(b, "GET "+path, get(ctx, base+path+query), http.StatusNotFound)
		}
		for _, m := range []string{http.MethodPost, http.MethodHead, http.MethodPut, http.MethodOptions, http.MethodDelete} {
			r := send(ctx, m, good, nil, nil)
			want := http.StatusMethodNotAllowed
			if m == http.MethodHead { // a HEAD answer has no body to inspect
				r.body = ""
			}
			expect(b, m, r, want)
			if r.err == nil && r.header.Get("Allow") != "GET" {
				b.note(m + ": Allow header " + r.header.Get("Allow"))
			}
		}
		for _, kv := range [][]string{
			{"code", p.code, "state", p.state, "state", "x", "iss", b.as.Issuer()},
			{"code", p.code, "state", "x", "state", p.state, "iss", b.as.Issuer()},
			{"code", p.code, "code", "other", "state", p.state, "iss", b.as.Issuer()},
			{"code", p.code, "state", p.state, "iss", b.as.Issuer(), "iss", b.as.Issuer()},
			{"error", "access_denied", "error", "x", "state", p.state, "iss", b.as.Issuer()},
		} {
			expect(b, "repeated "+strings.Join(kv[:4], ","), get(ctx, p.callback(kv...)), http.StatusBadRequest)
		}
		expect(b, "semicolon query", get(ctx, good+";x=y"), http.StatusBadRequest)
		expect(b, "bad escape", get(ctx, good+"&x=%zz"), http.StatusBadRequest)
		withBody := send(ctx, http.MethodGet, good, strings.NewReader("code=x"), nil)
		expect(b, "GET with body", withBody, http.StatusBadRequest)
		chunked := send(ctx, http.MethodGet, good, strings.NewReader("x"), func(r *http.Request) {
			r.ContentLength = -1 // forces Transfer-Encoding: chunked
		})
		expect(b, "GET chunked", chunked, http.StatusBadRequest)
	})
}

func TestCallback_RawRequests_Req04(t *testing.T) {
	hostileThenGood(t, func(ctx context.Context, b *testBrowser, p authRequest) {
		host := strings.TrimPrefix(strings.TrimSuffix(p.redirectURI, "/callback"), "http://")
		for _, tc := range []struct {
			req  string
			want int
		}{
			{"OPTIONS * HTTP/1.1\r\nHost: " + host + "\r\n\r\n", http.StatusNotFound},
			{"GET /callback?state=" + p.state + " HTTP/1.0\r\n\r\n", http.StatusMisdirectedRequest},
			{"GET //callback?state=x HTTP/1.1\r\nHost: " + host + "\r\n\r\n", http.StatusNotFound},
			{"GET http://evil.example/callback?state=x HTTP/1.1\r\nHost: " + host + "\r\n\r\n", http.StatusMisdirectedRequest},
		} {
			c, err := net.Dial("tcp", host)
			if err != nil {
				b.note(err.Error())
				return
			}
			_, _ = io.WriteString(c, tc.req)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				b.note(fmt.Sprintf("%q: %v", tc.req, err))
			} else {
				_ = resp.Body.Close()
				if resp.StatusCode != tc.want {
					b.note(fmt.Sprintf("%q: got %d, want %d", tc.req, resp.StatusCode, tc.want))
				}
			}
			_ = c.Close()
		}
	})
}

func TestCallback_HostHeader_Req05(t *testing.T) {
	hostileThenGood(t, func(ctx context.Context, b *testBrowser, p authRequest) {
		good := p.callback("code", p.code, "state", p.state, "iss", b.as.Issuer())
		port := portOf(p.redirectURI)
		for _, host := range []string{
			"attacker.example:" + port, "localhost:" + port, "127.0.0.1", "127.0.0.1:1",
			"[::1]:" + port, "127.0.0.2:" + port, "LOCALHOST:" + port, "127.000.000.001:" + port,
		} {
			expect(b, "Host "+host, send(ctx, http.MethodGet, good, nil, func(r *http.Request) { r.Host = host }), http.StatusMisdirectedRequest)
		}
	})
}

func TestCallback_FetchMetadata_Req05(t *testing.T) {
	hostileThenGood(t, func(ctx context.Context, b *testBrowser, p authRequest) {
		good := p.callback("code", p.code, "state", p.state, "iss", b.as.Issuer())
		for _, h := range [][2]string{
			{"Sec-Fetch-Mode", "cors"}, {"Sec-Fetch-Mode", "no-cors"}, {"Sec-Fetch-Mode", "websocket"},
			{"Sec-Fetch-Dest", "image"}, {"Sec-Fetch-Dest", "iframe"}, {"Sec-Fetch-Dest", "script"},
		} {
			r := send(ctx, http.MethodGet, good, nil, func(r *http.Request) { r.Header.Set(h[0], h[1]) })
			expect(b, h[0]+": "+h[1], r, http.StatusForbidden)
		}
		r := send(ctx, http.MethodGet, good, nil, func(r *http.Request) { r.Header.Add("Sec-Fetch-Mode", "cors") })
		expect(b, "navigate plus cors", r, http.StatusForbidden)
	})
}

func TestCallback_FetchMetadataAbsentIsAccepted_Req05(t *testing.T) {
	as := authtest.New(t)
	var r response
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
		r = send(ctx, http.MethodGet, p.callback("code", p.code, "state", p.state, "iss", b.as.Issuer()), nil, func(r *http.Request) {
			r.Header.Del("Sec-Fetch-Mode")
			r.Header.Del("Sec-Fetch-Dest")
		})
	})
	if _, err := runFlow(t, mustNew(t, testConfig(as, b))); err != nil {
		t.Fatalf("Token: %v", err)
	}
	b.wait(t)
	if r.body != successPage {
		t.Errorf("a callback without fetch metadata got %d", r.status)
	}
}

func TestCallback_WrongStateDoesNotEndFlow_Req06(t *testing.T) {
	hostileThenGood(t, func(ctx context.Context, b *testBrowser, p authRequest) {
		for i := range 100 {
			r := get(ctx, p.callback("code", p.code, "state", fmt.Sprintf("guess-%d", i), "iss", b.as.Issuer()))
			expect(b, "wrong state", r, http.StatusBadRequest)
		}
	})
}

func TestCallback_MissingOrAlteredState_Req07(t *testing.T) {
	hostileThenGood(t, func(ctx context.Context, b *testBrowser, p authRequest) {
		last := "A"
		if strings.HasSuffix(p.state, "A") {
			last = "B"
		}
		altered := p.state[:len(p.state)-1] + last
		for label, kv := range map[string][]string{
			"missing":  {"code", p.code, "iss", b.as.Issuer()},
			"empty":    {"code", p.code, "state", "", "iss", b.as.Issuer()},
			"altered":  {"code", p.code, "state", altered, "iss", b.as.Issuer()},
			"prefix":   {"code", p.code, "state", p.state[:20], "iss", b.as.Issuer()},
			"extended": {"code", p.code, "state", p.state + "x", "iss", b.as.Issuer()},
		} {
			expect(b, label+" state", get(ctx, p.callback(kv...)), http.StatusBadRequest)
		}
		if n := tokenRequests(b.as); n != 0 {
			b.note(fmt.Sprintf("%d token requests before the honest callback", n))
		}
	})
}

func TestCallback_ErrorWithWrongStateIgnored_Req14(t *testing.T) {
	hostileThenGood(t, func(ctx context.Context, b *testBrowser, p authRequest) {
		r := get(ctx, p.callback("error", "access_denied", "error_description", "nope", "state", "wrong", "iss", b.as.Issuer()))
		expect(b, "error with wrong state", r, http.StatusBadRequest)
	})
}

func TestCallback_AccessTokenInQueryIgnored_Req10(t *testing.T) {
	as := authtest.New(t)
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
		get(ctx, p.callback("access_token", "SNTL-AT-injected", "token_type", "Bearer", "state", p.state, "iss", b.as.Issuer()))
	})
	res, err := runFlow(t, mustNew(t, testConfig(as, b)))
	b.wait(t)
	if !errors.Is(err, ErrMalformedResponse) || res != nil {
		t.Fatalf("Token = %v, %v; want ErrMalformedResponse and no token", res, err)
	}
}

func TestCallback_ErrorResponse_Req13_Req16(t *testing.T) {
	as := authtest.New(t)
	var page response
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
		page = get(ctx, p.callback("error", "access_denied", "error_description", "The user said no",
			"error_uri", "https://evil.example/help", "state", p.state, "iss", b.as.Issuer()))
	})
	_, err := runFlow(t, mustNew(t, testConfig(as, b)))
	b.wait(t)
	ae, ok := oauthwire.As(err)
	if !ok {
		t.Fatalf("Token error = %v, want *oauthwire.Error", err)
	}
	if ae.Op != opAuthorization || ae.Status != 0 || ae.Code != "access_denied" || ae.Description != "The user said no" || ae.URI != "https://evil.example/help" {
		t.Errorf("error = %+v", ae)
	}
	if want := "authorization: the server refused (access_denied): The user said no"; err.Error() != want {
		t.Errorf("error = %q, want %q (error_uri is never in it)", err, want)
	}
	if page.body != failurePage {
		t.Errorf("browser got %q, want the failure page", page.body)
	}
	if got := b.URLs(); len(got) != 1 {
		t.Errorf("opener called %d times; error_uri must never be opened", len(got))
	}
	if n := tokenRequests(as); n != 0 {
		t.Errorf("token requests = %d, want 0", n)
	}
}
