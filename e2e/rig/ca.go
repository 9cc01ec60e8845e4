package rig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a throw-away certificate authority and one server certificate it
// signed, for IP 127.0.0.1 and ::1, written as PEM files into a temporary
// directory of the test.
type CA struct {
	Dir      string         // the directory that holds the files
	CAFile   string         // ca.pem: the CA certificate, for --ca-file and RootCAs
	CertFile string         // cert.pem: the server certificate
	KeyFile  string         // key.pem: the server key (PKCS #8)
	Pool     *x509.CertPool // a pool holding only the CA
}

// NewCA makes a CA (ECDSA P-256) and a server certificate for 127.0.0.1 and
// ::1, valid for a day, and writes ca.pem, cert.pem and key.pem into
// t.TempDir().
func NewCA(t testing.TB) *CA {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("e2e: CA key: %v", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: "sesame e2e test CA", Organization: []string{"sesame e2e"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("e2e: CA certificate: %v", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatalf("e2e: CA certificate: %v", err)
	}

	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("e2e: server key: %v", err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("e2e: server certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(srvKey)
	if err != nil {
		t.Fatalf("e2e: server key: %v", err)
	}

	dir := t.TempDir()
	ca := &CA{
		Dir:      dir,
		CAFile:   filepath.Join(dir, "ca.pem"),
		CertFile: filepath.Join(dir, "cert.pem"),
		KeyFile:  filepath.Join(dir, "key.pem"),
		Pool:     x509.NewCertPool(),
	}
	ca.Pool.AddCert(caCert)
	writePEM(t, ca.CAFile, "CERTIFICATE", caDER, 0o644)
	writePEM(t, ca.CertFile, "CERTIFICATE", srvDER, 0o644)
	writePEM(t, ca.KeyFile, "PRIVATE KEY", keyDER, 0o600)
	return ca
}

// TLSConfig is a client configuration that trusts only the CA.
func (ca *CA) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS12}
}

// ServerTLSConfig serves the CA-signed certificate for 127.0.0.1 and ::1, for
// a test's own TLS servers (a git or Kubernetes API stub) next to the
// authorization server.
func (ca *CA) ServerTLSConfig(t testing.TB) *tls.Config {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(ca.CertFile, ca.KeyFile)
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

func serial(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatalf("e2e: serial number: %v", err)
	}
	return n
}

func writePEM(t testing.TB, path, typ string, der []byte, perm os.FileMode) {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatalf("e2e: %v", err)
	}
}
