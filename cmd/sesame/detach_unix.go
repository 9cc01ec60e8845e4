//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// detach puts a launched browser in a session of its own: it must outlive
// sesame, and neither Ctrl-C in sesame's terminal nor the terminal closing
// (SIGHUP) should kill the browser the person is signing in with.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}
