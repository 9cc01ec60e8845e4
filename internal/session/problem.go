package session

// Kind names a problem the command line explains with its own hints and
// exit codes: the use cases say what went wrong, the command line says
// what to type next.
type Kind int

const (
	// Busy: another sesame held the profile's lock for the whole wait.
	Busy Kind = iota + 1
	// LoginInProgress: another login of the profile is running.
	LoginInProgress
	// NoClientID: the profile's registered client was deleted at logout;
	// the next login registers a new one.
	NoClientID
	// NoRegistration: --register, and the server offers no dynamic
	// client registration (a usage error).
	NoRegistration
	// NoDPoP: the profile asks for DPoP and the server offers neither
	// ES256 nor EdDSA (a usage error).
	NoDPoP
	// NoDeviceFlow: the device flow, and the server has no device
	// authorization endpoint.
	NoDeviceFlow
	// VerificationHost: the device flow's page is on another domain than
	// the issuer's and was not accepted.
	VerificationHost
	// NotStored: the login succeeded, and its grant could not be stored.
	NotStored
	// UnknownClient: the server does not know the profile's client id.
	UnknownClient
	// ConfidentialClient: the person signed in, and the token endpoint
	// refused the code for want of client authentication: the client is
	// registered as confidential (Hydra's default).
	ConfidentialClient
	// RedirectURIRefused: the server refused the loopback redirect URI;
	// RedirectURI and Port say which.
	RedirectURIRefused
	// ScopeConflict: the server keeps one grant per client and person,
	// and refused a second one with other scopes (Gitea, Forgejo).
	ScopeConflict
	// NoClientSecret: the profile's provider demands a client secret and
	// none was given or stored (a usage error).
	NoClientSecret
)

// Problem is an error of a known kind about one profile.
type Problem struct {
	Kind    Kind
	Profile string
	Err     error
	// RedirectURI is the redirect URI a RedirectURIRefused problem is
	// about, and Port the fixed callback port the profile asked for (0:
	// any free port).
	RedirectURI string
	Port        int
}

func (e *Problem) Error() string { return e.Err.Error() }
func (e *Problem) Unwrap() error { return e.Err }
