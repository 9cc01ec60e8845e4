package credhelper

import (
	"strings"
	"testing"
)

func TestGitHostMatches(t *testing.T) {
	const host = "git.example.com"
	for _, tc := range []struct {
		name         string
		req          *GitRequest
		host, prefix string
		want         bool
	}{
		{"exact", &GitRequest{Protocol: "https", Host: host}, host, "", true},
		{"host case", &GitRequest{Protocol: "https", Host: "Git.Example.COM"}, host, "", true},
		{"configured case", &GitRequest{Protocol: "https", Host: host}, "GIT.example.com", "", true},
		{"explicit default port", &GitRequest{Protocol: "https", Host: host + ":443"}, host, "", true},
		{"other port", &GitRequest{Protocol: "https", Host: host + ":8443"}, host, "", false},
		{"configured port", &GitRequest{Protocol: "https", Host: host + ":8443"}, host + ":8443", "", true},
		{"configured port, none sent", &GitRequest{Protocol: "https", Host: host}, host + ":8443", "", false},
		{"leading zero port", &GitRequest{Protocol: "https", Host: host + ":08443"}, host + ":8443", "", true},
		{"evil host", &GitRequest{Protocol: "https", Host: "evil.example"}, host, "", false},
		{"suffix trick", &GitRequest{Protocol: "https", Host: host + ".evil.example"}, host, "", false},
		{"prefix trick", &GitRequest{Protocol: "https", Host: "evil" + host}, host, "", false},
		{"subdomain", &GitRequest{Protocol: "https", Host: "a." + host}, host, "", false},
		{"trailing dot", &GitRequest{Protocol: "https", Host: host + "."}, host, "", false},
		{"userinfo in host", &GitRequest{Protocol: "https", Host: host + "@evil.example"}, host, "", false},
		{"cr in host", &GitRequest{Protocol: "https", Host: host + "\r"}, host, "", false},
		{"lf in host", &GitRequest{Protocol: "https", Host: host + "\nhost=evil"}, host, "", false},
		{"space in host", &GitRequest{Protocol: "https", Host: host + " "}, host, "", false},
		{"empty port", &GitRequest{Protocol: "https", Host: host + ":"}, host, "", false},
		{"port zero", &GitRequest{Protocol: "https", Host: host + ":0"}, host + ":0", "", false},
		{"port too big", &GitRequest{Protocol: "https", Host: host + ":65536"}, host + ":65536", "", false},
		{"http", &GitRequest{Protocol: "http", Host: host}, host, "", false},
		{"HTTPS upper case", &GitRequest{Protocol: "HTTPS", Host: host}, host, "", false},
		{"ssh", &GitRequest{Protocol: "ssh", Host: host}, host, "", false},
		{"no protocol", &GitRequest{Host: host}, host, "", false},
		{"no host", &GitRequest{Protocol: "https"}, host, "", false},
		{"nil request", nil, host, "", false},
		{"empty configured host", &GitRequest{Protocol: "https", Host: host}, "", "", false},
		{"ipv6", &GitRequest{Protocol: "https", Host: "[::1]:8443"}, "[0:0::1]:8443", "", true},
		{"ipv6 zone", &GitRequest{Protocol: "https", Host: "[fe80::1%25eth0]"}, "[fe80::1%25eth0]", "", false},
		{"ipv6 unbracketed", &GitRequest{Protocol: "https", Host: "::1"}, "::1", "", false},
		{"ipv4", &GitRequest{Protocol: "https", Host: "127.0.0.1:8443"}, "127.0.0.1:8443", "", true},
		{"unicode", &GitRequest{Protocol: "https", Host: "gіt.example.com"}, "gіt.example.com", "", false},

		{"prefix repo", &GitRequest{Protocol: "https", Host: host, Path: "org/repo.git"}, host, "org/repo", true},
		{"prefix repo.git", &GitRequest{Protocol: "https", Host: host, Path: "org/repo"}, host, "org/repo.git", true},
		{"prefix exact", &GitRequest{Protocol: "https", Host: host, Path: "org/repo"}, host, "org/repo", true},
		{"prefix org", &GitRequest{Protocol: "https", Host: host, Path: "org/repo.git"}, host, "org", true},
		{"prefix slashes", &GitRequest{Protocol: "https", Host: host, Path: "org/repo.git"}, host, "/org/", true},
		{"prefix deeper", &GitRequest{Protocol: "https", Host: host, Path: "org/sub/repo.git"}, host, "org/sub", true},
		{"prefix not a segment", &GitRequest{Protocol: "https", Host: host, Path: "organisation/repo.git"}, host, "org", false},
		{"repo name prefix", &GitRequest{Protocol: "https", Host: host, Path: "org/repo-evil.git"}, host, "org/repo", false},
		{"other org", &GitRequest{Protocol: "https", Host: host, Path: "evil/repo.git"}, host, "org/repo", false},
		{"path case", &GitRequest{Protocol: "https", Host: host, Path: "Org/repo.git"}, host, "org/repo", false},
		{"path shorter", &GitRequest{Protocol: "https", Host: host, Path: "org"}, host, "org/repo", false},
		{"no path sent", &GitRequest{Protocol: "https", Host: host}, host, "org/repo", false},
		{"dot dot", &GitRequest{Protocol: "https", Host: host, Path: "org/repo/../../evil/x.git"}, host, "org/repo", false},
		{"dot", &GitRequest{Protocol: "https", Host: host, Path: "./org/repo.git"}, host, "org/repo", false},
		{"empty segment", &GitRequest{Protocol: "https", Host: host, Path: "org//repo.git"}, host, "org", false},
		{"backslash", &GitRequest{Protocol: "https", Host: host, Path: `org\..\evil`}, host, "org", false},
		{"path with cr", &GitRequest{Protocol: "https", Host: host, Path: "org/repo\r"}, host, "org", false},
		{"double .git", &GitRequest{Protocol: "https", Host: host, Path: "org/repo.git.git"}, host, "org/repo", false},
		{"path ignored without prefix", &GitRequest{Protocol: "https", Host: host, Path: "any/thing"}, host, "", true},
		{"bad prefix", &GitRequest{Protocol: "https", Host: host, Path: "org/repo"}, host, "org/../x", false},
	} {
		if got := GitHostMatches(tc.req, tc.host, tc.prefix); got != tc.want {
			t.Errorf("%s: GitHostMatches(%v, %q, %q) = %v, want %v", tc.name, tc.req, tc.host, tc.prefix, got, tc.want)
		}
	}
}

