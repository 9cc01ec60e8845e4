package credhelper

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Bounds on a git credential request. Git sends a few short lines; the
// largest is a wwwauth[] header, and git itself caps nothing, so the limits
// are generous but finite.
const (
	maxGitRequest = 64 << 10
	maxGitLine    = 8 << 10
)

// ErrMalformedGitRequest reports a request line without "=". Git rejects the
// same input ("invalid credential line"). The line is not quoted: it may hold
// a password. ReadGitRequest names the request in front of it.
var ErrMalformedGitRequest = errors.New("a line has no '='")

// GitRequest is what git sends a credential helper on stdin
// (git-credential(1), "INPUT/OUTPUT FORMAT"). Git sends path only when
// credential.useHttpPath is set; capability[], wwwauth[] and state[] come from
// git 2.41 to 2.46 and are absent from git 2.39.
type GitRequest struct {
	Protocol string
	Host     string // host name, with ":port" when the URL had one
	Path     string // without leading or trailing slashes, as git sends it
	Username string

	// Password, Credential and OAuthRefreshToken are secrets. Git sends them
	// to "store" and "erase", and with "get" when a caller supplied them.
	Password          string
	PasswordExpiry    time.Time // password_expiry_utc; zero when absent or unparseable
	OAuthRefreshToken string
	AuthType          string
	Credential        string
	Ephemeral         bool

	WWWAuth      []string // wwwauth[]: WWW-Authenticate values, in order
	Capabilities []string // capability[]: e.g. "authtype", "state"
	State        []string // state[]: opaque helper state from an earlier round
	Continue     bool     // continue: multistage authentication

	// Extra holds attributes this package does not know, in order. They are
	// kept so that a caller can log their names, and otherwise ignored, as
	// git does with attributes it does not know.
	Extra []GitAttribute
}

// GitAttribute is one key=value line.
type GitAttribute struct{ Key, Value string }

// HasCapability reports whether git announced capability[]=name.
func (r *GitRequest) HasCapability(name string) bool {
	for _, c := range r.Capabilities {
		if c == name {
			return true
		}
	}
	return false
}

// Secret returns the pre-encoded credential when git sent one (authtype
// generation, git 2.46 and later), else the password. It is what "erase"
// compares with the token sesame handed out.
func (r *GitRequest) Secret() string {
	if r.Credential != "" {
		return r.Credential
	}
	return r.Password
}

// String formats the request without its secrets.
func (r GitRequest) String() string {
	return fmt.Sprintf("{protocol=%q host=%q path=%q username=%q password=%s credential=%s oauth_refresh_token=%s authtype=%q capability=%q}",
		r.Protocol, r.Host, r.Path, r.Username, redacted(r.Password), redacted(r.Credential),
		redacted(r.OAuthRefreshToken), r.AuthType, r.Capabilities)
}

// GoString formats the request without its secrets under %#v.
func (r GitRequest) GoString() string { return "credhelper.GitRequest" + r.String() }

// ReadGitRequest reads key=value lines up to a blank line or EOF
// (gitcredentials(7), "CUSTOM HELPERS"; git-credential(1)). It returns at
// the blank line without waiting for EOF, as a caller that keeps the pipe open
// expects.
//
// A carriage return or NUL anywhere in a line, or a CR, LF or NUL that url=
// decodes to, fails the whole request with ErrUnsafeValue: a request that
// tries to smuggle attributes gets no answer (requirement 40). A
// line without "=" fails with ErrMalformedGitRequest, input over 64 KiB or a
// line over 8 KiB with ErrTooLarge. Every error begins with "git credential
// request: ", so a caller passes it on as it is.
//
// As in git, a later value replaces an earlier one, url= clears everything
// before it and sets protocol, host, username, password and path from the
// URL, an empty value for a key ending in "[]" clears that list, and keys
// this package does not know go to Extra.
func ReadGitRequest(r io.Reader) (*GitRequest, error) {
	req, err := readGitRequest(r)
	if err != nil {
		return nil, fmt.Errorf("git credential request: %w", err)
	}
	return req, nil
}

