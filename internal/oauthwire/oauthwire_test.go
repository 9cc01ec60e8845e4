package oauthwire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/sesame-auth/sesame/internal/redact"
)

// server answers every request with handler and records the last one.
type server struct {
	*httptest.Server
	last atomic.Pointer[http.Request]
	form atomic.Pointer[url.Values]
	hits atomic.Int32
}

func newServer(t *testing.T, handler http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		_ = r.ParseForm()
		f := r.PostForm
		s.form.Store(&f)
		s.last.Store(r)
		handler(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// answer writes status, content type and body.
func answer(status int, ctype, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

const refreshToken = "SNTL-RT-0123456789"

// refresh is a token refresh request carrying refreshToken.
func refresh(u string) Request {
	return Request{Op: "token refresh", URL: u, Form: url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {"cli"},
	}}
}

func TestDo_Answers(t *testing.T) {
	tests := []struct {
		name        string
		handler     http.HandlerFunc
		wantErr     string // substring of the error; "" for success
		wantCode    string
		wantStatus  int
		wantKind    error
		wantField   string
		wantValue   any
		wantNoQuote string // a part of the body the error must not quote
	}{
		{name: "json", handler: answer(200, "application/json", `{"access_token":"at","expires_in":60}`),
			wantField: "expires_in", wantValue: float64(60)},
		{name: "json with a charset", handler: answer(200, "application/json; charset=utf-8", `{"scope":"a b"}`),
			wantField: "scope", wantValue: "a b"},
		{name: "form, as GitHub answers", handler: answer(200, "application/x-www-form-urlencoded", "access_token=at&scope=x+y"),
			wantField: "scope", wantValue: "x y"},
		{name: "json with the wrong type", handler: answer(200, "text/html", ` {"access_token":"at"}`),
			wantField: "access_token", wantValue: "at"},
		{name: "empty error member with 200", handler: answer(200, "application/json", `{"access_token":"at","error":""}`),
			wantField: "access_token", wantValue: "at"},
		{name: "oauth error", handler: answer(400, "application/json", `{"error":"invalid_grant","error_description":"token expired"}`),
			wantErr: "token refresh: the server refused (400 invalid_grant): token expired", wantCode: "invalid_grant", wantStatus: 400},
		{name: "oauth error as a form", handler: answer(400, "text/plain", "error=authorization_pending"),
			wantErr: "token refresh: the server refused (400 authorization_pending)", wantCode: "authorization_pending", wantStatus: 400},
		{name: "oauth error with 200", handler: answer(200, "application/json", `{"error":"invalid_grant"}`),
			wantErr: "token refresh: the server refused (200 invalid_grant)", wantCode: "invalid_grant", wantStatus: 200},
		{name: "status without an oauth error", handler: answer(502, "text/html", "<html>proxy SNTL-BODY</html>"),
			wantErr: "token refresh: the server answered 502 Bad Gateway", wantStatus: 502, wantNoQuote: "SNTL-BODY"},
		{name: "oversized body", handler: answer(200, "application/json", `{"a":"`+strings.Repeat("x", MaxBody)+`"}`),
			wantErr: "token refresh: the server's answer is unusable: it is larger than 1 MiB", wantStatus: 200, wantKind: ErrUnusable},
		{name: "oversized error body", handler: answer(400, "application/json", `{"error":"`+strings.Repeat("x", MaxBody)+`"}`),
			wantErr: "larger than 1 MiB", wantStatus: 400, wantKind: ErrUnusable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handler)
			resp, err := Do(t.Context(), srv.Client(), refresh(srv.URL))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := resp.Fields[tt.wantField]; got != tt.wantValue {
					t.Errorf("Fields[%q] = %v, want %v", tt.wantField, got, tt.wantValue)
				}
				return
			}
			e, ok := As(err)
			if !ok {
				t.Fatalf("err = %v (%T), want an *Error", err, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || e.Code != tt.wantCode || e.Status != tt.wantStatus {
				t.Errorf("err = %q (code %q, status %d), want %q (code %q, status %d)", err, e.Code, e.Status, tt.wantErr, tt.wantCode, tt.wantStatus)
			}
			if tt.wantKind != nil && !errors.Is(err, tt.wantKind) {
				t.Errorf("err = %v, want it to match %v", err, tt.wantKind)
			}
			if tt.wantNoQuote != "" && strings.Contains(err.Error(), tt.wantNoQuote) {
				t.Errorf("err = %q quotes the body", err)
			}
		})
	}
}

func TestSend_Request(t *testing.T) {
	srv := newServer(t, answer(201, "application/json", `{}`))
	c := srv.Client()
	resp, err := Send(t.Context(), c, Request{
		Op: "client registration", URL: srv.URL + "/register", JSON: []byte(`{"client_name":"sesame"}`),
		Bearer: "SNTL-RAT", Header: http.Header{"Dpop": {"proof"}},
	})
	if err != nil || resp.Status != 201 {
		t.Fatalf("Send = %+v, %v", resp, err)
	}
	r := srv.last.Load()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Accept") != "application/json" ||
		r.Header.Get("Authorization") != "Bearer SNTL-RAT" || r.Header.Get("DPoP") != "proof" {
		t.Errorf("request: %s %v", r.Method, r.Header)
	}

	if _, err := Send(t.Context(), c, refresh(srv.URL)); err != nil {
		t.Fatal(err)
	}
	r = srv.last.Load()
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || srv.form.Load().Get("refresh_token") != refreshToken {
		t.Errorf("form request: %v %v", r.Header, srv.form.Load())
	}

	if _, err := Send(t.Context(), c, Request{Op: "registration deletion", Method: http.MethodDelete, URL: srv.URL, Bearer: "x"}); err != nil {
		t.Fatal(err)
	}
	if r := srv.last.Load(); r.Method != http.MethodDelete || r.ContentLength != 0 {
		t.Errorf("delete: %s, %d bytes", r.Method, r.ContentLength)
	}
	if c.CheckRedirect != nil {
		t.Error("the caller's client was changed")
	}
}

// TestSend_Replayable: a form body can be sent again, as internal/dpop's
// transport does when the server asks for a nonce.
func TestSend_Replayable(t *testing.T) {
	srv := newServer(t, answer(200, "application/json", `{}`))
	var bodies []string
	c := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.GetBody == nil {
			return nil, errors.New("no GetBody")
		}
		b, _ := r.GetBody()
		data, _ := io.ReadAll(b)
		bodies = append(bodies, string(data))
		return srv.Client().Transport.RoundTrip(r)
	})}
	if _, err := Send(t.Context(), c, refresh(srv.URL)); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 || !strings.Contains(bodies[0], "refresh_token=") {
		t.Errorf("bodies = %q", bodies)
	}
}

