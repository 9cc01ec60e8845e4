package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/tokencache"
	"github.com/sesame-auth/sesame/keychain"
)

// TestToken_ParallelProcessesShareOneRefresh_Req29: callers that find the
// access token expired at the same moment, each a process of its own as
// kubectl and git start them, share exactly one refresh (requirement 29).
// The server rotates refresh tokens strictly and treats a replayed one as
// theft, revoking the whole grant (RFC 9700 §4.14.2): a second redemption
// of the same refresh token would fail a caller, leave the server with two
// refreshes, and make the grant unusable afterwards.
//
// The processes are this test binary run as sesame (TestMain), with the
// real main: the opt-in file store (requirement 38) in one state
// directory, the profile lock in one runtime directory, the kernel token
// cache, and the detached refresher each caller hands the lock to. The
// Secret Service is made unreachable, so the file store is what they share
// even on a desktop that has a keychain. Linux only: elsewhere the OS
// keychain cannot be hidden that way and would be used.
func TestToken_ParallelProcessesShareOneRefresh_Req29(t *testing.T) {
	// authtest's defaults are the strict server: rotation with reuse
	// detection and no grace, so a second refresh would end the grant.
	h := newHarness(t)
	stateDir := t.TempDir()
	store := keychain.NewFile(filepath.Join(stateDir, "grants"))
	h.altStore = store
	h.mustLogin()
	cfg, err := profile.Load(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	key := cfg.Profile("work").KeychainKey()
	// The callers keep the access token in the user's kernel keyring; the
	// key is this test's own (its issuer has a port of its own).
	t.Cleanup(func() { tokencache.New().Delete(key) })
	expired := expireStored(t, store, key)

	// A marker in the environment of every process this test starts (the
	// refreshers inherit it), to find any left behind.
	marker := fmt.Sprintf("SESAME_TEST_RUN=%d", time.Now().UnixNano())
	env := sesameProcessEnv(t, h, stateDir, marker)

	const callers = 8
	// Only a hang guard: nothing below depends on how fast the machine is.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	type outcome struct {
		stdout, stderr bytes.Buffer
		err            error
	}
	outs := make([]outcome, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range outs {
		cmd := exec.CommandContext(ctx, os.Args[0], "token", "-p", "work")
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = &outs[i].stdout, &outs[i].stderr
		cmd.WaitDelay = 10 * time.Second
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			outs[i].err = cmd.Run()
		}()
	}
	close(start)
	wg.Wait()
	// Each caller waits for its refresher's report and reaps it, so none
	// may be left; one that is (a caller killed by the hang guard leaves
	// its refresher running) is ended here.
	left := processesWith(marker)
	for _, pid := range left {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if ctx.Err() != nil {
		t.Fatal("the callers were still running after three minutes: killed")
	}
	if len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
	}

	token := strings.TrimSpace(outs[0].stdout.String())
	for i := range outs {
		o := &outs[i]
		if o.err != nil {
			t.Fatalf("caller %d: %v\n%s", i, o.err, o.stderr.String())
		}
		if got := strings.TrimSpace(o.stdout.String()); got != token {
			t.Fatalf("caller %d printed another token than caller 0:\n%s", i, o.stderr.String())
		}
	}
	if token == expired.AccessToken || !strings.HasPrefix(token, "SNTL-AT-") {
		t.Fatal("the callers printed the expired token, or no token")
	}
	if n := h.as.RefreshCount(); n != 1 {
		t.Fatalf("the server saw %d refresh requests, want exactly 1", n)
	}
	rec, err := store.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if h.as.Revoked(rec.RefreshToken) {
		t.Fatal("the server revoked the grant: a refresh token was replayed")
	}
	if rec.AccessToken != token || rec.RefreshToken != h.as.LatestRefreshToken() || rec.RefreshToken == expired.RefreshToken {
		t.Fatal("the stored grant is not the one the refresh returned")
	}

	// The grant is still good: the next refresh succeeds.
	expireStored(t, store, key)
	cmd := exec.CommandContext(ctx, os.Args[0], "token", "-p", "work")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the next caller after the parallel refresh: %v", err)
	}
	if next := strings.TrimSpace(string(out)); next == token || !strings.HasPrefix(next, "SNTL-AT-") || h.as.RefreshCount() != 2 {
		t.Fatalf("the next caller did not refresh the grant (refreshes: %d)", h.as.RefreshCount())
	}
}

// expireStored makes the access token stored under key expired on the real
// clock, the processes' clock, and drops it from the kernel token cache,
// where a caller would find it still fresh. It returns the record as it
// was.
func expireStored(t *testing.T, store keychain.Store, key string) *keychain.Record {
	t.Helper()
	tokencache.New().Delete(key)
	ctx := context.Background()
	rec, err := store.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	was := *rec
	past := time.Now().Add(-time.Minute)
	rec.Expiry = past
	for _, at := range rec.ResourceTokens {
		if at != nil {
			at.Expiry = past
		}
	}
	if err := store.Set(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	return &was
}

// sesameProcessEnv is the environment of a sesame process of h's: the
// test's own without any SESAME_ setting, plus h's configuration and lock
// directories, the file store in stateDir, and a Secret Service address
// where there is none. Under -race, a process that ends waits a second by
// default for late race reports; its exit status still says whether it saw
// a race, so the wait, paid by every caller and refresher, is turned off.
func sesameProcessEnv(t *testing.T, h *harness, stateDir, marker string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SESAME_") && !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
			env = append(env, kv)
		}
	}
	return append(env,
		asSesameEnv+"=1",
		marker,
		"SESAME_CONFIG_DIR="+h.dir,
		"XDG_RUNTIME_DIR="+h.env["XDG_RUNTIME_DIR"],
		"SESAME_STORE=file",
		"SESAME_STATE_DIR="+stateDir,
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-such-bus"),
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"),
	)
}

// processesWith lists the processes whose environment holds the variable
// assignment kv.
func processesWith(kv string) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	for _, d := range dirs {
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil {
			continue
		}
		for v := range bytes.SplitSeq(env, []byte{0}) {
			if string(v) == kv {
				pid, _ := strconv.Atoi(filepath.Base(d))
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}