func readGitRequest(r io.Reader) (*GitRequest, error) {
	br := bufio.NewReaderSize(r, maxGitLine+1)
	req := &GitRequest{}
	total := 0
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, ErrTooLarge
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		total += len(line)
		if total > maxGitRequest {
			return nil, ErrTooLarge
		}
		s := strings.TrimSuffix(string(line), "\n")
		if len(s) > maxGitLine {
			return nil, ErrTooLarge
		}
		if s == "" {
			// A blank line ends the request; so does EOF, even after a
			// last line with no newline.
			return req, nil
		}
		if e := checkLineValue(s); e != nil {
			return nil, e
		}
		key, value, ok := strings.Cut(s, "=")
		if !ok {
			return nil, ErrMalformedGitRequest
		}
		if e := req.set(key, value); e != nil {
			return nil, e
		}
		if err == io.EOF {
			return req, nil
		}
	}
}

// set applies one attribute, following git's credential_read.
func (r *GitRequest) set(key, value string) error {
	switch key {
	case "protocol":
		r.Protocol = value
	case "host":
		r.Host = value
	case "path":
		r.Path = value
	case "username":
		r.Username = value
	case "password":
		r.Password = value
	case "password_expiry_utc":
		r.PasswordExpiry = parseUnixSeconds(value)
	case "oauth_refresh_token":
		r.OAuthRefreshToken = value
	case "authtype":
		r.AuthType = value
	case "credential":
		r.Credential = value
	case "ephemeral":
		r.Ephemeral = parseGitBool(value)
	case "continue":
		r.Continue = parseGitBool(value)
	case "wwwauth[]":
		r.WWWAuth = appendOrClear(r.WWWAuth, value)
	case "capability[]":
		r.Capabilities = appendOrClear(r.Capabilities, value)
	case "state[]":
		r.State = appendOrClear(r.State, value)
	case "url":
		u, err := gitRequestFromURL(value)
		if err != nil {
			return err
		}
		*r = *u
	default:
		r.Extra = append(r.Extra, GitAttribute{Key: key, Value: value})
	}
	return nil
}

// appendOrClear implements git-credential(1)'s rule for multi-valued
// attributes: an empty value resets the list.
func appendOrClear(list []string, value string) []string {
	if value == "" {
		return nil
	}
	return append(list, value)
}

// parseGitBool reads a boolean the way git_config_bool does for the values
// git writes; what git would die on counts as false here.
func parseGitBool(v string) bool {
	switch strings.ToLower(v) {
	case "true", "yes", "on":
		return true
	case "", "false", "no", "off":
		return false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return err == nil && n != 0
}

// parseUnixSeconds reads password_expiry_utc, seconds since the epoch in UTC.
// Garbage and negative values read as zero (no expiry known).
func parseUnixSeconds(v string) time.Time {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// gitRequestFromURL splits a url= value the way git's credential_from_url
// does: <protocol>://[<username>[:<password>]@]<host>[/<path>]. The host ends
// at the first "/", "?" or "#"; username, password, host and path are
// percent-decoded; leading and trailing slashes are trimmed from the path.
// A decoded CR, LF or NUL is refused, as git refuses it (CVE-2020-5260).
func gitRequestFromURL(raw string) (*GitRequest, error) {
	proto, rest, ok := strings.Cut(raw, "://")
	if !ok || proto == "" {
		return nil, errors.New("url has no scheme")
	}
	r := &GitRequest{Protocol: proto}
	hostEnd := strings.IndexAny(rest, "/?#")
	if hostEnd < 0 {
		hostEnd = len(rest)
	}
	authority := rest[:hostEnd]
	if at := strings.Index(authority, "@"); at >= 0 {
		// git splits at the first "@" before the host's end and at the
		// first ":" before that; an "@" in a password must be encoded.
		userinfo := authority[:at]
		authority = authority[at+1:]
		user, pass, hasPass := strings.Cut(userinfo, ":")
		r.Username = percentDecode(user)
		if hasPass {
			r.Password = percentDecode(pass)
		}
	}
	r.Host = percentDecode(authority)
	path := strings.TrimLeft(rest[hostEnd:], "/")
	r.Path = strings.TrimRight(percentDecode(path), "/")
	for _, v := range []string{r.Protocol, r.Host, r.Path, r.Username, r.Password} {
		if err := checkLineValue(v); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// percentDecode is git's url_decode: %XX becomes the byte, anything else,
// including a malformed escape and "+", stays as it is.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if h, ok1 := unhex(s[i+1]); ok1 {
				if l, ok2 := unhex(s[i+2]); ok2 {
					b.WriteByte(h<<4 | l)
					i += 2
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
