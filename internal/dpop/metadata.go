package dpop

// Supported reports whether the server metadata's
// dpop_signing_alg_values_supported list contains an algorithm sesame can
// sign with, ES256 or EdDSA (RFC 9449 §5.1). An empty or absent list means
// the server does not announce DPoP. The comparison is exact because JWS
// algorithm names are case-sensitive (RFC 7515 §4.1.1).
func Supported(algs []string) bool {
	return Choose(algs) != ""
}
