package credhelper

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/sesame-auth/sesame/internal/jsonlite"
)

// parseExecInfoLite reads KUBERNETES_EXEC_INFO as json.Unmarshal reads it
// into an ExecInfo, without reflection (see jsonlite: kubectl runs its
// plugin many times a minute). It declines, for json.Unmarshal to read,
// whatever it is not sure of: a key given twice or in another case than
// the field's, a null, a cluster config (which ParseExecInfo compacts).
// Other keys are skipped, as json.Unmarshal skips them.
func parseExecInfoLite(data []byte) (*ExecInfo, bool) {
	r := jsonlite.NewReader(data)
	info := &ExecInfo{}
	members(r, []string{"kind", "apiVersion", "spec"}, func(key string) {
		switch key {
		case "kind":
			info.Kind = r.String()
		case "apiVersion":
			info.APIVersion = r.String()
		case "spec":
			members(r, []string{"cluster", "interactive"}, func(key string) {
				switch key {
				case "cluster":
					info.Spec.Cluster = readCluster(r)
				case "interactive":
					b := r.Bool()
					info.Spec.Interactive = &b
				}
			})
		}
	})
	r.End()
	return info, !r.Failed()
}

func readCluster(r *jsonlite.Reader) *Cluster {
	c := &Cluster{}
	members(r, []string{"server", "tls-server-name", "insecure-skip-tls-verify", "certificate-authority-data",
		"proxy-url", "disable-compression", "config"}, func(key string) {
		switch key {
		case "server":
			c.Server = r.String()
		case "tls-server-name":
			c.TLSServerName = r.String()
		case "insecure-skip-tls-verify":
			c.InsecureSkipTLSVerify = r.Bool()
		case "certificate-authority-data":
			// As encoding/json reads a []byte.
			s := r.String()
			b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
			n, err := base64.StdEncoding.Decode(b, []byte(s))
			if err != nil {
				r.Fail()
			}
			c.CertificateAuthorityData = b[:n]
		case "proxy-url":
			c.ProxyURL = r.String()
		case "disable-compression":
			c.DisableCompression = r.Bool()
		case "config":
			r.Fail()
		}
	})
	return c
}

// members reads an object whose fields are known: member is called for
// each of them, once at most; another key is skipped unless
// json.Unmarshal could match it to a field (a key that differs in case,
// or that holds a non-ASCII letter, which may fold to an ASCII one), and
// a repeated one or a null fails the reading.
func members(r *jsonlite.Reader, fields []string, member func(key string)) {
	if r.Null() {
		r.Fail()
		return
	}
	seen := make([]bool, len(fields))
	r.Object(func(key string) {
		for i, f := range fields {
			switch {
			case key == f && !seen[i]:
				seen[i] = true
				if r.Null() {
					r.Fail()
					return
				}
				member(key)
				return
			case strings.EqualFold(key, f):
				r.Fail()
				return
			}
		}
		for i := 0; i < len(key); i++ {
			if key[i] >= utf8.RuneSelf {
				r.Fail()
				return
			}
		}
		r.Skip()
	})
}
