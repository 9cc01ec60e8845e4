package loopback

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// fuzzCallbackHost is the listener address the fuzzed callbacks are
// addressed to; the handler is called directly, so nothing listens on it.
const fuzzCallbackHost = "127.0.0.1:49731"

// FuzzCallbackQuery sends arbitrary raw query strings to the callback
// handler of one attempt. {{STATE}}, {{CODE}} and {{ISS}} in the input are
// replaced with the attempt's state, a code the test authorization server
// issued for the attempt's PKCE challenge and redirect URI, and the
// escaped issuer, so the fuzzer reaches the checks after the state and,
// with the right code, a real exchange.
//
// Properties:
//   - the body is one of the two fixed pages or one of the bare status
//     answers, byte for byte, and never reflects the query;
//   - the headers are exactly the fixed set for that kind of answer;
//   - a query that does not carry the attempt's state exactly once never
//     ends the flow: no outcome, state unspent, no page;
//   - a page is sent exactly when the flow ends, success exactly when the
//     token came back, and a success only for the issued code with a good
//     iss; any error is one clean line holding neither state nor code.
//
// mode picks the iss policy: 0 announced, 1 not announced, 2 not
// announced but allowed.
func FuzzCallbackQuery(f *testing.F) {
	file, err := os.Open(filepath.Join("testdata", "callback-queries.txt"))
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(file)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		for mode := range uint8(3) {
			f.Add(line, mode)
		}
		n++
	}
	_ = file.Close()
	if err := sc.Err(); err != nil || n == 0 {
		f.Fatalf("no seeds in testdata/callback-queries.txt: %v", err)
	}
	f.Add("", uint8(0))

	// One test authorization server for the whole run.
	as := authtest.New(f)

	var flows [3]*Flow
	for i := range flows {
		cfg := testConfig(as, nil)
		cfg.IssParameterSupported = i == 0
		cfg.AllowUnannouncedIss = i == 2
		fl, err := New(cfg)
		if err != nil {
			f.Fatal(err)
		}
		flows[i] = fl
	}
	redirectURI := "http://" + fuzzCallbackHost + callbackPath

	statusBodies := map[string]int{}
	for _, code := range []int{http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound,
		http.StatusMethodNotAllowed, http.StatusMisdirectedRequest} {
		statusBodies[strconv.Itoa(code)+" "+http.StatusText(code)+"\n"] = code
	}

	f.Fuzz(func(t *testing.T, raw string, mode uint8) {
		fl := flows[int(mode)%len(flows)]
		secrets := attemptSecrets{state: newSecret(), verifier: oauth2.GenerateVerifier()}
		// A code only where the input asks for one: the server keeps every
		// code it issued, and most inputs never reach the exchange.
		code := "SNTL-CODE-never-issued"
		if strings.Contains(raw, "{{CODE}}") {
			code = as.IssueCode(authtest.AuthorizeRequest{
				ClientID: testClientID, RedirectURI: redirectURI, ResponseType: "code",
				CodeChallenge: authtest.S256Challenge(secrets.verifier), CodeChallengeMethod: "S256",
			}, authtest.User{Subject: "alice"})
		}
		query := strings.NewReplacer("{{STATE}}", secrets.state, "{{CODE}}", code, "{{ISS}}", url.QueryEscape(as.Issuer())).Replace(raw)

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		oc := fl.cfg.OAuth2
		oc.RedirectURL = redirectURI
		cb := newCallback(ctx, fl, newAuthRequests(fl, &oc, secrets), fuzzCallbackHost)

		req := &http.Request{
			Method:     http.MethodGet,
			URL:        &url.URL{Path: callbackPath, RawQuery: query},
			Proto:      "HTTP/1.1",
			ProtoMajor: 1,
			ProtoMinor: 1,
			Header:     http.Header{"Sec-Fetch-Mode": {"navigate"}, "Sec-Fetch-Dest": {"document"}},
			Host:       fuzzCallbackHost,
			RequestURI: callbackPath + "?" + query,
		}
		req = req.WithContext(ctx)
		rec := httptest.NewRecorder()
		cb.ServeHTTP(rec, req)
		res := rec.Result()
		body := rec.Body.String()

		var out *outcome
		select {
		case o := <-cb.outcome:
			out = &o
		default:
		}

		// The answer is fixed text with fixed headers.
		page := body == successPage || body == failurePage
		wantHeader := http.Header{
			"Referrer-Policy":         {"no-referrer"},
			"Content-Security-Policy": {pageCSP},
			"X-Content-Type-Options":  {"nosniff"},
			"Cache-Control":           {"no-store"},
			"Content-Length":          {strconv.Itoa(len(body))},
		}
		switch status, bare := statusBodies[body]; {
		case page:
			if res.StatusCode != http.StatusOK {
				t.Fatalf("page with status %d", res.StatusCode)
			}
			wantHeader["Content-Type"] = []string{"text/html; charset=utf-8"}
			wantHeader["Connection"] = []string{"close"}
		case bare:
			if res.StatusCode != status {
				t.Fatalf("body %q with status %d", body, res.StatusCode)
			}
			wantHeader["Content-Type"] = []string{"text/plain; charset=utf-8"}
		default:
			t.Fatalf("answer is not a fixed text: status %d, body %q", res.StatusCode, body)
		}
		if !equalHeaders(res.Header, wantHeader) {
			t.Fatalf("headers = %v, want exactly %v", res.Header, wantHeader)
		}

		// Only the attempt's state, once, can end the flow.
		q, perr := url.ParseQuery(query)
		rightState := perr == nil && slices.Equal(q["state"], []string{secrets.state})
		if !rightState && (page || out != nil || cb.isSpent()) {
			t.Fatalf("query %q without the state ended the flow: page=%v outcome=%v spent=%v", query, page, out != nil, cb.isSpent())
		}
		if page != (out != nil) || page != cb.isSpent() {
			t.Fatalf("page=%v but outcome=%v spent=%v", page, out != nil, cb.isSpent())
		}
		if out == nil {
			return
		}
		if (body == successPage) != (out.err == nil) {
			t.Fatalf("page %q for outcome error %v", body[:min(len(body), 120)], out.err)
		}
		if out.err == nil {
			goodIss := slices.Equal(q["iss"], []string{as.Issuer()}) || (mode%3 == 1 && q["iss"] == nil) || (mode%3 == 2 && q["iss"] == nil)
			if out.token == nil || out.token.AccessToken == "" || out.token.AccessToken != issuedAccessToken(as) ||
				!slices.Equal(q["code"], []string{code}) || q.Has("error") || !goodIss {
				t.Fatalf("query %q completed the login (token %v)", query, out.token)
			}
			return
		}
		msg := out.err.Error()
		if !isOneCleanLine(msg) || strings.ContainsAny(msg, "<>") {
			t.Fatalf("error is not one clean line: %q", msg)
		}
		for _, secret := range []string{secrets.state, code, secrets.verifier} {
			if strings.Contains(msg, secret) {
				t.Fatalf("error %q holds a secret", msg)
			}
		}
		if ae, ok := oauthwire.As(out.err); ok && (!isOneCleanLine(ae.URI) || strings.ContainsAny(ae.URI, "<>")) {
			t.Fatalf("error_uri kept as %q", ae.URI)
		}
	})
}

// equalHeaders reports whether got has exactly the names and values of want.
func equalHeaders(got, want http.Header) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			return false
		}
	}
	return true
}

// isOneCleanLine reports whether s is valid UTF-8 with no control
// characters (line breaks and escapes included) and no Unicode line or
// paragraph separators.
func isOneCleanLine(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}
