package jsonlite

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzReader: whatever a Reader takes is JSON, and reads as encoding/json
// reads it: any document as a whole, a string, an integer, a list of
// strings.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,-0,2.5e-3,true,false,null,{"b":"c"}],"d":{}}`, `"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"`, `"\ud800"`, "\"\xff\"",
		`-12`, `01`, `1.`, `1e`, `9223372036854775808`, `["a","b"]`, `[]`, `[,]`, `{"a":1,}`, ` "x" `, `"x" "y"`,
		"\"a\tb\"", `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`, `tru`, `nul`, `"\u12"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(data)
		r.Skip()
		if r.End(); !r.Failed() && !json.Valid(data) {
			t.Fatalf("took %q, which is not JSON", data)
		}

		r = NewReader(data)
		s := r.String()
		if r.End(); !r.Failed() {
			var want string
			if err := json.Unmarshal(data, &want); err != nil || s != want {
				t.Fatalf("string %q read as %q; encoding/json: %q, %v", data, s, want, err)
			}
		}

		r = NewReader(data)
		n := r.Int()
		if r.End(); !r.Failed() {
			var want int64
			if err := json.Unmarshal(data, &want); err != nil || n != want {
				t.Fatalf("integer %q read as %d; encoding/json: %d, %v", data, n, want, err)
			}
		}

		r = NewReader(data)
		l := r.Strings()
		if r.End(); !r.Failed() {
			var want []string
			if err := json.Unmarshal(data, &want); err != nil || !reflect.DeepEqual(l, want) {
				t.Fatalf("list %q read as %q; encoding/json: %q, %v", data, l, want, err)
			}
		}

		r = NewReader(data)
		q := r.Quoted()
		if r.End(); !r.Failed() {
			var want string
			if err := json.Unmarshal(data, &want); err != nil || string(q) != `"`+want+`"` {
				t.Fatalf("quoted %q read as %q; encoding/json: %q, %v", data, q, want, err)
			}
		}
	})
}

// TestObject_KeysInOrder: members are handed over in order, and a member
// that reads its value leaves the reader at the next one.
func TestObject_KeysInOrder(t *testing.T) {
	r := NewReader([]byte(` { "b" : 1 , "a" : [ "x" ] , "c" : { "d" : null } } `))
	var keys []string
	r.Object(func(key string) {
		keys = append(keys, key)
		r.Skip()
	})
	if r.End(); r.Failed() || !reflect.DeepEqual(keys, []string{"b", "a", "c"}) {
		t.Fatalf("keys %q, failed %v", keys, r.Failed())
	}
	r = NewReader([]byte(`{"a":1}`))
	r.Object(func(string) {})
	if !r.Failed() {
		t.Fatal("a member that reads no value must fail the reading")
	}
}

// FuzzAppendString: strings are written as encoding/json writes them
// without HTML escaping.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\/\b\f\n\r\t\x00\x1f\x7f", "<&>", "\u2028\u2029\u00e9😀", "\xff\xc3", "a\xed\xa0\x80b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := string(AppendString(nil, s)) + "\n"; got != want.String() {
			t.Fatalf("%q written as %q, encoding/json writes %q", s, got, want.String())
		}
	})
}
