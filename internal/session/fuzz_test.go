package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/oauthwire"
	"github.com/sesame-auth/sesame/internal/provider"
	"github.com/sesame-auth/sesame/keychain"
)

// fuzzRefreshToken is the stored refresh token the fuzzed refreshes send;
// {{ECHO}} in a fuzzed body is replaced by it, as a server quoting the
// request back would.
const fuzzRefreshToken = "SNTL-RT-0-fuzz-echo"

// FuzzRefreshResponse answers the refresh request of an expired record
// with an arbitrary status, Content-Type and body.
//
// Properties:
//   - the stored record is unchanged, or updated with exactly the access
//     token of the response (and its refresh token, or the old one), or
//     deleted only after an invalid_grant;
//   - the store never holds a record with an empty refresh token;
//   - a success hands out what was stored;
//   - an error is one clean line, and apart from the sanitized error code
//     it holds neither the refresh token nor any 16 bytes of the body.
//
// testdata/refresh/*.http seeds it: a first line "STATUS CONTENT-TYPE",
// then the body.
func FuzzRefreshResponse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "refresh", "*.http"))
	if len(seeds) == 0 {
		f.Fatal("no seeds in testdata/refresh")
	}
	for _, name := range seeds {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		head, body, _ := bytes.Cut(raw, []byte("\n"))
		status, ctype, _ := strings.Cut(string(head), " ")
		n, err := strconv.Atoi(status)
		if err != nil {
			f.Fatalf("%s: bad status line %q", name, head)
		}
		f.Add(uint16(n), ctype, body)
	}

	var (
		mu       sync.Mutex
		respCode int
		respType string
		respBody []byte
	)
	// Not internal/authtest: what is fuzzed is the answer itself, so the
	// server only sends the bytes it is given, whatever was asked.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		code, ctype, body := respCode, respType, respBody
		mu.Unlock()
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(code)
		_, _ = w.Write(body)
	}))
	f.Cleanup(srv.Close)
	// The client sesame uses (body limit, sanitized transport errors),
	// with plain http allowed to the loopback test server.
	client, err := provider.NewHTTPClient(provider.Options{AllowInsecureLoopback: true})
	if err != nil {
		f.Fatal(err)
	}

	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	binding := Binding{Profile: "p", Issuer: "https://as.example", ClientID: "cli"}

	f.Fuzz(func(t *testing.T, status uint16, ctype string, rawBody []byte) {
		code := int(status)
		if code < 200 || code > 599 {
			code = 200 + code%400
		}
		// The fuzzed part of the headers is the media type; bytes a
		// server cannot send in a header are dropped.
		ctype = strings.Map(func(r rune) rune {
			if r < 0x20 || r > 0x7e {
				return -1
			}
			return r
		}, ctype)
		body := bytes.ReplaceAll(rawBody, []byte("{{ECHO}}"), []byte(fuzzRefreshToken))
		mu.Lock()
		respCode, respType, respBody = code, ctype, body
		mu.Unlock()

		ctx := context.Background()
		store := keychain.NewMemory()
		rec := &keychain.Record{Version: keychain.RecordVersion, Profile: "p", Issuer: binding.Issuer, ClientID: binding.ClientID,
			TokenEndpoint: srv.URL + "/token", RefreshToken: fuzzRefreshToken, AccessToken: "SNTL-AT-0", TokenType: "Bearer",
			Lifetime: 300 * time.Second, Expiry: now.Add(-time.Minute)}
		if err := store.Set(ctx, "k", rec); err != nil {
			t.Fatal(err)
		}
		before, err := store.Get(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		src := &Grant{Store: store, Key: "k", Binding: binding, Clock: stillClock(now),
			HTTPClient: func() (*http.Client, error) { return client, nil }}

		res, err := src.Token(ctx)

		want := parseTokenResponse(ctype, body)
		after, gerr := store.Get(ctx, "k")
		switch {
		case errors.Is(gerr, keychain.ErrNotFound):
			if !errors.Is(err, ErrLoginRequired) || !refusalCodes[want.Error] {
				t.Fatalf("record deleted after %d %q (error %q, result %v)", code, body, err, res)
			}
		case gerr != nil:
			t.Fatal(gerr)
		case after.RefreshToken == "":
			t.Fatalf("stored a record without a refresh token: %+v", after)
		case reflect.DeepEqual(after, before):
			if err == nil {
				t.Fatalf("handed out %+v without storing it", res.Record)
			}
		case CheckTokenType(&oauth2.Token{TokenType: fuzzTokenType(ctype, body)}) != nil:
			// A type sesame cannot hand out: the rotated refresh token is
			// stored all the same, no access token is kept or given.
			wantRT := want.RefreshToken
			if wantRT == "" {
				wantRT = fuzzRefreshToken
			}
			if err == nil || res != nil || after.AccessToken != "" || after.TokenType != "" || after.RefreshToken != wantRT {
				t.Fatalf("unusable token type: stored %+v, result %v, error %v after %d %q", after, res, err, code, body)
			}
		default:
			wantRT := want.RefreshToken
			if wantRT == "" {
				wantRT = fuzzRefreshToken
			}
			// Tokens outside RFC 6749's %x20-7E are refused before they
			// are stored (CheckTokenChars), so what is stored is exactly
			// what the server sent. asStored only drops the monotonic
			// clock reading that a stored time cannot keep.
			if err != nil || res == nil || !res.Refreshed || !reflect.DeepEqual(after, asStored(t, res.Record)) ||
				after.AccessToken == "" || after.AccessToken != want.AccessToken || after.RefreshToken != wantRT ||
				!binding.Matches(after) || after.TokenEndpoint != before.TokenEndpoint {
				t.Fatalf("stored record changed to %+v after %d %q (error %v)", after, code, body, err)
			}
		}
		if err == nil {
			return
		}

		msg := err.Error()
		if !isOneCleanLine(msg) {
			t.Fatalf("error is not one clean line: %q", msg)
		}
		if strings.Contains(msg, fuzzRefreshToken) {
			t.Fatalf("error %q quotes the refresh token", err)
		}
		// The one part of the body an error may show is the server's
		// sanitized error code and description.
		if e, ok := oauthwire.As(err); ok && e.Code != "" {
			msg = strings.Replace(msg, e.Code, "", 1)
			msg = strings.Replace(msg, e.Description, "", 1)
		}
		const window = 16
		for i := 0; i+window <= len(body); i++ {
			if chunk := string(body[i : i+window]); strings.Contains(msg, chunk) {
				t.Fatalf("error %q quotes the response body (%q)", err, chunk)
			}
		}
	})
}