func TestServerMatches(t *testing.T) {
	const want = "https://api.example.com:6443"
	for _, tc := range []struct {
		server, want string
		match        bool
	}{
		{want, want, true},
		{"https://API.Example.com:6443", want, true},
		{"https://api.example.com:6443/", want, true},
		{"https://api.example.com", "https://api.example.com:443/", true},
		{"https://api.example.com:443", "https://api.example.com", true},
		{"https://api.example.com/k8s/clusters/c1", "https://api.example.com/k8s/clusters/c1/", true},
		{"https://api.example.com/k8s/clusters/c2", "https://api.example.com/k8s/clusters/c1", false},
		{"https://api.example.com/k8s/clusters/c1-evil", "https://api.example.com/k8s/clusters/c1", false},
		{"https://api.example.com/k8s", "https://api.example.com", false},
		{"https://api.example.com:6444", want, false},
		{"https://api.example.com", want, false},
		{"https://api.example.com.evil.example:6443", want, false},
		{"https://api.example.com.evil.example", "https://api.example.com", false},
		{"https://evil.example/api.example.com:6443", want, false},
		{"https://api.example.com:6443@evil.example", want, false},
		{"https://user@api.example.com:6443", want, false},
		{"https://api.example.com:6443?x=1", want, false},
		{"https://api.example.com:6443#x", want, false},
		{"http://api.example.com:6443", "http://api.example.com:6443", false},
		{"api.example.com:6443", "api.example.com:6443", false},
		{"", want, false},
		{want, "", false},
		{"https://[::1]:6443", "https://[0::1]:6443", true},
		{"https://api.example.com:6443\r", want, false},
	} {
		info := &ExecInfo{Kind: "ExecCredential", APIVersion: APIVersionV1, Spec: ExecSpec{Cluster: &Cluster{Server: tc.server}}}
		if got := ServerMatches(info, tc.want); got != tc.match {
			t.Errorf("ServerMatches(%q, %q) = %v, want %v", tc.server, tc.want, got, tc.match)
		}
	}
	if ServerMatches(&ExecInfo{APIVersion: APIVersionV1}, want) || ServerMatches(nil, want) {
		t.Error("a request without cluster info matched")
	}
}

func TestDockerHostMatches(t *testing.T) {
	for _, tc := range []struct {
		serverURL, host string
		want            bool
	}{
		{"registry.example.com", "registry.example.com", true},
		{"Registry.Example.com", "registry.example.com", true},
		{"registry.example.com:443", "registry.example.com", true},
		{"registry.example.com:5000", "registry.example.com:5000", true},
		{"registry.example.com:5000", "registry.example.com", false},
		{"https://registry.example.com", "registry.example.com", true},
		{"https://registry.example.com/", "registry.example.com", true},
		{"https://index.docker.io/v1/", "index.docker.io", true},
		{"https://registry.example.com/v2/", "registry.example.com", true},
		{"https://registry.example.com/v2", "registry.example.com", true},
		{"https://registry.example.com/v3/", "registry.example.com", false},
		{"https://registry.example.com/org/image", "registry.example.com", false},
		{"registry.example.com/org", "registry.example.com", false},
		{"http://registry.example.com", "registry.example.com", false},
		{"HTTP://registry.example.com", "registry.example.com", false},
		{"ftp://registry.example.com", "registry.example.com", false},
		{"registry.example.com.evil.example", "registry.example.com", false},
		{"https://registry.example.com@evil.example", "registry.example.com", false},
		{"https://evil.example@registry.example.com", "registry.example.com", false},
		{"https://registry.example.com?x", "registry.example.com", false},
		{"registry.example.com\r", "registry.example.com", false},
		{"", "registry.example.com", false},
		{"registry.example.com", "", false},
	} {
		if got := DockerHostMatches(tc.serverURL, tc.host); got != tc.want {
			t.Errorf("DockerHostMatches(%q, %q) = %v, want %v", tc.serverURL, tc.host, got, tc.want)
		}
	}
}

func TestParseHostPortLimits(t *testing.T) {
	long := strings.Repeat("a", 254)
	if _, ok := parseHostPort(long); ok {
		t.Error("a 254-byte host name parsed")
	}
	if _, ok := parseHostPort("[::1]x"); ok {
		t.Error("junk after an IPv6 literal parsed")
	}
	if _, ok := parseHostPort("[::1"); ok {
		t.Error("unclosed IPv6 literal parsed")
	}
	if _, ok := parseHostPort("[127.0.0.1]"); ok {
		t.Error("bracketed IPv4 parsed")
	}
}
