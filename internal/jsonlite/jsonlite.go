// Package jsonlite reads small JSON documents of a known shape without
// reflection, for the warm helper call: the configuration file and the
// cached token are read on every call kubectl, git or docker makes, and
// encoding/json's first use in a process (its per-type field caches, the
// type lookups behind them, the deep stacks of its decoder) costs more
// than all the rest of the call's work.
//
// A Reader is strict and modest: it takes well-formed JSON (RFC 8259) and
// declines, by failing, whatever it is not sure to read exactly as
// encoding/json does: invalid UTF-8 and lone surrogates (which
// encoding/json replaces), numbers with a fraction or an exponent where an
// integer is wanted, nesting deeper than maxDepth. Its caller declines in
// turn whatever encoding/json would treat otherwise (unknown, differently
// cased or repeated keys, nulls) and then reads the document with
// encoding/json, whose answer, errors included, is the reference: callers
// test that wherever a Reader succeeds, encoding/json gives the same value.
//
// Errors are sticky: after the first failure every method does nothing
// and returns a zero value, and Failed reports true.
package jsonlite

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds nesting: documents read here are a few levels deep.
const maxDepth = 32

// Reader reads one JSON document.
type Reader struct {
	data   []byte
	pos    int
	depth  int
	failed bool
}

// NewReader returns a Reader of data.
func NewReader(data []byte) *Reader { return &Reader{data: data} }

// Failed reports whether the reader has met anything it does not take, or
// its caller called Fail.
func (r *Reader) Failed() bool { return r.failed }

// Fail marks the document as one the caller does not take.
func (r *Reader) Fail() { r.failed = true }

// End fails unless only white space is left.
func (r *Reader) End() {
	if r.skipSpace(); r.pos != len(r.data) {
		r.failed = true
	}
}

func (r *Reader) skipSpace() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// peek is the next byte after white space, or 0 at the end or after a
// failure.
func (r *Reader) peek() byte {
	if r.failed {
		return 0
	}
	if r.skipSpace(); r.pos == len(r.data) {
		return 0
	}
	return r.data[r.pos]
}

// expect consumes c, the next byte after white space, or fails.
func (r *Reader) expect(c byte) bool {
	if r.peek() != c {
		r.failed = true
		return false
	}
	r.pos++
	return true
}

// Object reads an object and calls member with each key, in order; member
// must read the key's value (with Skip if it wants none of it).
func (r *Reader) Object(member func(key string)) {
	if !r.enter('{') {
		return
	}
	defer r.leave()
	if r.peek() == '}' {
		r.pos++
		return
	}
	for !r.failed {
		key := r.String()
		if !r.expect(':') {
			return
		}
		member(key)
		switch r.peek() {
		case ',':
			r.pos++
		case '}':
			r.pos++
			return
		default:
			r.failed = true
		}
	}
}

// Array reads an array and calls element for each of its elements, which
// element must read.
func (r *Reader) Array(element func()) {
	if !r.enter('[') {
		return
	}
	defer r.leave()
	if r.peek() == ']' {
		r.pos++
		return
	}
	for !r.failed {
		element()
		switch r.peek() {
		case ',':
			r.pos++
		case ']':
			r.pos++
			return
		default:
			r.failed = true
		}
	}
}

func (r *Reader) enter(open byte) bool {
	if r.depth == maxDepth || !r.expect(open) {
		r.failed = true
		return false
	}
	r.depth++
	return true
}

func (r *Reader) leave() { r.depth-- }

// Strings reads an array of strings.
func (r *Reader) Strings() []string {
	list := []string{}
	r.Array(func() { list = append(list, r.String()) })
	if r.failed {
		return nil
	}
	return list
}

// Bool reads true or false.
func (r *Reader) Bool() bool {
	switch r.peek() {
	case 't':
		return r.literal("true")
	case 'f':
		r.literal("false")
		return false
	}
	r.failed = true
	return false
}

// literal consumes word or fails; it reports whether it did.
func (r *Reader) literal(word string) bool {
	if r.failed || len(r.data)-r.pos < len(word) || string(r.data[r.pos:r.pos+len(word)]) != word {
		r.failed = true
		return false
	}
	r.pos += len(word)
	return true
}

// Int reads a number written as an integer (no fraction, no exponent)
// that fits in 64 bits.
func (r *Reader) Int() int64 {
	text, integer := r.number()
	if r.failed || !integer {
		r.failed = true
		return 0
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		r.failed = true
	}
	return n
}

