package credhelper

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// TestSetDockerCredHelpers_KeepsEverythingElse: the registries get sesame
// as their helper; every other member, nested values included, stays,
// in its order, and a helper sesame replaces is reported.
func TestSetDockerCredHelpers_KeepsEverythingElse(t *testing.T) {
	in := `{
  "auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}},
  "credHelpers": {"gcr.io": "gcloud", "registry.example.test": "pass"},
  "currentContext": "colima",
  "proxies": {"default": {"httpProxy": "http://proxy:3128"}}
}`
	out, replaced, err := SetDockerCredHelpers([]byte(in), "sesame", []string{"registry.example.test", "other.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n" +
		"\t\"auths\": {\n\t\t\"ghcr.io\": {\n\t\t\t\"auth\": \"dXNlcjpwYXNz\"\n\t\t}\n\t},\n" +
		"\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\",\n\t\t\"registry.example.test\": \"sesame\",\n\t\t\"other.example.test\": \"sesame\"\n\t},\n" +
		"\t\"currentContext\": \"colima\",\n" +
		"\t\"proxies\": {\n\t\t\"default\": {\n\t\t\t\"httpProxy\": \"http://proxy:3128\"\n\t\t}\n\t}\n}\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if !reflect.DeepEqual(replaced, map[string]string{"registry.example.test": "pass"}) {
		t.Errorf("replaced = %v", replaced)
	}
	// Again: nothing changes, nothing is replaced.
	again, replaced, err := SetDockerCredHelpers(out, "sesame", []string{"registry.example.test"})
	if err != nil || string(again) != want || len(replaced) != 0 {
		t.Errorf("second run: %v %v\n%s", err, replaced, again)
	}
}

func TestSetDockerCredHelpers_EmptyOrMissing(t *testing.T) {
	for _, in := range []string{"", " \n", "{}"} {
		out, _, err := SetDockerCredHelpers([]byte(in), "sesame", []string{"r.test"})
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		var got map[string]map[string]string
		if err := json.Unmarshal(out, &got); err != nil || got["credHelpers"]["r.test"] != "sesame" || len(got) != 1 {
			t.Errorf("%q: %s", in, out)
		}
	}
}

// TestSetDockerCredHelpers_RefusesWhatDoesNotParse: a file docker could not
// read either is refused, never rewritten; the error names the line.
func TestSetDockerCredHelpers_RefusesWhatDoesNotParse(t *testing.T) {
	cases := map[string]string{
		"{\n\t\"auths\": {},\n\t\"credHelpers\": {\"a\": \"b\",}\n}": "not valid JSON at line 3: invalid character '}' looking for beginning of object key string",
		`{"auths": {}`:                   "not valid JSON: it ends too early",
		`[]`:                             "not a JSON object",
		`{} {}`:                          "not valid JSON: something follows the object",
		`{"credHelpers": []}`:            "its credHelpers is not an object of registry names to helper names",
		`{"credHelpers": {"r.test": 1}}`: `its credHelpers entry for "r.test" is not a string`,
	}
	for in, want := range cases {
		out, _, err := SetDockerCredHelpers([]byte(in), "sesame", []string{"r.test"})
		var ce *DockerConfigError
		if !errors.As(err, &ce) || err.Error() != want || out != nil {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

// TestRemoveDockerCredHelpers: only the named registries' entries that name
// sesame go; another helper's entry for the same registry stays.
func TestRemoveDockerCredHelpers(t *testing.T) {
	in := `{"auths": {}, "credHelpers": {"a.test": "sesame", "b.test": "gcloud", "c.test": "sesame"}}`
	out, removed, err := RemoveDockerCredHelpers([]byte(in), "sesame", []string{"a.test", "b.test"})
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n\t\"auths\": {},\n\t\"credHelpers\": {\n\t\t\"b.test\": \"gcloud\",\n\t\t\"c.test\": \"sesame\"\n\t}\n}\n"
	if string(out) != want || !reflect.DeepEqual(removed, []string{"a.test"}) {
		t.Errorf("got %v\n%s\nwant\n%s", removed, out, want)
	}
	if _, _, err := RemoveDockerCredHelpers([]byte(`{"credHelpers": {"a.test": true}}`), "sesame", []string{"a.test"}); err == nil {
		t.Error("an entry that is not a string was accepted")
	}
}
