package redact

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

func TestLogger_Redacts_Req37(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, true)
	l.Printf("http: POST %s -> %d", "https://as.example/token?code=SNTL-C", 200)
	l.Printf("dump:\r\nAuthorization: Bearer SNTL-AT\r\n\r\nrefresh_token=SNTL-RT\x1b[31m")
	got := buf.String()
	want := "sesame: debug: http: POST https://as.example/token?code=REDACTED -> 200\n" +
		"sesame: debug: dump:\n" +
		"sesame: debug: Authorization: REDACTED\n" +
		"sesame: debug: \n" +
		"sesame: debug: refresh_token=REDACTED\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestLogger_Disabled(t *testing.T) {
	var buf bytes.Buffer
	var nilLogger *Logger
	var zero Logger
	for _, l := range []*Logger{nilLogger, &zero, New(&buf, false), New(nil, true)} {
		if l.Enabled() {
			t.Error("Enabled() = true")
		}
		l.Printf("code=%s", "SNTL")
	}
	if buf.Len() != 0 {
		t.Errorf("disabled logger wrote %q", buf.String())
	}
}

// TestLogger_DisabledDoesNotAllocate guards the hot path of the credential
// helpers: a disabled debug call must not format its message.
func TestLogger_DisabledDoesNotAllocate(t *testing.T) {
	l := New(&bytes.Buffer{}, false)
	allocs := testing.AllocsPerRun(100, func() {
		l.Printf("http: %s %s -> %d", "GET", "https://as.example/", 200)
	})
	if allocs != 0 {
		t.Errorf("disabled Printf allocated %v times", allocs)
	}
}

func TestLogger_Concurrent(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, true)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				l.Printf("worker %d line a\nworker %d line b", i, i)
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 8*50*2 {
		t.Fatalf("got %d lines", len(lines))
	}
	for i := 0; i < len(lines); i += 2 {
		a, b := lines[i], lines[i+1]
		if !strings.HasSuffix(a, "line a") || strings.TrimSuffix(a, "a") != strings.TrimSuffix(b, "b") {
			t.Fatalf("interleaved lines: %q / %q", a, b)
		}
	}
}
