package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/keychain"
)

// The opt-in grant file store (requirement 38) in process.

// unavailableStore is a keychain that is not there.
type unavailableStore struct{}

func (unavailableStore) Get(context.Context, string) (*keychain.Record, error) {
	return nil, keychain.ErrUnavailable
}
func (unavailableStore) Set(context.Context, string, *keychain.Record) error {
	return keychain.ErrUnavailable
}
func (unavailableStore) Delete(context.Context, string) error { return keychain.ErrUnavailable }
func (unavailableStore) Name() string                         { return "secret-service" }

// TestFileStore_OptInWithoutKeychain_Req38: without a keychain and without
// the opt-in, login fails before the browser and says how to opt in; with
// it, the grant goes to a private file, login warns so, status names the
// store, token works, logout deletes the file.
func TestFileStore_OptInWithoutKeychain_Req38(t *testing.T) {
	h := newHarness(t)
	h.altStore = unavailableStore{}
	r := h.login()
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "SESAME_STORE=file")
	if h.browser.Calls() != 0 {
		t.Fatal("the browser opened without a store")
	}

	dir := filepath.Join(t.TempDir(), "grants")
	h.altStore = &keychain.Fallback{Primary: unavailableStore{}, Secondary: keychain.NewFile(dir)}
	r = h.login()
	wantExit(t, r, 0)
	if !strings.Contains(r.stderr, "warning: there is no keychain here") || !strings.Contains(r.stderr, dir) {
		t.Fatalf("login did not warn about the file store:\n%s", r.stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("grant files: %v %v", entries, err)
	}
	if st, _ := os.Stat(filepath.Join(dir, entries[0].Name())); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o", st.Mode().Perm())
	}
	r = h.run("status", "-p", "work")
	if !strings.Contains(r.stdout, "file "+dir) {
		t.Fatalf("status does not name the file store:\n%s", r.stdout)
	}
	wantExit(t, h.run("token", "-p", "work"), 0)
	wantExit(t, h.run("logout", "-p", "work"), 0)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("%d grant files left after logout", len(entries))
	}
}
