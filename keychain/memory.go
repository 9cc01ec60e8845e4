package keychain

import (
	"context"
	"slices"
	"sync"
)

// Memory is a [Store] that keeps records in process memory, for tests.
//
// It stores the encoded form of each record, exactly as the OS keychain
// backend does, so a record read back has been through [EncodeRecord] and
// [DecodeRecord]: the binding is enforced, the version is set, times lose
// their monotonic reading, and no caller can alias another's copy.
//
// The Fail fields inject faults: when one is non-nil the matching operation
// returns it unchanged and leaves the store as it was, so tests can make a
// keychain write fail (requirement 26) or the keychain vanish
// (return [ErrUnavailable] or [ErrLocked]). Set them before the store is
// shared between goroutines, or between calls on one goroutine; changing
// them while another goroutine uses the store is a data race.
//
// The zero Memory is not ready for use; call [NewMemory].
type Memory struct {
	FailGet    error
	FailSet    error
	FailDelete error

	mu      sync.Mutex
	entries map[string][]byte
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{entries: make(map[string][]byte)}
}

// Name returns "memory".
func (m *Memory) Name() string { return "memory" }

// Get returns a fresh copy of the record under key.
func (m *Memory) Get(ctx context.Context, key string) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.FailGet != nil {
		return nil, m.FailGet
	}
	b, ok := m.entries[key]
	if !ok {
		return nil, ErrNotFound
	}
	return DecodeRecord(b)
}

// Set stores a copy of r under key.
func (m *Memory) Set(ctx context.Context, key string, r *Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := EncodeRecord(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.FailSet != nil {
		return m.FailSet
	}
	m.entries[key] = b
	return nil
}

// Delete removes the record under key; a missing record is not an error.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.FailDelete != nil {
		return m.FailDelete
	}
	delete(m.entries, key)
	return nil
}

// Keys returns the keys that hold a record, sorted, so tests can check that
// nothing is left behind after a logout.
func (m *Memory) Keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]string, 0, len(m.entries))
	for k := range m.entries {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var _ Store = (*Memory)(nil)
