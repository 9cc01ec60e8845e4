package rig

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// EnvServerDir overrides the directory of the Node test server (server.js,
// package.json, package-lock.json).
const EnvServerDir = "SESAME_E2E_SERVER_DIR"

// stampFile, inside node_modules, holds the SHA-256 of the package-lock.json
// that the last successful `npm ci` installed.
const stampFile = ".sesame-e2e-lock-sha256"

var (
	npmOnce sync.Once
	npmErr  error
)

// ServerDir is the directory of the Node test server: $SESAME_E2E_SERVER_DIR,
// or e2e/server next to this package's source.
func ServerDir() string {
	if d := os.Getenv(EnvServerDir); d != "" {
		return d
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("e2e", "server")
	}
	return filepath.Join(filepath.Dir(file), "..", "server")
}

// ensureNodeModules runs `npm ci` in dir at most once per process, and only
// when node_modules is missing or was installed from another lock file.
// Processes (parallel `go test` binaries) serialise on a file lock.
func ensureNodeModules(dir string) error {
	npmOnce.Do(func() { npmErr = npmCI(dir) })
	return npmErr
}

func npmCI(dir string) error {
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return fmt.Errorf("test server: %w", err)
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	stamp := filepath.Join(dir, "node_modules", stampFile)
	fresh := func() bool {
		got, err := os.ReadFile(stamp)
		return err == nil && string(bytes.TrimSpace(got)) == want
	}
	if fresh() {
		return nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	fl := flock.New(filepath.Join(dir, ".npm-ci.lock"))
	if ok, err := fl.TryLockContext(ctx, 100*time.Millisecond); !ok || err != nil {
		return fmt.Errorf("test server: waiting for the npm ci lock: %v", errors.Join(err, ctx.Err()))
	}
	defer func() { _ = fl.Unlock() }()
	if fresh() { // another process installed while we waited
		return nil
	}

	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("test server: npm ci in %s: %w\n%s", dir, err, out)
	}
	if err := os.WriteFile(stamp, []byte(want+"\n"), 0o644); err != nil {
		return fmt.Errorf("test server: %w", err)
	}
	return nil
}
