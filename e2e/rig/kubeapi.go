package rig

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// KubeNamespaces are the namespaces the KubeAPI stub lists.
var KubeNamespaces = []string{"default", "kube-system", "sesame-e2e"}

// KubeAPI is a stub Kubernetes API server over TLS on 127.0.0.1, enough for
// kubectl 1.32 to run
//
//	kubectl get --raw /version      (GET /version, no discovery)
//	kubectl get namespaces          (GET /api, /apis, /api/v1, /api/v1/namespaces)
//	kubectl get namespace NAME      (... /api/v1/namespaces/NAME)
//	kubectl auth whoami             (POST /apis/authentication.k8s.io/v1/selfsubjectreviews)
//
// Every request must carry `Authorization: Bearer <token>` that check
// accepts, else the answer is 401 with a Status body, as a real API server
// gives. Discovery is the legacy kind (plain application/json): kubectl asks
// for aggregated discovery first and falls back. Namespace lists come as a
// meta.k8s.io/v1 Table when asked for one (kubectl get), else as a
// NamespaceList. whoami answers username "token-<TokenID>" and the group
// system:authenticated. The stub records requests with the token's
// [TokenID], never the token. It stops when the test ends.
//
// The kubectl on the test machine is the Cloud SDK's dispatcher
// (v1.32.4-dispatcher): every command starts with its own
// GET /version?timeout=5s, which already carries the plugin's token, and it
// then runs its built-in kubectl 1.32 in the same process (one plugin run
// for both) because /version reports 1.32; another minor version would make
// it run a kubectl.1.NN binary instead. A refused token makes kubectl
// re-run the plugin after every 401 without retrying that request; kubectl
// get's discovery asks for /api five times, so one `kubectl get` with a
// refused token runs the plugin seven times.
type KubeAPI struct {
	URL    string // https://127.0.0.1:PORT
	Host   string // 127.0.0.1:PORT
	CAFile string // the CA that signed the server certificate (ca.CAFile)

	check   func(ctx context.Context, token string) bool
	started time.Time

	mu       sync.Mutex
	requests []KubeRequest
}

// KubeRequest is one request the API stub answered. It never holds a token,
// only its TokenID.
type KubeRequest struct {
	Time      time.Time
	Method    string
	Path      string // URL path, e.g. /api/v1/namespaces
	Query     string // raw query, e.g. limit=500
	Proto     string // HTTP/1.1 or HTTP/2.0
	Accept    string // the Accept header
	UserAgent string
	Scheme    string // "bearer", "" (no Authorization header) or "other"
	TokenID   string // TokenID of the bearer token
	Accepted  bool   // check accepted the token; false means the answer was 401
	Status    int    // the HTTP status of the answer
}

// StartKubeAPI serves the stub API over HTTPS (certificate from ca) on
// 127.0.0.1, letting through only requests whose bearer token check accepts.
// check is called with the request's context, possibly from several
// goroutines at once. It skips the test unless SESAME_E2E=1; it needs no
// tool itself (see RequireKubectl for the client).
func StartKubeAPI(t testing.TB, ca *CA, check func(ctx context.Context, token string) bool) *KubeAPI {
	t.Helper()
	SkipUnlessE2E(t)
	if ca == nil || check == nil {
		t.Fatal("e2e: StartKubeAPI needs a CA and a check")
		return nil
	}
	api := &KubeAPI{CAFile: ca.CAFile, check: check, started: time.Now().Add(-time.Hour).UTC().Truncate(time.Second)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	api.Host = ln.Addr().String()
	api.URL = "https://" + api.Host
	srv := &http.Server{
		Handler:           api,
		TLSConfig:         ca.ServerTLSConfig(t),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.ServeTLS(ln, "", "")
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			_ = srv.Close()
		}
		<-served
		if t.Failed() {
			t.Logf("e2e: kube API requests:\n%s", api.describeRequests())
		}
	})
	return api
}

// Requests returns a copy of the requests answered so far, in order.
func (a *KubeAPI) Requests() []KubeRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.requests)
}

// Accepted counts the requests whose token check accepted.
func (a *KubeAPI) Accepted() int {
	return a.count(func(r KubeRequest) bool { return r.Accepted })
}

// Rejected counts the requests answered 401: a token check said no, the
// Authorization header was not a bearer token, or there was none.
func (a *KubeAPI) Rejected() int {
	return a.count(func(r KubeRequest) bool { return !r.Accepted })
}

func (a *KubeAPI) count(f func(KubeRequest) bool) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, r := range a.requests {
		if f(r) {
			n++
		}
	}
	return n
}

