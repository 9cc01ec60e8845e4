package provider

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// FuzzDiscoveryDocument serves arbitrary bytes as the metadata document
// from a TLS server and runs Discover on it, the way a hostile or broken
// authorization server would be met. ({{ISSUER}} and {{BASE}} in the input
// are replaced as in the testdata fixtures, so the fuzzer can reach the
// checks after the issuer comparison.)
//
// Properties: accepted metadata has exactly the configured issuer, a
// token endpoint, and every endpoint passes urlcheck.Endpoint (https only
// unless the loopback exception is on); a PKCE list names S256 and a
// response type list names code. A refusal is one line with no control
// characters, whatever the document held.
//
// mode selects the variant: bit 0 the insecure-loopback flag, bits 1-2
// the issuer's path, bit 3 a 404 at the OpenID location (so the RFC 8414
// location is used), bit 4 an error status with the document as its body.
func FuzzDiscoveryDocument(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"*.json", filepath.Join("discovery", "*.json")} {
		names, _ := filepath.Glob(filepath.Join("testdata", pattern))
		for _, n := range names {
			if !strings.HasSuffix(n, ".golden.json") {
				seeds = append(seeds, n)
			}
		}
	}
	if len(seeds) < 3 {
		f.Fatalf("too few seeds in testdata: %v", seeds)
	}
	for _, name := range seeds {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, mode := range []uint8{0, 1, 2, 4, 6, 8, 16} {
			f.Add(b, mode)
		}
	}
	f.Add([]byte(""), uint8(0))
	f.Add([]byte("null"), uint8(0))
	f.Add([]byte(`{"issuer":"{{ISSUER}}","token_endpoint":"http://127.0.0.1:9/token"}`), uint8(1))
	f.Add([]byte(`{"issuer":"{{ISSUER}}","token_endpoint":"http://[::1]/t","authorization_endpoint":"http://127.0.0.1.nip.io/a"}`), uint8(1))

	var (
		mu   sync.Mutex
		doc  []byte
		mode uint8
	)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		body, m := doc, mode
		mu.Unlock()
		switch {
		case m&8 != 0 && r.URL.Path == oidcWellKnown:
			http.NotFound(w, r)
			return
		case m&16 != 0:
			w.WriteHeader(http.StatusInternalServerError)
		}
		_, _ = w.Write(body)
	}))
	f.Cleanup(srv.Close)
	caFile := filepath.Join(f.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		f.Fatal(err)
	}

	// One client per flag value, reused, so most runs skip the handshake.
	var clients [2]*http.Client
	for i := range clients {
		c, err := NewHTTPClient(Options{CAFile: caFile, AllowInsecureLoopback: i == 1})
		if err != nil {
			f.Fatal(err)
		}
		clients[i] = c
	}

	f.Fuzz(func(t *testing.T, in []byte, m uint8) {
		allowLoopback := m&1 != 0
		issuer := srv.URL + []string{"", "/", "/t1", "/t1/"}[m>>1&3]
		body := strings.NewReplacer("{{ISSUER}}", issuer, "{{BASE}}", srv.URL).Replace(string(in))
		mu.Lock()
		doc, mode = []byte(body), m
		mu.Unlock()

		// The parsing and validation Discover applies, without the
		// network: Discover must agree with it.
		var direct Metadata
		directErr := json.Unmarshal([]byte(body), &direct)
		if directErr == nil {
			directErr = direct.validate(issuer, allowLoopback)
		}

		md, err := Discover(context.Background(), clients[m&1], issuer, allowLoopback)
		if m&16 == 0 && (err == nil) != (directErr == nil) {
			t.Fatalf("Discover says %v, parsing and validating the document says %v", err, directErr)
		}
		if directErr != nil && !isOneCleanLine(directErr.Error()) {
			t.Fatalf("validation error is not one clean line: %q", directErr)
		}
		if err != nil {
			if msg := err.Error(); !isOneCleanLine(msg) {
				t.Fatalf("error is not one clean line: %q", msg)
			}
			return
		}
		if m&16 != 0 {
			t.Fatalf("accepted metadata from a %d answer", http.StatusInternalServerError)
		}
		if md.Issuer != issuer {
			t.Fatalf("accepted issuer %q for configured %q", md.Issuer, issuer)
		}
		if md.TokenEndpoint == "" {
			t.Fatal("accepted metadata without a token endpoint")
		}
		for _, e := range md.endpoints() {
			if e.url == "" {
				continue
			}
			if err := urlcheck.Endpoint(e.url, allowLoopback); err != nil {
				t.Fatalf("accepted %s %q: %v", e.name, e.url, err)
			}
			if !allowLoopback && !strings.HasPrefix(strings.ToLower(e.url), "https://") {
				t.Fatalf("accepted %s %q without the loopback exception", e.name, e.url)
			}
		}
		if md.CodeChallengeMethodsSupported != nil && !slices.Contains(md.CodeChallengeMethodsSupported, "S256") {
			t.Fatalf("accepted PKCE methods %q without S256", md.CodeChallengeMethodsSupported)
		}
		if md.ResponseTypesSupported != nil && !slices.Contains(md.ResponseTypesSupported, "code") {
			t.Fatalf("accepted response types %q without code", md.ResponseTypesSupported)
		}
	})
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
