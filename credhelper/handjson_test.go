package credhelper

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// The answers as encoding/json writes them: WriteExecCredential and
// WriteDockerCredentials write them by hand, and must write these bytes.
type execCredential struct {
	Kind       string   `json:"kind"`
	APIVersion string   `json:"apiVersion"`
	Spec       struct{} `json:"spec"`
	Status     struct {
		ExpirationTimestamp string `json:"expirationTimestamp,omitempty"`
		Token               string `json:"token"`
	} `json:"status"`
}

func encodingJSON(t *testing.T, v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// FuzzWrittenAnswersAreEncodingJSON: the kubectl and docker answers are
// byte for byte what encoding/json writes for them.
func FuzzWrittenAnswersAreEncodingJSON(f *testing.F) {
	f.Add(testToken, "registry.example.com", "oauth2accesstoken", int64(1_900_000_000), true)
	f.Add(`a"b\c<&>`, "https://r.example/\u2028é", "u\"\\", int64(0), false)
	f.Fuzz(func(t *testing.T, token, serverURL, username string, unix int64, v1 bool) {
		apiVersion := APIVersionV1beta1
		if v1 {
			apiVersion = APIVersionV1
		}
		expiry := time.Time{}
		if unix != 0 {
			expiry = time.Unix(unix%(1<<34), 0)
		}
		var got bytes.Buffer
		if err := WriteExecCredential(&got, apiVersion, token, expiry); err == nil {
			want := execCredential{Kind: "ExecCredential", APIVersion: apiVersion}
			want.Status.Token = token
			if !expiry.IsZero() {
				want.Status.ExpirationTimestamp = expiry.UTC().Truncate(time.Second).Format(time.RFC3339)
			}
			if w := encodingJSON(t, want); got.String() != w {
				t.Fatalf("ExecCredential\n got %q\nwant %q", got.String(), w)
			}
		}
		got.Reset()
		if err := WriteDockerCredentials(&got, serverURL, username, token); err == nil {
			w := encodingJSON(t, DockerCredentials{ServerURL: serverURL, Username: username, Secret: token})
			if got.String() != w {
				t.Fatalf("docker credentials\n got %q\nwant %q", got.String(), w)
			}
		}
	})
}

// FuzzParseExecInfoLite: wherever the reflection-free reading of
// KUBERNETES_EXEC_INFO succeeds, json.Unmarshal reads the same request.
func FuzzParseExecInfoLite(f *testing.F) {
	for _, b := range testdataFiles(f, "exec-info-*.json") {
		f.Add(b)
	}
	for _, s := range []string{
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true,"cluster":{"server":"https://k","certificate-authority-data":"Y2E=","insecure-skip-tls-verify":false,"extensions":[1,{"a":null}]}}}`,
		`{"kind":"ExecCredential","Kind":"x"}`, `{"kind":"a","kind":"b"}`, `{"kind":"ExecCredential","spec":null}`,
		`{"spec":{"cluster":{"certificate-authority-data":"!!"}}}`, `{"spec":{"cluster":{"certificate-authority-data":""}}}`,
		`{"spec":{"cluster":{"config":{"a":1}}}}`, `{"ſpec":{}}`, `{"K":1,"other":[true]}`, `{"kind":"ExecCredential"} x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lite, ok := parseExecInfoLite(data)
		if !ok {
			return
		}
		var std ExecInfo
		if err := json.Unmarshal(data, &std); err != nil {
			t.Fatalf("read without reflection, but json.Unmarshal says: %v", err)
		}
		if !reflect.DeepEqual(*lite, std) {
			t.Fatalf("readings differ:\nlite %#v\njson %#v", *lite, std)
		}
	})
}
