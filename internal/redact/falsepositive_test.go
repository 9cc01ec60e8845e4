package redact

import (
	"crypto/rand"
	"encoding/base64"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestString_KeepsEveryMessage_Req37 is the redactor's false-positive
// test (issue 14): every error, hint, warning and notice sesame can print
// that holds no secret passes through [String] unchanged. Redaction must
// remove secrets, not explanations ("sesame: error: dpop: REDACTED").
//
// The messages are read from the module's own source, not listed by hand,
// so a new message is covered the day it is written: go/parser finds the
// string literals given to errors.New, fmt.Errorf and every *Errorf
// helper, withHint, the say/warn/info notices, hint lists, the
// "sesame: ..." lines written with fmt.Fprint*, and the debug log's
// Printf/logf formats; a part that is not a constant (err.Error(), a
// profile name) becomes %v. Each verb is then filled with harmless values:
// a profile name, an issuer URL, a number, a wrapped error.
func TestString_KeepsEveryMessage_Req37(t *testing.T) {
	msgs := collectMessages(t, moduleRoot(t))
	// The extraction itself is checked: a parser change that found nothing
	// would make this test pass for the wrong reason.
	if len(msgs) < 300 {
		t.Fatalf("only %d messages found in the source; the extraction is broken", len(msgs))
	}
	for _, want := range []string{
		"dpop: proof target must not carry user information",
		"log in without DPoP: sesame login -p %s --dpop=false",
	} {
		if _, ok := msgs[want]; !ok {
			t.Errorf("message %q not extracted", want)
		}
	}
	checked := 0
	for format, pos := range msgs {
		for _, msg := range fillVerbs(format) {
			checked++
			if got := String(msg); got != msg {
				t.Errorf("%s: a message without a secret was changed\n  in: %q\n out: %q", pos, msg, got)
			}
		}
	}
	t.Logf("%d messages, %d filled variants, unchanged", len(msgs), checked)
}

// TestString_KeepsProse_Req37 pins the cases of issue 14 and their
// neighbours: the sentence after a header-like name stays, while a header
// value, even one that starts with a word, is still hidden.
func TestString_KeepsProse_Req37(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"dpop: proof target must not carry user information", ""},
		{"dpop: the server offers neither ES256 nor EdDSA", ""},
		{"log in without DPoP: sesame login -p work --dpop=false", ""},
		{"sesame: error: dpop: signing failed", ""},
		{"authorization: the server refused the request", ""},
		{"Cookie: none were sent", ""},
		// Credentials are still hidden.
		{"DPoP: " + testJWT, "DPoP: REDACTED"},
		{"dpop: abcdef", "dpop: REDACTED"},
		{"Authorization: Bearer token value here", "Authorization: REDACTED"},
		{"Authorization: bearer lowercase words", "Authorization: REDACTED"},
		{"Authorization: Basic dXNlcjpwYXNz", "Authorization: REDACTED"},
		{"Authorization: Digest username=x, response=y", "Authorization: REDACTED"},
		{"Authorization: token ghsecret", "Authorization: REDACTED"},
		{"Authorization: Custom S3cr3t", "Authorization: REDACTED"},
		{"Authorization: opaquevalue", "Authorization: REDACTED"},
		{"Cookie: sid=abc; theme=dark", "Cookie: REDACTED"},
		{"Set-Cookie: sid=abc; Path=/; HttpOnly", "Set-Cookie: REDACTED"},
		// Prose keeps its other secrets hidden.
		{"dpop: proof for https://api.example.com/x?code=abc failed", "dpop: proof for https://api.example.com/x?code=REDACTED failed"},
	} {
		want := tt.want
		if want == "" {
			want = tt.in
		}
		if got := String(tt.in); got != want {
			t.Errorf("String(%q)\n got %q\nwant %q", tt.in, got, want)
		}
		if got := String(want); got != want {
			t.Errorf("not idempotent: %q -> %q", want, got)
		}
	}
}

// moduleRoot is the directory of go.mod above this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// skipDirs hold no message sesame prints: fixtures, the end-to-end rig
// and the test authorization server.
var skipDirs = map[string]bool{
	".git": true, "testdata": true, "node_modules": true, "vendor": true,
	"e2e": true, "authtest": true,
}

