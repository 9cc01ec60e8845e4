package dpop

import (
	"strings"
	"testing"
)

// FuzzAuthParams: the WWW-Authenticate parser never panics, yields only
// token names, and reads back exactly a value written as a quoted string
// after other parameters, whatever it holds (so text inside a quoted
// error_description is never taken for error="use_dpop_nonce").
func FuzzAuthParams(f *testing.F) {
	for _, s := range []string{
		`DPoP error="use_dpop_nonce", error_description="Authorization server requires nonce in DPoP proof"`,
		`DPoP algs="ES256 EdDSA", error="invalid_token", error_description="x error=\"use_dpop_nonce\""`,
		`Bearer realm="example", DPoP error=use_dpop_nonce`,
		`Basic abc==, DPoP`,
		`"unterminated`, `=,=,,"\`,
	} {
		f.Add(s, "use_dpop_nonce")
	}
	f.Fuzz(func(t *testing.T, header, value string) {
		n := 0
		for name := range authParams(header) {
			n++
			if name == "" {
				t.Fatal("an empty parameter name")
			}
			for i := 0; i < len(name); i++ {
				if !isTChar(name[i]) {
					t.Fatalf("name %q holds a non-token byte", name)
				}
			}
			if n > len(header) {
				t.Fatal("more parameters than bytes")
			}
		}

		quoted := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(value) + `"`
		built := `DPoP algs="ES256", error_description="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(header) + `", fuzzed=` + quoted
		var got []string
		for name, v := range authParams(built) {
			if name == "fuzzed" {
				got = append(got, v)
			}
			if name == "error" {
				t.Fatalf("a parameter was read out of a quoted string: %q", built)
			}
		}
		if len(got) != 1 || got[0] != value {
			t.Fatalf("fuzzed=%s read back as %q", quoted, got)
		}
	})
}