func (a *KubeAPI) describeRequests() string {
	var b strings.Builder
	for _, r := range a.Requests() {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// String describes the request on one line, without any secret.
func (r KubeRequest) String() string {
	s := r.Time.Format("15:04:05.000") + " " + r.Proto + " " + r.Method + " " + r.Path
	if r.Query != "" {
		s += "?" + r.Query
	}
	scheme := r.Scheme
	if scheme == "" {
		scheme = "none"
	}
	s += " auth=" + scheme
	if r.TokenID != "" {
		s += " token=" + r.TokenID
	}
	return s + " -> " + http.StatusText(r.Status)
}

// ServeHTTP checks the bearer token and answers from the stub's fixed
// contents.
func (a *KubeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := KubeRequest{
		Time:      time.Now(),
		Method:    r.Method,
		Path:      r.URL.Path,
		Query:     r.URL.RawQuery,
		Proto:     r.Proto,
		Accept:    r.Header.Get("Accept"),
		UserAgent: r.Header.Get("User-Agent"),
	}
	var token string
	if h := r.Header.Get("Authorization"); h != "" {
		rec.Scheme = "other"
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			rec.Scheme = "bearer"
			token = strings.TrimSpace(h[7:])
		}
	}
	rec.TokenID = TokenID(token)
	rec.Accepted = token != "" && a.check(r.Context(), token)

	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		rec.Status = sw.status
		a.mu.Lock()
		a.requests = append(a.requests, rec)
		a.mu.Unlock()
	}()
	if !rec.Accepted {
		writeStatus(sw, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	a.route(sw, r, token)
}

func (a *KubeAPI) route(w http.ResponseWriter, r *http.Request, token string) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case path == "/version" && get:
		writeJSON(w, http.StatusOK, map[string]string{
			"major": "1", "minor": "32", "gitVersion": "v1.32.0-sesame-e2e",
			"gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
			"buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc",
			"platform": "linux/amd64",
		})
	case path == "/api" && get:
		writeJSON(w, http.StatusOK, map[string]any{
			"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []map[string]string{{"clientCIDR": "0.0.0.0/0", "serverAddress": a.Host}},
		})
	case path == "/apis" && get:
		gv := map[string]string{"groupVersion": "authentication.k8s.io/v1", "version": "v1"}
		writeJSON(w, http.StatusOK, map[string]any{
			"kind": "APIGroupList", "apiVersion": "v1",
			"groups": []map[string]any{{
				"name": "authentication.k8s.io", "versions": []any{gv}, "preferredVersion": gv,
			}},
		})
	case path == "/api/v1" && get:
		writeJSON(w, http.StatusOK, map[string]any{
			"kind": "APIResourceList", "groupVersion": "v1",
			"resources": []map[string]any{{
				"name": "namespaces", "singularName": "namespace", "namespaced": false, "kind": "Namespace",
				"verbs": []string{"get", "list"}, "shortNames": []string{"ns"},
			}},
		})
	case path == "/apis/authentication.k8s.io/v1" && get:
		writeJSON(w, http.StatusOK, map[string]any{
			"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "authentication.k8s.io/v1",
			"resources": []map[string]any{{
				"name": "selfsubjectreviews", "singularName": "selfsubjectreview", "namespaced": false,
				"kind": "SelfSubjectReview", "verbs": []string{"create"},
			}},
		})
	case path == "/api/v1/namespaces" && get:
		if strings.Contains(r.Header.Get("Accept"), "as=Table") {
			writeJSON(w, http.StatusOK, a.namespaceTable(KubeNamespaces))
			return
		}
		items := make([]any, 0, len(KubeNamespaces))
		for _, name := range KubeNamespaces {
			items = append(items, a.namespace(name))
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"kind": "NamespaceList", "apiVersion": "v1",
			"metadata": map[string]string{"resourceVersion": "1"}, "items": items,
		})
	case strings.HasPrefix(path, "/api/v1/namespaces/") && get:
		name := strings.TrimPrefix(path, "/api/v1/namespaces/")
		if !slices.Contains(KubeNamespaces, name) {
			writeStatus(w, http.StatusNotFound, "NotFound", `namespaces "`+name+`" not found`)
			return
		}
		if strings.Contains(r.Header.Get("Accept"), "as=Table") {
			writeJSON(w, http.StatusOK, a.namespaceTable([]string{name}))
			return
		}
		writeJSON(w, http.StatusOK, a.namespace(name))
	case path == "/apis/authentication.k8s.io/v1/selfsubjectreviews" && r.Method == http.MethodPost:
		writeJSON(w, http.StatusCreated, map[string]any{
			"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
			"metadata": map[string]any{"creationTimestamp": time.Now().UTC().Format(time.RFC3339)},
			"status": map[string]any{"userInfo": map[string]any{
				"username": "token-" + TokenID(token),
				"groups":   []string{"system:authenticated"},
			}},
		})
	default:
		writeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
	}
}

func (a *KubeAPI) namespace(name string) map[string]any {
	return map[string]any{
		"kind": "Namespace", "apiVersion": "v1",
		"metadata": a.objectMeta(name),
		"spec":     map[string]any{"finalizers": []string{"kubernetes"}},
		"status":   map[string]string{"phase": "Active"},
	}
}

