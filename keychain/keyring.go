package keychain

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// DefaultService is the service name under which every entry is stored.
const DefaultService = "sesame"

// DefaultTimeout bounds each Keyring operation. It is long enough for a
// person to notice an unlock prompt and type a password (gh's 3 s is not,
// cli/cli#11005) and short enough that a helper never hangs forever.
const DefaultTimeout = 60 * time.Second

// KeyringOptions configures [NewKeyring]. The zero value is the production
// configuration; tests shrink the timeout and the entry size.
type KeyringOptions struct {
	// Service is the keychain service name; empty means [DefaultService].
	// Tests use a unique name per run so they never touch a user's grants.
	Service string
	// Timeout bounds each Get, Set or Delete, on top of the caller's
	// context; zero means [DefaultTimeout].
	Timeout time.Duration
	// MaxEntryBytes is the largest value written to one keychain entry;
	// larger records are split. Zero means the platform's limit (2,560
	// bytes on Windows, about 2,900 on macOS, 64 KiB on Linux). Values
	// below 192 are raised to 192 so a chunk header still fits.
	MaxEntryBytes int
}

// Keyring is the [Store] backed by the operating system's credential store
// through go-keyring: the Secret Service on Linux, the login keychain on
// macOS, the Credential Manager on Windows.
//
// Records larger than one entry may hold are split across several entries
// and reassembled with a checksum; see the crash-safety notes in chunk.go.
//
// # Timeouts
//
// A locked keychain can wait for an unlock prompt indefinitely, and
// go-keyring has no way to cancel a call. Every operation is therefore
// bounded by the caller's context and by [KeyringOptions.Timeout]; when
// either runs out the operation returns an error wrapping [ErrLocked] (or the
// context's error when the caller cancelled) and the blocked call is left to
// finish in the background. Until it does, later calls on the same Keyring
// wait for it, within their own bounds, so a late write can never land after
// a newer one.
//
// # Concurrency
//
// A Keyring is safe for concurrent use; its operations run one at a time. The
// in-flight guard above is per Keyring, so a process should use one. Across
// processes, callers hold the per-profile file lock around read, refresh and
// write; a Get that races a writer in another process re-reads the header
// rather than report a torn record.
type Keyring struct {
	service string
	timeout time.Duration
	limit   int
	name    string
	b       backend

	// ops holds one token while a Get, Set or Delete runs.
	ops chan struct{}
	// calls holds one token while a backend call runs, including a call
	// whose operation has already timed out and returned.
	calls chan struct{}
}

var _ Store = (*Keyring)(nil)

// NewKeyring returns the OS keychain store. It does not touch the keychain:
// an absent Secret Service shows up as [ErrUnavailable] on first use.
func NewKeyring(opts KeyringOptions) *Keyring {
	return newKeyring(opts, goKeyring{}, runtime.GOOS)
}

func newKeyring(opts KeyringOptions, b backend, goos string) *Keyring {
	k := &Keyring{
		service: opts.Service,
		timeout: opts.Timeout,
		limit:   opts.MaxEntryBytes,
		name:    backendName(goos),
		b:       b,
		ops:     make(chan struct{}, 1),
		calls:   make(chan struct{}, 1),
	}
	if k.service == "" {
		k.service = DefaultService
	}
	if k.timeout <= 0 {
		k.timeout = DefaultTimeout
	}
	if k.limit == 0 {
		k.limit = defaultMaxEntryBytes(goos, k.service)
	}
	k.limit = max(k.limit, minEntryBytes)
	return k
}

// Name says which credential store this is: "secret-service",
// "macos-keychain" or "windows-credential-manager".
func (k *Keyring) Name() string { return k.name }

// Get returns the record under key, reassembling a chunked one and checking
// its checksum. A record that cannot be read whole gets [ErrCorrupt]; a
// partial record is never returned.
func (k *Keyring) Get(ctx context.Context, key string) (*Record, error) {
	ctx, end, err := k.begin(ctx, key)
	if err != nil {
		return nil, err
	}
	defer end()
	data, err := k.read(ctx, key)
	if err != nil {
		return nil, err
	}
	return DecodeRecord(data)
}

// Set stores r under key, whole when it fits one entry and chunked
// otherwise. A record too large even for [maxChunks] entries gets
// [ErrTooLarge] before anything is written: it is never truncated
// (requirement 39). If Set fails, the previous record is still
// readable; if it succeeds, the new one is (requirement 26).
func (k *Keyring) Set(ctx context.Context, key string, r *Record) error {
	data, err := EncodeRecord(r)
	if err != nil {
		return err
	}
	ctx, end, err := k.begin(ctx, key)
	if err != nil {
		return err
	}
	defer end()
	return k.write(ctx, key, Label(r), data)
}

// Delete removes the record under key and every chunk it may have left,
// including leftovers of interrupted writes. A missing record is not an
// error.
func (k *Keyring) Delete(ctx context.Context, key string) error {
	ctx, end, err := k.begin(ctx, key)
	if err != nil {
		return err
	}
	defer end()
	// The header goes first, so the record disappears for readers at once
	// and a crash below leaves only unreferenced chunks, which the next
	// Delete sweeps.
	if err := k.del(ctx, key); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	for _, slot := range slots {
		if err := k.sweep(ctx, key, slot, 1, 0); err != nil {
			return err
		}
	}
	return nil
}

