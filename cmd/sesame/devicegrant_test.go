package main

import (
	"bytes"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/devicecode"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/provider"
)

func TestChooseFlow(t *testing.T) {
	both := &provider.Metadata{AuthorizationEndpoint: "https://as/auth", DeviceAuthorizationEndpoint: "https://as/device"}
	deviceOnly := &provider.Metadata{DeviceAuthorizationEndpoint: "https://as/device"}
	browserOnly := &provider.Metadata{AuthorizationEndpoint: "https://as/auth"}
	cases := []struct {
		name string
		flow string
		md   *provider.Metadata
		env  map[string]string
		want string
	}{
		{"profile fixes device", profile.FlowDevice, both, map[string]string{"DISPLAY": ":0"}, profile.FlowDevice},
		{"profile fixes browser", profile.FlowBrowser, both, nil, profile.FlowBrowser},
		{"server without authorization endpoint", "", deviceOnly, map[string]string{"DISPLAY": ":0"}, profile.FlowDevice},
		{"server without device endpoint", "", browserOnly, nil, profile.FlowBrowser},
		{"ssh without a forwarded display", "", both, map[string]string{"SSH_CONNECTION": "1 2 3 4"}, profile.FlowDevice},
		{"ssh with a forwarded display", "", both, map[string]string{"SSH_CONNECTION": "1 2 3 4", "DISPLAY": "localhost:10"}, profile.FlowBrowser},
		{"BROWSER set", "", both, map[string]string{"SSH_CONNECTION": "1 2 3 4", "BROWSER": "w3m"}, profile.FlowBrowser},
	}
	if runtime.GOOS == "linux" {
		cases = append(cases,
			struct {
				name string
				flow string
				md   *provider.Metadata
				env  map[string]string
				want string
			}{"linux without a display", "", both, nil, profile.FlowDevice})
	}
	for _, c := range cases {
		a := &app{env: &Env{Getenv: func(k string) string { return c.env[k] }}}
		if got := a.chooseFlow(&profile.Profile{Flow: c.flow}, c.md); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

// devicePromptOn shows pr as login does on a terminal of cols×rows (0×0:
// one that does not tell its size), and returns the lines of stderr.
func devicePromptOn(t *testing.T, pr devicecode.Prompt, qr qrMode, cols, rows int) []string {
	t.Helper()
	var buf bytes.Buffer
	env := &Env{Stderr: &buf, StderrTTY: true}
	if cols > 0 {
		env.StderrSize = func() (int, int, bool) { return cols, rows, true }
	}
	a := &app{env: env}
	a.showDevicePrompt(&profile.Profile{Name: "work"}, pr, loginUI{qr: qr})
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

// The QR code is drawn only where the whole prompt fits with it, in both
// directions; --qr draws it anyway. Either way the prompt ends with the
// page, the code and the link that carries it (the countdown comes next).
func TestDevicePrompt_QROnlyWhereItFits(t *testing.T) {
	complete := "https://id.example.com/device?user_code=WDJB-MJHT"
	code, err := terminalQR{}.EncodeQR(complete)
	if err != nil {
		t.Fatal(err)
	}
	pr := devicecode.Prompt{
		VerificationURI: "https://id.example.com/device", VerificationURIComplete: complete, UserCode: "WDJB-MJHT",
		Origin: "https://id.example.com", HostASCII: "id.example.com", HostUnicode: "id.example.com",
		ExpiresAt: time.Now().Add(10 * time.Minute), QR: code,
	}
	// The rows the prompt needs with the code: its lines and the countdown.
	need := len(devicePromptOn(t, pr, qrAlways, 80, 24)) + 1
	qrWidth := len([]rune(strings.SplitN(code, "\n", 2)[0]))
	tests := []struct {
		name       string
		mode       qrMode
		cols, rows int
		want       bool
	}{
		{"80x24", qrAuto, 80, 24, false},
		{"80x60", qrAuto, 80, 60, true},
		{"exactly tall enough", qrAuto, 80, need, true},
		{"a row short", qrAuto, 80, need - 1, false},
		{"exactly wide enough", qrAuto, qrWidth, 60, true},
		{"a column short", qrAuto, qrWidth - 1, 60, false},
		{"a terminal of unknown size", qrAuto, 0, 0, false},
		{"--qr on 80x24", qrAlways, 80, 24, true},
	}
	for _, tt := range tests {
		lines := devicePromptOn(t, pr, tt.mode, tt.cols, tt.rows)
		if got := strings.Contains(strings.Join(lines, "\n"), "█"); got != tt.want {
			t.Errorf("%s: QR code shown %v, want %v:\n%s", tt.name, got, tt.want, strings.Join(lines, "\n"))
		}
		wantTail := []string{"  page: " + pr.VerificationURI, "  code: WDJB-MJHT", "  or open this link, which carries the code:", "  " + complete, ""}
		if tail := lines[len(lines)-len(wantTail):]; !slices.Equal(tail, wantTail) {
			t.Errorf("%s: the prompt ends with %q, want %q", tt.name, tail, wantTail)
		}
	}
}

// On a narrow terminal the countdown is cut to the width: a line that
// wrapped would leave its first row behind at every redraw.
func TestDeviceCountdown_FitsTheWidth(t *testing.T) {
	var buf bytes.Buffer
	a := &app{env: &Env{Stderr: &buf, StderrTTY: true, StderrSize: func() (int, int, bool) { return 30, 24, true }}}
	a.deviceUI(&profile.Profile{Name: "work"}, loginUI{}).Waiting(devicecode.Wait{Remaining: 9*time.Minute + 59*time.Second})
	if got, want := buf.String(), "\r\x1b[Ksesame: waiting for approval,"; got != want {
		t.Fatalf("countdown %q, want %q", got, want)
	}
}
