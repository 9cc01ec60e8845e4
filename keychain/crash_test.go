package keychain

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// The records a crash test moves between: none, one that fits an entry, and
// chunked ones of different lengths (so slots hold different chunk counts).
func crashRecords() map[string]*Record {
	return map[string]*Record{
		"none":    nil,
		"whole":   testRecord("whole"), // about 400 bytes: whole at limit 600
		"chunk-4": bigRecord("chunk4", 1700),
		"chunk-9": bigRecord("chunk9", 4500),
	}
}

// TestKeyring_CrashMidWrite_Req26 kills the writer after every possible
// number of backend writes, for every kind of old and new record, and checks
// that a fresh process then reads exactly the old or the new record, never
// an error; that a Set that reported success left the new record; and that
// the next full write and a Delete leave no entry behind.
func TestKeyring_CrashMidWrite_Req26(t *testing.T) {
	ctx := context.Background()
	for oldName, old := range crashRecords() {
		for newName, next := range crashRecords() {
			if next == nil {
				continue
			}
			t.Run(oldName+"->"+newName, func(t *testing.T) {
				for budget := 0; ; budget++ {
					f := newFake()
					if old != nil {
						mustSet(t, newTestKeyring(f, 600), testKey, old)
						// A second write puts the old record in
						// slot b, so both slot orders are covered
						// across the table.
						if budget%2 == 1 {
							mustSet(t, newTestKeyring(f, 600), testKey, old)
						}
					}
					f.writesLeft = budget
					err := newTestKeyring(f, 600).Set(ctx, testKey, next)
					crashed := f.writesLeft == 0
					f.heal()

					got, gerr := newTestKeyring(f, 600).Get(ctx, testKey)
					switch {
					case err == nil && (gerr != nil || !equalRecords(got, next)):
						t.Fatalf("budget %d: Set succeeded but Get = %v, %v", budget, got, gerr)
					case gerr == nil && (equalRecords(got, next) || equalRecords(got, old)):
					case old == nil && errors.Is(gerr, ErrNotFound):
					default:
						t.Fatalf("budget %d (set err %v): Get = %v, %v; want old or new", budget, err, describe(got), gerr)
					}

					// Recovery: the next write and a Delete clean up
					// whatever the crash left.
					mustSet(t, newTestKeyring(f, 600), testKey, bigRecord("after", 800))
					if err := newTestKeyring(f, 600).Delete(ctx, testKey); err != nil {
						t.Fatal(err)
					}
					if users := f.users(); len(users) != 0 {
						t.Fatalf("budget %d: entries left after recovery: %q", budget, users)
					}
					if !crashed {
						return // the write completed within the budget
					}
				}
			})
		}
	}
}

// TestKeyring_CrashMidDelete kills Delete after every possible number of
// writes: the record is then either still readable whole or gone, and the
// next Delete removes every chunk.
func TestKeyring_CrashMidDelete(t *testing.T) {
	ctx := context.Background()
	old := bigRecord("del", 2500)
	for budget := 0; ; budget++ {
		f := newFake()
		mustSet(t, newTestKeyring(f, 600), testKey, old)
		f.writesLeft = budget
		err := newTestKeyring(f, 600).Delete(ctx, testKey)
		crashed := f.writesLeft == 0
		f.heal()
		got, gerr := newTestKeyring(f, 600).Get(ctx, testKey)
		kept := gerr == nil && equalRecords(got, old)
		if !kept && !errors.Is(gerr, ErrNotFound) {
			t.Fatalf("budget %d (delete err %v): Get = %v, %v", budget, err, describe(got), gerr)
		}
		if err == nil && !errors.Is(gerr, ErrNotFound) {
			t.Fatalf("budget %d: Delete succeeded but the record is readable", budget)
		}
		if err := newTestKeyring(f, 600).Delete(ctx, testKey); err != nil {
			t.Fatal(err)
		}
		if users := f.users(); len(users) != 0 {
			t.Fatalf("budget %d: entries left: %q", budget, users)
		}
		if !crashed {
			return
		}
	}
}

// describe names a record by its access token's first bytes, for messages.
func describe(r *Record) string {
	if r == nil {
		return "<nil>"
	}
	return fmt.Sprintf("record(%.16s)", r.AccessToken)
}
