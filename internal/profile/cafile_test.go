package profile

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// absCA is an absolute CA file path on every platform.
var absCA = filepath.Join(os.TempDir(), "corp", "ca.pem")

func TestValidate_CAFileMustBeAbsolute(t *testing.T) {
	for _, tc := range []struct {
		caFile string
		ok     bool
	}{
		{"", true},
		{absCA, true},
		{"ca.pem", false},
		{"./ca.pem", false},
		{"../ca.pem", false},
		{"certs/ca.pem", false},
		{"~/ca.pem", false},
	} {
		p := &Profile{Name: "work", Issuer: "https://as.example", ClientID: "c", CAFile: tc.caFile}
		err := p.Validate()
		if tc.ok {
			if err != nil {
				t.Errorf("ca_file %q: %v", tc.caFile, err)
			}
			continue
		}
		var rel *RelativeCAFileError
		if !errors.As(err, &rel) || rel.Profile != "work" || rel.CAFile != tc.caFile {
			t.Errorf("ca_file %q: err = %v, want a RelativeCAFileError", tc.caFile, err)
			continue
		}
		if !strings.Contains(err.Error(), "run 'sesame login -p work --ca-file /absolute/path'") {
			t.Errorf("ca_file %q: err = %q, want the login command that fixes it", tc.caFile, err)
		}
	}
}

func TestLoad_RefusesRelativeCAFile(t *testing.T) {
	dir := writeConfig(t, `{"version":1,"profiles":{
		"work":{"issuer":"https://as.example","client_id":"c","ca_file":"ca.pem"},
		"home":{"issuer":"https://as.example","client_id":"c"}}}`)
	_, err := Load(dir)
	var rel *RelativeCAFileError
	if !errors.As(err, &rel) {
		t.Fatalf("err = %v, want a RelativeCAFileError", err)
	}
	msg := err.Error()
	for _, want := range []string{filepath.Join(dir, FileName), `profile "work": ca_file "ca.pem" is not an absolute path`, "sesame login -p work --ca-file /absolute/path"} {
		if !strings.Contains(msg, want) {
			t.Errorf("err = %q, want %q in it", msg, want)
		}
	}
	if strings.Count(msg, `"work"`) != 1 || strings.ContainsAny(msg, "\n\r") {
		t.Errorf("err = %q: want one line naming the profile once", msg)
	}
}

func TestLoad_NamesTheFirstFaultyProfileByName(t *testing.T) {
	body := `{"version":1,"profiles":{
		"zeta":{"issuer":"https://as.example","client_id":"c","ca_file":"z.pem"},
		"alpha":{"issuer":"https://as.example","client_id":"c","ca_file":"a.pem"},
		"mid":{"issuer":"https://as.example","client_id":"c","ca_file":"m.pem"}}}`
	for range 20 {
		_, err := Load(writeConfig(t, body))
		if err == nil || !strings.Contains(err.Error(), `profile "alpha"`) {
			t.Fatalf("err = %v, want profile \"alpha\" every time", err)
		}
	}
}

func TestRepairCAFile(t *testing.T) {
	const broken = `{"version":1,"profiles":{
		"work":{"issuer":"https://as.example","client_id":"c","ca_file":"ca.pem","scopes":["openid","email"]},
		"home":{"issuer":"https://home.example","client_id":"h","ca_file":"home.pem"},
		"ok":{"issuer":"https://ok.example","client_id":"o"}}}`
	ctx := context.Background()

	t.Run("replaces the relative path and keeps the rest", func(t *testing.T) {
		dir := writeConfig(t, broken)
		if err := RepairCAFile(ctx, dir, "work", absCA); err != nil {
			t.Fatal(err)
		}
		var raw struct {
			Profiles map[string]*Profile `json:"profiles"`
		}
		data, _ := os.ReadFile(filepath.Join(dir, FileName))
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatal(err)
		}
		w := raw.Profiles["work"]
		if w == nil || w.CAFile != absCA || strings.Join(w.Scopes, " ") != "openid email" || w.Issuer != "https://as.example" {
			t.Fatalf("work = %+v", w)
		}
		if h := raw.Profiles["home"]; h == nil || h.CAFile != "home.pem" {
			t.Fatalf("home = %+v, want it as it was", h)
		}
		if raw.Profiles["ok"] == nil {
			t.Fatal("profile ok lost")
		}
		// home still keeps the file from loading, and is named.
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `profile "home"`) {
			t.Fatalf("Load = %v, want profile \"home\" refused", err)
		}
		if err := RepairCAFile(ctx, dir, "home", ""); err != nil {
			t.Fatal(err)
		}
		c, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if c.Profile("home").CAFile != "" || c.Profile("work").CAFile != absCA {
			t.Fatalf("home = %+v, work = %+v", c.Profile("home"), c.Profile("work"))
		}
	})

	for _, tc := range []struct {
		name, body, profile, caFile, want string
	}{
		{"a relative replacement", broken, "work", "other/ca.pem", "not an absolute path"},
		{"a missing profile", broken, "nope", absCA, `profile "nope" has no relative ca_file`},
		{"a profile without one", broken, "ok", absCA, `profile "ok" has no relative ca_file`},
		{"an absolute ca_file", `{"version":1,"profiles":{"work":{"issuer":"https://as.example","client_id":"c","ca_file":"` + filepath.ToSlash(absCA) + `"}}}`, "work", absCA, "has no relative ca_file"},
		{"another fault", `{"version":1,"profiles":{"work":{"issuer":"https://as.example","client_id":"c","ca_file":"ca.pem"},"bad":{"issuer":"http://as.example","client_id":"c"}}}`, "work", absCA, `profile "bad"`},
		{"a future version", `{"version":7,"profiles":{"work":{"issuer":"https://as.example","client_id":"c","ca_file":"ca.pem"}}}`, "work", absCA, "unsupported configuration version"},
		{"another fault of the same profile", `{"version":1,"profiles":{"work":{"issuer":"https://as.example","client_id":"c","ca_file":"ca.pem","callback_port":-1}}}`, "work", absCA, "invalid callback port"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			dir := writeConfig(t, tc.body)
			err := RepairCAFile(ctx, dir, tc.profile, tc.caFile)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if data, _ := os.ReadFile(filepath.Join(dir, FileName)); string(data) != tc.body {
				t.Fatalf("the file changed:\n%s", data)
			}
		})
	}
}
