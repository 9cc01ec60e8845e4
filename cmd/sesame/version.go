package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set by the release build's -ldflags "-X main.version=... ".
var (
	version = ""
	commit  = ""
	date    = ""
)

// buildVersion returns the version, falling back to the module version that
// `go install` records in the binary.
func buildVersion() (v, c, d string) {
	v, c, d = version, commit, date
	if v != "" {
		return v, c, d
	}
	v = "devel"
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if c == "" {
					c = s.Value
				}
			case "vcs.time":
				if d == "" {
					d = s.Value
				}
			}
		}
	}
	return v, c, d
}

func newVersionCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print sesame's version",
		Example: "  sesame version\n  sesame --version",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(env.Stdout, versionLine())
			return err
		},
	}
}

// versionLine is what `sesame version` and `sesame --version` print:
// version, commit and date when the build recorded them, and the platform.
// It is computed only when asked for: the warm helper calls never pay for
// reading the build information.
func versionLine() string {
	v, c, d := buildVersion()
	line := "sesame " + v
	if c != "" {
		line += " (" + shortCommit(c)
		if d != "" {
			line += ", " + d
		}
		line += ")"
	}
	return fmt.Sprintf("%s %s/%s", line, runtime.GOOS, runtime.GOARCH)
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
