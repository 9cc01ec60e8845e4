package main

import "github.com/sesame-auth/sesame/keychain"

// who names the account a grant is for: as the ID token at login said.
func who(rec *keychain.Record) string {
	return firstNonEmpty(rec.Email, rec.Name, rec.Subject, "an unnamed account")
}
