//go:build !unix

package main

import "os/exec"

// detach does nothing where a child is not tied to the console's signals
// the way a Unix process group is.
func detach(cmd *exec.Cmd) {}
