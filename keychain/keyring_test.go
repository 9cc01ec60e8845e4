package keychain

import (
	"context"
	"errors"
	"maps"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

const testKey = "v1:test-key"

// newTestKeyring returns a Keyring on a fake backend with a small entry
// limit, so a 5 KB token is chunked.
func newTestKeyring(f *fakeBackend, limit int) *Keyring {
	return newKeyring(KeyringOptions{Service: "sesame-test", Timeout: 5 * time.Second, MaxEntryBytes: limit}, f, "linux")
}

// bigRecord has an access token of n bytes, like a JWT stuffed with groups.
func bigRecord(tag string, n int) *Record {
	r := testRecord(tag)
	r.AccessToken = "SNTL-AT-" + tag + "-" + strings.Repeat("x", n)
	return r
}

func mustSet(t *testing.T, s Store, key string, r *Record) {
	t.Helper()
	if err := s.Set(context.Background(), key, r); err != nil {
		t.Fatalf("Set: %v", err)
	}
}

func mustGet(t *testing.T, s Store, key string) *Record {
	t.Helper()
	r, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return r
}

func TestKeyring_WholeRoundTrip(t *testing.T) {
	f := newFake()
	k := newTestKeyring(f, 0)
	r := testRecord("whole")
	mustSet(t, k, testKey, r)
	if got := mustGet(t, k, testKey); !equalRecords(got, r) {
		t.Fatalf("got %+v\nwant %+v", got, r)
	}
	if users := f.users(); len(users) != 1 || users[0] != testKey {
		t.Fatalf("entries = %q, want only the key", users)
	}
}

func TestKeyring_Chunked_Req39(t *testing.T) {
	f := newFake()
	k := newTestKeyring(f, 200)
	r := bigRecord("chunk", 5000)
	mustSet(t, k, testKey, r)
	if got := mustGet(t, k, testKey); !equalRecords(got, r) || got.AccessToken != r.AccessToken {
		t.Fatal("chunked record not reassembled exactly")
	}
	snap := f.snapshot()
	if !strings.HasPrefix(snap[testKey], chunkedPrefix) {
		t.Fatalf("header entry = %.40q", snap[testKey])
	}
	for user, v := range snap {
		if len(v) > 200 {
			t.Errorf("entry %s holds %d bytes, limit 200", user, len(v))
		}
		if user != testKey && !strings.HasPrefix(user, testKey+"#a#") {
			t.Errorf("unexpected entry %s", user)
		}
	}
	if len(snap) < 26 {
		t.Fatalf("only %d entries for a 5 KB token in 200-byte entries", len(snap))
	}

	// The next write goes to the other slot and sweeps the first.
	r2 := bigRecord("chunk2", 3000)
	mustSet(t, k, testKey, r2)
	for _, user := range f.users() {
		if strings.Contains(user, "#a#") {
			t.Fatalf("slot a not swept: %s", user)
		}
	}
	if got := mustGet(t, k, testKey); !equalRecords(got, r2) {
		t.Fatal("second chunked record differs")
	}

	// A record that fits is stored whole and the chunks go. (A larger
	// limit on the same store stands in for a smaller record.)
	mustSet(t, newTestKeyring(f, 0), testKey, bigRecord("small", 100))
	if users := f.users(); len(users) != 1 {
		t.Fatalf("entries after a whole write = %q", users)
	}
	if err := k.Delete(context.Background(), testKey); err != nil {
		t.Fatal(err)
	}
	if users := f.users(); len(users) != 0 {
		t.Fatalf("entries after Delete = %q", users)
	}
}

// Chunks never split a UTF-8 sequence, whatever the offset.
func TestKeyring_ChunksAreValidUTF8(t *testing.T) {
	for pad := range 8 {
		f := newFake()
		k := newTestKeyring(f, 200)
		r := testRecord("utf8")
		r.Name = strings.Repeat("x", pad) + strings.Repeat("日本語ëñ🔑", 120)
		mustSet(t, k, testKey, r)
		for user, v := range f.snapshot() {
			if !utf8.ValidString(v) {
				t.Fatalf("pad %d: entry %s is not valid UTF-8", pad, user)
			}
		}
		if got := mustGet(t, k, testKey); got.Name != r.Name {
			t.Fatalf("pad %d: name not reassembled", pad)
		}
	}
}

func TestKeyring_CorruptEntries(t *testing.T) {
	cases := map[string]func(f *fakeBackend){
		"checksum mismatch": func(f *fakeBackend) {
			f.entries[testKey+"#a#3"] = strings.Repeat("y", len(f.entries[testKey+"#a#3"]))
		},
		"missing chunk": func(f *fakeBackend) { delete(f.entries, testKey+"#a#2") },
		"long chunk":    func(f *fakeBackend) { f.entries[testKey+"#a#1"] += strings.Repeat("z", 10000) },
		"bad header":    func(f *fakeBackend) { f.entries[testKey] = chunkedPrefix + "{nope" },
		"header n=0":    func(f *fakeBackend) { f.entries[testKey] = chunkedPrefix + `{"slot":"a","n":0,"len":0,"sum":""}` },
		"header slot":   func(f *fakeBackend) { f.entries[testKey] = strings.Replace(f.entries[testKey], `"a"`, `"c"`, 1) },
		"garbage":       func(f *fakeBackend) { f.entries[testKey] = "SNTL-RT-garbage" },
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			k := newTestKeyring(f, 200)
			mustSet(t, k, testKey, bigRecord("corrupt", 2000))
			f.mu.Lock()
			damage(f)
			f.mu.Unlock()
			r, err := k.Get(context.Background(), testKey)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Get = %v, %v; want ErrCorrupt", r, err)
			}
			if strings.Contains(err.Error(), "SNTL") {
				t.Fatalf("error quotes a secret: %v", err)
			}
			// A damaged record can always be replaced, then deleted clean.
			mustSet(t, k, testKey, bigRecord("fixed", 2000))
			if got := mustGet(t, k, testKey); !strings.HasPrefix(got.AccessToken, "SNTL-AT-fixed") {
				t.Fatal("replacement not readable")
			}
			if err := k.Delete(context.Background(), testKey); err != nil {
				t.Fatal(err)
			}
			if users := f.users(); len(users) != 0 {
				t.Fatalf("entries left after Delete: %q", users)
			}
		})
	}
}

