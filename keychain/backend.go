package keychain

import (
	"errors"
	"fmt"
	"strings"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// backend is the narrow surface of go-keyring that [Keyring] uses: one
// string value per (service, user). It exists so the timeout and chunking
// logic can be tested against fakes that block, fail midway or corrupt data,
// without go-keyring's global MockInit.
//
// Implementations return errors already mapped by classify: ErrNotFound for
// a missing entry, ErrUnavailable, ErrLocked or ErrTooLarge where they apply.
type backend interface {
	get(service, user string) (string, error)
	set(service, user, value string) error
	delete(service, user string) error
}

// labeler is a backend that can name an entry for a person browsing the
// keychain; go-keyring's own set labels it with the opaque key.
type labeler interface {
	setLabeled(service, user, label, value string) error
}

// goKeyring is the real backend: the OS credential store through go-keyring.
type goKeyring struct{}

func (goKeyring) get(service, user string) (string, error) {
	v, err := keyring.Get(service, user)
	return v, classify(err)
}

func (goKeyring) set(service, user, value string) error {
	return classify(keyring.Set(service, user, value))
}

func (goKeyring) delete(service, user string) error {
	return classify(keyring.Delete(service, user))
}

// rule maps error texts to a sentinel and a short, human cause. A rule
// matches when the error's text, prefixed by its D-Bus error name if it has
// one, contains any of its needles (case-insensitively).
type rule struct {
	needles  []string
	sentinel error
	cause    string
}

// rules are tried in order; locked comes first because a locked collection
// is reported with Secret Service names that would otherwise read as
// "unavailable". go-keyring reports a dismissed unlock prompt as a failure
// to unlock the collection.
var rules = []rule{
	{[]string{"org.freedesktop.Secret.Error.IsLocked", "is locked", "failed to unlock", "dismissed"},
		ErrLocked, "unlock was refused or no unlock prompt could be shown"},
	{[]string{"org.freedesktop.Secret.Error.NoSuchObject"},
		ErrUnavailable, "the Secret Service has no default keyring"},
	{[]string{"org.freedesktop.secrets", "was not provided by any .service files",
		"org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner",
		"org.freedesktop.DBus.Error.Spawn."},
		ErrUnavailable, "no Secret Service on the D-Bus session bus"},
	{[]string{"dbus:", "dbus-launch", "org.freedesktop.DBus.Error.NoServer", "org.freedesktop.DBus.Error.Disconnected",
		"org.freedesktop.DBus.Error.NoReply", "session bus", "no such file or directory", "connection refused"},
		ErrUnavailable, "cannot reach the D-Bus session bus"},
	{[]string{"executable file not found"},
		ErrUnavailable, "the keychain tool is missing"},
	{[]string{"unsupported platform"},
		ErrUnavailable, "no supported keychain on this system"},
}

// classify maps go-keyring's errors onto this package's sentinels. go-keyring
// types only "not found" and "too big"; everything else arrives as godbus,
// exec or syscall errors, so it goes by D-Bus error name and then by text.
// Unrecognised errors pass through unchanged.
//
// None of these errors carries the value being stored: go-keyring builds them
// from D-Bus replies, exit codes and system errors, so the original text is
// kept after the short cause for whoever has to debug it.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrNotFound
	}
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		return fmt.Errorf("%w: the credential store refused an entry as too big", ErrTooLarge)
	}
	text := err.Error()
	var de dbus.Error
	if errors.As(err, &de) && de.Name != text {
		text = de.Name + ": " + text
	}
	lower := strings.ToLower(text)
	for _, r := range rules {
		for _, n := range r.needles {
			if strings.Contains(lower, strings.ToLower(n)) {
				return fmt.Errorf("%w: %s (%s)", r.sentinel, r.cause, text)
			}
		}
	}
	return err
}
