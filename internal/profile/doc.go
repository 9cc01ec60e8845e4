// Package profile reads, validates and writes sesame's configuration file:
// a set of named profiles, each naming an authorization server (issuer), a
// public client id and the options of its login.
//
// # Security
//
// The configuration file never holds a secret: tokens live only in the OS
// keychain (requirement 35, SECURITY.md). Unknown keys are refused when the
// file loads, so a setting sesame does not implement (a "response_type:
// token" or a "callback_host") cannot be silently ignored (requirements 1
// and 10). The file is written with mode 0600 in a 0700 directory, through a
// temporary file and a rename, so a crash never leaves half a file.
//
// # Concurrency
//
// Save replaces the file atomically; two processes saving at once each
// leave a whole file, the later one winning.
package profile
