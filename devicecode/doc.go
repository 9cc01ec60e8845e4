// Package devicecode will implement the OAuth 2.0 device authorization
// grant (RFC 8628) for headless, remote and scripted logins: a user code and
// a verification URI, approved on another device, polled at the server's
// interval with slow_down backoff.
//
// It is empty until the device-flow issue lands; `sesame login --flow
// device` says so rather than pretending.
package devicecode
