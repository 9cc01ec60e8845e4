package credhelper

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// This file answers one question for each protocol: is the resource the
// caller is about to contact the one a profile's token is meant for
// (requirement 40; RFC 6750 §5.3, RFC 9700 §4.9.1)? Every answer
// compares parsed parts exactly, and every doubt is a "no": a wrong "no"
// costs the user a prompt, a wrong "yes" hands a token to another server.

// defaultHTTPSPort is the port an https URL without one means (RFC 9110 §4.2.2).
const defaultHTTPSPort = 443

// GitHostMatches reports whether a git request is for host and, when
// pathPrefix is not empty, for a repository under pathPrefix. host is the
// profile's host[:port], without a scheme.
//
// The protocol must be exactly "https". Host names compare without regard to
// case; ports compare as numbers, with no port meaning 443, so
// "example.com" matches "EXAMPLE.com:443" but not "example.com:8443". A host
// that is not a plain name, IPv4 or bracketed IPv6 literal with an optional
// port (one with "@", a path, a control character, ...) matches nothing, and
// neither does a request without a host.
//
// pathPrefix matches whole path segments, case-sensitively: "org" matches
// "org" and "org/repo.git" but not "organisation/repo". A ".git" suffix is
// ignored on the last segment of the prefix and on the request's segment it
// meets, so "org/repo" and "org/repo.git" match each other. Empty segments
// and "." or ".." segments, which a server or curl could resolve to somewhere
// else, make either side match nothing. Git sends the path only when
// credential.useHttpPath is true; with a prefix configured and no path sent,
// GitHostMatches returns false.
func GitHostMatches(req *GitRequest, host, pathPrefix string) bool {
	if req == nil || req.Protocol != "https" || req.Host == "" {
		return false
	}
	if !sameHostPort(req.Host, host) {
		return false
	}
	prefix := strings.Trim(pathPrefix, "/")
	if prefix == "" {
		return true
	}
	return pathHasPrefix(req.Path, prefix)
}

// ServerMatches reports whether kubectl's cluster (spec.cluster.server,
// present with provideClusterInfo: true) is want. Both must be https URLs;
// they match when the host name (without regard to case), the port (443 when
// absent) and the path (without one trailing slash) are equal. A URL with
// user info, a query or a fragment matches nothing, and so does a request
// with no cluster: the caller decides whether a request that names no
// cluster may have a token.
func ServerMatches(info *ExecInfo, want string) bool {
	if info == nil || info.Spec.Cluster == nil {
		return false
	}
	a, ok1 := parseHTTPSURL(info.Spec.Cluster.Server)
	b, ok2 := parseHTTPSURL(want)
	return ok1 && ok2 && a == b
}

// DockerHostMatches reports whether a docker credential helper's server URL
// names the registry host. Docker passes a bare host ("registry.example.com"
// or with ":port") for most registries and "https://index.docker.io/v1/" for
// Docker Hub, so both forms are accepted, with the path empty, "/v1" or "/v2"
// (a trailing slash allowed). An http:// URL never matches: the token would
// cross the network in clear. host compares as in GitHostMatches.
func DockerHostMatches(serverURL, host string) bool {
	s := serverURL
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, ok := parseHTTPSURL(s)
	if !ok {
		return false
	}
	switch u.path {
	case "", "/v1", "/v2":
	default:
		return false
	}
	want, ok := parseHostPort(host)
	return ok && u.host == want
}

// hostPort is a parsed authority: a lower-cased host and a numeric port.
type hostPort struct {
	name string
	port int
}

// serverURL is a parsed https URL reduced to what identifies the server.
type serverURL struct {
	host hostPort
	path string
}

// parseHTTPSURL parses an absolute https URL with nothing but a host, an
// optional port and an optional path.
func parseHTTPSURL(s string) (serverURL, bool) {
	if checkText(s) != nil {
		return serverURL{}, false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Opaque != "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.RawFragment != "" {
		return serverURL{}, false
	}
	hp, ok := parseHostPort(u.Host)
	if !ok {
		return serverURL{}, false
	}
	return serverURL{host: hp, path: strings.TrimSuffix(u.EscapedPath(), "/")}, true
}

// sameHostPort compares two host[:port] strings as parsed authorities.
func sameHostPort(a, b string) bool {
	x, ok1 := parseHostPort(a)
	y, ok2 := parseHostPort(b)
	return ok1 && ok2 && x == y
}

// parseHostPort parses host[:port], where host is a DNS name (letters,
// digits, "-", "_" and "."), an IPv4 address or a bracketed IPv6 address
// without a zone. The port, when present, is 1 to 65535; absent, it is 443.
func parseHostPort(s string) (hostPort, bool) {
	var name, portText string
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return hostPort{}, false
		}
		addr, err := netip.ParseAddr(s[1:end])
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return hostPort{}, false
		}
		name = addr.String()
		rest := s[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return hostPort{}, false
			}
			portText = rest[1:]
			if portText == "" {
				return hostPort{}, false
			}
		}
	} else {
		if strings.Count(s, ":") > 1 {
			return hostPort{}, false
		}
		var hasPort bool
		name, portText, hasPort = strings.Cut(s, ":")
		if hasPort && portText == "" {
			return hostPort{}, false
		}
		if !validHostName(name) {
			return hostPort{}, false
		}
		name = strings.ToLower(name)
	}
	port := defaultHTTPSPort
	if portText != "" {
		if len(portText) > 5 || strings.Trim(portText, "0123456789") != "" {
			return hostPort{}, false
		}
		n, err := strconv.Atoi(portText)
		if err != nil || n < 1 || n > 65535 {
			return hostPort{}, false
		}
		port = n
	}
	return hostPort{name: name, port: port}, true
}

// validHostName accepts the characters of DNS names and IPv4 literals. It is
// deliberately narrower than what URLs allow: no percent-encoding, no
// Unicode (an IDN must be configured and sent in its xn-- form), nothing that
// could carry user info or a path.
func validHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_':
		default:
			return false
		}
	}
	return true
}

// pathHasPrefix reports whether path starts with the segments of prefix; see
// GitHostMatches for the rules.
func pathHasPrefix(path, prefix string) bool {
	want, ok := pathSegments(prefix)
	if !ok || len(want) == 0 {
		return false
	}
	got, ok := pathSegments(strings.Trim(path, "/"))
	if !ok || len(got) < len(want) {
		return false
	}
	last := len(want) - 1
	for i := 0; i < last; i++ {
		if got[i] != want[i] {
			return false
		}
	}
	return strings.TrimSuffix(got[last], ".git") == strings.TrimSuffix(want[last], ".git")
}

// pathSegments splits a slash-trimmed path. It refuses empty, "." and ".."
// segments, backslashes (which some servers read as "/") and control
// characters.
func pathSegments(p string) ([]string, bool) {
	if p == "" {
		return nil, true
	}
	if checkText(p) != nil || strings.Contains(p, `\`) {
		return nil, false
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return nil, false
		}
	}
	return segs, true
}
