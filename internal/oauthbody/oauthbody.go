// Package oauthbody reads the members of a token endpoint's answer, for
// the device flow's polls and for refreshes alike.
package oauthbody

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/url"
	"strings"
)

// Fields reads a JSON object (RFC 6749 §5.1, §5.2), or a form-encoded body
// as some servers (GitHub) send without an Accept header to guide them, into
// one map: JSON values as encoding/json decodes them, form values as their
// first string. Anything else, or a body that does not parse, gives nil.
func Fields(contentType string, body []byte) map[string]any {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json") ||
		bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")):
		var m map[string]any
		if json.Unmarshal(body, &m) != nil {
			return nil
		}
		return m
	case mt == "application/x-www-form-urlencoded" || mt == "text/plain":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil
		}
		m := make(map[string]any, len(v))
		for k := range v {
			m[k] = v.Get(k)
		}
		return m
	}
	return nil
}
