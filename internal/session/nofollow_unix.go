//go:build unix

package session

import "syscall"

// noFollow makes open refuse a symbolic link.
const noFollow = syscall.O_NOFOLLOW
