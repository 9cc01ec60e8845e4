package keychain

import (
	"fmt"
	"strings"
)

// Label is the name a person sees for r's entry when browsing the keychain
// (Seahorse, KWalletManager, Keychain Access): what it is, for which
// profile and server. The entry's key is an opaque hash (Key), so without
// a label a person cannot tell which entry to delete. A label never holds
// a token: it is built only from the profile, the issuer and the record's
// kind, which the configuration file shows anyway.
func Label(r *Record) string {
	what := "sign-in"
	if r.RegistrationAccessToken != "" {
		what = "client registration"
	}
	return fmt.Sprintf("sesame: %s of profile %s at %s", what, printable(r.Profile), printable(r.Issuer))
}

// chunkLabel is the label of one chunk of a split record.
func chunkLabel(label string, i, n int) string {
	if label == "" {
		return ""
	}
	return fmt.Sprintf("%s (part %d of %d)", label, i, n)
}

// printable drops control characters, which a keychain browser would show
// raw; profile names and issuers are checked before they get here, so
// this only guards a record built some other way.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
