package keychain

import (
	"context"
	"errors"
	"sync"
	"time"
)

// probeTimeout bounds the call Name makes to learn whether the keychain is
// there, when no other call has told yet.
const probeTimeout = 10 * time.Second

// probeKey is a key no record is ever stored under.
const probeKey = "v1:sesame-probe"

// Fallback is the OS keychain, or, on a machine that has none, the file
// store the user opted in to (requirement 38: "used only when no
// OS keychain is available and the user explicitly opts in"). Every call
// goes to the keychain until one shows it is unreachable (ErrUnavailable);
// from then on the file store serves the process, starting with that call.
// A locked keychain is not an absent one: its error is returned, and the
// file store is not used.
type Fallback struct {
	Primary, Secondary Store

	mu     sync.Mutex
	chosen Store
}

// do runs op on the chosen store, choosing it on the first call that says.
func (f *Fallback) do(op func(Store) error) error {
	f.mu.Lock()
	s := f.chosen
	f.mu.Unlock()
	if s != nil {
		return op(s)
	}
	err := op(f.Primary)
	switch {
	case errors.Is(err, ErrUnavailable):
		f.choose(f.Secondary)
		return op(f.Secondary)
	case err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt):
		f.choose(f.Primary)
	}
	return err
}

func (f *Fallback) choose(s Store) {
	f.mu.Lock()
	if f.chosen == nil {
		f.chosen = s
	}
	f.mu.Unlock()
}

// Get implements Store.
func (f *Fallback) Get(ctx context.Context, key string) (r *Record, err error) {
	err = f.do(func(s Store) error {
		r, err = s.Get(ctx, key)
		return err
	})
	return r, err
}

// Set implements Store.
func (f *Fallback) Set(ctx context.Context, key string, r *Record) error {
	return f.do(func(s Store) error { return s.Set(ctx, key, r) })
}

// Delete implements Store.
func (f *Fallback) Delete(ctx context.Context, key string) error {
	return f.do(func(s Store) error { return s.Delete(ctx, key) })
}

// Name implements Store: the store in use, asking the keychain first if no
// call has chosen yet.
func (f *Fallback) Name() string {
	if !f.decided() {
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		defer cancel()
		_, _ = f.Get(ctx, probeKey)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.chosen == nil {
		return f.Primary.Name()
	}
	return f.chosen.Name()
}

// UsesSecondary reports whether the file store was chosen.
func (f *Fallback) UsesSecondary() bool {
	f.Name()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.chosen != nil && f.chosen == f.Secondary
}

func (f *Fallback) decided() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.chosen != nil
}
