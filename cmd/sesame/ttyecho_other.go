//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

// echoOff cannot change the terminal here: a pasted address shows as it
// is typed (see echoOffLocked).
func echoOff(int) (restore func(), ok bool) { return nil, false }
