package profile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// helperEnv selects TestHelperProcess's helper mode; helperDirEnv and
// helperNameEnv say where and which profile the helper adds.
const (
	helperEnv     = "SESAME_PROFILE_TEST_HELPER"
	helperDirEnv  = "SESAME_PROFILE_TEST_DIR"
	helperNameEnv = "SESAME_PROFILE_TEST_NAME"
)

// testProfile returns a valid profile called name.
func testProfile(name string) *Profile {
	return &Profile{Name: name, Issuer: "https://as.example/" + name, ClientID: "cli-" + name}
}

// addProfile is a change that adds a valid profile called name.
func addProfile(name string) func(*Config) error {
	return func(c *Config) error {
		c.Profiles[name] = testProfile(name)
		return nil
	}
}

// checkNames fails unless dir's configuration holds exactly want, each
// profile with the fields testProfile gave it.
func checkNames(t *testing.T, dir string, want []string) {
	t.Helper()
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want = slices.Sorted(slices.Values(want))
	if got := strings.Join(c.Names(), ","); got != strings.Join(want, ",") {
		t.Fatalf("profiles = %s, want %s", got, strings.Join(want, ","))
	}
	for _, n := range want {
		if p := c.Profile(n); p.Issuer != testProfile(n).Issuer || p.ClientID != testProfile(n).ClientID {
			t.Errorf("profile %s = %+v", n, p)
		}
	}
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

func TestUpdate_ConcurrentGoroutinesKeepEveryProfile(t *testing.T) {
	tests := []struct {
		name     string
		existing []string // profiles saved before the updates
		nested   bool     // the config directory does not exist yet
	}{
		{name: "no directory yet", nested: true},
		{name: "empty file", existing: nil},
		{name: "file with profiles", existing: []string{"aa", "zz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.nested {
				dir = filepath.Join(dir, "a", "sesame")
			} else {
				c, err := Load(dir)
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range tt.existing {
					c.Profiles[n] = testProfile(n)
				}
				if err := c.Save(); err != nil {
					t.Fatal(err)
				}
			}
			added := names("g", 20)
			var wg sync.WaitGroup
			for _, n := range added {
				wg.Go(func() {
					if _, err := Update(t.Context(), dir, addProfile(n)); err != nil {
						t.Errorf("Update %s: %v", n, err)
					}
				})
			}
			wg.Wait()
			checkNames(t, dir, append(append([]string(nil), tt.existing...), added...))
			if tt.nested {
				st, err := os.Stat(dir)
				if err != nil || st.Mode().Perm() != 0o700 {
					t.Fatalf("created dir mode = %v, %v; want 0700", st.Mode().Perm(), err)
				}
			}
			for _, f := range []string{FileName, lockFileName} {
				st, err := os.Stat(filepath.Join(dir, f))
				if err != nil || st.Mode().Perm() != 0o600 {
					t.Errorf("%s mode = %v, %v; want 0600", f, st.Mode().Perm(), err)
				}
			}
		})
	}
}

// TestHelperProcess is not a test: TestUpdate_ConcurrentProcesses runs the
// test binary with helperEnv set to make it one sesame process adding one
// profile.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestUpdate_ConcurrentProcesses")
	}
	name := os.Getenv(helperNameEnv)
	if _, err := Update(context.Background(), os.Getenv(helperDirEnv), addProfile(name)); err != nil {
		fmt.Fprintf(os.Stderr, "helper %s: %v\n", name, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func TestUpdate_ConcurrentProcessesKeepEveryProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 10 processes")
	}
	tests := []struct {
		name  string
		procs int
	}{
		{name: "ten processes", procs: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "sesame")
			added := names("p", tt.procs)
			cmds := make([]*exec.Cmd, len(added))
			outs := make([]*bytes.Buffer, len(added))
			for i, n := range added {
				cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
				cmd.Env = append(os.Environ(), helperEnv+"=1", helperDirEnv+"="+dir, helperNameEnv+"="+n)
				outs[i] = new(bytes.Buffer)
				cmd.Stdout, cmd.Stderr = outs[i], outs[i]
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				cmds[i] = cmd
			}
			for i, cmd := range cmds {
				if err := cmd.Wait(); err != nil {
					t.Errorf("helper %s: %v\n%s", added[i], err, outs[i])
				}
			}
			checkNames(t, dir, added)
		})
	}
}

func TestUpdate_FailedChangeWritesNothing(t *testing.T) {
	errChange := errors.New("change refused")
	tests := []struct {
		name    string
		change  func(*Config) error
		wantErr error  // matched with errors.Is, when set
		wantMsg string // in the error, when set
	}{
		{
			name: "change returns an error after modifying",
			change: func(c *Config) error {
				c.Profiles["new"] = testProfile("new")
				delete(c.Profiles, "keep")
				c.Profiles["other"].Issuer = "https://changed.example"
				return errChange
			},
			wantErr: errChange,
		},
		{
			name: "change leaves an invalid profile",
			change: func(c *Config) error {
				c.Profiles["bad"] = &Profile{Issuer: "http://as.example", ClientID: "c"}
				return nil
			},
			wantMsg: `profile "bad"`,
		},
		{
			name: "change leaves an invalid profile name",
			change: func(c *Config) error {
				c.Profiles["no spaces"] = testProfile("x")
				return nil
			},
			wantMsg: "invalid profile name",
		},
		{
			name: "change leaves a nil profile",
			change: func(c *Config) error {
				c.Profiles["nil"] = nil
				return nil
			},
			wantMsg: `profile "nil" is empty`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			c.Profiles["keep"] = testProfile("keep")
			c.Profiles["other"] = testProfile("other")
			if err := c.Save(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, FileName)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Update(t.Context(), dir, tt.change)
			if err == nil || got != nil {
				t.Fatalf("Update = %v, %v; want an error", got, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want it to contain %q", err, tt.wantMsg)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("file changed:\nbefore %s\nafter  %s", before, after)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != FileName && e.Name() != lockFileName {
					t.Errorf("leftover file %s", e.Name())
				}
			}
			// The lock was released: a later update succeeds.
			if _, err := update(t.Context(), dir, time.Second, addProfile("later")); err != nil {
				t.Fatalf("update after a failed change: %v", err)
			}
		})
	}
}

func TestUpdate_LockHeldElsewhereFails(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		wantMsg string
		wantErr error
	}{
		{name: "wait runs out", ctx: context.Background(), wantMsg: "another sesame process"},
		{name: "context cancelled", ctx: cancelled, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			// Another holder: a separate open file description, which flock
			// excludes as it would another process.
			other := flock.New(filepath.Join(dir, lockFileName), flock.SetPermissions(0o600))
			ok, err := other.TryLock()
			if err != nil || !ok {
				t.Fatalf("TryLock = %v, %v", ok, err)
			}
			defer func() { _ = other.Close() }()
			called := false
			got, err := update(tt.ctx, dir, 50*time.Millisecond, func(c *Config) error {
				called = true
				return nil
			})
			if err == nil || got != nil {
				t.Fatalf("update = %v, %v; want an error", got, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("err = %v, want it to name %s", err, path)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want it to contain %q", err, tt.wantMsg)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if called {
				t.Error("change ran without the lock")
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("config file written without the lock: %v", err)
			}
		})
	}
}
