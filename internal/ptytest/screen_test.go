package ptytest

import (
	"slices"
	"testing"
)

func TestScreen(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"lines", "ab\r\ncd\r\n", []string{"ab", "cd", "", ""}},
		{"carriage return overwrites", "abc\rX", []string{"Xbc", "", "", ""}},
		{"erase to the end of the line", "abcd\r\x1b[Kxy", []string{"xy", "", "", ""}},
		{"erase the whole line", "abcd\x1b[2Kx", []string{"    x", "", "", ""}},
		{"wraps at the margin", "abcdefg", []string{"abcde", "fg", "", ""}},
		{"a full line then CR stays on it", "abcde\r\x1b[K12", []string{"12", "", "", ""}},
		{"scrolls at the bottom", "1\r\n2\r\n3\r\n4\r\n5", []string{"2", "3", "4", "5"}},
		{"cursor up and column", "ab\r\ncd\x1b[A\x1b[2GX", []string{"aX", "cd", "", ""}},
		{"erase below", "ab\r\ncd\r\nef\x1b[2A\r\x1b[J", []string{"", "", "", ""}},
		{"colours and titles are ignored", "\x1b[1;31mab\x1b[0m\x1b]0;title\x07c", []string{"abc", "", "", ""}},
		{"UTF-8 across writes", "▀█▄", []string{"▀█▄", "", "", ""}},
		{"cursor position", "\x1b[3;2Hx", []string{"", "", " x", ""}},
	}
	for _, tt := range tests {
		s := newScreen(5, 4)
		// One byte a write: a sequence split across reads must still parse.
		for i := range len(tt.in) {
			_, _ = s.Write([]byte{tt.in[i]})
		}
		if got := s.lines(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}
