package keychain

import (
	"context"
	"errors"
	"testing"
)

// stubStore fails every call with err.
type stubStore struct {
	err   error
	calls int
}

func (s *stubStore) Get(context.Context, string) (*Record, error) { s.calls++; return nil, s.err }
func (s *stubStore) Set(context.Context, string, *Record) error   { s.calls++; return s.err }
func (s *stubStore) Delete(context.Context, string) error         { s.calls++; return s.err }
func (s *stubStore) Name() string                                 { return "stub" }

func TestFallback_UsedOnlyWithoutAKeychain_Req38(t *testing.T) {
	ctx := context.Background()
	key := Key("https://as.example", "c", "work")

	// No keychain: the file store serves, from the first call on.
	absent := &stubStore{err: ErrUnavailable}
	second := NewMemory()
	f := &Fallback{Primary: absent, Secondary: second}
	if err := f.Set(ctx, key, testRecord("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(ctx, key); err != nil {
		t.Fatal(err)
	}
	if absent.calls != 1 || !f.UsesSecondary() || f.Name() != second.Name() {
		t.Fatalf("keychain asked %d times, secondary used %v", absent.calls, f.UsesSecondary())
	}

	// A keychain that is there: the file store is never touched.
	primary := NewMemory()
	unused := &stubStore{err: errors.New("must not be used")}
	f = &Fallback{Primary: primary, Secondary: unused}
	if _, err := f.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if err := f.Set(ctx, key, testRecord("b")); err != nil || unused.calls != 0 || f.UsesSecondary() {
		t.Fatalf("set %v, file store calls %d", err, unused.calls)
	}

	// A locked keychain is not an absent one.
	locked := &stubStore{err: ErrLocked}
	unused = &stubStore{err: errors.New("must not be used")}
	f = &Fallback{Primary: locked, Secondary: unused}
	if _, err := f.Get(ctx, key); !errors.Is(err, ErrLocked) || unused.calls != 0 {
		t.Fatalf("locked keychain: %v, file store calls %d", err, unused.calls)
	}
}
