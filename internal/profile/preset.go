package profile

import (
	"fmt"

	"github.com/sesame-auth/sesame/internal/preset"
)

// PresetOptions are the profile's provider options.
func (p *Profile) PresetOptions() preset.Options {
	return preset.Options{Host: p.Host, Tenant: p.Tenant, Realm: p.Realm, AllowInsecureLoopback: p.InsecureLoopbackAS}
}

// validatePreset checks the provider fields: a known preset with the
// options it needs, and none without a provider. Whether Issuer is the
// preset's is checked where the endpoints are used (session), since a
// test may move a preset's origin.
func (p *Profile) validatePreset() error {
	if p.Provider == "" {
		if p.Host != "" || p.Tenant != "" || p.Realm != "" {
			return fmt.Errorf("host, tenant and realm need a provider (--provider)")
		}
		return nil
	}
	pr, ok := preset.Lookup(p.Provider)
	if !ok {
		_, err := preset.Resolve(p.Provider, preset.Options{})
		return err
	}
	return pr.Check(p.PresetOptions())
}
