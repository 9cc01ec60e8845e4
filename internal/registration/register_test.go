package registration

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sesame-auth/sesame/internal/oauthwire"
	"github.com/sesame-auth/sesame/internal/redact"
)

func TestRegister_SendsFixedMetadata(t *testing.T) {
	as := newAS(t)
	if _, err := Register(context.Background(), as.srv.Client(), as.endpoint(), testRequest()); err != nil {
		checkErr(t, err)
		t.Fatal(err)
	}
	posts := as.requests(http.MethodPost)
	if len(posts) != 1 || len(as.all()) != 1 {
		t.Fatalf("%d POSTs, %d requests; want exactly one POST", len(posts), len(as.all()))
	}
	p := posts[0]
	if p.Path != "/register" {
		t.Errorf("path = %q", p.Path)
	}
	if ct := p.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if a := p.Header.Get("Accept"); a != "application/json" {
		t.Errorf("Accept = %q", a)
	}
	if h := p.Header.Get("Authorization"); h != "" {
		t.Errorf("Authorization = %q on an open registration", h)
	}
	var got map[string]any
	if err := json.Unmarshal(p.Body, &got); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	want := map[string]any{
		"client_name":                "sesame",
		"redirect_uris":              []any{"http://127.0.0.1/callback", "http://[::1]/callback"},
		"grant_types":                []any{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"},
		"response_types":             []any{"code"},
		"token_endpoint_auth_method": "none",
		"application_type":           "native",
		"scope":                      "openid offline_access",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("body = %s\nwant  %v", p.Body, want)
	}
}

// Empty optional members are left out; the fixed ones are always sent.
func TestRegister_OmitsEmptyOptionalMembers(t *testing.T) {
	as := newAS(t)
	as.regBody = func(base string) string { return okBody(base, map[string]any{"redirect_uris": nil}) }
	if _, err := Register(context.Background(), as.srv.Client(), as.endpoint(), Request{}); err != nil {
		checkErr(t, err)
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(as.requests(http.MethodPost)[0].Body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"response_types":             []any{"code"},
		"token_endpoint_auth_method": "none",
		"application_type":           "native",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("body = %v\nwant  %v", got, want)
	}
}

func TestRegister_Success(t *testing.T) {
	for _, status := range []int{http.StatusCreated, http.StatusOK} {
		as := newAS(t)
		as.regStatus = status
		cl, err := Register(context.Background(), as.srv.Client(), as.endpoint(), testRequest())
		checkErr(t, err)
		if err != nil {
			t.Fatalf("HTTP %d: %v", status, err)
		}
		want := Client{ClientID: testClientID, RegistrationAccessToken: testToken, RegistrationClientURI: as.clientURI()}
		if *cl != want {
			t.Errorf("HTTP %d: client = %+v, want %+v", status, *cl, want)
		}
		if n := len(as.requests(http.MethodDelete)); n != 0 {
			t.Errorf("HTTP %d: %d DELETEs after a success", status, n)
		}
	}
}

// Variations a server may send that are still a public native client.
func TestRegister_AcceptsEquivalentResponses(t *testing.T) {
	for name, extra := range map[string]map[string]any{
		"client_id of 512":           {"client_id": strings.Repeat("a", 512), "registration_client_uri": nil},
		"client_secret empty":        {"client_secret": ""},
		"client_secret null":         {"client_secret": json.RawMessage("null")},
		"no auth method":             {"token_endpoint_auth_method": nil},
		"no application_type":        {"application_type": nil},
		"no redirect_uris":           {"redirect_uris": nil},
		"redirect_uris reordered":    {"redirect_uris": []string{"http://[::1]/callback", "http://127.0.0.1/callback"}},
		"unknown members":            {"software_id": "x", "client_secret_expires_at": 0},
		"no management":              {"registration_client_uri": nil, "registration_access_token": nil},
		"application_type null":      {"application_type": json.RawMessage("null")},
		"auth method null":           {"token_endpoint_auth_method": json.RawMessage("null")},
		"visible ASCII punctuation":  {"client_id": "a!~#$%&'()*+,-./:;<=>?@[]^_`{|}", "registration_client_uri": nil},
		"redirect_uris with repeats": {"redirect_uris": []string{"http://[::1]/callback", "http://127.0.0.1/callback", "http://[::1]/callback"}},
	} {
		t.Run(name, func(t *testing.T) {
			as := newAS(t)
			as.regBody = func(base string) string { return okBody(base, extra) }
			cl, err := Register(context.Background(), as.srv.Client(), as.endpoint(), testRequest())
			checkErr(t, err)
			if err != nil {
				t.Fatal(err)
			}
			if cl.ClientID == "" {
				t.Error("no client id")
			}
			if n := len(as.requests(http.MethodDelete)); n != 0 {
				t.Errorf("%d DELETEs", n)
			}
		})
	}
}

// Every refusal of a created client is followed by exactly one DELETE, with
// the registration access token, to the management URI.
func TestRegister_Refusals(t *testing.T) {
	for name, tc := range map[string]struct {
		extra map[string]any
		want  error
	}{
		"client_secret":              {map[string]any{"client_secret": testSecret, "client_secret_expires_at": 0}, errClientSecret},
		"client_secret not a string": {map[string]any{"client_secret": 42}, errClientSecret},
		"client_secret object":       {map[string]any{"client_secret": map[string]any{"v": testSecret}}, errClientSecret},
		"auth method basic":          {map[string]any{"token_endpoint_auth_method": "client_secret_basic"}, errAuthMethod},
		"auth method empty":          {map[string]any{"token_endpoint_auth_method": ""}, errAuthMethod},
		"auth method and secret":     {map[string]any{"token_endpoint_auth_method": "client_secret_post", "client_secret": testSecret}, errClientSecret},
		"no client_id":               {map[string]any{"client_id": nil}, errNoClientID},
		"empty client_id":            {map[string]any{"client_id": ""}, errNoClientID},
		"client_id with space":       {map[string]any{"client_id": "a b"}, errBadClientID},
		"client_id with escape":      {map[string]any{"client_id": "a\x1b[31mb"}, errBadClientID},
		"client_id with newline":     {map[string]any{"client_id": "a\nb"}, errBadClientID},
		"client_id not ASCII":        {map[string]any{"client_id": "clïent"}, errBadClientID},
		"client_id with DEL":         {map[string]any{"client_id": "a\x7f"}, errBadClientID},
		"client_id of 513":           {map[string]any{"client_id": strings.Repeat("a", 513)}, errBadClientID},
		"application_type web":       {map[string]any{"application_type": "web"}, errAppType},
		"application_type empty":     {map[string]any{"application_type": ""}, errAppType},
		"redirect_uris other":        {map[string]any{"redirect_uris": []string{"http://127.0.0.1/other", "http://[::1]/callback"}}, errRedirectURIs},
		"redirect_uris fewer":        {map[string]any{"redirect_uris": []string{"http://127.0.0.1/callback"}}, errRedirectURIs},
		"redirect_uris more":         {map[string]any{"redirect_uris": []string{"http://127.0.0.1/callback", "http://[::1]/callback", "https://evil.example/cb"}}, errRedirectURIs},
		"redirect_uris empty":        {map[string]any{"redirect_uris": []string{}}, errRedirectURIs},
		"redirect_uris case":         {map[string]any{"redirect_uris": []string{"http://127.0.0.1/Callback", "http://[::1]/callback"}}, errRedirectURIs},
	} {
		t.Run(name, func(t *testing.T) {
			as := newAS(t)
			as.regBody = func(base string) string { return okBody(base, tc.extra) }
			cl, err := Register(context.Background(), as.srv.Client(), as.endpoint(), testRequest())
			checkErr(t, err)
			if err == nil || cl != nil {
				t.Fatalf("accepted: %+v", cl)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			var e *oauthwire.Error
			if errors.As(err, &e) {
				t.Errorf("a refused success is not an error response: %v", err)
			}
			dels := as.requests(http.MethodDelete)
			if len(dels) != 1 {
				t.Fatalf("%d DELETEs, want exactly 1", len(dels))
			}
			if got := dels[0].Header.Get("Authorization"); got != "Bearer "+testToken {
				t.Errorf("DELETE Authorization = %q", got)
			}
			if dels[0].Path != "/clients/"+testClientID {
				t.Errorf("DELETE path = %q", dels[0].Path)
			}
			if n := len(as.all()); n != 2 {
				t.Errorf("%d requests, want the POST and the DELETE", n)
			}
		})
	}
}

// A refusal says when the client could not be cleaned up, without
// quoting the token or the server's text.
func TestRegister_RefusalCleanupFails(t *testing.T) {
	as := newAS(t)
	as.regBody = func(base string) string { return okBody(base, map[string]any{"client_secret": testSecret}) }
	as.delStatus = http.StatusInternalServerError
	as.delBody = `{"error":"server_error","error_description":"gone ` + testToken + `"}`
	_, err := Register(context.Background(), as.srv.Client(), as.endpoint(), testRequest())
	checkErr(t, err)
	if !errors.Is(err, errClientSecret) {
		t.Fatalf("err = %v", err)
	}
	var e *oauthwire.Error
	if !errors.As(err, &e) || e.Status != http.StatusInternalServerError || e.Code != "server_error" {
		t.Errorf("err = %v, want the DELETE's *Error inside", err)
	}
	if want := "; the client it made is left at the server (deleting the client registration: the server refused (500 server_error): gone REDACTED)"; !strings.HasSuffix(err.Error(), want) {
		t.Errorf("err = %v, want it to say the client was left behind: %q", err, want)
	}
	if n := len(as.requests(http.MethodDelete)); n != 1 {
		t.Errorf("%d DELETEs, want exactly 1 (no retry)", n)
	}
}

// A client secret with a management URI of another origin: refused, and the
// token is sent nowhere.
func TestRegister_SecretWithForeignManagementURI(t *testing.T) {
	other := newAS(t)
	as := newAS(t)
	as.regBody = func(base string) string {
		return okBody(base, map[string]any{"client_secret": testSecret, "registration_client_uri": other.clientURI()})
	}
	cl, err := Register(context.Background(), as.srv.Client(), as.endpoint(), testRequest())
	checkErr(t, err)
	if !errors.Is(err, errClientSecret) || cl != nil {
		t.Fatalf("err = %v, client = %+v", err, cl)
	}
	if !strings.Contains(err.Error(), "no usable way to delete") {
		t.Errorf("err = %v, want it to say the client was left behind", err)
	}
	if n := len(other.all()); n != 0 {
		t.Errorf("the other origin got %d requests", n)
	}
	if n := len(as.requests(http.MethodDelete)); n != 0 {
		t.Errorf("%d DELETEs", n)
	}
}

// A management URI the token may not be sent to is dropped, and the
// token with it.
func TestRegister_ManagementURIChecks(t *testing.T) {
	other := newAS(t)
	for name, uri := range map[string]func(base string) string{
		"other port":      func(string) string { return other.clientURI() },
		"other host":      func(string) string { return "https://as.example/clients/1" },
		"https same host": func(base string) string { return strings.Replace(base, "http:", "https:", 1) + "/clients/1" },
		"localhost name":  func(base string) string { return strings.Replace(base, "127.0.0.1", "localhost", 1) + "/clients/1" },
		"other loopback":  func(base string) string { return strings.Replace(base, "127.0.0.1", "127.0.0.2", 1) + "/clients/1" },
		"user info":       func(base string) string { return strings.Replace(base, "http://", "http://u:p@", 1) + "/clients/1" },
		"fragment":        func(base string) string { return base + "/clients/1#x" },
		"relative":        func(string) string { return "/clients/1" },
		"no scheme":       func(base string) string { return strings.TrimPrefix(base, "http:") + "/clients/1" },
		"javascript":      func(string) string { return "javascript:alert(1)" },
		"not a URL":       func(string) string { return "http://[::1" },
		"absent":          nil,
	} {
		t.Run(name, func(t *testing.T) {
			as := newAS(t)
			as.regBody = func(base string) string {
				if uri == nil {
					return okBody(base, map[string]any{"registration_client_uri": nil})
				}
				return okBody(base, map[string]any{"registration_client_uri": uri(base)})
			}
			cl, err := Register(context.Background(), as.srv.Client(), as.endpoint(), testRequest())
			checkErr(t, err)
			if err != nil {
				t.Fatal(err)
			}
			if cl.RegistrationClientURI != "" || cl.RegistrationAccessToken != "" {
				t.Errorf("kept %q with a token", cl.RegistrationClientURI)
			}
			if cl.ClientID != testClientID {
				t.Errorf("client id = %q", cl.ClientID)
			}
		})
	}
	if n := len(other.all()); n != 0 {
		t.Errorf("the other origin got %d requests", n)
	}
}

// A token that could not go into a header is dropped with its URI.
func TestRegister_UnusableToken(t *testing.T) {
	for name, tok := range map[string]any{
		"space":    "a b",
		"newline":  "a\r\nX-Evil: 1",
		"empty":    "",
		"too long": strings.Repeat("t", maxAccessTokenLen+1),
		"absent":   nil,
	} {
		t.Run(name, func(t *testing.T) {
			as := newAS(t)
			as.regBody = func(base string) string { return okBody(base, map[string]any{"registration_access_token": tok}) }
			cl, err := Register(context.Background(), as.srv.Client(), as.endpoint(), testRequest())
			checkErr(t, err)
			if err != nil {
				t.Fatal(err)
			}
			if cl.RegistrationClientURI != "" || cl.RegistrationAccessToken != "" {
				t.Errorf("kept %+v", cl)
			}
		})
	}
}

// An error response is shown with its code and description, sanitized and
// capped (requirement 16).
func TestRegister_ErrorResponse(t *testing.T) {
	as := newAS(t)
	as.regStatus = http.StatusBadRequest
	desc := "\x1b]0;title\x07" + "redirect uri \x1b[2Jrefused " + strings.Repeat("é", 300)
	as.regBody = func(string) string {
		b, _ := json.Marshal(map[string]string{
			"error":             "\x1b[31m<script>invalid_redirect_uri\x1b[0m\u202e",
			"error_description": desc,
		})
		return string(b)
	}
	cl, err := Register(context.Background(), as.srv.Client(), as.endpoint(), testRequest())
	checkErr(t, err)
	var e *oauthwire.Error
	if !errors.As(err, &e) || cl != nil {
		t.Fatalf("err = %v (%T)", err, err)
	}
	if e.Status != http.StatusBadRequest {
		t.Errorf("status = %d", e.Status)
	}
	if e.Code != "scriptinvalid_redirect_uri" {
		t.Errorf("code = %q", e.Code)
	}
	if want := "client registration: the server refused (400 scriptinvalid_redirect_uri): redirect uri refused éé"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Error() = %q, want it to start %q", err.Error(), want)
	}
	if utf8.RuneCountInString(e.Description) > redact.MaxText || !utf8.ValidString(e.Description) || strings.ContainsAny(e.Description, "\x1b\x07") ||
		strings.Contains(e.Description, "title") || !strings.HasSuffix(e.Description, "é…") {
		t.Errorf("description = %q (%d bytes)", e.Description, len(e.Description))
	}
	if n := len(as.requests(http.MethodDelete)); n != 0 {
		t.Errorf("%d DELETEs after an error response", n)
	}
}

// A body that is not an error document still gives the status.
func TestRegister_ErrorResponseNotJSON(t *testing.T) {
	for _, status := range []int{http.StatusBadGateway, http.StatusUnauthorized, http.StatusAccepted, http.StatusTemporaryRedirect} {
		as := newAS(t)
		as.regStatus = status
		as.regBody = func(string) string { return "<html>" + bodyMarker + " " + testToken + "</html>" }
		_, err := Register(context.Background(), as.srv.Client(), as.endpoint(), testRequest())
		checkErr(t, err)
		var e *oauthwire.Error
		if !errors.As(err, &e) || e.Status != status || e.Code != "" || e.Description != "" {
			t.Errorf("HTTP %d: err = %v, %+v", status, err, e)
		}
	}
}

// A redirect is returned, not followed.
func TestRegister_RedirectNotFollowed(t *testing.T) {
	other := newAS(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.endpoint(), http.StatusPermanentRedirect)
	}))
	t.Cleanup(srv.Close)
	_, err := Register(context.Background(), srv.Client(), srv.URL+"/register", testRequest())
	checkErr(t, err)
	var e *oauthwire.Error
	if !errors.As(err, &e) || e.Status != http.StatusPermanentRedirect {
		t.Errorf("err = %v", err)
	}
	if n := len(other.all()); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}

