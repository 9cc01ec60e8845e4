package keychain

import (
	"errors"
	"maps"
	"slices"
	"sync"
)

// errCrash is what fakeBackend returns once its write budget is spent: the
// process "died" before that write reached the store.
var errCrash = errors.New("fake keychain: simulated crash")

// fakeBackend is an in-memory backend with knobs for the failure modes the
// Keyring must survive. Its zero value is not usable; see newFake.
type fakeBackend struct {
	mu      sync.Mutex
	entries map[string]string // user -> value; tests use one service each

	// writesLeft, when >= 0, is how many more set/delete calls succeed;
	// after that every write fails with errCrash, like a process killed
	// between two writes.
	writesLeft int
	// block, when non-nil, makes every call wait until it is closed, like
	// a keychain waiting for its unlock prompt.
	block chan struct{}
	// onGet runs (outside the lock) before a get of user, to interleave
	// another writer deterministically.
	onGet func(user string)
	// getErr, when non-nil, is returned by every get.
	getErr error

	gets, writes int
}

func newFake() *fakeBackend {
	return &fakeBackend{entries: make(map[string]string), writesLeft: -1}
}

func (f *fakeBackend) wait() {
	f.mu.Lock()
	block := f.block
	f.mu.Unlock()
	if block != nil {
		<-block
	}
}

func (f *fakeBackend) get(service, user string) (string, error) {
	f.wait()
	f.mu.Lock()
	hook := f.onGet
	f.mu.Unlock()
	if hook != nil {
		hook(user)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	if f.getErr != nil {
		return "", f.getErr
	}
	v, ok := f.entries[user]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

func (f *fakeBackend) spend() error {
	if f.writesLeft == 0 {
		return errCrash
	}
	if f.writesLeft > 0 {
		f.writesLeft--
	}
	f.writes++
	return nil
}

func (f *fakeBackend) set(service, user, value string) error {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.spend(); err != nil {
		return err
	}
	f.entries[user] = value
	return nil
}

func (f *fakeBackend) delete(service, user string) error {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.spend(); err != nil {
		return err
	}
	if _, ok := f.entries[user]; !ok {
		return ErrNotFound
	}
	delete(f.entries, user)
	return nil
}

// users lists the entry names present, sorted.
func (f *fakeBackend) users() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.entries))
}

// snapshot copies the entries, to restore a state in a table of crashes.
func (f *fakeBackend) snapshot() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.entries)
}

// heal lifts the crash budget, as a fresh process would see the store.
func (f *fakeBackend) heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writesLeft = -1
}
