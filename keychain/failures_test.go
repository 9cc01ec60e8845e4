package keychain

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// blockedKeyring returns a Keyring whose backend hangs, like a keychain
// waiting for its unlock prompt, and a function that lets it answer.
func blockedKeyring(t *testing.T, timeout time.Duration) (*Keyring, *fakeBackend, func()) {
	t.Helper()
	f := newFake()
	block := make(chan struct{})
	f.block = block
	k := newKeyring(KeyringOptions{Service: "sesame-test", Timeout: timeout}, f, "linux")
	var released bool
	release := func() {
		if !released {
			released = true
			close(block)
		}
	}
	t.Cleanup(release)
	return k, f, release
}

func TestKeyring_LockedTimesOut(t *testing.T) {
	k, f, release := blockedKeyring(t, 50*time.Millisecond)
	start := time.Now()
	_, err := k.Get(context.Background(), testKey)
	elapsed := time.Since(start)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Get on a hung keychain = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "did not answer within 50ms") || !strings.Contains(err.Error(), "unlock prompt") {
		t.Errorf("error does not say what happened: %v", err)
	}
	if elapsed > 2*time.Second {
		t.Errorf("Get took %v with a 50ms timeout", elapsed)
	}

	// The abandoned call still holds the keychain: a write must not slip
	// in ahead of it, and is bounded too.
	if err := k.Set(context.Background(), testKey, testRecord("x")); !errors.Is(err, ErrLocked) {
		t.Fatalf("Set behind a hung call = %v, want ErrLocked", err)
	}
	if err := k.Delete(context.Background(), testKey); !errors.Is(err, ErrLocked) {
		t.Fatalf("Delete behind a hung call = %v, want ErrLocked", err)
	}

	// Once the keychain answers, the next operation proceeds normally.
	release()
	k.timeout = 5 * time.Second
	mustSet(t, k, testKey, testRecord("after"))
	if got := mustGet(t, k, testKey); got.RefreshToken != "SNTL-RT-after" {
		t.Fatalf("after unlock: %+v", got)
	}
	if f.writes == 0 {
		t.Fatal("no write reached the backend")
	}
}

func TestKeyring_CallerCancels(t *testing.T) {
	k, _, _ := blockedKeyring(t, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err := k.Get(ctx, testKey)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrLocked) {
		t.Fatalf("Get after cancel = %v, want context.Canceled only", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("cancel took %v", time.Since(start))
	}
}

func TestKeyring_CallerDeadline(t *testing.T) {
	k, _, _ := blockedKeyring(t, time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := k.Get(ctx, testKey)
	if !errors.Is(err, ErrLocked) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get past the caller's deadline = %v, want ErrLocked and DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "did not answer in time") {
		t.Errorf("error text: %v", err)
	}
}

func TestKeyring_AlreadyCancelledTouchesNothing(t *testing.T) {
	f := newFake()
	k := newTestKeyring(f, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := k.Get(ctx, testKey); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v", err)
	}
	if err := k.Set(ctx, testKey, testRecord("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Set = %v", err)
	}
	if f.gets != 0 || f.writes != 0 {
		t.Fatalf("backend called %d/%d times with a cancelled context", f.gets, f.writes)
	}
}

// panicBackend stands for a D-Bus reply that go-keyring's type assertions
// do not expect.
type panicBackend struct{ *fakeBackend }

func (*panicBackend) get(service, user string) (string, error) { panic("unexpected reply") }

func TestKeyring_BackendPanicIsAnError(t *testing.T) {
	b := &panicBackend{newFake()}
	k := newKeyring(KeyringOptions{Timeout: time.Second}, b, "linux")
	if _, err := k.Get(context.Background(), testKey); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("Get = %v", err)
	}
	// The gate was released: the next call runs (and panics again).
	if _, err := k.Get(context.Background(), testKey); errors.Is(err, ErrLocked) {
		t.Fatalf("gate not released after a panic: %v", err)
	}
}

// The errors below are the ones go-keyring v0.2.8 and godbus actually
// return in these situations (their texts were taken from the libraries'
// sources and from runs against gnome-keyring).
func TestClassify(t *testing.T) {
	dbusErr := func(name, msg string) error { return dbus.Error{Name: name, Body: []any{msg}} }
	cases := []struct {
		name string
		in   error
		want error // nil: passed through unchanged
	}{
		{"not found", keyring.ErrNotFound, ErrNotFound},
		{"too big", keyring.ErrSetDataTooBig, ErrTooLarge},
		{"no secret service", dbusErr("org.freedesktop.DBus.Error.ServiceUnknown",
			"The name org.freedesktop.secrets was not provided by any .service files"), ErrUnavailable},
		{"no owner", dbusErr("org.freedesktop.DBus.Error.NameHasNoOwner", "Could not get owner of name"), ErrUnavailable},
		{"spawn failed", dbusErr("org.freedesktop.DBus.Error.Spawn.ChildExited", "Process exited with status 1"), ErrUnavailable},
		{"no session bus", errors.New("dbus: couldn't determine address of session bus"), ErrUnavailable},
		{"dead socket", fmt.Errorf("dial unix /run/user/0/bus: connect: no such file or directory"), ErrUnavailable},
		{"no dbus-launch", &exec.Error{Name: "dbus-launch", Err: exec.ErrNotFound}, ErrUnavailable},
		{"no default collection", dbusErr("org.freedesktop.Secret.Error.NoSuchObject", "The collection does not exist"), ErrUnavailable},
		{"unsupported OS", keyring.ErrUnsupportedPlatform, ErrUnavailable},
		{"locked", dbusErr("org.freedesktop.Secret.Error.IsLocked", "Cannot get secret of a locked object"), ErrLocked},
		{"prompt dismissed", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), ErrLocked},
		{"other", errors.New("exit status 45"), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := classify(c.in)
			if c.want == nil {
				if got != c.in {
					t.Fatalf("classify(%v) = %v, want it unchanged", c.in, got)
				}
				return
			}
			if !errors.Is(got, c.want) {
				t.Fatalf("classify(%v) = %v, want %v", c.in, got, c.want)
			}
		})
	}
	if classify(nil) != nil {
		t.Fatal("classify(nil) != nil")
	}
}
