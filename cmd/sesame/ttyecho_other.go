//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

// echoOff cannot change the terminal here; readPasted then reads each
// line with term.ReadPassword instead.
func echoOff(int) (restore func(), ok bool) { return nil, false }
