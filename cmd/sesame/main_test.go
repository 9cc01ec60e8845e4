package main

import (
	"os"
	"testing"
)

// asSesameEnv makes the test binary run as sesame itself: a test that
// needs real processes (several sesames at once, each with its detached
// refresher) starts this binary with it set, and the binary then runs main
// with its arguments instead of the tests. The refresher children inherit
// the variable, so they are sesame too.
const asSesameEnv = "SESAME_TEST_AS_SESAME"

func TestMain(m *testing.M) {
	if os.Getenv(asSesameEnv) == "1" {
		main() // exits
	}
	os.Exit(m.Run())
}
