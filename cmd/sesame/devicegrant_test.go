package main

import (
	"runtime"
	"testing"

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
