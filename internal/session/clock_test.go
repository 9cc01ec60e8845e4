package session

import "time"

// stillClock is a clock stopped at one moment: a wait on it ends at once.
type stillClock time.Time

func (c stillClock) Now() time.Time                       { return time.Time(c) }
func (c stillClock) After(time.Duration) <-chan time.Time { return fired(time.Time(c)) }

// Now and After make a fixture the grant's clock: its time is f.now, which
// the tests move, and a wait on it ends at once.
func (f *fixture) Now() time.Time                       { return f.now }
func (f *fixture) After(time.Duration) <-chan time.Time { return fired(f.now) }

// fired is a channel that has received t.
func fired(t time.Time) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- t
	return ch
}
