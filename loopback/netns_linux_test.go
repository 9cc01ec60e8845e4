package loopback

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/internal/authtest"
)

// netnsModes are the network namespaces TestNetNS_Req01_Req02 builds: lan
// has a second interface with a non-loopback address (192.0.2.1, TEST-NET-1,
// on a veth pair that leads nowhere), v6only has loopback with 127.0.0.1
// removed, so only ::1 is up, and hosts is lan with a hosts file (bind-
// mounted in the namespace's own mount table) that maps localhost to
// 192.0.2.1.
var netnsModes = map[string]string{
	"lan":    lanSetup,
	"v6only": "ip addr del 127.0.0.1/8 dev lo",
	"hosts":  lanSetup + ` && h=$(mktemp) && printf '192.0.2.1 localhost\n' > "$h" && mount --bind "$h" /etc/hosts`,
}

const lanSetup = "ip link add v0 type veth peer name v1 && ip addr add 192.0.2.1/24 dev v0 && ip link set v0 up && ip link set v1 up"

// TestNetNS_Req01_Req02 runs the listener tests again inside network
// namespaces of its own (requirements 1 and 2): with a real
// non-loopback address on the machine, the listener is not reachable on it;
// with only ::1 up, the redirect URI is http://[::1]:P/callback and a login
// completes; with localhost mapped to 192.0.2.1 in the hosts file, the
// listener and the redirect URI stay on 127.0.0.1. It needs root (as make
// test runs) and unshare(1).
func TestNetNS_Req01_Req02(t *testing.T) {
	if os.Getenv("SESAME_NETNS_CHILD") != "" {
		t.Skip("already inside a test namespace")
	}
	if os.Geteuid() != 0 {
		t.Skip("making a network namespace needs root")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare(1) is not installed")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip(8) is not installed")
	}
	if err := exec.Command("unshare", "--net", "--mount", "true").Run(); err != nil {
		t.Skipf("this machine does not allow new network namespaces: %v", err)
	}
	for mode, setup := range netnsModes {
		t.Run(mode, func(t *testing.T) {
			script := `ip link set lo up && ` + setup + ` && exec "$0" -test.run '^(TestListen_LoopbackOnlyAndMatchesRedirect_Req01|TestNetNSChild_Req01_Req02)$' -test.v -test.count=1`
			cmd := exec.Command("unshare", "--net", "--mount", "--", "sh", "-c", script, os.Args[0])
			cmd.Env = append(os.Environ(), "SESAME_NETNS_CHILD="+mode)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("inside the %s namespace: %v\n%s", mode, err, out)
			}
			for _, name := range []string{"TestListen_LoopbackOnlyAndMatchesRedirect_Req01", "TestNetNSChild_Req01_Req02"} {
				if !strings.Contains(string(out), "--- PASS: "+name) {
					t.Fatalf("%s did not pass inside the %s namespace:\n%s", name, mode, out)
				}
			}
		})
	}
}

// TestNetNSChild_Req01_Req02 runs only inside a namespace made by
// TestNetNS_Req01_Req02.
func TestNetNSChild_Req01_Req02(t *testing.T) {
	mode := os.Getenv("SESAME_NETNS_CHILD")
	if mode == "" {
		t.Skip("runs inside TestNetNS_Req01_Req02's network namespaces")
	}
	as := authtest.New(t)
	var redirect string
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
		redirect = p.redirectURI
		if mode == "lan" || mode == "hosts" {
			// The machine has 192.0.2.1 now; the listener must not be
			// reachable there (a LAN peer would connect to it).
			c, err := net.Dial("tcp", net.JoinHostPort("192.0.2.1", portOf(p.redirectURI)))
			if err == nil {
				_ = c.Close()
				b.note("the listener accepts connections on 192.0.2.1")
			}
		}
		if n, ok := listeningSockets(portOf(p.redirectURI)); !ok || n != 1 {
			b.note(fmt.Sprintf("%d listening sockets on the callback port, want exactly 1", n))
		}
		goodCallback(ctx, b, p)
	})
	res, err := runFlow(t, mustNew(t, testConfig(as, b)))
	if err != nil || res.Token.AccessToken == "" {
		t.Fatalf("login inside the %s namespace: %v", mode, err)
	}
	if notes := b.wait(t); len(notes) > 0 {
		t.Fatal(notes)
	}
	u, _ := url.Parse(redirect)
	// Requirement 2: a hosts file that sends localhost elsewhere changes
	// nothing, because no name is ever resolved to choose the address.
	want := map[string]string{"lan": "127.0.0.1", "v6only": "::1", "hosts": "127.0.0.1"}[mode]
	if u.Hostname() != want {
		t.Fatalf("redirect URI %s, want host %s", redirect, want)
	}
	if mode == "hosts" {
		addrs, err := net.DefaultResolver.LookupHost(context.Background(), "localhost")
		if err != nil || len(addrs) != 1 || addrs[0] != "192.0.2.1" {
			t.Fatalf("localhost resolves to %v (%v) in the namespace: the hosts-file check proved nothing", addrs, err)
		}
	}
	if mode == "lan" || mode == "hosts" {
		addrs, _ := net.InterfaceAddrs()
		found := false
		for _, a := range addrs {
			found = found || strings.HasPrefix(a.String(), "192.0.2.1/")
		}
		if !found {
			t.Fatal("the namespace has no 192.0.2.1: the reachability check proved nothing")
		}
	}
}

// listeningSockets counts the sockets in LISTEN state on port, IPv4 and
// IPv6, from /proc/net (this namespace holds only the test's own sockets),
// and checks each is bound to a loopback address.
func listeningSockets(port string) (int, bool) {
	p, err := strconv.Atoi(port)
	if err != nil {
		return 0, false
	}
	want := fmt.Sprintf("%04X", p)
	n, ok := 0, true
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 4 || f[3] != "0A" {
				continue
			}
			addr, lport, found := strings.Cut(f[1], ":")
			if !found || lport != want {
				continue
			}
			n++
			// 0100007F is 127.0.0.1; 00000000000000000000000001000000 is ::1.
			ok = ok && (addr == "0100007F" || addr == "00000000000000000000000001000000")
		}
	}
	return n, ok
}
