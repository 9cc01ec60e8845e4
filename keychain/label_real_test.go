//go:build linux

package keychain

import (
	"context"
	"testing"
	"time"

	ss "github.com/zalando/go-keyring/secret_service"
)

// The Secret Service shows sesame's label for an entry, and a second Set
// replaces the item rather than adding one beside it.
func TestRealKeyring_LabelNamesProfileAndIssuer(t *testing.T) {
	service := realService(t)
	k := NewKeyring(KeyringOptions{Service: service, Timeout: 20 * time.Second})
	key := Key("https://as.example", "sesame-cli", "work")
	mustSet(t, k, key, testRecord("one"))
	mustSet(t, k, key, testRecord("two"))
	if got := mustGet(t, k, key); got.RefreshToken != "SNTL-RT-two" {
		t.Fatalf("read back %q", got.RefreshToken)
	}
	svc, err := ss.NewSecretService()
	if err != nil {
		t.Fatal(err)
	}
	items, err := svc.SearchItems(svc.GetLoginCollection(), map[string]string{"service": service, "username": key})
	if err != nil || len(items) != 1 {
		t.Fatalf("items %v, %v; want one", items, err)
	}
	v, err := svc.Object("org.freedesktop.secrets", items[0]).GetProperty("org.freedesktop.Secret.Item.Label")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.Value(), "sesame: sign-in of profile work at https://as.example"; got != want {
		t.Fatalf("label %q, want %q", got, want)
	}
	if err := k.Delete(context.Background(), key); err != nil {
		t.Fatal(err)
	}
}
