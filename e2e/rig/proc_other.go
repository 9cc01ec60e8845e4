//go:build !unix

package rig

import (
	"os/exec"
	"syscall"
)

func ownProcessGroup(*exec.Cmd) {}

// signalGroup can only kill the process itself on systems without process
// groups.
func signalGroup(cmd *exec.Cmd, _ syscall.Signal) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

const (
	sigTerm = syscall.Signal(15)
	sigKill = syscall.Signal(9)
)
