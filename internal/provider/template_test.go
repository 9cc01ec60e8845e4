package provider

import (
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
)

func TestMatchesTemplate(t *testing.T) {
	const tmpl = "https://login.example/{tenantid}/v2.0"
	for issuer, want := range map[string]bool{
		"https://login.example/common/v2.0":        true,
		"https://login.example/organizations/v2.0": true,
		"https://login.example//v2.0":              false,
		"https://login.example/a/b/v2.0":           false,
		"https://login.example/common/v2.0/":       false,
		"https://other.example/common/v2.0":        false,
	} {
		if got := matchesTemplate(tmpl, issuer, "{tenantid}"); got != want {
			t.Errorf("matchesTemplate(%s) = %v, want %v", issuer, got, want)
		}
	}
	if matchesTemplate("https://login.example/{tenantid}/{tenantid}", "https://login.example/a/b", "{tenantid}") {
		t.Error("a template with the placeholder twice was accepted")
	}
}

// TestTemplatedIssuer follows Microsoft Entra ID's multi-tenant endpoints
// (https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc):
// the document of /common/v2.0 names the issuer
// https://login.microsoftonline.com/{tenantid}/v2.0, and each ID token's iss
// is that with the user's tenant, also given as its tid claim.
func TestTemplatedIssuer(t *testing.T) {
	const tid = "9188040d-6c67-4c5b-b112-36a304b66dad"
	as := authtest.New(t, authtest.WithBasePath("/common/v2.0"))
	template := as.URL() + "/{tenantid}/v2.0"
	as.Configure(authtest.WithMetadataIssuer(template))
	ctx := t.Context()

	if _, err := Discover(ctx, as.Client(), as.Issuer(), false); err == nil || !strings.Contains(err.Error(), "issuer mismatch") {
		t.Fatalf("Discover without a placeholder: %v, want an issuer mismatch", err)
	}
	if _, err := DiscoverTemplated(ctx, as.Client(), as.URL()+"/other/v2.0", false, "{tenantid}"); err == nil {
		t.Fatal("the document of /common was accepted for /other")
	}
	md, err := DiscoverTemplated(ctx, as.Client(), as.Issuer(), false, "{tenantid}")
	if err != nil {
		t.Fatal(err)
	}
	if md.Issuer != as.Issuer() || md.IssuerTemplate != template {
		t.Fatalf("issuer %q template %q", md.Issuer, md.IssuerTemplate)
	}

	sign := func(mutate func(map[string]any)) string {
		now := time.Now()
		claims := map[string]any{
			"iss": as.URL() + "/" + tid + "/v2.0", "tid": tid, "sub": "alice", "aud": as.ClientID,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}
		mutate(claims)
		return as.SignIDToken(claims, as.KeyID())
	}
	tests := []struct {
		name    string
		mutate  func(map[string]any)
		wantErr string
	}{
		{name: "the tenant's issuer", mutate: func(map[string]any) {}},
		{name: "another tenant's issuer", mutate: func(c map[string]any) { c["tid"] = "other" }, wantErr: "its tenant's issuer is"},
		{name: "no tid", mutate: func(c map[string]any) { delete(c, "tid") }, wantErr: "no usable tid"},
		{name: "a tid with a path", mutate: func(c map[string]any) { c["tid"] = tid + "/v2.0/x" }, wantErr: "no usable tid"},
		{name: "the template itself", mutate: func(c map[string]any) { c["iss"], c["tid"] = template, "{tenantid}" }, wantErr: "no usable tid"},
		{name: "another server", mutate: func(c map[string]any) { c["iss"] = "https://evil.example/" + tid + "/v2.0" }, wantErr: "its tenant's issuer is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifyIDToken(ctx, as.Client(), md, as.ClientID, sign(tt.mutate), "", nil)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestFixed(t *testing.T) {
	md, err := Fixed("https://github.com", "https://github.com/login/oauth/authorize", "https://github.com/login/oauth/access_token", "https://github.com/login/device/code", "", false)
	if err != nil || md.TokenEndpoint != "https://github.com/login/oauth/access_token" || md.JWKSURI != "" {
		t.Fatalf("Fixed = %+v, %v", md, err)
	}
	if _, err := Fixed("https://github.com", "", "http://github.com/token", "", "", false); err == nil {
		t.Fatal("an http token endpoint was accepted")
	}
}
