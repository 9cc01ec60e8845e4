// Package clock is the one source of time for code whose waits tests must
// not sit through: the device flow's polling interval (RFC 8628 §3.5), the
// pause before a failed grant write is tried again, and the time the
// session compares expiries against. Tests supply a clock whose waits end
// at once (moving its time forward, or not) instead of passing.
package clock

import "time"

// Clock tells the time and waits. Implementations must be safe for
// concurrent use.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed, like
	// time.After.
	After(d time.Duration) <-chan time.Time
}

// System is the real clock.
var System Clock = system{}

type system struct{}

func (system) Now() time.Time                         { return time.Now() }
func (system) After(d time.Duration) <-chan time.Time { return time.After(d) }
