//go:build !unix

package main

import (
	"os"
	"os/exec"
)

// execReplace runs the command and exits with its code: Windows has no
// exec(2).
func execReplace(path string, args, env []string) error {
	cmd := exec.Command(path, args[1:]...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = env, os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		os.Exit(ee.ExitCode())
	}
	if err != nil {
		return err
	}
	os.Exit(0)
	return nil
}