func TestRegister_BodyTooLarge(t *testing.T) {
	for _, status := range []int{http.StatusCreated, http.StatusBadRequest} {
		as := newAS(t)
		as.regStatus = status
		as.regBody = func(base string) string {
			return `{"client_id":"` + testClientID + `","error":"invalid_client_metadata","pad":"` + bodyMarker + strings.Repeat("a", oauthwire.MaxBody) + `"}`
		}
		cl, err := Register(context.Background(), as.srv.Client(), as.endpoint(), testRequest())
		checkErr(t, err)
		if err == nil || cl != nil {
			t.Fatalf("HTTP %d: accepted a body over 1 MiB", status)
		}
		if strings.Contains(err.Error(), "aaaa") {
			t.Errorf("HTTP %d: err quotes the body: %.200s", status, err)
		}
		var e *oauthwire.Error
		switch status {
		case http.StatusCreated:
			if !errors.Is(err, oauthwire.ErrUnusable) {
				t.Errorf("err = %v", err)
			}
		default:
			// The status survives; the oversized body is not parsed.
			if !errors.As(err, &e) || e.Status != status || e.Code != "" {
				t.Errorf("err = %v", err)
			}
		}
	}
}

// A body of exactly the limit is read whole.
func TestRegister_BodyAtLimit(t *testing.T) {
	as := newAS(t)
	as.regBody = func(base string) string {
		b := okBody(base, map[string]any{"pad": ""})
		return strings.Replace(b, `"pad":""`, `"pad":"`+strings.Repeat("a", oauthwire.MaxBody-len(b))+`"`, 1)
	}
	if n := len(as.regBody(as.srv.URL)); n != oauthwire.MaxBody {
		t.Fatalf("test body is %d bytes", n)
	}
	cl, err := Register(context.Background(), as.srv.Client(), as.endpoint(), testRequest())
	checkErr(t, err)
	if err != nil || cl.ClientID != testClientID {
		t.Fatalf("client %+v, err %v", cl, err)
	}
}

