//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keychain

import ss "github.com/zalando/go-keyring/secret_service"

// setLabeled is go-keyring's Secret Service Set with a label of sesame's
// own: the same attributes (service, username), so go-keyring's Get and
// Delete find the item, and the same replacement of an existing item. The
// label is shown by Seahorse and KWalletManager; go-keyring's would be
// "Password for 'v1:…' on 'sesame'".
func (goKeyring) setLabeled(service, user, label, value string) error {
	return classify(secretServiceSet(service, user, label, value))
}

func secretServiceSet(service, user, label, value string) error {
	svc, err := ss.NewSecretService()
	if err != nil {
		return err
	}
	session, err := svc.OpenSession()
	if err != nil {
		return err
	}
	defer func() { _ = svc.Close(session) }()
	collection := svc.GetLoginCollection()
	if err := svc.Unlock(collection.Path()); err != nil {
		return err
	}
	attributes := map[string]string{"username": user, "service": service}
	return svc.CreateItem(collection, label, attributes, ss.NewSecret(session.Path(), value))
}
