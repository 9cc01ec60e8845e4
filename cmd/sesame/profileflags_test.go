package main

import (
	"reflect"
	"testing"

	"github.com/sesame-auth/sesame/internal/profile"
)

// A later login without --save keeps exactly the loginOnly settings out
// of the profile it saves, and saves every other one: saveAs and the
// loginOnly marks of profileFlags agree.
func TestSaveAs_KeepsOutExactlyTheLoginOnlySettings(t *testing.T) {
	o := &loginOptions{
		issuer: "https://other.example", clientID: "c2", scopes: []string{"openid,email"},
		resources: []string{"https://api.example"}, flow: profile.FlowDevice, port: 18080,
		caFile: "/ca.pem", insecureLoopback: true, allowUnannouncedIss: true, browserCommand: "firefox",
		helperLogin: false, verificationHosts: []string{"login.example"}, dpop: true,
		changed: func(string) bool { return true },
	}
	before := &profile.Profile{Name: "work", Issuer: "https://id.example", ClientID: "c1"}
	used := *before
	for _, f := range profileFlags {
		if f.apply != nil {
			f.apply(o, &used)
		}
	}
	for _, save := range []bool{false, true} {
		o.save = save
		saved := o.saveAs(before)(&used)
		for _, f := range profileFlags {
			want := f.get(&used)
			if f.loginOnly && !save {
				want = f.get(before)
			}
			if got := f.get(saved); !reflect.DeepEqual(got, want) {
				t.Errorf("--save=%v: --%s saved as %v, want %v", save, f.name, got, want)
			}
		}
	}
	if got := used.Scopes; !reflect.DeepEqual(got, []string{"openid", "email"}) {
		t.Errorf("--scope openid,email gave %q", got)
	}
}
