// Package e2e holds sesame's end-to-end tests: a real authorization server
// (panva's oidc-provider, see server/), a real browser (chromium, driven by
// testbrowser/) and the helpers in rig/ that start and stop them.
//
// The tests run only with SESAME_E2E=1:
//
//	SESAME_E2E=1 go test -count=1 -v ./e2e/...
package e2e
