package keychain

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestMemory_RoundTripAndCopies(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	if m.Name() != "memory" {
		t.Fatalf("Name = %q", m.Name())
	}
	key := Key("https://as.example", "sesame-cli", "work")
	r := testRecord("mem")
	if err := m.Set(ctx, key, r); err != nil {
		t.Fatal(err)
	}
	r.RefreshToken = "changed after Set"
	got, err := m.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken != "SNTL-RT-mem" || got.Version != RecordVersion {
		t.Fatalf("stored record aliased or unversioned: %+v", got)
	}
	if !got.IssuedAt.Equal(r.IssuedAt) || strings.Contains(got.IssuedAt.String(), "m=") {
		t.Fatalf("IssuedAt = %v, want %v without its monotonic reading, as the real keychain gives", got.IssuedAt, r.IssuedAt)
	}
	got.AccessToken = "changed after Get"
	again, _ := m.Get(ctx, key)
	if again.AccessToken != "SNTL-AT-mem" {
		t.Fatal("Get returned an alias of the stored record")
	}
	if keys := m.Keys(); len(keys) != 1 || keys[0] != key {
		t.Fatalf("Keys = %q", keys)
	}
	if err := m.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if err := m.Delete(ctx, key); err != nil {
		t.Fatalf("Delete of a missing record: %v", err)
	}
	if len(m.Keys()) != 0 {
		t.Fatalf("Keys after Delete = %q", m.Keys())
	}
}

func TestMemory_RefusesUnbound_Req39(t *testing.T) {
	r := testRecord("x")
	r.TokenEndpoint = ""
	if err := NewMemory().Set(context.Background(), "k", r); err == nil {
		t.Fatal("Memory stored a record without its binding")
	}
}

// A failing write leaves the old record in place, which is what lets a
// caller report "session may be lost" without losing it (Req 26).
func TestMemory_FaultInjection_Req26(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	old := testRecord("old")
	if err := m.Set(ctx, "k", old); err != nil {
		t.Fatal(err)
	}
	m.FailSet = ErrUnavailable
	if err := m.Set(ctx, "k", testRecord("new")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Set with FailSet = %v", err)
	}
	m.FailSet = nil
	got, err := m.Get(ctx, "k")
	if err != nil || got.RefreshToken != "SNTL-RT-old" {
		t.Fatalf("after a failed Set: %+v, %v", got, err)
	}
	m.FailGet = ErrLocked
	if _, err := m.Get(ctx, "k"); !errors.Is(err, ErrLocked) {
		t.Fatalf("Get with FailGet = %v", err)
	}
	m.FailDelete = errors.New("boom")
	if err := m.Delete(ctx, "k"); err == nil {
		t.Fatal("Delete with FailDelete succeeded")
	}
	m.FailGet, m.FailDelete = nil, nil
	if _, err := m.Get(ctx, "k"); err != nil {
		t.Fatalf("record lost by a failed Delete: %v", err)
	}
}

func TestMemory_Cancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := NewMemory()
	if _, err := m.Get(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v", err)
	}
	if err := m.Set(ctx, "k", testRecord("c")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Set = %v", err)
	}
	if err := m.Delete(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Delete = %v", err)
	}
}

func TestMemory_Concurrent(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			key := Key("i", "c", string(rune('a'+i%4)))
			for range 50 {
				_ = m.Set(ctx, key, testRecord("c"))
				if _, err := m.Get(ctx, key); err != nil && !errors.Is(err, ErrNotFound) {
					t.Error(err)
				}
				_ = m.Delete(ctx, key)
			}
		})
	}
	wg.Wait()
}