func TestRegister_MalformedResponse(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":      bodyMarker + " " + testToken,
		"array":         `["` + bodyMarker + `"]`,
		"null":          `null`,
		"truncated":     `{"client_id":"` + bodyMarker,
		"wrong type":    `{"client_id":123,"x":"` + bodyMarker + `"}`,
		"token type":    `{"client_id":"a","registration_access_token":["` + testToken + `"]}`,
		"redirect type": `{"client_id":"a","redirect_uris":"http://127.0.0.1/callback"}`,
		"empty":         ``,
	} {
		t.Run(name, func(t *testing.T) {
			as := newAS(t)
			as.regBody = func(string) string { return body }
			cl, err := Register(context.Background(), as.srv.Client(), as.endpoint(), testRequest())
			checkErr(t, err)
			if err == nil || cl != nil {
				t.Fatalf("accepted %+v", cl)
			}
		})
	}
}

func TestRegister_BadEndpoint(t *testing.T) {
	for _, ep := range []string{
		"",
		"/register",
		"http://as.example/register",
		"http://localhost:1/register",
		"ftp://as.example/register",
		"https://u:" + testToken + "@as.example/register",
		"https://as.example/register#x",
		"https://[::1",
	} {
		// A client whose transport fails the test if it is ever used.
		c := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			t.Errorf("%q: a request was made", ep)
			return nil, errors.New("no")
		})}
		cl, err := Register(context.Background(), c, ep, testRequest())
		checkErr(t, err)
		if err == nil || cl != nil {
			t.Errorf("%q: accepted", ep)
		}
	}
	if _, err := Register(context.Background(), nil, "https://as.example/register", testRequest()); err == nil {
		t.Error("nil client accepted")
	}
}

func TestRegister_TransportError(t *testing.T) {
	as := newAS(t)
	ep := as.endpoint() + "?" + bodyMarker + "=1"
	as.srv.Close()
	_, err := Register(context.Background(), as.srv.Client(), ep, testRequest())
	checkErr(t, err)
	if err == nil {
		t.Fatal("no error")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		t.Errorf("the *url.Error quoting a query was kept: %v", err)
	}
}

func TestRegister_Canceled(t *testing.T) {
	as := newAS(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Register(ctx, as.srv.Client(), as.endpoint(), testRequest())
	checkErr(t, err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
