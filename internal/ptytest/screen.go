package ptytest

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// screen is a minimal terminal emulator: what a person would see on a
// terminal of cols×rows after the bytes written to it. It knows what
// sesame and a terminal's line discipline send: printable text (one cell a
// rune), CR, LF (scrolling at the bottom), BS, TAB, and the CSI sequences
// K, J, A, B, C, D, G, H and f; SGR (m) and every other escape sequence are
// read and ignored. Like xterm it wraps a line lazily: a rune written in the
// last column leaves the cursor there, and only the next printable rune
// moves to the next line, so a CR after a full line stays on it.
type screen struct {
	cols, rows int
	cells      [][]rune
	x, y       int
	wrapNext   bool

	state  parseState
	params []byte // a CSI sequence's parameter bytes
	utf    []byte // an incomplete UTF-8 sequence
}

type parseState int

const (
	ground parseState = iota
	escape
	csi
	osc
	oscEscape
)

func newScreen(cols, rows int) *screen {
	s := &screen{cols: cols, rows: rows, cells: make([][]rune, rows)}
	for i := range s.cells {
		s.cells[i] = blankLine(cols)
	}
	return s
}

func blankLine(cols int) []rune {
	l := make([]rune, cols)
	for i := range l {
		l[i] = ' '
	}
	return l
}

// lines returns the visible rows, trailing spaces removed.
func (s *screen) lines() []string {
	out := make([]string, s.rows)
	for i, l := range s.cells {
		out[i] = strings.TrimRight(string(l), " ")
	}
	return out
}

// Write feeds the terminal's output to the screen.
func (s *screen) Write(p []byte) (int, error) {
	for _, b := range p {
		s.feed(b)
	}
	return len(p), nil
}

func (s *screen) feed(b byte) {
	switch s.state {
	case escape:
		switch b {
		case '[':
			s.state, s.params = csi, s.params[:0]
		case ']':
			s.state = osc
		default:
			s.state = ground
		}
		return
	case csi:
		if b >= 0x40 && b <= 0x7e {
			s.state = ground
			s.control(b)
		} else {
			s.params = append(s.params, b)
		}
		return
	case osc:
		switch b {
		case 0x07:
			s.state = ground
		case 0x1b:
			s.state = oscEscape
		}
		return
	case oscEscape:
		s.state = ground
		return
	}
	if len(s.utf) > 0 || b >= utf8.RuneSelf {
		s.utf = append(s.utf, b)
		if !utf8.FullRune(s.utf) {
			return
		}
		r, _ := utf8.DecodeRune(s.utf)
		s.utf = s.utf[:0]
		s.print(r)
		return
	}
	switch b {
	case 0x1b:
		s.state = escape
	case '\r':
		s.x, s.wrapNext = 0, false
	case '\n', '\v', '\f':
		s.lineFeed()
	case '\b':
		s.x, s.wrapNext = max(s.x-1, 0), false
	case '\t':
		s.x = min((s.x/8+1)*8, s.cols-1)
	default:
		if b >= 0x20 && b != 0x7f {
			s.print(rune(b))
		}
	}
}

func (s *screen) print(r rune) {
	if s.wrapNext {
		s.x, s.wrapNext = 0, false
		s.lineFeed()
	}
	s.cells[s.y][s.x] = r
	if s.x == s.cols-1 {
		s.wrapNext = true
	} else {
		s.x++
	}
}

// lineFeed moves the cursor down a row, scrolling the screen up at the
// bottom: the top row is gone, as it is from a terminal's window.
func (s *screen) lineFeed() {
	s.wrapNext = false
	if s.y < s.rows-1 {
		s.y++
		return
	}
	copy(s.cells, s.cells[1:])
	s.cells[s.rows-1] = blankLine(s.cols)
}

// control runs the CSI sequence ending in final.
func (s *screen) control(final byte) {
	var n []int
	for p := range strings.SplitSeq(string(s.params), ";") {
		v, _ := strconv.Atoi(strings.TrimLeft(p, "?"))
		n = append(n, v)
	}
	arg := func(i, def int) int {
		if i < len(n) && n[i] > 0 {
			return n[i]
		}
		return def
	}
	s.wrapNext = false
	switch final {
	case 'K':
		switch n[0] {
		case 0:
			s.clear(s.y, s.x, s.y, s.cols-1)
		case 1:
			s.clear(s.y, 0, s.y, s.x)
		case 2:
			s.clear(s.y, 0, s.y, s.cols-1)
		}
	case 'J':
		switch n[0] {
		case 0:
			s.clear(s.y, s.x, s.rows-1, s.cols-1)
		case 1:
			s.clear(0, 0, s.y, s.x)
		case 2, 3:
			s.clear(0, 0, s.rows-1, s.cols-1)
		}
	case 'A':
		s.y = max(s.y-arg(0, 1), 0)
	case 'B':
		s.y = min(s.y+arg(0, 1), s.rows-1)
	case 'C':
		s.x = min(s.x+arg(0, 1), s.cols-1)
	case 'D':
		s.x = max(s.x-arg(0, 1), 0)
	case 'G':
		s.x = min(arg(0, 1), s.cols) - 1
	case 'H', 'f':
		s.y, s.x = min(arg(0, 1), s.rows)-1, min(arg(1, 1), s.cols)-1
	}
}

// clear blanks the cells from (y0, x0) to (y1, x1), both included, in
// reading order.
func (s *screen) clear(y0, x0, y1, x1 int) {
	for y := y0; y <= y1; y++ {
		from, to := 0, s.cols-1
		if y == y0 {
			from = x0
		}
		if y == y1 {
			to = x1
		}
		for x := from; x <= to; x++ {
			s.cells[y][x] = ' '
		}
	}
}
