package credhelper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/jsonlite"
)

// The ExecCredential API versions kubectl speaks to exec plugins
// (client-go's client.authentication.k8s.io). v1alpha1 was removed in
// Kubernetes 1.24 and is refused.
const (
	APIVersionV1      = "client.authentication.k8s.io/v1"
	APIVersionV1beta1 = "client.authentication.k8s.io/v1beta1"
)

// ExecInfoEnv is the environment variable in which client-go hands an exec
// plugin its ExecCredential request.
const ExecInfoEnv = "KUBERNETES_EXEC_INFO"

// maxExecInfo bounds KUBERNETES_EXEC_INFO. A real one is a few hundred bytes,
// or a few KiB with a CA bundle and provideClusterInfo.
const maxExecInfo = 1 << 20

// ErrUnsupportedAPIVersion reports an ExecCredential request in an API
// version other than v1 and v1beta1, or one that is not an ExecCredential.
// ParseExecInfo names KUBERNETES_EXEC_INFO in front of it.
var ErrUnsupportedAPIVersion = errors.New("unsupported ExecCredential apiVersion or kind; sesame speaks client.authentication.k8s.io/v1 and v1beta1")

// ErrNoClusterInfo reports a request that names no cluster (no
// spec.cluster: the kubeconfig's exec entry lacks provideClusterInfo: true)
// made to a profile bound to one. Such a request could be for any server,
// so a cluster-bound profile gives it no token (requirement 40).
var ErrNoClusterInfo = errors.New("kubectl did not say which cluster it is calling (no spec.cluster in KUBERNETES_EXEC_INFO); no token given")

// These few ExecCredential types are written here on purpose rather than
// imported from k8s.io/client-go, which would bring apimachinery's weight
// into the binary; and ParseExecInfo bounds and checks its input more
// strictly than a generic decoder would.

// ExecInfo is the ExecCredential that kubectl (client-go) passes to an exec
// credential plugin in KUBERNETES_EXEC_INFO. It mirrors the request half of
// client-go's clientauthentication v1 and v1beta1 ExecCredential types, which
// share these fields; unknown fields are ignored.
type ExecInfo struct {
	Kind       string   `json:"kind"`
	APIVersion string   `json:"apiVersion"`
	Spec       ExecSpec `json:"spec"`
}

// ExecSpec is ExecCredential.spec.
type ExecSpec struct {
	// Cluster is set only when the kubeconfig's exec entry has
	// provideClusterInfo: true.
	Cluster *Cluster `json:"cluster,omitempty"`
	// Interactive is client-go's verdict on whether the plugin may talk to
	// the user on stdin. It is nil when the caller did not say (kubectl
	// before 1.22 with v1beta1, or no KUBERNETES_EXEC_INFO at all); v1
	// callers always say.
	Interactive *bool `json:"interactive,omitempty"`
}

// Cluster is ExecCredential.spec.cluster: the kubeconfig cluster kubectl is
// about to call.
type Cluster struct {
	Server                   string          `json:"server"`
	TLSServerName            string          `json:"tls-server-name,omitempty"`
	InsecureSkipTLSVerify    bool            `json:"insecure-skip-tls-verify,omitempty"`
	CertificateAuthorityData []byte          `json:"certificate-authority-data,omitempty"`
	ProxyURL                 string          `json:"proxy-url,omitempty"`
	DisableCompression       bool            `json:"disable-compression,omitempty"`
	Config                   json.RawMessage `json:"config,omitempty"`
}

// Interactive reports whether the caller said, explicitly, that the plugin
// may interact with the user. Unknown counts as no: a login that cannot be
// seen would hang kubectl.
func (e *ExecInfo) Interactive() bool {
	return e != nil && e.Spec.Interactive != nil && *e.Spec.Interactive
}