func (a *KubeAPI) objectMeta(name string) map[string]any {
	return map[string]any{
		"name": name, "uid": "sesame-e2e-namespace-" + name,
		"resourceVersion": "1", "creationTimestamp": a.started.Format(time.RFC3339),
		"labels": map[string]string{"kubernetes.io/metadata.name": name},
	}
}

// namespaceTable is what a real API server answers kubectl get (Accept:
// ...;as=Table;v=v1;g=meta.k8s.io): columns Name, Status, Age, and the
// objects' metadata.
func (a *KubeAPI) namespaceTable(names []string) map[string]any {
	rows := make([]any, 0, len(names))
	age := fmt.Sprintf("%dm", int(time.Since(a.started).Minutes()))
	for _, name := range names {
		rows = append(rows, map[string]any{
			"cells": []any{name, "Active", age},
			"object": map[string]any{
				"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
				"metadata": a.objectMeta(name),
			},
		})
	}
	col := func(name, format, desc string) map[string]any {
		return map[string]any{"name": name, "type": "string", "format": format, "description": desc, "priority": 0}
	}
	return map[string]any{
		"kind": "Table", "apiVersion": "meta.k8s.io/v1",
		"metadata": map[string]string{"resourceVersion": "1"},
		"columnDefinitions": []any{
			col("Name", "name", "Name must be unique within a namespace."),
			col("Status", "", "The status of the namespace"),
			col("Age", "", "CreationTimestamp is a timestamp representing the server time when this object was created."),
		},
		"rows": rows,
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(code)
	_, _ = w.Write(append(data, '\n'))
}

// writeStatus answers a metav1.Status failure, as the API server does.
func writeStatus(w http.ResponseWriter, code int, reason, message string) {
	writeJSON(w, code, map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": message, "reason": reason, "code": code,
	})
}

// RequireKubectl skips the test unless SESAME_E2E=1, and then fails it
// unless kubectl is installed.
func RequireKubectl(t testing.TB) {
	t.Helper()
	SkipUnlessE2E(t)
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatalf("e2e: kubectl is not in PATH; or unset %s to skip these tests", EnvEnable)
	}
}

// KubectlEnv is an environment for running kubectl without anything of the
// real user's: the process environment without KUBECONFIG, KUBECACHEDIR,
// HOME or proxy variables, HOME in a new temporary directory (kubectl's
// discovery cache goes there), then extra ("NAME=value", later entries win).
// Pass --kubeconfig explicitly.
func KubectlEnv(t testing.TB, extra ...string) []string {
	t.Helper()
	env := cleanEnv(func(name string) bool { return name == "KUBECONFIG" || name == "KUBECACHEDIR" })
	env = append(env, "HOME="+t.TempDir(), "LC_ALL=C")
	return withEnv(env, extra...)
}

// WriteKubeconfig writes a kubeconfig into t.TempDir() and returns its path:
// cluster "sesame-e2e" (server api.URL, certificate-authority api.CAFile),
// user "sesame-e2e" whose credentials come from an exec plugin
// (client.authentication.k8s.io/v1: command execCommand with execArgs and env,
// interactiveMode, provideClusterInfo), and context "sesame-e2e", the
// current one. kubectl 1.32 refuses a v1 exec plugin without
// interactiveMode ("Never", "IfAvailable" or "Always"); "" leaves it out.
// The file is JSON, which kubectl reads as YAML.
func WriteKubeconfig(t testing.TB, api *KubeAPI, execCommand string, execArgs []string, env map[string]string, interactiveMode string, provideClusterInfo bool) string {
	t.Helper()
	const name = "sesame-e2e"
	type nameValue struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	execEnv := []nameValue{}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		execEnv = append(execEnv, nameValue{k, env[k]})
	}
	if execArgs == nil {
		execArgs = []string{}
	}
	plugin := map[string]any{
		"apiVersion":         "client.authentication.k8s.io/v1",
		"command":            execCommand,
		"args":               execArgs,
		"env":                execEnv,
		"provideClusterInfo": provideClusterInfo,
	}
	if interactiveMode != "" {
		plugin["interactiveMode"] = interactiveMode
	}
	cfg := map[string]any{
		"apiVersion":  "v1",
		"kind":        "Config",
		"preferences": map[string]any{},
		"clusters": []any{map[string]any{
			"name":    name,
			"cluster": map[string]any{"server": api.URL, "certificate-authority": api.CAFile},
		}},
		"users": []any{map[string]any{
			"name": name,
			"user": map[string]any{"exec": plugin},
		}},
		"contexts": []any{map[string]any{
			"name":    name,
			"context": map[string]any{"cluster": name, "user": name},
		}},
		"current-context": name,
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		t.Fatalf("e2e: %v", err)
	}
	return path
}
