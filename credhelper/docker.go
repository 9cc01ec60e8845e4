package credhelper

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/jsonlite"
)

// The docker credential helper protocol (github.com/docker/docker-credential-helpers,
// package credentials): the helper is run with one argument, get, store,
// erase or list. get and erase read a server URL on stdin; store reads a
// Credentials JSON object; get writes one, list writes an object from server
// URL to username. On failure the helper writes the error message to stdout
// and exits 1; docker recognises "not found" by its exact text.
//
// sesame writes this wire format itself on purpose rather than importing the
// credentials package: a module for a few lines of JSON, whose readers
// accept what sesame refuses (lines glued together, control characters,
// unbounded input).

// maxDockerInput bounds what docker sends on stdin.
const maxDockerInput = 64 << 10

// The error values of docker-credential-helpers' credentials/error.go. Their
// messages are the protocol: docker compares the helper's output with them.
var (
	// ErrCredentialsNotFound is the answer to "get" for a server sesame has
	// no profile for. Write it with WriteDockerError and exit 1.
	ErrCredentialsNotFound = errors.New("credentials not found in native keychain")
	// ErrMissingServerURL reports an empty server URL on stdin.
	ErrMissingServerURL = errors.New("no credentials server URL")
	// ErrMissingUsername reports a "store" request without a username.
	ErrMissingUsername = errors.New("no credentials username")
)

// DockerCredentials is docker-credential-helpers' Credentials: the JSON
// object "store" reads and "get" writes. The field order is the wire order.
type DockerCredentials struct {
	ServerURL string `json:"ServerURL"`
	Username  string `json:"Username"`
	Secret    string `json:"Secret"`
}

// String formats the credentials without the secret.
func (c DockerCredentials) String() string {
	return fmt.Sprintf("{ServerURL:%q Username:%q Secret:%s}", c.ServerURL, c.Username, redacted(c.Secret))
}

// GoString formats the credentials without the secret under %#v.
func (c DockerCredentials) GoString() string { return "credhelper.DockerCredentials" + c.String() }

// ReadDockerServerURL reads the server URL that "get" and "erase" receive:
// all of stdin, with surrounding white space trimmed. Docker sends it without
// a newline; a person typing one adds it. Empty input gives
// ErrMissingServerURL; a control character left inside, or invalid UTF-8,
// ErrUnsafeValue (docker-credential-helpers would glue lines together; sesame
// refuses instead).
func ReadDockerServerURL(r io.Reader) (string, error) {
	b, err := readBounded(r, maxDockerInput)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", ErrMissingServerURL
	}
	if checkText(s) != nil || !utf8.ValidString(s) {
		return "", ErrUnsafeValue
	}
	return s, nil
}

// ReadDockerStore reads the Credentials object "store" receives. A missing
// server URL or username gives the errors docker-credential-helpers gives.
// sesame keeps its own grant, so the CLI is expected to discard Secret.
func ReadDockerStore(r io.Reader) (*DockerCredentials, error) {
	b, err := readBounded(r, maxDockerInput)
	if err != nil {
		return nil, err
	}
	var c DockerCredentials
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("docker credentials are not valid JSON: %w", err)
	}
	if c.ServerURL == "" {
		return nil, ErrMissingServerURL
	}
	if c.Username == "" {
		return nil, ErrMissingUsername
	}
	if checkText(c.ServerURL) != nil || checkText(c.Username) != nil {
		return nil, ErrUnsafeValue
	}
	return &c, nil
}

// WriteDockerCredentials writes the answer to "get":
//
//	{"ServerURL":"…","Username":"…","Secret":"…"}
//
// and a newline. Docker sends Username and Secret to the registry as Basic
// credentials, so the registry must accept an OAuth access token as a
// password. The username must not be "<token>": docker reads that as "Secret
// is an identity token" and would trade the access token at the registry's
// token endpoint as if it were a refresh token. Nothing is written on error.
func WriteDockerCredentials(w io.Writer, serverURL, username, secret string) error {
	if serverURL == "" {
		return ErrMissingServerURL
	}
	if username == "" {
		return ErrMissingUsername
	}
	if username == "<token>" {
		return errors.New(`docker username "<token>" would make docker treat the access token as an identity token`)
	}
	if err := checkDockerText(serverURL, username); err != nil {
		return err
	}
	if err := checkToken(secret); err != nil {
		return err
	}
	// DockerCredentials as encoding/json writes it, by hand for the warm
	// call, as WriteExecCredential.
	b := append(make([]byte, 0, 64+len(serverURL)+len(username)+len(secret)), `{"ServerURL":`...)
	b = jsonlite.AppendString(b, serverURL)
	b = append(b, `,"Username":`...)
	b = jsonlite.AppendString(b, username)
	b = append(b, `,"Secret":`...)
	b = jsonlite.AppendString(b, secret)
	_, err := w.Write(append(b, "}\n"...))
	return err
}

// WriteDockerList writes the answer to "list": a JSON object from server URL
// to username, keys sorted (encoding/json sorts map keys), "{}" when empty.
func WriteDockerList(w io.Writer, accounts map[string]string) error {
	for k, v := range accounts {
		if err := checkDockerText(k, v); err != nil {
			return err
		}
	}
	if accounts == nil {
		accounts = map[string]string{}
	}
	return writeJSON(w, accounts)
}

// WriteDockerError writes err the way docker-credential-helpers' Serve does:
// its message and a newline on the helper's stdout, where docker reads it
// (the helper then exits 1). ErrCredentialsNotFound must go out unwrapped so
// docker recognises it. Line breaks in the message become spaces, so the
// answer stays one line.
func WriteDockerError(w io.Writer, err error) error {
	if err == nil {
		return errors.New("no docker error to write")
	}
	msg := err.Error()
	if errors.Is(err, ErrCredentialsNotFound) {
		msg = ErrCredentialsNotFound.Error()
	}
	msg = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0 {
			return ' '
		}
		return r
	}, msg)
	_, werr := io.WriteString(w, msg+"\n")
	return werr
}

// DockerRespond answers "get" for serverURL with tok under username: it
// refuses a token that is not a bearer token, then writes the credentials.
// Whether serverURL is the profile's registry is the caller's check
// (DockerHostMatches), made before a token is fetched at all.
func DockerRespond(w io.Writer, serverURL, username string, tok *oauth2.Token) error {
	if tok == nil {
		return errors.New("docker response needs a token")
	}
	if err := RequireBearer(tok.TokenType); err != nil {
		return err
	}
	return WriteDockerCredentials(w, serverURL, username, tok.AccessToken)
}

// checkDockerText refuses control characters and invalid UTF-8, which JSON
// would escape or replace and docker would then not match.
func checkDockerText(values ...string) error {
	for _, v := range values {
		if checkText(v) != nil || !utf8.ValidString(v) {
			return ErrUnsafeValue
		}
	}
	return nil
}