// begin bounds one operation by the timeout and waits for the previous
// operation to finish. end releases both.
func (k *Keyring) begin(ctx context.Context, key string) (context.Context, func(), error) {
	if key == "" {
		return nil, nil, errors.New("empty keychain key")
	}
	ctx, cancel := context.WithTimeoutCause(ctx, k.timeout, errTimedOut)
	select {
	case k.ops <- struct{}{}:
	case <-ctx.Done():
		cancel()
		return nil, nil, k.waitErr(ctx)
	}
	return ctx, func() { <-k.ops; cancel() }, nil
}

func (k *Keyring) get(ctx context.Context, user string) (string, error) {
	return k.do(ctx, func() (string, error) { return k.b.get(k.service, user) })
}

// set writes one entry, labelled for a person when the backend can.
func (k *Keyring) set(ctx context.Context, user, label, value string) error {
	_, err := k.do(ctx, func() (string, error) {
		if l, ok := k.b.(labeler); ok && label != "" {
			return "", l.setLabeled(k.service, user, label, value)
		}
		return "", k.b.set(k.service, user, value)
	})
	return err
}

func (k *Keyring) del(ctx context.Context, user string) error {
	_, err := k.do(ctx, func() (string, error) { return "", k.b.delete(k.service, user) })
	return err
}

// do runs one backend call in its own goroutine and waits for it or for ctx,
// whichever comes first. go-keyring cannot be interrupted, so on timeout the
// goroutine is abandoned; it keeps the calls token until the backend
// returns, which holds back the next call.
func (k *Keyring) do(ctx context.Context, call func() (string, error)) (string, error) {
	if ctx.Err() != nil {
		return "", k.waitErr(ctx)
	}
	select {
	case k.calls <- struct{}{}:
	case <-ctx.Done():
		return "", k.waitErr(ctx)
	}
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned call must not block
	go func() {
		defer func() { <-k.calls }()
		defer func() {
			// go-keyring asserts the types of D-Bus replies; a
			// misbehaving daemon must not crash the process.
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("%s failed: the keychain backend panicked", k.name)}
			}
		}()
		v, err := call()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		// A call that finished as the deadline passed did its work;
		// reporting a completed write as failed would make a caller
		// believe a saved grant was lost.
		select {
		case r := <-done:
			return r.v, r.err
		default:
			return "", k.waitErr(ctx)
		}
	}
}

// errTimedOut is the cause of an operation's own timeout.
var errTimedOut = errors.New("keychain timeout")

// waitErr says why ctx ended: the caller cancelled, or the keychain did not
// answer in time, which is almost always a locked keychain waiting for its
// unlock prompt (gh reports this as an invalid token, cli/cli#14171; we say
// what happened).
func (k *Keyring) waitErr(ctx context.Context) error {
	cause := context.Cause(ctx)
	if errors.Is(cause, context.Canceled) {
		return fmt.Errorf("waiting for the keychain: %w", cause)
	}
	e := &noAnswerError{backend: k.name, cause: cause}
	if cause == errTimedOut {
		e.after = k.timeout
	}
	return e
}

// noAnswerError is the error of an operation that ran out of time. It wraps
// ErrLocked and the context's cause, without ErrLocked's text in front.
type noAnswerError struct {
	backend string
	after   time.Duration // zero when the caller's deadline ran out first
	cause   error
}

func (e *noAnswerError) Error() string {
	within := "in time"
	if e.after > 0 {
		within = "within " + e.after.String()
	}
	return fmt.Sprintf("the keychain (%s) did not answer %s; it may be locked and waiting for an unlock prompt", e.backend, within)
}

func (e *noAnswerError) Unwrap() []error { return []error{ErrLocked, e.cause} }

// maxChunks bounds how many entries one record may span. With the smallest
// platform limit (Windows, 2,560 bytes) that is about 160 KB of record, far
// above any real grant; a record beyond it is refused, never truncated.
const maxChunks = 64

// minEntryBytes is the smallest per-entry limit accepted from options: below
// it the chunk header itself would not fit.
const minEntryBytes = 192

// linuxMaxEntryBytes is a sanity cap for the Secret Service, which has no
// limit of its own but slows down with large values. No grant comes near it.
const linuxMaxEntryBytes = 64 << 10

// windowsMaxEntryBytes is CRED_MAX_CREDENTIAL_BLOB_SIZE (5 × 512 bytes), the
// largest blob the Windows Credential Manager stores; go-keyring refuses more.
const windowsMaxEntryBytes = 2560

// backendName says which credential store go-keyring talks to on goos.
func backendName(goos string) string {
	switch goos {
	case "darwin", "ios":
		return "macos-keychain"
	case "windows":
		return "windows-credential-manager"
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
		return "secret-service"
	default:
		return "unsupported-" + goos
	}
}

// defaultMaxEntryBytes is the largest value written to one entry on goos for
// the given service name.
//
// On macOS go-keyring feeds `security -i` one command line of at most 4,096
// bytes holding the service, the account and the value in base64 (4/3 of its
// size, plus an 18-byte prefix and quoting); its documentation rounds this
// to "service, username and password should not exceed about 3,000 bytes".
// Subtracting the service and 64 bytes for our longest account name (a key
// plus a chunk suffix, 52 bytes) keeps every command under 4,096 with room
// to spare: for the default service the limit is 2,930 bytes and the command
// about 4,020.
func defaultMaxEntryBytes(goos, service string) int {
	switch goos {
	case "darwin", "ios":
		return 3000 - len(service) - 64
	case "windows":
		return windowsMaxEntryBytes
	default:
		return linuxMaxEntryBytes
	}
}
