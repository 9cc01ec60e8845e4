package tokencache

import (
	"sync"
	"time"
)

// Memory is an in-process Cache for tests. It ignores ttl: callers check
// freshness themselves.
type Memory struct {
	mu sync.Mutex
	m  map[string]Entry
}

func (c *Memory) Get(key string) (*Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	return &e, ok
}

func (c *Memory) Put(key string, e *Entry, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]Entry{}
	}
	c.m[key] = *e
}

func (c *Memory) Delete(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// Len is the number of entries.
func (c *Memory) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func (c *Memory) Name() string { return "memory" }
