package profile

import "net/netip"

// isLoopbackIP reports whether host is a loopback IP literal (127.0.0.0/8 or
// ::1). Names such as "localhost" are not accepted: they resolve through
// files and resolvers an attacker may influence.
func isLoopbackIP(host string) bool {
	a, err := netip.ParseAddr(host)
	return err == nil && a.Zone() == "" && a.Unmap().IsLoopback()
}
