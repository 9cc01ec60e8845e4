package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/internal/session"
	"github.com/sesame-auth/sesame/keychain"
)

// The refresher's report carries its error across the process boundary
// with its kind intact: the caller prints the same line, hints and exit
// code as if it had refreshed itself.
func TestRefreshReport_KeepsWhatTheUserSees(t *testing.T) {
	cases := []error{
		&session.LoginRequiredError{Reason: `the server answered invalid_grant ("grant request is invalid"): the grant was revoked`},
		fmt.Errorf("keychain: %w", keychain.ErrUnavailable),
		fmt.Errorf("keychain: %w", keychain.ErrLocked),
		&session.RefreshError{Err: errors.New("the server did not answer within 1m0s")},
	}
	for _, direct := range cases {
		var want, got bytes.Buffer
		wantCode := report(&want, "work", direct)
		line, err := json.Marshal(reportOf(nil, direct))
		if err != nil {
			t.Fatal(err)
		}
		rep := readReport(bytes.NewReader(append(line, '\n')))
		gotCode := report(&got, "work", rep.err())
		if gotCode != wantCode || got.String() != want.String() {
			t.Errorf("through the report:\n%s(exit %d)\nwant:\n%s(exit %d)", got.String(), gotCode, want.String(), wantCode)
		}
	}
}

// A refresher that died before reporting (killed: the physical limit)
// gives one clear line, not a parse error.
func TestRefreshReport_NoReport(t *testing.T) {
	for _, in := range []string{"", "{\"kind\":", "garbage\n"} {
		var out bytes.Buffer
		code := report(&out, "work", readReport(strings.NewReader(in)).err())
		if code != exitError || !strings.Contains(out.String(), "the refresher process ended without a report") {
			t.Errorf("%q: exit %d\n%s", in, code, out.String())
		}
	}
}
