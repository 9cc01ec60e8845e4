package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sesame-auth/sesame/keychain"
)

// storeEnv is the opt-in to the file store on machines without a keychain.
const storeEnv = "SESAME_STORE"

// openStore returns the OS keychain, or with SESAME_STORE=file the keychain
// with the grant file store behind it for machines that have none
// (requirement 38: opt-in only, and only without a keychain).
func openStore(getenv func(string) string) (keychain.Store, error) {
	ring := keychain.NewKeyring(keychain.KeyringOptions{})
	switch getenv(storeEnv) {
	case "", "keychain":
		return ring, nil
	case "file":
		dir, err := fileStoreDir(getenv)
		if err != nil {
			return nil, err
		}
		return &keychain.Fallback{Primary: ring, Secondary: keychain.NewFile(dir)}, nil
	default:
		return nil, &usageError{msg: fmt.Sprintf("%s=%q: use keychain (the default) or file", storeEnv, getenv(storeEnv))}
	}
}

// fileStoreDir is where the file store keeps grants: $SESAME_STATE_DIR/grants,
// else $XDG_STATE_HOME/sesame/grants, else ~/.local/state/sesame/grants. It
// is state, not configuration: a dotfiles repository that holds
// ~/.config must never pick up grants.
func fileStoreDir(getenv func(string) string) (string, error) {
	if d := getenv("SESAME_STATE_DIR"); d != "" {
		return filepath.Join(d, "grants"), nil
	}
	if d := getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "sesame", "grants"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", errors.New("cannot find the home directory for the grant file store; set SESAME_STATE_DIR")
	}
	return filepath.Join(home, ".local", "state", "sesame", "grants"), nil
}
