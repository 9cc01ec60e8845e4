package provider

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestUserinfo(t *testing.T) {
	var answer, contentType, gotAuth string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write([]byte(answer))
	}))
	defer srv.Close()
	md := &Metadata{UserinfoEndpoint: srv.URL + "/userinfo"}
	for _, tc := range []struct {
		name, answer, contentType string
		want                      Person
		err                       string
	}{
		{"names", `{"sub":"1","preferred_username":"alice","email":"a@x.test","email_verified":true,"name":"Alice"}`, "application/json; charset=utf-8",
			Person{Username: "alice", Email: "a@x.test", Name: "Alice"}, ""},
		{"unverified email", `{"sub":"1","email":"a@x.test","email_verified":false,"name":"Alice"}`, "application/json",
			Person{Name: "Alice"}, ""},
		{"another subject", `{"sub":"2","name":"Mallory"}`, "application/json", Person{}, "another subject"},
		{"signed answer", `eyJhbGciOi.x.y`, "application/jwt", Person{}, "not JSON"},
		{"not an object", `["sub"]`, "application/json", Person{}, "not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answer, contentType = tc.answer, tc.contentType
			got, err := Userinfo(context.Background(), srv.Client(), md, "SNTL-AT", "1")
			if gotAuth != "Bearer SNTL-AT" {
				t.Errorf("Authorization %q", gotAuth)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Userinfo: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("Userinfo: %v; want an error saying %q", err, tc.err)
			case err != nil && strings.Contains(err.Error(), "SNTL-AT"):
				t.Errorf("error quotes the access token: %v", err)
			}
			if got != tc.want {
				t.Errorf("Userinfo = %+v, want %+v", got, tc.want)
			}
		})
	}
	if _, err := Userinfo(context.Background(), srv.Client(), &Metadata{}, "SNTL-AT", "1"); err == nil {
		t.Error("Userinfo without an endpoint succeeded")
	}
}
