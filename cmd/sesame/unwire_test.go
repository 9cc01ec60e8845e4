package main

import "testing"

// TestIsSesameGitHelper: logout --forget removes only the helper setup git
// wrote for this profile, not one of a profile whose name starts the same,
// nor a helper of the person's own.
func TestIsSesameGitHelper(t *testing.T) {
	for v, want := range map[string]bool{
		"!/usr/bin/sesame git-credential -p work":                             true,
		"!'/opt/my tools/sesame' git-credential -p work --resource https://a": true,
		"!/usr/bin/sesame git-credential -p work2":                            false,
		"!/usr/bin/sesame git-credential -p other":                            false,
		"/usr/bin/sesame git-credential -p work":                              false,
		"store":                                                               false,
		"":                                                                    false,
	} {
		if got := isSesameGitHelper(v, "work"); got != want {
			t.Errorf("isSesameGitHelper(%q) = %v, want %v", v, got, want)
		}
	}
}