// number consumes a number (RFC 8259 §6) and returns its text, and
// whether it has neither fraction nor exponent.
func (r *Reader) number() (text string, integer bool) {
	if r.peek() == 0 {
		r.failed = true
		return "", false
	}
	start := r.pos
	if r.data[r.pos] == '-' {
		r.pos++
	}
	switch {
	case r.pos < len(r.data) && r.data[r.pos] == '0':
		r.pos++
	case r.digits() == 0:
		r.failed = true
		return "", false
	}
	integer = true
	if r.pos < len(r.data) && r.data[r.pos] == '.' {
		r.pos++
		integer = false
		if r.digits() == 0 {
			r.failed = true
			return "", false
		}
	}
	if r.pos < len(r.data) && (r.data[r.pos] == 'e' || r.data[r.pos] == 'E') {
		r.pos++
		integer = false
		if r.pos < len(r.data) && (r.data[r.pos] == '+' || r.data[r.pos] == '-') {
			r.pos++
		}
		if r.digits() == 0 {
			r.failed = true
			return "", false
		}
	}
	return string(r.data[start:r.pos]), integer
}

func (r *Reader) digits() int {
	n := 0
	for r.pos < len(r.data) && r.data[r.pos] >= '0' && r.data[r.pos] <= '9' {
		r.pos++
		n++
	}
	return n
}

// String reads a string. It fails on invalid UTF-8 and on an escaped
// lone surrogate, which encoding/json would replace with U+FFFD.
func (r *Reader) String() string {
	if !r.expect('"') {
		return ""
	}
	start := r.pos
	// Most strings hold no escape: they are a slice of the input.
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		switch {
		case c == '"':
			s := r.data[start:r.pos]
			r.pos++
			if !utf8.Valid(s) {
				r.failed = true
				return ""
			}
			return string(s)
		case c == '\\':
			return r.escapedString(start)
		case c < 0x20:
			r.failed = true
			return ""
		}
		r.pos++
	}
	r.failed = true
	return ""
}

// Quoted reads a string written without escapes and returns it as
// written, quotes included: the text encoding/json hands to a type's
// UnmarshalJSON, which may not unescape (time.Time's does not).
func (r *Reader) Quoted() []byte {
	if r.peek() != '"' {
		r.failed = true
		return nil
	}
	start := r.pos
	for i := start + 1; i < len(r.data) && r.data[i] != '"'; i++ {
		if r.data[i] == '\\' {
			r.failed = true
			return nil
		}
	}
	if _ = r.String(); r.failed {
		return nil
	}
	return r.data[start:r.pos]
}

// escapedString continues String from the first backslash; the string
// began at start.
func (r *Reader) escapedString(start int) string {
	out := append([]byte(nil), r.data[start:r.pos]...)
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		switch {
		case c == '"':
			r.pos++
			if !utf8.Valid(out) {
				r.failed = true
				return ""
			}
			return string(out)
		case c < 0x20:
			r.failed = true
			return ""
		case c != '\\':
			out = append(out, c)
			r.pos++
			continue
		}
		if r.pos+1 >= len(r.data) {
			break
		}
		e := r.data[r.pos+1]
		r.pos += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			c1, ok := r.hex4()
			if !ok {
				return ""
			}
			if utf16.IsSurrogate(c1) {
				var c2 rune
				if !r.literal(`\u`) {
					return ""
				}
				if c2, ok = r.hex4(); !ok {
					return ""
				}
				if c1 = utf16.DecodeRune(c1, c2); c1 == utf8.RuneError {
					r.failed = true
					return ""
				}
			}
			out = utf8.AppendRune(out, c1)
		default:
			r.failed = true
			return ""
		}
	}
	r.failed = true
	return ""
}

// hex4 consumes four hexadecimal digits.
func (r *Reader) hex4() (rune, bool) {
	if len(r.data)-r.pos < 4 {
		r.failed = true
		return 0, false
	}
	n, err := strconv.ParseUint(string(r.data[r.pos:r.pos+4]), 16, 16)
	if err != nil {
		r.failed = true
		return 0, false
	}
	r.pos += 4
	return rune(n), true
}

// Skip reads any value and keeps nothing of it.
func (r *Reader) Skip() {
	switch r.peek() {
	case '{':
		r.Object(func(string) { r.Skip() })
	case '[':
		r.Array(r.Skip)
	case '"':
		_ = r.String()
	case 't':
		r.literal("true")
	case 'f':
		r.literal("false")
	case 'n':
		r.literal("null")
	default:
		r.number()
	}
}

// Null consumes null if it comes next, and reports whether it did.
func (r *Reader) Null() bool {
	if r.peek() != 'n' {
		return false
	}
	return r.literal("null")
}
