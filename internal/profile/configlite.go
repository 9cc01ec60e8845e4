package profile

import "github.com/sesame-auth/sesame/internal/jsonlite"

// decodeLite reads a configuration file the way decode's encoding/json
// reading does, without reflection (see jsonlite): every helper call
// reads this file, and encoding/json's first use costs a warm call more
// than its own work. It takes only files that hold what Save writes:
// known keys, each once, spelt as their tags, no nulls, integers without
// fraction or exponent, nothing after the object. It returns false for
// anything else, with c as it was, and decode then reads the file with
// encoding/json, which has the last word (and the error messages).
func decodeLite(data []byte, c *Config) bool {
	r := jsonlite.NewReader(data)
	version, def, profiles := c.Version, "", map[string]*Profile{}
	var seen [3]bool
	r.Object(func(key string) {
		switch {
		case key == "version" && !seen[0]:
			seen[0] = true
			version = intValue(r)
		case key == "default" && !seen[2]:
			seen[2] = true
			def = r.String()
		case key == "profiles" && !seen[1]:
			seen[1] = true
			r.Object(func(name string) {
				if _, twice := profiles[name]; twice {
					r.Fail()
				}
				profiles[name] = readProfile(r)
			})
		default:
			r.Fail()
		}
	})
	if r.End(); r.Failed() {
		return false
	}
	c.Version, c.Default, c.Profiles = version, def, profiles
	return true
}

// readProfile reads one profile object; the keys are Profile's json tags.
func readProfile(r *jsonlite.Reader) *Profile {
	p := &Profile{}
	seen := map[string]bool{}
	r.Object(func(key string) {
		if seen[key] {
			r.Fail()
			return
		}
		seen[key] = true
		switch key {
		case "issuer":
			p.Issuer = r.String()
		case "client_id":
			p.ClientID = r.String()
		case "scopes":
			p.Scopes = r.Strings()
		case "resources":
			p.Resources = r.Strings()
		case "flow":
			p.Flow = r.String()
		case "callback_port":
			p.CallbackPort = intValue(r)
		case "ca_file":
			p.CAFile = r.String()
		case "insecure_loopback_as":
			p.InsecureLoopbackAS = r.Bool()
		case "allow_unannounced_iss":
			p.AllowUnannouncedIss = r.Bool()
		case "browser_command":
			p.BrowserCommand = r.String()
		case "git_hosts":
			p.GitHosts = r.Strings()
		case "git_username":
			p.GitUsername = r.String()
		case "docker_hosts":
			p.DockerHosts = r.Strings()
		case "docker_username":
			p.DockerUsername = r.String()
		case "no_helper_login":
			p.NoHelperLogin = r.Bool()
		case "verification_hosts":
			p.VerificationHosts = r.Strings()
		case "kube_server":
			p.KubeServer = r.String()
		case "dpop":
			p.DPoP = r.Bool()
		case "register":
			p.Register = r.Bool()
		case "provider":
			p.Provider = r.String()
		case "host":
			p.Host = r.String()
		case "tenant":
			p.Tenant = r.String()
		case "realm":
			p.Realm = r.String()
		default:
			r.Fail()
		}
	})
	return p
}

// intValue reads an integer that fits in an int.
func intValue(r *jsonlite.Reader) int {
	n := r.Int()
	if int64(int(n)) != n {
		r.Fail()
	}
	return int(n)
}