// fuzzTokenType is the token_type of a token response as the refresh
// reads it.
func fuzzTokenType(ctype string, body []byte) string {
	t, err := oauthwire.NewResponse("", http.StatusOK, http.Header{"Content-Type": {ctype}}, body).Token()
	if err != nil {
		return ""
	}
	return t.TokenType
}

// asStored is r as the keychain gives it back.
func asStored(t *testing.T, r *keychain.Record) *keychain.Record {
	b, err := keychain.EncodeRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	d, err := keychain.DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// tokenResponse is what a token endpoint answer says, read the way x/oauth2
// reads it: form-encoded for application/x-www-form-urlencoded and
// text/plain, JSON otherwise.
type tokenResponse struct {
	Error        string `json:"error"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func parseTokenResponse(ctype string, body []byte) tokenResponse {
	var tr tokenResponse
	mt, _, _ := mime.ParseMediaType(ctype)
	switch mt {
	case "application/x-www-form-urlencoded", "text/plain":
		if v, err := url.ParseQuery(string(body)); err == nil {
			tr = tokenResponse{Error: v.Get("error"), AccessToken: v.Get("access_token"), RefreshToken: v.Get("refresh_token")}
		}
	default:
		_ = json.Unmarshal(body, &tr)
	}
	return tr
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