func TestKeyring_NotFound(t *testing.T) {
	f := newFake()
	k := newTestKeyring(f, 0)
	if _, err := k.Get(context.Background(), testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing record = %v", err)
	}
	if err := k.Delete(context.Background(), testKey); err != nil {
		t.Fatalf("Delete of a missing record = %v", err)
	}
	if err := k.Set(context.Background(), "", testRecord("x")); err == nil {
		t.Fatal("Set accepted an empty key")
	}
}

func TestKeyring_TooLarge_Req39(t *testing.T) {
	f := newFake()
	k := newTestKeyring(f, 200)
	old := testRecord("old")
	mustSet(t, k, testKey, old)
	before := f.snapshot()
	err := k.Set(context.Background(), testKey, bigRecord("huge", 200*maxChunks))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Set of a huge record = %v, want ErrTooLarge", err)
	}
	if strings.Contains(err.Error(), "SNTL") {
		t.Fatalf("error quotes a secret: %v", err)
	}
	if after := f.snapshot(); !maps.Equal(before, after) {
		t.Fatalf("a refused record changed the entries: %q", f.users())
	}
	if got := mustGet(t, k, testKey); !equalRecords(got, old) {
		t.Fatal("refused write damaged the old record")
	}
	// The largest record that fits 64 chunks is still accepted: refusal is
	// about the bound, not an arbitrary smaller size.
	mustSet(t, k, testKey, bigRecord("fits", 200*(maxChunks-6)))
}

func TestKeyring_BackendErrorsPassThrough(t *testing.T) {
	f := newFake()
	k := newTestKeyring(f, 0)
	f.getErr = ErrUnavailable
	if _, err := k.Get(context.Background(), testKey); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get = %v", err)
	}
	if err := k.Set(context.Background(), testKey, testRecord("x")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Set = %v", err)
	}
	if f.writes != 0 {
		t.Fatal("Set wrote although the keychain could not be read")
	}
}

func TestKeyring_Name(t *testing.T) {
	for goos, want := range map[string]string{
		"linux":   "secret-service",
		"darwin":  "macos-keychain",
		"windows": "windows-credential-manager",
		"plan9":   "unsupported-plan9",
	} {
		if got := newKeyring(KeyringOptions{}, newFake(), goos).Name(); got != want {
			t.Errorf("%s: Name = %q, want %q", goos, got, want)
		}
	}
	if got := NewKeyring(KeyringOptions{}).Name(); got != backendName(runtime.GOOS) {
		t.Errorf("NewKeyring Name = %q", got)
	}
}

func TestKeyring_DefaultLimits(t *testing.T) {
	if got := newKeyring(KeyringOptions{}, newFake(), "windows").limit; got != 2560 {
		t.Errorf("windows limit = %d", got)
	}
	if got := newKeyring(KeyringOptions{}, newFake(), "linux").limit; got != 64<<10 {
		t.Errorf("linux limit = %d", got)
	}
	// macOS: go-keyring's `security -i` command line must stay under 4,096
	// bytes with the value base64-encoded and the longest chunk name.
	k := newKeyring(KeyringOptions{}, newFake(), "darwin")
	user := chunkUser(Key("i", "c", "p"), "a", maxChunks)
	line := len("add-generic-password -U -s  -a '' -w '' \n") + len(k.service) + len(user) +
		len("go-keyring-base64:") + (k.limit+2)/3*4
	if line > 4096 || k.limit < 2800 {
		t.Errorf("darwin limit %d gives a %d-byte command", k.limit, line)
	}
	if got := newKeyring(KeyringOptions{MaxEntryBytes: 10}, newFake(), "linux").limit; got != minEntryBytes {
		t.Errorf("tiny limit raised to %d, want %d", got, minEntryBytes)
	}
}

// A writer in another process replaces a chunked record while this process
// is between reading the header and reading the chunks. The reader must
// follow the new header, not report a torn record.
func TestKeyring_ReaderFollowsConcurrentWriter(t *testing.T) {
	f := newFake()
	reader := newTestKeyring(f, 200)
	writer := newTestKeyring(f, 200) // its own gates, like another process
	mustSet(t, writer, testKey, bigRecord("first", 2000))
	next := bigRecord("second", 2500)
	var once sync.Once
	f.onGet = func(user string) {
		if user == testKey+"#a#2" {
			once.Do(func() { mustSet(t, writer, testKey, next) })
		}
	}
	got := mustGet(t, reader, testKey)
	if !equalRecords(got, next) {
		t.Fatalf("reader got %.30q, want the writer's new record", got.AccessToken)
	}
}

func TestKeyring_ConcurrentUse(t *testing.T) {
	f := newFake()
	k := newTestKeyring(f, 200)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 10 {
				r := bigRecord("c", 300*(1+(i+j)%5))
				if err := k.Set(context.Background(), testKey, r); err != nil {
					t.Error(err)
					return
				}
				if _, err := k.Get(context.Background(), testKey); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := k.Delete(context.Background(), testKey); err != nil {
		t.Fatal(err)
	}
	if users := f.users(); len(users) != 0 {
		t.Fatalf("entries left: %q", users)
	}
}
