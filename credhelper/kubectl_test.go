package credhelper

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func bearer(tok string) *oauth2.Token {
	return &oauth2.Token{AccessToken: tok, TokenType: "Bearer"}
}

func TestParseExecInfo(t *testing.T) {
	info, err := ParseExecInfo("")
	if err != nil {
		t.Fatal(err)
	}
	if info.APIVersion != APIVersionV1beta1 || info.Spec.Interactive != nil || info.Interactive() || info.Spec.Cluster != nil {
		t.Errorf("empty KUBERNETES_EXEC_INFO: got %+v, want v1beta1 with interactivity unknown", info)
	}

	info, err = ParseExecInfo(string(readTestdata(t, "exec-info-v1.json")))
	if err != nil {
		t.Fatal(err)
	}
	if info.APIVersion != APIVersionV1 || info.Spec.Interactive == nil || info.Interactive() {
		t.Errorf("v1 non-interactive: got %+v", info)
	}

	info, err = ParseExecInfo(string(readTestdata(t, "exec-info-v1beta1.json")))
	if err != nil {
		t.Fatal(err)
	}
	if info.APIVersion != APIVersionV1beta1 || !info.Interactive() {
		t.Errorf("v1beta1 interactive: got %+v", info)
	}

	info, err = ParseExecInfo(string(readTestdata(t, "exec-info-cluster.json")))
	if err != nil {
		t.Fatal(err)
	}
	c := info.Spec.Cluster
	if c == nil || c.Server != "https://api.example.com:6443" || c.TLSServerName != "kubernetes" ||
		!strings.HasPrefix(string(c.CertificateAuthorityData), "-----BEGIN CERTIFICATE-----") ||
		c.ProxyURL != "http://proxy.example:3128" ||
		string(c.Config) != `{"audience":"sesame","nested":[1,2,{"a":"<b>"}]}` {
		t.Errorf("cluster info: got %+v", c)
	}
}

func TestParseExecInfoRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		want error
	}{
		"v1alpha1":     {`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1"}`, ErrUnsupportedAPIVersion},
		"other group":  {`{"kind":"ExecCredential","apiVersion":"example.com/v1"}`, ErrUnsupportedAPIVersion},
		"other kind":   {`{"kind":"Pod","apiVersion":"client.authentication.k8s.io/v1"}`, ErrUnsupportedAPIVersion},
		"no kind":      {`{"apiVersion":"client.authentication.k8s.io/v1"}`, ErrUnsupportedAPIVersion},
		"too large":    {`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","x":"` + strings.Repeat("a", 1<<20) + `"}`, ErrTooLarge},
		"not json":     {`kind: ExecCredential`, nil},
		"trailing":     {`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1"} {}`, nil},
		"spec is list": {`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":[]}`, nil},
	} {
		info, err := ParseExecInfo(tc.in)
		if err == nil {
			t.Errorf("%s: parsed as %+v, want an error", name, info)
			continue
		}
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
}

func TestParseExecInfoNormalises(t *testing.T) {
	info, err := ParseExecInfo(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",
		"spec":{"cluster":{"server":"https://a","certificate-authority-data":"","config":null},"interactive":null}}`)
	if err != nil {
		t.Fatal(err)
	}
	c := info.Spec.Cluster
	if c.CertificateAuthorityData != nil || c.Config != nil || info.Spec.Interactive != nil {
		t.Errorf("empty CA, null config and null interactive should read as absent: %+v", info)
	}
}

func TestWriteExecCredential(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteExecCredential(&buf, APIVersionV1, testToken, testExpiry); err != nil {
		t.Fatal(err)
	}
	// The answer as client-go decodes it.
	var got struct {
		Kind, APIVersion string
		Status           struct {
			ExpirationTimestamp time.Time
			Token               string
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	wantExpiry := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if got.Kind != "ExecCredential" || got.APIVersion != APIVersionV1 || got.Status.Token != testToken ||
		!got.Status.ExpirationTimestamp.Equal(wantExpiry) || got.Status.ExpirationTimestamp.After(testExpiry) {
		t.Errorf("got %+v", got)
	}
	if !strings.Contains(buf.String(), `"expirationTimestamp":"2030-01-02T03:04:05Z"`) {
		t.Errorf("expiry is not RFC 3339 UTC in whole seconds: %s", buf.String())
	}
	if strings.Count(buf.String(), "\n") != 1 || !strings.HasSuffix(buf.String(), "\n") {
		t.Errorf("want one line: %q", buf.String())
	}
}

func TestWriteExecCredentialRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		apiVersion, token string
		want              error
	}{
		"v1alpha1":    {"client.authentication.k8s.io/v1alpha1", testToken, ErrUnsupportedAPIVersion},
		"empty":       {APIVersionV1, "", errEmptyToken},
		"newline":     {APIVersionV1, "abc\ndef", ErrUnsafeValue},
		"cr":          {APIVersionV1, "abc\rdef", ErrUnsafeValue},
		"nul":         {APIVersionV1, "abc\x00def", ErrUnsafeValue},
		"space":       {APIVersionV1, "abc def", ErrUnsafeValue},
		"non-ascii":   {APIVersionV1beta1, "abcé", ErrUnsafeValue},
		"quote ok":    {APIVersionV1, `a"b`, nil},
		"tilde slash": {APIVersionV1, "a~b/c+d=", nil},
	} {
		var buf bytes.Buffer
		err := WriteExecCredential(&buf, tc.apiVersion, tc.token, testExpiry)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
		if tc.want != nil && buf.Len() != 0 {
			t.Errorf("%s: wrote %q on error", name, buf.String())
		}
	}
}

func TestKubectlRespond(t *testing.T) {
	info := &ExecInfo{Kind: "ExecCredential", APIVersion: APIVersionV1beta1}
	var buf bytes.Buffer
	err := KubectlRespond(&buf, info, &oauth2.Token{AccessToken: testToken, TokenType: "DPoP"}, testExpiry)
	if !errors.Is(err, ErrNotBearer) || buf.Len() != 0 {
		t.Fatalf("DPoP token: err %v, wrote %q", err, buf.String())
	}
	if err := KubectlRespond(&buf, info, &oauth2.Token{AccessToken: testToken, TokenType: "bearer"}, testExpiry); err != nil {
		t.Fatal(err)
	}
	golden(t, "exec-credential-v1beta1.golden", buf.Bytes())
	if err := KubectlRespond(&buf, nil, bearer(testToken), testExpiry); err == nil {
		t.Error("nil request accepted")
	}
}

func TestRequireBearer(t *testing.T) {
	for typ, ok := range map[string]bool{
		"": true, "Bearer": true, "bearer": true, "BEARER": true,
		"DPoP": false, "dpop": false, "N_A": false, "mac": false, "Bearer ": false,
		strings.Repeat("x", 1000): false,
	} {
		err := RequireBearer(typ)
		if (err == nil) != ok || (err != nil && !errors.Is(err, ErrNotBearer)) {
			t.Errorf("RequireBearer(%.20q) = %v", typ, err)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("error quotes too much of the token type: %d bytes", len(err.Error()))
		}
	}
}
