//go:build !unix

package main

// disableCoreDumps does nothing where there is no RLIMIT_CORE; Windows
// writes no core files for a console program unless configured to.
func disableCoreDumps() {}