func TestSend_RedirectNotFollowed_Req22(t *testing.T) {
	target := newServer(t, answer(200, "application/json", `{"access_token":"at"}`))
	for _, status := range []int{301, 302, 303, 307, 308} {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/token?x=1", status)
		})
		_, err := Send(t.Context(), srv.Client(), refresh(srv.URL))
		e, ok := As(err)
		if !ok || e.Status != status || !errors.Is(err, ErrRedirect) {
			t.Fatalf("%d: err = %v, want an *Error for the redirect", status, err)
		}
		want := fmt.Sprintf("token refresh: the server answered %d %s, a redirect", status, http.StatusText(status))
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%d: err = %q, want it to start %q", status, err, want)
		}
	}
	if n := target.hits.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}

// TestSend_ServerTextSanitized_Req16: the server's words reach an error
// without controls, escapes, format characters, markup, the request's
// secrets or anything that looks like a token, and capped.
func TestSend_ServerTextSanitized_Req16(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
	desc := "bad \x1b[31mred\x1b[0m \x1b]0;title\x07 \u202egnp.exe\x00 <script>x</script> " + refreshToken +
		" refresh_token=" + refreshToken + " " + jwt + "\r\nsecond line " + strings.Repeat("é", 300)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		b, _ := json.Marshal(map[string]string{"error": "invalid\x1b[2J_grant", "error_description": desc, "error_uri": "https://as.example/e?x=<b>"})
		_, _ = w.Write(b)
	})
	_, err := Do(t.Context(), srv.Client(), refresh(srv.URL))
	e, ok := As(err)
	if !ok {
		t.Fatalf("err = %v", err)
	}
	if e.Code != CodeInvalidGrant {
		t.Errorf("code = %q", e.Code)
	}
	for _, s := range []string{err.Error(), e.Description, e.URI, fmt.Sprintf("%+v", e)} {
		for _, bad := range []string{refreshToken, jwt[:20], "\x1b", "title", "<", ">", "\r", "\n"} {
			if strings.Contains(s, bad) {
				t.Errorf("%q holds %q", s, bad)
			}
		}
		for _, r := range s {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Errorf("%q holds %U", s, r)
			}
		}
	}
	if !strings.HasPrefix(e.Description, "bad red  gnp.exe scriptx/script REDACTED refresh_token=REDACTED REDACTED") {
		t.Errorf("description = %q", e.Description)
	}
	if n := utf8.RuneCountInString(e.Description); n > redact.MaxText {
		t.Errorf("description has %d runes", n)
	}
	if strings.Contains(err.Error(), "https://as.example") {
		t.Errorf("error_uri is shown: %q", err)
	}
}

