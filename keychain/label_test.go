package keychain

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// labelingFake is a fakeBackend that, like the Secret Service, keeps the
// label each entry was written with.
type labelingFake struct {
	*fakeBackend
	mu     sync.Mutex
	labels map[string]string // user -> label
}

func (l *labelingFake) setLabeled(service, user, label, value string) error {
	if err := l.set(service, user, value); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.labels[user] = label
	return nil
}

// A keychain entry is labelled with its profile and server, for a person
// browsing the keychain, and never with a token; a split record's parts
// say which part they are.
func TestLabels_NameProfileAndIssuerNeverAToken(t *testing.T) {
	b := &labelingFake{fakeBackend: newFake(), labels: map[string]string{}}
	k := newKeyring(KeyringOptions{Service: "sesame-test", Timeout: 5 * time.Second, MaxEntryBytes: 512}, b, "linux")
	ctx := context.Background()
	if err := k.Set(ctx, testKey, testRecord("small")); err != nil {
		t.Fatal(err)
	}
	want := "sesame: sign-in of profile work at https://as.example"
	if got := b.labels[testKey]; got != want {
		t.Fatalf("label %q, want %q", got, want)
	}
	if err := k.Set(ctx, testKey, bigRecord("big", 2000)); err != nil {
		t.Fatal(err)
	}
	parts := 0
	for user, label := range b.labels {
		if strings.Contains(label, "SNTL-") {
			t.Fatalf("label of %s holds a token: %q", user, label)
		}
		if user != testKey && strings.HasPrefix(label, want+" (part ") {
			parts++
		}
	}
	if parts < 2 || b.labels[testKey] != want {
		t.Fatalf("labels after a split record: %q", b.labels)
	}
	reg := testRecord("reg")
	reg.RefreshToken, reg.AccessToken, reg.RegistrationAccessToken = "", "", "SNTL-RAT"
	if got := Label(reg); got != "sesame: client registration of profile work at https://as.example" {
		t.Fatalf("registration label %q", got)
	}
}
