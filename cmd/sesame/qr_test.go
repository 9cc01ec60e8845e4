package main

import (
	"strings"
	"testing"
)

func TestTerminalQR(t *testing.T) {
	s, err := terminalQR{}.EncodeQR("https://127.0.0.1:8443/device?user_code=ABCD-EFGH")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	// This link needs a version 3 code at level L: 29 modules plus 8 of
	// quiet zone, two rows per line.
	if len(lines) < 15 {
		t.Fatalf("%d lines:\n%s", len(lines), s)
	}
	width := len([]rune(lines[0]))
	for _, l := range lines {
		if len([]rune(l)) != width {
			t.Fatalf("ragged QR code:\n%s", s)
		}
	}
	if !strings.ContainsRune(s, ' ') || !strings.ContainsRune(s, '█') {
		t.Fatal("no dark or light modules")
	}
}
