package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/keychain"
)

// TestHostileCAFile_RealServer is issue 14, item 1: a relative --ca-file
// used to be saved as given and read again, at every refresh, from the
// caller's working directory. git runs credential helpers at the top of
// the repository, so a repository that shipped a ca.pem added a trusted
// root, and an attacker on the path took the refresh token. Now login
// saves the absolute path, a relative one in config.json is refused at
// load, and a CA file other users can write is refused when it is read,
// without touching the grant.
func TestHostileCAFile_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-hostile-ca")

	// Directory A holds the real CA; login runs there with a relative path.
	dirA := hostileDir(t, "a")
	caA := filepath.Join(dirA, "ca.pem")
	hostileCopy(t, srv.CAFile, caA)
	r := c.runIn(dirA, "login", "-p", c.name, "--issuer", srv.Issuer, "--client-id", srv.ClientID,
		"--ca-file", "ca.pem", "--scope", "openid", "--scope", "email", "--scope", "profile", "--scope", "offline_access")
	if r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	want := "sesame: trusting the CA certificates in " + caA + ` for profile "e2e-hostile-ca"`
	if !strings.Contains(r.stderr, want+"\n") {
		t.Fatalf("login stderr does not say %q:\n%s", want, r.stderr)
	}
	if got := c.hostileCAFileSaved(); got != caA {
		t.Fatalf("config.json ca_file = %q, want %q", got, caA)
	}

	// Directory B, the hostile repository, ships a ca.pem of another CA:
	// a refresh run there still trusts only the saved one.
	dirB := hostileDir(t, "b")
	hostileCopy(t, rig.NewCA(t).CAFile, filepath.Join(dirB, "ca.pem"))
	c.expire()
	before := c.record()
	r = c.runIn(dirB, "token", "-p", c.name)
	if r.code != 0 || strings.TrimSpace(r.stdout) == "" {
		t.Fatalf("token in a directory with a planted ca.pem: exit %d\n%s", r.code, r.stderr)
	}
	after := c.record()
	if after == nil || after.RefreshToken == before.RefreshToken || strings.TrimSpace(r.stdout) != after.AccessToken {
		t.Fatal("the refresh did not happen: the record is unchanged or the token printed is not the stored one")
	}
	hostileRefreshes(t, srv, 1)

	t.Run("relative ca_file in config.json is refused", func(t *testing.T) {
		c.hostileEditCAFile("ca.pem")
		c.expire()
		kept := c.record()
		r := c.runIn(dirB, "token", "-p", c.name)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
		}
		oneErrorLine(t, r, `profile "e2e-hostile-ca": ca_file "ca.pem" is not an absolute path`)
		if !strings.Contains(r.stderr, "sesame login -p e2e-hostile-ca --ca-file /absolute/path") {
			t.Fatalf("the error does not say how to fix it:\n%s", r.stderr)
		}
		c.hostileRequireKept(kept)
		hostileRefreshes(t, srv, 1)

		// What the error says to run repairs the profile: login, again
		// with a relative path, saves it absolute.
		r = c.runIn(dirA, "login", "-p", c.name, "--ca-file", "ca.pem")
		if r.code != 0 {
			t.Fatalf("repairing login: exit %d\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, want+"\n") {
			t.Fatalf("login stderr does not say %q:\n%s", want, r.stderr)
		}
		if got := c.hostileCAFileSaved(); got != caA {
			t.Fatalf("config.json ca_file = %q after the repair, want %q", got, caA)
		}
	})

	t.Run("a CA file other users can write is refused and the grant kept", func(t *testing.T) {
		for _, tc := range []struct {
			name, path string
			mode       os.FileMode
			want       string
		}{
			{"file 0666", caA, 0o666, "the CA file " + caA + " can be written by other users (mode 0666); sesame will not trust it"},
			{"directory 0777", dirA, 0o777, "the CA file " + caA + " is in a directory other users can write (" + dirA + ", mode 0777); sesame will not trust it"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				fi, err := os.Stat(tc.path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(tc.path, tc.mode); err != nil {
					t.Fatal(err)
				}
				c.expire()
				kept := c.record()
				refreshes := len(hostileRefreshEvents(srv))
				r := c.runIn(dirB, "token", "-p", c.name)
				oneErrorLine(t, r, tc.want)
				if r.code != 1 || r.stdout != "" {
					t.Fatalf("exit %d, stdout %q; want 1 and nothing", r.code, r.stdout)
				}
				c.hostileRequireKept(kept)
				hostileRefreshes(t, srv, refreshes)

				// Fixed, the same grant refreshes.
				if err := os.Chmod(tc.path, fi.Mode().Perm()); err != nil {
					t.Fatal(err)
				}
				r = c.runIn(dirB, "token", "-p", c.name)
				if r.code != 0 {
					t.Fatalf("token after restoring mode %v: exit %d\n%s", fi.Mode().Perm(), r.code, r.stderr)
				}
				hostileRefreshes(t, srv, refreshes+1)
			})
		}
	})
	c.assertNoLeak(before.RefreshToken, before.AccessToken, after.RefreshToken, after.AccessToken)
}

// hostileConfig reads config.json as plain JSON.
func (c *cli) hostileConfig() map[string]any {
	c.t.Helper()
	data, err := os.ReadFile(filepath.Join(c.cfgDir, "config.json"))
	if err != nil {
		c.t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		c.t.Fatal(err)
	}
	return cfg
}

func (c *cli) hostileProfile(cfg map[string]any) map[string]any {
	c.t.Helper()
	p, _ := cfg["profiles"].(map[string]any)[c.name].(map[string]any)
	if p == nil {
		c.t.Fatalf("no profile %q in config.json", c.name)
	}
	return p
}

// hostileCAFileSaved is the profile's ca_file in config.json.
func (c *cli) hostileCAFileSaved() string {
	c.t.Helper()
	s, _ := c.hostileProfile(c.hostileConfig())["ca_file"].(string)
	return s
}

// hostileEditCAFile sets the profile's ca_file in config.json by hand.
func (c *cli) hostileEditCAFile(caFile string) {
	c.t.Helper()
	cfg := c.hostileConfig()
	c.hostileProfile(cfg)["ca_file"] = caFile
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.cfgDir, "config.json"), data, 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// hostileRequireKept checks that the keychain record is still kept.
func (c *cli) hostileRequireKept(kept *keychain.Record) {
	c.t.Helper()
	if now := c.record(); !reflect.DeepEqual(now, kept) {
		c.t.Fatal("the keychain record changed, or is gone, after a refused refresh")
	}
}

func hostileRefreshEvents(srv *rig.Server) []rig.Event {
	var out []rig.Event
	for _, e := range srv.Events("grant.success") {
		if e.GrantType == "refresh_token" {
			out = append(out, e)
		}
	}
	return out
}

// hostileRefreshes checks that the server has seen n refreshes in all.
func hostileRefreshes(t *testing.T, srv *rig.Server, n int) {
	t.Helper()
	// The server writes its event log as it answers: wait for the n-th.
	deadline := time.Now().Add(5 * time.Second)
	got := len(hostileRefreshEvents(srv))
	for got < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		got = len(hostileRefreshEvents(srv))
	}
	if got != n {
		t.Fatalf("the server saw %d refreshes, want %d", got, n)
	}
}

// hostileDir is a new directory of the test, mode 0755.
func hostileDir(t *testing.T, name string) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(d, 0o755) })
	return d
}

func hostileCopy(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
