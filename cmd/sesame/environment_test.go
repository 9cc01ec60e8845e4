package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestEnvironmentHelp_Complete: every environment variable the code reads
// by name (a Getenv or LookupEnv of a literal or of a constant) is in `sesame
// help environment`, so the list cannot fall behind the code.
func TestEnvironmentHelp_Complete(t *testing.T) {
	var files []string
	for _, dir := range []string{".", "../../internal", "../../credhelper", "../../keychain", "../../loopback", "../../devicecode"} {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
				files = append(files, path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var src strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	all := src.String()
	listed := map[string]bool{}
	for _, g := range environmentVars {
		for _, v := range g.vars {
			for _, name := range strings.Split(v.name, ", ") {
				listed[name] = true
			}
		}
	}
	// "k" ranges over a literal list of names in runTool (setup.go).
	passedOn := []string{"HOME", "KUBECONFIG", "GIT_CONFIG_GLOBAL"}
	calls := regexp.MustCompile(`(?:Getenv|getenv|LookupEnv)\(\s*(?:"([A-Z0-9_]+)"|(?:\w+\.)?(\w+))\s*\)`).FindAllStringSubmatch(all, -1)
	if len(calls) < 10 {
		t.Fatalf("found only %d environment reads; is the scan broken?", len(calls))
	}
	for _, c := range calls {
		names := []string{c[1]}
		switch {
		case c[1] != "":
		case c[2] == "k":
			names = passedOn
		default:
			m := regexp.MustCompile(`\b` + c[2] + `\s*=\s*"([A-Z0-9_]+)"`).FindStringSubmatch(all)
			if m == nil {
				t.Errorf("%s: cannot tell which variable %s names", c[0], c[2])
				continue
			}
			names = []string{m[1]}
		}
		for _, n := range names {
			if !listed[n] {
				t.Errorf("%s reads %s, which sesame help environment does not list", c[0], n)
			}
		}
	}
	if !slices.Contains(strings.Split(environmentText(), "\n"), "  SESAME_PROFILE") {
		t.Errorf("the help text does not list SESAME_PROFILE:\n%s", environmentText())
	}
}
