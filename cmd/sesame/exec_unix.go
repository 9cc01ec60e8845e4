//go:build unix

package main

import "syscall"

// execReplace replaces sesame with the command: no process of ours stays
// around holding the token, and signals and the exit code are the
// command's own.
func execReplace(path string, args, env []string) error {
	return syscall.Exec(path, args, env)
}
