package oauthwire

import (
	"errors"
	"io"
	"net/url"
	"strings"
	"syscall"

	"github.com/sesame-auth/sesame/internal/redact"
)

// serverText makes s, text a server or a transport wrote, fit for an
// error: the secrets removed, markup brackets dropped, controls and escape
// sequences stripped, known secret shapes redacted and the length capped
// (redact.UntrustedText, requirement 16).
//
// The secrets are removed both before sanitizing, so that capping can
// never cut an echoed secret in half and keep a part of it, and after, so
// that a secret broken up by control characters is caught once they are
// gone.
func serverText(s string, secrets []string) string {
	s = redact.UntrustedText(dropMarkup(scrub(s, secrets)))
	return redact.Sanitize(scrub(s, secrets))
}

// cleanText sanitizes text an [Error] holds again when it is shown: a
// caller may have built the Error itself. It is idempotent on text that
// went through serverText.
func cleanText(s string) string {
	return redact.Sanitize(dropMarkup(s))
}

// scrub replaces every occurrence of each secret in s with
// redact.Placeholder.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, redact.Placeholder)
		}
	}
	return s
}

// dropMarkup removes '<' and '>', so that the server's words can never
// become markup wherever an error ends up (a bug report, a page).
func dropMarkup(s string) string {
	if !strings.ContainsAny(s, "<>") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '<' || r == '>' {
			return -1
		}
		return r
	}, s)
}

// StripURLError removes the *url.Error net/http wraps around a failed
// request: its text quotes the URL, whose query can hold anything. The
// cause stays reachable for errors.Is and errors.As (a deadline, a TLS
// error), and a connection the server closed or reset is said in words a
// person reads rather than as a bare "EOF".
func StripURLError(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	if text := transportWords(err); text != "" {
		return &kindError{kind: err, text: text}
	}
	return err
}

// transportWords says what a connection failure means, or "" when its
// own text says it well enough.
func transportWords(err error) string {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection in the middle of its answer"
	case errors.Is(err, io.EOF):
		return "the server closed the connection without an answer"
	case errors.Is(err, syscall.ECONNRESET):
		return "the server reset the connection"
	}
	return ""
}
