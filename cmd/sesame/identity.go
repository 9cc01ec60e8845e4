package main

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sesame-auth/sesame/internal/redact"
	"github.com/sesame-auth/sesame/keychain"
)

// who names the account a grant is for, as the ID token at login said,
// for "signed in to ISSUER as WHO" (login, and the logins of the helpers).
// That line is the defence SECURITY.md names against a local user who
// finishes a login first with an account of their own, so the server's
// claims must not be able to fake it: see [account].
func who(rec *keychain.Record) string {
	return account("an unnamed account", rec.Email, rec.Username, rec.Name, rec.Subject)
}

// alteredNote follows a claim that held characters [redact.Sanitize]
// removes: the person sees that the server tried to put more on the line
// than the name shown.
const alteredNote = "(control or formatting characters removed from the server's text)"

// account is the first of claims (email, preferred_username, name, sub:
// server text; a verified address first, the one claim that names the
// person unambiguously) that is not empty once sanitized, or fallback. Each claim goes through
// [redact.Sanitize], the one sanitizer for server text: no escape
// sequence, control, bidi or zero-width character, no line break, at most
// redact.MaxText characters. A claim that held any of those is shown
// quoted and followed by [alteredNote], so that what is left of it cannot
// pass for the rest of the line either ("mallory\r\x1b[2Ksesame: signed in
// as alice").
func account(fallback string, claims ...string) string {
	altered := false
	for _, c := range claims {
		s := redact.Sanitize(c)
		altered = altered || !utf8.ValidString(c) || strings.ContainsFunc(c, redact.IsUnsafe)
		if s == "" {
			continue
		}
		if altered {
			return strconv.Quote(s) + " " + alteredNote
		}
		return s
	}
	if altered {
		return fallback + " " + alteredNote
	}
	return fallback
}