// collectMessages returns every message format found in the module's
// non-test Go files, with the position of one place it occurs.
func collectMessages(t *testing.T, root string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	type file struct {
		pkg string
		f   *ast.File
	}
	var files []file
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files = append(files, file{pkg: filepath.Dir(path), f: f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// String constants, by package directory and name, and the exported
	// ones by name alone for pkg.Name references.
	c := &collector{fset: fset, root: root, msgs: map[string]string{}, consts: map[string]string{}, exported: map[string]string{}}
	for _, fl := range files {
		for _, decl := range fl.f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					if s, ok := constString(vs.Values[i]); ok {
						c.consts[fl.pkg+"."+name.Name] = s
						if name.IsExported() {
							c.exported[name.Name] = s
						}
						if hintName.MatchString(name.Name) {
							c.add(s, name.Pos())
						}
					}
				}
			}
		}
	}
	for _, fl := range files {
		c.pkg = fl.pkg
		c.file(fl.f)
	}
	return c.msgs
}

// hintName matches the names of constants and functions that hold hints
// and warnings (certificateHint, PhishingWarning, problemHints).
var hintName = regexp.MustCompile(`(?i)(hints?|warning)$`)

// messageFields are struct fields that hold a message or part of one
// (private.NotPrivateError's Reason and Fix, for example).
var messageFields = map[string]bool{
	"Reason": true, "Fix": true, "Hint": true, "Msg": true, "msg": true,
	"Message": true, "message": true, "Cause": true, "cause": true, "Detail": true,
}

type collector struct {
	fset     *token.FileSet
	root     string
	pkg      string
	consts   map[string]string
	exported map[string]string
	msgs     map[string]string
}

func (c *collector) add(s string, pos token.Pos) {
	if strings.TrimSpace(s) == "" || strings.Trim(s, "%v: ") == "" {
		return
	}
	if _, ok := c.msgs[s]; !ok {
		p := c.fset.Position(pos)
		rel, _ := filepath.Rel(c.root, p.Filename)
		c.msgs[s] = rel + ":" + strconv.Itoa(p.Line)
	}
}

func (c *collector) addAll(e ast.Expr) {
	for _, s := range c.texts(e) {
		c.add(s, e.Pos())
	}
}

// file walks one file for message sinks.
func (c *collector) file(f *ast.File) {
	var funcs []string // names of the enclosing functions
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			funcs = append(funcs[:0], n.Name.Name)
		case *ast.CompositeLit:
			if at, ok := n.Type.(*ast.ArrayType); ok && isIdent(at.Elt, "string") && len(funcs) > 0 && hintName.MatchString(funcs[0]) {
				for _, e := range n.Elts {
					c.addAll(e)
				}
			}
			for _, e := range n.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if k, ok := kv.Key.(*ast.Ident); ok && messageFields[k.Name] {
						c.addAll(kv.Value)
					}
				}
			}
		case *ast.CallExpr:
			c.call(n)
		}
		return true
	})
}

// call records the messages of one call, if it is a sink.
func (c *collector) call(call *ast.CallExpr) {
	name, recv := callName(call.Fun)
	args := call.Args
	switch {
	case len(args) == 0:
	case recv == "errors" && name == "New",
		strings.HasSuffix(strings.ToLower(name), "errorf"), // fmt.Errorf, usageErrorf, idTokenErrorf
		name == "say", name == "warn", name == "info", name == "Warn", name == "Info",
		name == "fail", name == "invalid", name == "panic":
		c.addAll(args[0])
	case name == "logf" || name == "Printf" && recv != "fmt":
		// The debug log: prose, redacted line by line.
		c.addAll(args[0])
	case name == "withHint":
		for _, a := range args[1:] {
			c.addAll(a)
		}
	case name == "wrap" || name == "wrapSanitized":
		for _, s := range c.texts(args[0]) {
			c.add(s+": %v", args[0].Pos())
		}
	case name == "append" && hintName.MatchString(exprName(args[0])):
		for _, a := range args[1:] {
			c.addAll(a)
		}
	case recv == "fmt" && (name == "Fprintln" || name == "Fprintf" || name == "Fprint") && len(args) > 1:
		for _, s := range c.texts(args[1]) {
			if strings.HasPrefix(strings.TrimLeft(s, "\r\n"), "sesame: ") {
				c.add(s, args[1].Pos())
			}
		}
	}
}

