package main

import (
	"sync"
	"time"
)

// testClock is sesame's clock in the in-process tests: the real time moved
// forward by an offset that tests advance. Waiting on it takes no real
// time: After moves the offset by d and fires at once, so a device login
// polls back to back, each poll seeing the time it would see after a real
// wait, and a code's expiry still comes after the number of polls it
// allows. A held clock never ends a wait and reports each one on the
// channel hold returned, for tests that act while sesame waits (Ctrl-C).
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
	// epoch, when set, stops the clock there: now is epoch plus what
	// advance and the waits added, so the times sesame prints are the
	// same on every run (the CLI scripts).
	epoch time.Time
	waits chan time.Duration // non-nil while held
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base().Add(c.offset)
}

// base is the epoch, or the real time when there is none; c.mu is held.
func (c *testClock) base() time.Time {
	if !c.epoch.IsZero() {
		return c.epoch
	}
	return time.Now()
}

func (c *testClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waits != nil {
		select {
		case c.waits <- d:
		default:
		}
		return nil // a nil channel never receives
	}
	c.offset += max(d, 0)
	fired := make(chan time.Time, 1)
	fired <- c.base().Add(c.offset)
	return fired
}

// advance moves the clock forward by d.
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// hold makes every later wait last for ever; the returned channel gets the
// length of each (it keeps the first 16).
func (c *testClock) hold() <-chan time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = make(chan time.Duration, 16)
	return c.waits
}