// TestSend_TransportErrors: the URL, whose query may hold anything, is
// never quoted, the cause stays reachable, and a closed or reset
// connection reads as words.
func TestSend_TransportErrors(t *testing.T) {
	resetErr := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	echo := errors.New("proxy refused body refresh_token=" + refreshToken + " and " + refreshToken)
	tests := []struct {
		name string
		rt   roundTripFunc
		want string
		is   error
	}{
		{"eof", func(*http.Request) (*http.Response, error) { return nil, io.EOF },
			"token refresh: the server closed the connection without an answer", io.EOF},
		{"unexpected eof", func(*http.Request) (*http.Response, error) { return nil, io.ErrUnexpectedEOF },
			"token refresh: the server closed the connection in the middle of its answer", io.ErrUnexpectedEOF},
		{"reset", func(*http.Request) (*http.Response, error) { return nil, resetErr },
			"token refresh: the server reset the connection", syscall.ECONNRESET},
		{"deadline", func(*http.Request) (*http.Response, error) { return nil, context.DeadlineExceeded },
			"token refresh: context deadline exceeded", context.DeadlineExceeded},
		{"echo of the body", func(*http.Request) (*http.Response, error) { return nil, echo },
			"token refresh: proxy refused body refresh_token=REDACTED and REDACTED", echo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := refresh("https://as.example/token?session=SNTL-QUERY")
			_, err := Send(t.Context(), &http.Client{Transport: tt.rt}, req)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("err = %v does not match %v", err, tt.is)
			}
			var ue *url.Error
			if errors.As(err, &ue) {
				t.Errorf("the *url.Error, which quotes the URL, is reachable")
			}
			if e, _ := As(err); e.Answered() {
				t.Errorf("a transport failure counts as an answer")
			}
		})
	}
}

// TestSend_ServerClosesConnection: a real server that hangs up before
// answering.
func TestSend_ServerClosesConnection(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	})
	_, err := Send(t.Context(), srv.Client(), refresh(srv.URL+"/token?x=SNTL-QUERY"))
	if err == nil || err.Error() != "token refresh: the server closed the connection without an answer" {
		t.Fatalf("err = %v", err)
	}
}