// texts returns the strings e can be, with %v for each part that is not a
// constant. A format string from fmt.Sprintf keeps its verbs.
func (c *collector) texts(e ast.Expr) []string {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			if s, err := strconv.Unquote(e.Value); err == nil {
				return []string{s}
			}
		}
	case *ast.ParenExpr:
		return c.texts(e.X)
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			var out []string
			for _, l := range c.texts(e.X) {
				for _, r := range c.texts(e.Y) {
					out = append(out, l+r)
				}
			}
			return out
		}
	case *ast.Ident:
		if s, ok := c.consts[c.pkg+"."+e.Name]; ok {
			return []string{s}
		}
	case *ast.SelectorExpr:
		if _, ok := e.X.(*ast.Ident); ok {
			if s, ok := c.exported[e.Sel.Name]; ok {
				return []string{s}
			}
		}
	case *ast.CallExpr:
		name, recv := callName(e.Fun)
		if len(e.Args) > 0 && (recv == "fmt" && (name == "Sprintf" || name == "Errorf" || name == "Sprint") || recv == "errors" && name == "New") {
			return c.texts(e.Args[0])
		}
	}
	return []string{"%v"}
}

// constString evaluates a constant string expression made of literals.
func constString(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.ParenExpr:
		return constString(e.X)
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			l, ok1 := constString(e.X)
			r, ok2 := constString(e.Y)
			return l + r, ok1 && ok2
		}
	}
	return "", false
}

// callName returns the called function's name and, for pkg.F or x.M, the
// last name of the receiver expression.
func callName(fun ast.Expr) (name, recv string) {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name, ""
	case *ast.SelectorExpr:
		return f.Sel.Name, exprName(f.X)
	}
	return "", ""
}

// exprName is the last identifier of a name or selector expression.
func exprName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return ""
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// verbRe matches one fmt verb with its flags, width, precision and index.
var verbRe = regexp.MustCompile(`%(?:\[\d+\])?[-+# 0]*(?:\*|\d+)?(?:\.(?:\*|\d+)?)?(?:\[\d+\])?([a-zA-Z%])`)

// sampleStrings are the harmless values a string verb is filled with: a
// profile name and an issuer.
var sampleStrings = []string{"work", "https://id.example.com"}

// fillVerbs returns format with its verbs filled, once per sample string;
// numbers become 5 and a wrapped error a short sentence.
func fillVerbs(format string) []string {
	var out []string
	for _, sample := range sampleStrings {
		out = append(out, verbRe.ReplaceAllStringFunc(format, func(v string) string {
			switch v[len(v)-1] {
			case '%':
				return "%"
			case 's', 'v':
				return sample
			case 'q':
				return strconv.Quote(sample)
			case 'w':
				return "connection refused"
			case 'd', 'o', 'x', 'X', 'b', 'c', 'U':
				return "5"
			case 'f', 'g', 'e', 'G', 'E':
				return "1.5"
			case 't':
				return "true"
			case 'T':
				return "*errors.errorString"
			}
			return sample
		}))
	}
	return out
}

// TestString_KeepsTempDirNames_Req37: a path under t.TempDir (the test's
// name and up to ten random digits) is not a token, for every test name in
// the module: messages that name a file must still name it. Real random
// base64url strings of the sizes tokens have are still hidden.
func TestString_KeepsTempDirNames_Req37(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	var names []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			if fd, ok := decl.(*ast.FuncDecl); ok && fd.Recv == nil && testFunc.MatchString(fd.Name.Name) {
				names = append(names, fd.Name.Name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 300 {
		t.Fatalf("only %d test names found", len(names))
	}
	for _, name := range names {
		for _, sub := range []string{"", "_work", "_fifo_without_a_reader", "_device_Bearer__X-Injected__1"} {
			for _, digits := range []string{"1", "4294967295", "1000000007"} {
				path := "/tmp/" + name + sub + digits + "/001/debug.log"
				if got := String(path); got != path {
					t.Errorf("String(%q) = %q", path, got)
				}
			}
		}
	}

	for _, n := range []int{32, 43, 64} {
		hidden := 0
		const tries = 2000
		for range tries {
			b := make([]byte, n*3/4+1)
			if _, err := rand.Read(b); err != nil {
				t.Fatal(err)
			}
			tok := base64.RawURLEncoding.EncodeToString(b)[:n]
			if String("invalid token "+tok+" given") == "invalid token REDACTED given" {
				hidden++
			}
		}
		// 98.7% (32), 99.7% (43) and 99.98% (64) are expected.
		if want := map[int]int{32: 96, 43: 99, 64: 99}[n]; hidden*100 < want*tries {
			t.Errorf("%d-character random tokens: only %d of %d hidden", n, hidden, tries)
		}
	}
}

var testFunc = regexp.MustCompile(`^(Test|Benchmark|Fuzz|Example)`)
