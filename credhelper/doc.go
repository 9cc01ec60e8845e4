// Package credhelper will hold the wire formats of the credential-helper
// protocols sesame speaks: kubectl's ExecCredential, git's credential
// helper protocol and docker's credential helpers. It knows nothing of
// keychains or flows: it parses requests and writes answers from an
// oauth2.TokenSource.
//
// It is empty until the credential-helpers issue lands.
package credhelper