func TestStripURLError(t *testing.T) {
	inner := errors.New("dial tcp 192.0.2.1:443: connect: connection refused")
	err := StripURLError(&url.Error{Op: "Post", URL: "https://as.example/token?code=SNTL", Err: inner})
	if err != inner {
		t.Errorf("StripURLError = %v, want the cause itself", err)
	}
	if StripURLError(nil) != nil {
		t.Error("StripURLError(nil) is not nil")
	}
}

func TestError_Text(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{NewError("token refresh", 400, "invalid_grant", "token expired", "", refreshToken), "token refresh: the server refused (400 invalid_grant): token expired"},
		{NewError("device token poll", 400, "access_denied", "", ""), "device token poll: the server refused (400 access_denied)"},
		{NewError("authorization", 0, "access_denied", "the user said no", "https://as.example/why"), "authorization: the server refused (access_denied): the user said no"},
		{NewError("authorization", 0, "", "", ""), "authorization: the server refused"},
		{NewError("revocation", 503, "", "", ""), "revocation: the server answered 503 Service Unavailable"},
		{NewError("revocation", 599, "", "", ""), "revocation: the server answered 599"},
		{NewError("code exchange", 400, "x", "echo "+refreshToken, "", refreshToken), "code exchange: the server refused (400 x): echo REDACTED"},
		{Unusable("code exchange", 200, "it has no access_token"), "code exchange: the server's answer is unusable: it has no access_token"},
		{&Error{Op: "client registration", Status: 400, Code: "\x1b[31mbad\x1b[0m"}, "client registration: the server refused (400 bad)"},
		{&Error{Status: 500}, "oauth request: the server answered 500 Internal Server Error"},
		{&Error{Op: "pushed authorization request", Err: errors.New("boom")}, "pushed authorization request: boom"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestError_Codes(t *testing.T) {
	denied := Sentinel(CodeAccessDenied, "sign-in was denied")
	e := NewError("device token poll", 400, CodeAccessDenied, "", "")
	wrapped := fmt.Errorf("login: %w", e)
	switch {
	case !errors.Is(wrapped, denied):
		t.Error("a wrapped access_denied does not match its sentinel")
	case errors.Is(NewError("x", 400, CodeInvalidGrant, "", ""), denied):
		t.Error("invalid_grant matches the access_denied sentinel")
	case errors.Is(&Error{Op: "x"}, Sentinel("", "empty")):
		t.Error("an error without a code matches an empty sentinel")
	case CodeOf(wrapped) != CodeAccessDenied || CodeOf(errors.New("x")) != "":
		t.Error("CodeOf")
	case !e.HasCode(CodeInvalidGrant, CodeAccessDenied) || e.HasCode(CodeSlowDown):
		t.Error("HasCode")
	case denied.Error() != "sign-in was denied":
		t.Error("sentinel text")
	}
}

func TestResponse_Token(t *testing.T) {
	tests := []struct {
		ctype, body string
		want        Token
		wantErr     string
	}{
		{"application/json", `{"access_token":"at","token_type":"Bearer","refresh_token":"rt","expires_in":3600,"id_token":"x"}`,
			Token{AccessToken: "at", TokenType: "Bearer", RefreshToken: "rt", ExpiresIn: 3600}, ""},
		{"application/json", `{"access_token":"at","expires_in":"60"}`, Token{AccessToken: "at", ExpiresIn: 60}, ""},
		{"application/json", `{"access_token":"at","expires_in":0.5}`, Token{AccessToken: "at", ExpiresIn: 1}, ""},
		{"application/json", `{"access_token":"at","expires_in":-5}`, Token{AccessToken: "at"}, ""},
		{"application/json", `{"access_token":"at","expires_in":1e300}`, Token{AccessToken: "at", ExpiresIn: 1e15}, ""},
		{"application/json", `{"access_token":"at","token_type":5}`, Token{AccessToken: "at", TokenType: "5"}, ""},
		{"application/json", `{"access_token":"at","token_type":null}`, Token{AccessToken: "at"}, ""},
		{"application/x-www-form-urlencoded", "access_token=at&token_type=bearer&expires_in=28800", Token{AccessToken: "at", TokenType: "bearer", ExpiresIn: 28800}, ""},
		{"application/json", `{"token_type":"Bearer"}`, Token{}, "code exchange: the server's answer is unusable: it has no access_token"},
		{"text/html", `<html>`, Token{}, "code exchange: the server's answer is unusable: it is neither a JSON object nor a form"},
		{"application/json", `[1]`, Token{}, "neither a JSON object"},
	}
	for _, tt := range tests {
		r := NewResponse("code exchange", 200, http.Header{"Content-Type": {tt.ctype}}, []byte(tt.body))
		got, err := r.Token()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrUnusable) {
				t.Errorf("%s: err = %v, want %q", tt.body, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.body, err)
			continue
		}
		if got.Fields == nil {
			t.Errorf("%s: no Fields", tt.body)
		}
		got.Fields = nil
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.body, *got, tt.want)
		}
	}
}

