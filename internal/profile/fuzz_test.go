package profile

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzLoadConfig writes arbitrary bytes as the configuration file and
// loads it. Either Load fails with a one-line message free of control
// characters (it reaches a terminal), or every profile it returns is
// valid, named by its key, and survives Save then Load unchanged.
func FuzzLoadConfig(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "config", "*.json"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds in testdata/config: %v", err)
	}
	for _, name := range seeds {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(""))
	f.Add([]byte("  \n"))
	f.Add([]byte("null"))
	f.Add([]byte(`{"version":1,"profiles":{"p":null}}`))
	f.Add([]byte(`{"version":1,"profiles":{"p":{"issuer":"https://as.example","client_id":"c","scopes":[]}}} {}`))
	f.Add([]byte(`{"Version":1,"PROFILES":{"p":{"Issuer":"https://as.example","CLIENT_ID":"c","Scopes":["a"]}}}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(dir)
		if err != nil {
			if msg := err.Error(); !isOneCleanLine(msg) {
				t.Fatalf("error is not one clean line: %q", msg)
			}
			return
		}
		if c.Version != configVersion || c.Profiles == nil {
			t.Fatalf("loaded version %d, profiles %v", c.Version, c.Profiles)
		}
		for name, p := range c.Profiles {
			if p == nil || p.Name != name {
				t.Fatalf("profile %q loaded as %#v", name, p)
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("profile %q loaded but does not validate: %v", name, err)
			}
		}

		if err := c.Save(); err != nil {
			t.Fatalf("Save of a loaded configuration: %v", err)
		}
		again, err := Load(dir)
		if err != nil {
			t.Fatalf("saved configuration does not load: %v", err)
		}
		want, got := normalized(c.Profiles), normalized(again.Profiles)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("Save+Load changed the profiles:\nbefore %#v\nafter  %#v", want, got)
		}
	})
}

// normalized copies profiles with empty lists as nil: "scopes": [] and a
// missing "scopes" mean the same, and Save writes neither.
func normalized(ps map[string]*Profile) map[string]Profile {
	out := make(map[string]Profile, len(ps))
	for name, p := range ps {
		q := *p
		for _, l := range []*[]string{&q.Scopes, &q.Resources, &q.GitHosts, &q.DockerHosts} {
			if len(*l) == 0 {
				*l = nil
			}
		}
		out[name] = q
	}
	return out
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
