// Package layers holds only a test: the import rules of ARCHITECTURE.md
// §2. Imports point one way — cmd → session, credhelper → loopback,
// devicecode, keychain, provider, … → small utilities → libraries — so a
// library never learns of the command line, and the use cases never of
// the wire formats of git, kubectl or docker.
package layers

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/sesame-auth/sesame/"

// layer of each package: a package may import only packages of a lower
// layer. Packages not listed are refused, so a new one must be placed.
var layer = map[string]int{
	"cmd/sesame": 5,

	"internal/session": 4,
	"credhelper":       4,

	"loopback":              3,
	"devicecode":            3,
	"internal/provider":     3,
	"internal/registration": 3,
	"internal/profile":      3,
	"internal/dpop":         3,

	"keychain":            2,
	"internal/filelock":   2,
	"internal/tokencache": 2,
	"internal/oauthwire":  2,
	"internal/urlcheck":   2,
	"internal/preset":     2,

	"internal/redact":   1,
	"internal/private":  1,
	"internal/clock":    1,
	"internal/jsonlite": 1,
}

// testOnly are packages only tests may import.
var testOnly = []string{"internal/authtest", "internal/ptytest", "e2e", "e2e/rig"}

func TestImportsPointOneWay(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	for pkg, level := range layer {
		bp, err := build.ImportDir(filepath.Join(root, pkg), 0)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		for _, imp := range bp.Imports {
			dep, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			if slices.Contains(testOnly, dep) {
				t.Errorf("%s imports the test-only package %s", pkg, dep)
				continue
			}
			depLevel, placed := layer[dep]
			switch {
			case !placed:
				t.Errorf("%s imports %s, which has no layer here: place it in layers_test.go", pkg, dep)
			case depLevel >= level:
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point to a lower layer", pkg, level, dep, depLevel)
			}
		}
	}
}

// TestEveryPackageHasALayer: a new package must be placed above.
func TestEveryPackageHasALayer(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "dist") {
			return filepath.SkipDir
		}
		bp, err := build.ImportDir(path, 0)
		if err != nil || len(bp.GoFiles) == 0 || slices.Contains(testOnly, rel) || strings.HasPrefix(rel, "e2e/") {
			return nil
		}
		if _, ok := layer[rel]; !ok {
			t.Errorf("package %s has no layer: place it in layers_test.go", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