func TestResponse_Seconds(t *testing.T) {
	r := NewResponse("", 200, http.Header{"Content-Type": {"application/json"}},
		[]byte(`{"a":5,"b":"7.5","c":"soon","d":null,"e":true}`))
	for _, tt := range []struct {
		k              string
		v              float64
		present, valid bool
	}{{"a", 5, true, true}, {"b", 7.5, true, true}, {"c", 0, true, false}, {"d", 0, false, false}, {"e", 0, true, false}, {"f", 0, false, false}} {
		v, present, valid := r.Seconds(tt.k)
		if v != tt.v || present != tt.present || valid != tt.valid {
			t.Errorf("Seconds(%q) = %v, %v, %v", tt.k, v, present, valid)
		}
	}
}

func TestFields(t *testing.T) {
	for _, bad := range [][2]string{{"application/json", `{"a":`}, {"text/html", "<html>"}, {"application/json", `[1]`}} {
		if got := fields(bad[0], []byte(bad[1])); got != nil {
			t.Errorf("fields(%q, %q) = %v, want nil", bad[0], bad[1], got)
		}
	}
	if got := fields("application/problem+json", []byte(`{"error":"x"}`)); got["error"] != "x" {
		t.Errorf("+json: %v", got)
	}
}

// FuzzError checks the invariant of requirement 16: whatever the server
// sends, an error is one line without control or format characters or
// markup, and never holds the request's secret.
func FuzzError(f *testing.F) {
	f.Add("application/json", []byte(`{"error":"access_denied","error_description":"no \u001b[31m"}`), 400)
	f.Add("application/x-www-form-urlencoded", []byte("error=slow_down&error_description=%1b%5b2J"+refreshToken), 400)
	f.Add("text/html", []byte("<html>"+refreshToken+"</html>"), 502)
	f.Add("application/json", []byte(`{"error":"`+refreshToken[:8]+`","error_description":"`+refreshToken[8:]+`"}`), 200)
	f.Fuzz(func(t *testing.T, ctype string, body []byte, status int) {
		r := NewResponse("token refresh", status, http.Header{"Content-Type": {ctype}}, body, refreshToken)
		err := r.Err()
		if err == nil {
			return
		}
		s := err.Error()
		if strings.Contains(s, refreshToken) {
			t.Fatalf("error %q holds the secret", s)
		}
		for _, r := range s {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '<' || r == '>' {
				t.Fatalf("error %q holds %U", s, r)
			}
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestSend_Refused(t *testing.T) {
	if _, err := Send(t.Context(), http.DefaultClient, refresh("https://as.example/\x7f?code=SNTL")); err == nil ||
		err.Error() != "token refresh: the endpoint is not a valid URL" {
		t.Errorf("invalid URL: %v", err)
	}
	if _, err := Send(t.Context(), nil, refresh("https://as.example/token")); err == nil ||
		err.Error() != "token refresh: no http client" {
		t.Errorf("no client: %v", err)
	}
}
