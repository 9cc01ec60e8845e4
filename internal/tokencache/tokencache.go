// Package tokencache keeps access tokens in volatile, per-user memory so a
// warm helper call needs no keychain round trip: on Linux the kernel's user
// keyring (keyctl), elsewhere nothing (callers fall back to the keychain
// record, which also holds the access token).
//
// Why the kernel keyring: kubectl and git call sesame many times a minute,
// and one Secret Service read over D-Bus costs about 3 ms, more than the
// whole rest of a warm call. A kernel key is read with two system calls,
// lives only in kernel memory (never on disk, never swapped), disappears
// at its timeout (the token's early expiry) or when the user's last process
// ends, and is readable only by the user's own processes: the same trust
// boundary as an unlocked Secret Service. Refresh tokens never go here; they
// stay in the OS keychain.
//
// # Security
//
// Entries are keyed by the keychain key (a hash of issuer, client id and
// profile), carry that binding, and are checked against it on read.
// Permissions are set to the possessor and the user only.
//
// # Concurrency
//
// The kernel serialises key operations; a reader sees either the old or
// the new payload. Writers are the processes that hold the profile lock.
package tokencache

import (
	"encoding/json"
	"time"

	"github.com/sesame-auth/sesame/internal/jsonlite"
)

// Entry is one cached access token.
type Entry struct {
	Issuer      string        `json:"iss"`
	ClientID    string        `json:"cid"`
	Profile     string        `json:"p"`
	AccessToken string        `json:"at"`
	TokenType   string        `json:"tt,omitempty"`
	Scope       string        `json:"scope,omitempty"`
	Expiry      time.Time     `json:"exp"`
	Lifetime    time.Duration `json:"life"`
	// Checked is when the keychain record was last seen holding this
	// token: the entry is trusted only for a short while after it, so a
	// grant deleted outside sesame does not live on in the cache.
	Checked time.Time `json:"chk,omitzero"`
}

// Cache stores entries by key. Every method is best effort: a cache that
// cannot be reached behaves as empty, and callers fall back to the
// keychain.
type Cache interface {
	// Get returns the entry under key, if any.
	Get(key string) (*Entry, bool)
	// Put stores e under key until ttl has passed.
	Put(key string, e *Entry, ttl time.Duration)
	// Delete removes the entry under key.
	Delete(key string)
	// Name says where entries live, for `sesame status`.
	Name() string
}

// maxPayload is the kernel's limit for a "user" key's payload.
const maxPayload = 32767

func encode(e *Entry) ([]byte, bool) {
	b, err := json.Marshal(e)
	return b, err == nil && len(b) <= maxPayload
}

func decode(b []byte) (*Entry, bool) {
	e, ok := decodeLite(b)
	if !ok {
		e = &Entry{}
		if err := json.Unmarshal(b, e); err != nil {
			return nil, false
		}
	}
	if e.AccessToken == "" || e.Expiry.IsZero() {
		return nil, false
	}
	return e, true
}

// decodeLite reads an entry as encode writes it, without reflection (see
// jsonlite: a warm helper call reads one entry and nothing else in JSON).
// It declines anything else (unknown, repeated or differently cased keys,
// nulls, escapes in a time), which decode then reads with encoding/json.
func decodeLite(b []byte) (*Entry, bool) {
	r := jsonlite.NewReader(b)
	e := &Entry{}
	var seen [9]bool
	once := func(i int) bool {
		if seen[i] {
			r.Fail()
		}
		seen[i] = true
		return !r.Failed()
	}
	readTime := func(t *time.Time) {
		if raw := r.Quoted(); !r.Failed() && t.UnmarshalJSON(raw) != nil {
			r.Fail()
		}
	}
	r.Object(func(key string) {
		switch {
		case key == "iss" && once(0):
			e.Issuer = r.String()
		case key == "cid" && once(1):
			e.ClientID = r.String()
		case key == "p" && once(2):
			e.Profile = r.String()
		case key == "at" && once(3):
			e.AccessToken = r.String()
		case key == "tt" && once(4):
			e.TokenType = r.String()
		case key == "scope" && once(5):
			e.Scope = r.String()
		case key == "exp" && once(6):
			readTime(&e.Expiry)
		case key == "life" && once(7):
			e.Lifetime = time.Duration(r.Int())
		case key == "chk" && once(8):
			readTime(&e.Checked)
		default:
			r.Fail()
		}
	})
	r.End()
	return e, !r.Failed()
}

// None is a cache that holds nothing.
type None struct{}

func (None) Get(string) (*Entry, bool)         { return nil, false }
func (None) Put(string, *Entry, time.Duration) {}
func (None) Delete(string)                     {}
func (None) Name() string                      { return "none" }
