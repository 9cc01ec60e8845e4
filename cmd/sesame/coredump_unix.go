//go:build unix

package main

import "golang.org/x/sys/unix"

// disableCoreDumps sets RLIMIT_CORE to 0: a core file would hold every
// token in the process's memory (requirement 35).
func disableCoreDumps() {
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0})
}
