//go:build !unix

package session

// noFollow is 0 where open has no such flag; the marker lives in the
// private lock directory.
const noFollow = 0
