package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// decodeJSON is decode's encoding/json reading alone.
func decodeJSON(data []byte, c *Config) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the object")
	}
	return nil
}

// FuzzDecodeLite: wherever the reflection-free reading of a configuration
// file succeeds, encoding/json's reading succeeds too and gives the same
// configuration.
func FuzzDecodeLite(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "config", "*.json"))
	for _, name := range seeds {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"version":1,"profiles":{"w":{"issuer":"https://as.example","client_id":"c","scopes":["openid"],"callback_port":8000,"dpop":true}}}`,
		`{"profiles":{"w":{"issuer":"https://as.ex\u0061mple/\ud83d\ude00","client_id":"c\\\"\/\b\f\n\r\t"}}}`,
		`{"version":1,"profiles":{"w":{"issuer":"a","issuer":"b"}}}`,
		`{"version":1,"profiles":{}, "profiles":{"w":{}}}`,
		`{"version":1.0}`, `{"version":-0}`, `{"version":1e0}`, `{"Version":1}`, `{"version":null}`,
		`{"profiles":{"w":null}}`, `{"profiles":{"w":{"scopes":null}}}`, `{"profiles":{"w":{"scopes":[]}}}`,
		`{"profiles":{"w":{"issuer":"\ud800"}}}`, "{\"profiles\":{\"w\":{\"issuer\":\"\xff\"}}}",
		`{"version":1} {}`, `{"version":1}}`, ` {"version":1} `, `{"profiles":{"w":{"callback_port":9223372036854775808}}}`,
		`{"version":1,"default":"w","profiles":{"w":{}}}`, `{"default":"a","default":"b"}`, `{"default":null}`, `{"default":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lite := &Config{Version: configVersion, Profiles: map[string]*Profile{}}
		if !decodeLite(data, lite) {
			if lite.Version != configVersion || lite.Default != "" || len(lite.Profiles) != 0 {
				t.Fatalf("a declined reading changed the configuration: %#v", lite)
			}
			return
		}
		std := &Config{Version: configVersion, Profiles: map[string]*Profile{}}
		if err := decodeJSON(data, std); err != nil {
			t.Fatalf("read without reflection, but encoding/json says: %v", err)
		}
		if lite.Version != std.Version || lite.Default != std.Default || !reflect.DeepEqual(lite.Profiles, std.Profiles) {
			t.Fatalf("readings differ:\nlite %d %q %#v\njson %d %q %#v", lite.Version, lite.Default, lite.Profiles, std.Version, std.Default, std.Profiles)
		}
	})
}

// TestDecodeLite_ReadsWhatSaveWrites: a configuration with every field set,
// as Save writes it, is read without reflection. A field added to Profile
// without a case in readProfile fails here.
func TestDecodeLite_ReadsWhatSaveWrites(t *testing.T) {
	p := &Profile{}
	v := reflect.ValueOf(p).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if tag := v.Type().Field(i).Tag.Get("json"); tag == "-" {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("x" + v.Type().Field(i).Name)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int:
			f.SetInt(int64(8000 + i))
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"a", "b" + v.Type().Field(i).Name}))
		default:
			t.Fatalf("field %s: kind %s is not read by readProfile", v.Type().Field(i).Name, f.Kind())
		}
	}
	data, err := json.MarshalIndent(&Config{Version: configVersion, Default: "work", Profiles: map[string]*Profile{"work": p, "home": {Issuer: "https://h"}}}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	c := &Config{Version: configVersion, Profiles: map[string]*Profile{}}
	if !decodeLite(data, c) {
		t.Fatalf("declined what Save writes:\n%s", data)
	}
	if !reflect.DeepEqual(c.Profiles["work"], p) || c.Profiles["home"].Issuer != "https://h" || c.Default != "work" {
		t.Fatalf("read %#v", c.Profiles)
	}
	if strings.Contains(string(data), `"Name"`) {
		t.Fatal("the profile name is written in the value")
	}
}
