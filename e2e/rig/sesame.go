package rig

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var sesameBuild struct {
	once sync.Once
	dir  string
	bin  string
	err  error
	out  []byte
}

// BuildSesame builds the sesame binary once per test process and returns
// its path. The end-to-end tests run the real binary, as kubectl, git and a
// person would.
func BuildSesame(t testing.TB) string {
	t.Helper()
	SkipUnlessE2E(t)
	sesameBuild.once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		sesameBuild.dir, sesameBuild.err = os.MkdirTemp("", "sesame-e2e-bin-")
		if sesameBuild.err != nil {
			return
		}
		sesameBuild.bin = filepath.Join(sesameBuild.dir, "sesame")
		cmd := exec.Command("go", "build", "-o", sesameBuild.bin, "./cmd/sesame")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		sesameBuild.out, sesameBuild.err = cmd.CombinedOutput()
	})
	if sesameBuild.err != nil {
		t.Fatalf("e2e: go build ./cmd/sesame: %v\n%s", sesameBuild.err, sesameBuild.out)
	}
	return sesameBuild.bin
}

// RemoveSesameBuild deletes the binary built by BuildSesame; TestMain calls
// it after the tests.
func RemoveSesameBuild() {
	if sesameBuild.dir != "" {
		_ = os.RemoveAll(sesameBuild.dir)
	}
}
