package credhelper

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// GitAnswer is what sesame tells git in reply to "get". It holds both
// generations of the protocol; WriteGitAnswer picks the one the request can
// take.
type GitAnswer struct {
	// Username and Password are the answer for every git: git 2.39 sends the
	// password as HTTP Basic credentials, which servers that accept OAuth
	// tokens read as a token.
	Username string
	Password string
	// PasswordExpiry becomes password_expiry_utc (git 2.41 and later; older
	// gits ignore it). Git drops an answer whose expiry has passed, so it
	// must lie in the future; zero omits it.
	PasswordExpiry time.Time
	// AuthType and Credential are the pre-encoded answer of git 2.46 and
	// later: git sends "Authorization: <AuthType> <Credential>". They are
	// used only when the request announced capability[]=authtype.
	// AuthType defaults to "Bearer".
	AuthType   string
	Credential string
	// Ephemeral tells git and later helpers not to store Credential
	// (ephemeral=true); it goes with the authtype form only.
	Ephemeral bool
}

// String formats the answer without its secrets.
func (a GitAnswer) String() string {
	return fmt.Sprintf("{username=%q password=%s authtype=%q credential=%s ephemeral=%t expiry=%s}",
		a.Username, redacted(a.Password), a.AuthType, redacted(a.Credential), a.Ephemeral,
		a.PasswordExpiry.Format(time.RFC3339))
}

// GoString formats the answer without its secrets under %#v.
func (a GitAnswer) GoString() string { return "credhelper.GitAnswer" + a.String() }

// WriteGitAnswer writes a to w as key=value lines (git-credential(1)), in a
// fixed order and with no blank line after them.
//
// When req announced capability[]=authtype (git 2.46 and later) and a has a
// Credential, the answer is
//
//	capability[]=authtype
//	authtype=Bearer
//	credential=<token>
//	ephemeral=true
//	password_expiry_utc=<unix seconds>
//
// and otherwise
//
//	username=<name>
//	password=<token>
//	password_expiry_utc=<unix seconds>
//
// where ephemeral and password_expiry_utc appear only when set. It never
// writes oauth_refresh_token: sesame keeps the grant, and git would hand a
// refresh token to every helper that stores credentials.
//
// Every value is checked before anything is written: a CR, LF or NUL gives
// ErrUnsafeValue, a secret outside RFC 6749's visible ASCII too, and an
// answer git could not use (no username or password in the older form) an
// error. On error nothing is written.
func WriteGitAnswer(w io.Writer, req *GitRequest, a GitAnswer) error {
	var fields []GitAttribute
	if req != nil && req.HasCapability("authtype") && a.Credential != "" {
		authType := a.AuthType
		if authType == "" {
			authType = "Bearer"
		}
		if !isHTTPToken(authType) {
			return ErrUnsafeValue
		}
		if err := checkToken(a.Credential); err != nil {
			return err
		}
		fields = append(fields,
			GitAttribute{"capability[]", "authtype"},
			GitAttribute{"authtype", authType},
			GitAttribute{"credential", a.Credential})
		if a.Ephemeral {
			fields = append(fields, GitAttribute{"ephemeral", "true"})
		}
	} else {
		if a.Username == "" {
			return errors.New("git answer has no username; git would prompt for one")
		}
		if err := checkToken(a.Password); err != nil {
			return err
		}
		fields = append(fields,
			GitAttribute{"username", a.Username},
			GitAttribute{"password", a.Password})
	}
	if !a.PasswordExpiry.IsZero() {
		sec := a.PasswordExpiry.Unix()
		if sec <= 0 {
			return errors.New("git answer expiry is not after 1970")
		}
		fields = append(fields, GitAttribute{"password_expiry_utc", strconv.FormatInt(sec, 10)})
	}
	var b strings.Builder
	for _, f := range fields {
		if f.Value == "" {
			return fmt.Errorf("git answer has an empty %s", f.Key)
		}
		if err := checkLineValue(f.Value); err != nil {
			return err
		}
		b.WriteString(f.Key)
		b.WriteByte('=')
		b.WriteString(f.Value)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// isHTTPToken reports whether s is an RFC 9110 §5.6.2 token, the syntax of an
// auth-scheme (§11.1): anything else would change the Authorization header
// git builds from it.
func isHTTPToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// GitRespond answers req with tok for the named user: it refuses a token
// that is not a bearer token, then writes the authtype form (Bearer,
// ephemeral) to a git that announced it and username/password to any other.
// expiry is sesame's early expiry for tok (requirement 32). Whether
// req's host and path belong to the profile is the caller's check
// (GitHostMatches), made before a token is fetched at all.
func GitRespond(w io.Writer, req *GitRequest, username string, tok *oauth2.Token, expiry time.Time) error {
	if req == nil || tok == nil {
		return errors.New("git response needs a request and a token")
	}
	if err := RequireBearer(tok.TokenType); err != nil {
		return err
	}
	return WriteGitAnswer(w, req, GitAnswer{
		Username:       username,
		Password:       tok.AccessToken,
		PasswordExpiry: expiry,
		AuthType:       "Bearer",
		Credential:     tok.AccessToken,
		Ephemeral:      true,
	})
}
