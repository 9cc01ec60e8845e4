package loopback

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// issCase is one authorization response sent with the right state.
type issCase struct {
	name        string
	supported   bool // metadata announces authorization_response_iss_parameter_supported
	allowUnann  bool // profile switch AllowUnannouncedIss
	params      func(p authRequest, issuer string) []string
	wantErr     error // nil means the login succeeds
	wantTokenRq int
}

func TestCallback_IssMatrix_Req14(t *testing.T) {
	withIss := func(iss string) func(authRequest, string) []string {
		return func(p authRequest, _ string) []string {
			return []string{"code", p.code, "state", p.state, "iss", iss}
		}
	}
	right := func(p authRequest, issuer string) []string {
		return []string{"code", p.code, "state", p.state, "iss", issuer}
	}
	none := func(p authRequest, _ string) []string { return []string{"code", p.code, "state", p.state} }
	cases := []issCase{
		{name: "matching iss", supported: true, params: right, wantTokenRq: 1},
		{name: "mismatched iss", supported: true, params: withIss("https://attacker.example"), wantErr: ErrIssuerMismatch},
		{name: "iss with trailing slash", supported: true, params: func(p authRequest, issuer string) []string {
			return []string{"code", p.code, "state", p.state, "iss", issuer + "/"}
		}, wantErr: ErrIssuerMismatch},
		{name: "iss in other case", supported: true, params: func(p authRequest, issuer string) []string {
			return []string{"code", p.code, "state", p.state, "iss", strings.ToUpper(issuer)}
		}, wantErr: ErrIssuerMismatch},
		{name: "empty iss", supported: true, params: withIss(""), wantErr: ErrIssuerMismatch},
		{name: "iss missing while announced", supported: true, params: none, wantErr: ErrIssuerMismatch},
		{name: "iss missing, not announced", supported: false, params: none, wantTokenRq: 1},
		{name: "iss present, not announced", supported: false, params: right, wantErr: ErrIssuerMismatch},
		{name: "iss present, not announced, allowed", supported: false, allowUnann: true, params: right, wantTokenRq: 1},
		{name: "wrong iss, not announced, allowed", supported: false, allowUnann: true, params: withIss("https://attacker.example"), wantErr: ErrIssuerMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			as := authtest.New(t)
			var page response
			b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
				page = get(ctx, p.callback(tc.params(p, b.as.Issuer())...))
			})
			cfg := testConfig(as, b)
			cfg.IssParameterSupported = tc.supported
			cfg.AllowUnannouncedIss = tc.allowUnann
			_, err := runFlow(t, mustNew(t, cfg))
			b.wait(t)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Token error = %v, want %v", err, tc.wantErr)
			}
			if n := tokenRequests(as); n != tc.wantTokenRq {
				t.Errorf("token requests = %d, want %d", n, tc.wantTokenRq)
			}
			want := successPage
			if tc.wantErr != nil {
				want = failurePage
			}
			if page.body != want {
				t.Errorf("browser got %d and a different page", page.status)
			}
		})
	}
}

func TestCallback_ErrorWithWrongIssNotShown_Req14(t *testing.T) {
	const desc = "SNTL-DESC please call +1-555-attacker"
	as := authtest.New(t)
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
		get(ctx, p.callback("error", "access_denied", "error_description", desc,
			"error_uri", "https://evil.example", "state", p.state, "iss", "https://attacker.example"))
	})
	_, err := runFlow(t, mustNew(t, testConfig(as, b)))
	b.wait(t)
	if !errors.Is(err, ErrIssuerMismatch) {
		t.Fatalf("Token error = %v, want ErrIssuerMismatch", err)
	}
	if ae, ok := oauthwire.As(err); ok {
		t.Errorf("an error response escaped an iss failure: %+v", ae)
	}
	for _, s := range []string{"SNTL-DESC", "access_denied", "evil.example", "attacker.example"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q shows %q from a response that failed the iss check", err, s)
		}
	}
	if n := tokenRequests(as); n != 0 {
		t.Errorf("token requests = %d, want 0", n)
	}
}

func TestCheckIss_Req14(t *testing.T) {
	const iss = "https://as.example"
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	if err := checkIss(q("iss", iss), iss, true, false); err != nil {
		t.Errorf("matching iss: %v", err)
	}
	if err := checkIss(q("iss", iss, "iss", iss), iss, true, false); err == nil {
		t.Errorf("two iss values accepted")
	}
	if err := checkIss(q("iss", iss), "", false, true); err == nil {
		t.Errorf("iss accepted against an empty configured issuer")
	}
}