// ParseExecInfo parses the value of KUBERNETES_EXEC_INFO.
//
// An empty value means a caller that predates KUBERNETES_EXEC_INFO (client-go
// sets it for every v1beta1 and v1 plugin since Kubernetes 1.20, and v1 came
// later) or a person running the command by hand. The only API version such a
// caller can want is v1beta1, so ParseExecInfo returns a v1beta1 request with
// Spec.Interactive nil (unknown) and no cluster; the caller decides
// interactivity some other way, such as whether stdin is a terminal.
//
// Anything else must be a v1 or v1beta1 ExecCredential of at most 1 MiB, else
// the error wraps ErrUnsupportedAPIVersion or ErrTooLarge. The result is
// normalised so that marshalling it and parsing the JSON again gives an equal
// value: spec.cluster.config is compacted, and an empty or null CA or config
// becomes nil. Every error names KUBERNETES_EXEC_INFO, so a caller passes it
// on as it is.
func ParseExecInfo(s string) (*ExecInfo, error) {
	if len(s) > maxExecInfo {
		return nil, fmt.Errorf("%s: %w", ExecInfoEnv, ErrTooLarge)
	}
	if strings.TrimSpace(s) == "" {
		return &ExecInfo{Kind: "ExecCredential", APIVersion: APIVersionV1beta1}, nil
	}
	info, ok := parseExecInfoLite([]byte(s))
	if !ok {
		info = &ExecInfo{}
		if err := json.Unmarshal([]byte(s), info); err != nil {
			return nil, fmt.Errorf("%s is not valid JSON: %w", ExecInfoEnv, err)
		}
	}
	if info.Kind != "ExecCredential" || !knownAPIVersion(info.APIVersion) {
		return nil, fmt.Errorf("%s: %w", ExecInfoEnv, ErrUnsupportedAPIVersion)
	}
	if c := info.Spec.Cluster; c != nil {
		if len(c.CertificateAuthorityData) == 0 {
			c.CertificateAuthorityData = nil
		}
		if len(c.Config) > 0 {
			var buf bytes.Buffer
			if err := json.Compact(&buf, c.Config); err != nil {
				return nil, fmt.Errorf("%s: spec.cluster.config: %w", ExecInfoEnv, err)
			}
			c.Config = buf.Bytes()
		}
		if len(c.Config) == 0 || string(c.Config) == "null" {
			c.Config = nil
		}
	}
	return info, nil
}

func knownAPIVersion(v string) bool {
	return v == APIVersionV1 || v == APIVersionV1beta1
}

// WriteExecCredential writes the ExecCredential answer for kubectl, one JSON
// object and a newline:
//
//	{"kind":"ExecCredential","apiVersion":"…","spec":{},"status":{"expirationTimestamp":"…","token":"…"}}
//
// apiVersion must be the caller's (client-go rejects an answer in another
// version). expiry becomes status.expirationTimestamp in RFC 3339, UTC, whole
// seconds rounded down, so client-go asks again no later than expiry; pass
// sesame's early expiry (requirement 32), not the server's. A zero
// expiry omits the field, and client-go then keeps the token until a 401.
// Nothing is written on error.
func WriteExecCredential(w io.Writer, apiVersion, token string, expiry time.Time) error {
	if !knownAPIVersion(apiVersion) {
		return ErrUnsupportedAPIVersion
	}
	if err := checkToken(token); err != nil {
		return err
	}
	// Written by hand (jsonlite.AppendString writes strings as
	// encoding/json does): kubectl calls for this answer many times a
	// minute, and encoding/json's first use in a process costs more than
	// the rest of the call. client-go reads only apiVersion, kind and
	// status; spec is part of the type, and an empty one is what the
	// Kubernetes documentation shows.
	b := append(make([]byte, 0, 160+len(token)), `{"kind":"ExecCredential","apiVersion":`...)
	b = jsonlite.AppendString(b, apiVersion)
	b = append(b, `,"spec":{},"status":{`...)
	if !expiry.IsZero() {
		b = append(b, `"expirationTimestamp":`...)
		b = jsonlite.AppendString(b, expiry.UTC().Truncate(time.Second).Format(time.RFC3339))
		b = append(b, ',')
	}
	b = append(b, `"token":`...)
	b = jsonlite.AppendString(b, token)
	_, err := w.Write(append(b, "}}\n"...))
	return err
}

// KubectlRespond answers the request info with tok: it refuses a token that
// is not a bearer token and writes the ExecCredential in info's API version.
// expiry is as for WriteExecCredential. Whether info's cluster is the
// profile's is the caller's check (ServerMatches), made before a token is
// fetched at all; for a profile bound to a cluster, a request without
// cluster information is refused too (ErrNoClusterInfo).
func KubectlRespond(w io.Writer, info *ExecInfo, tok *oauth2.Token, expiry time.Time) error {
	if info == nil || tok == nil {
		return errors.New("kubectl response needs a request and a token")
	}
	if err := RequireBearer(tok.TokenType); err != nil {
		return err
	}
	return WriteExecCredential(w, info.APIVersion, tok.AccessToken, expiry)
}

// writeJSON encodes v as one line, with no HTML escaping (the readers are
// programs), and writes it in a single call.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
