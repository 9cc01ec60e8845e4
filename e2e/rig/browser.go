package rig

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// BuildTestBrowser builds the testbrowser program into t.TempDir() and
// returns its path. The Go build cache makes every build after the first
// fast.
func BuildTestBrowser(t testing.TB) string {
	t.Helper()
	SkipUnlessE2E(t)
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("e2e: cannot locate the rig's source")
	}
	bin := filepath.Join(t.TempDir(), "testbrowser")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", bin, "./testbrowser")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("e2e: go build ./e2e/testbrowser: %v\n%s", err, out)
	}
	return bin
}

// LauncherDir makes a directory holding xdg-open, x-www-browser and
// www-browser as links to the given testbrowser, for the front of a PATH:
// github.com/pkg/browser then opens URLs with testbrowser.
func LauncherDir(t testing.TB, testbrowser string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"xdg-open", "x-www-browser", "www-browser"} {
		if err := os.Symlink(testbrowser, filepath.Join(dir, name)); err != nil {
			t.Fatalf("e2e: %v", err)
		}
	}
	return dir
}

// BrowserRun is one line of testbrowser's TESTBROWSER_LOG: what the user
// would have seen.
type BrowserRun struct {
	Time                time.Time `json:"time"`
	Outcome             string    `json:"outcome"`              // "callback", "device-success" or "error"
	Error               string    `json:"error,omitempty"`      // why testbrowser failed
	URL                 string    `json:"url,omitempty"`        // scheme://host/path of the final page, no query
	Status              int       `json:"status,omitempty"`     // HTTP status of the final page
	Title               string    `json:"title,omitempty"`      // title of the final page
	StartParams         []string  `json:"start_params"`         // names (never values) of the opened URL's query parameters
	CallbackParams      []string  `json:"callback_params"`      // names (never values) of the callback's query parameters
	CallbackNavigations int       `json:"callback_navigations"` // navigations to the callback seen
	Pages               []string  `json:"pages"`                // pages acted on: login, consent, consent-deny, device-input, ...
	Blocked             int       `json:"blocked"`              // requests to other hosts that were refused
	ElapsedMS           int64     `json:"elapsed_ms"`
	Forged              []Forged  `json:"forged,omitempty"` // TESTBROWSER_FORGE=1: the forged callbacks sent first
}

// Forged is one forged callback testbrowser sent before signing in.
type Forged struct {
	Name      string `json:"name"`
	Status    int    `json:"status"`
	Reflected bool   `json:"reflected,omitempty"`
}

// ReadBrowserLog parses a TESTBROWSER_LOG file.
func ReadBrowserLog(t testing.TB, path string) []BrowserRun {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	defer func() { _ = f.Close() }()
	var runs []BrowserRun
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r BrowserRun
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("e2e: %s: %v", path, err)
		}
		runs = append(runs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("e2e: %s: %v", path, err)
	}
	return runs
}
