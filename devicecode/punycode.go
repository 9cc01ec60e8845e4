package devicecode

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Punycode (RFC 3492) turns the Unicode labels of an internationalized domain
// name into the "xn--" labels DNS carries, and back. golang.org/x/net/idna
// would do this and more, but sesame does not depend on x/net; the flow needs
// only the bare transformation, to show the person both forms of the
// verification host (requirement 41, RFC 8628 §5.4). It is not an
// IDNA implementation: no mapping or normalization tables are applied. That is
// why parseHost accepts only hosts already in ASCII form and decodes their
// labels for display, never the other way round for a host to connect to.

// Parameters of RFC 3492 §5.
const (
	punyBase        int32 = 36
	punyTMin        int32 = 1
	punyTMax        int32 = 26
	punySkew        int32 = 38
	punyDamp        int32 = 700
	punyInitialBias int32 = 72
	punyInitialN    int32 = 128

	// punyMaxRunes bounds a decoded label. DNS labels are at most 63
	// bytes, so anything longer is garbage; the bound keeps the quadratic
	// insertion loop short whatever the server sends.
	punyMaxRunes = 63
)

var errPunycode = errors.New("invalid punycode")

// punyDecode decodes the part of a label after "xn--" (RFC 3492 §6.2).
func punyDecode(encoded string) (string, error) {
	pos := 0
	var output []rune
	if i := strings.LastIndexByte(encoded, '-'); i >= 0 {
		for _, r := range encoded[:i] {
			if r >= 0x80 {
				return "", errPunycode
			}
			output = append(output, r)
		}
		pos = i + 1
	}
	i, n, bias := int32(0), punyInitialN, punyInitialBias
	for pos < len(encoded) {
		oldI, w := i, int32(1)
		for k := punyBase; ; k += punyBase {
			if pos == len(encoded) {
				return "", errPunycode
			}
			digit, ok := punyDigitValue(encoded[pos])
			pos++
			if !ok {
				return "", errPunycode
			}
			var overflow bool
			if i, overflow = madd(i, digit, w); overflow {
				return "", errPunycode
			}
			t := min(max(k-bias, punyTMin), punyTMax)
			if digit < t {
				break
			}
			if w, overflow = madd(0, w, punyBase-t); overflow {
				return "", errPunycode
			}
		}
		if len(output) >= punyMaxRunes {
			return "", errPunycode
		}
		x := int32(len(output) + 1)
		bias = punyAdapt(i-oldI, x, oldI == 0)
		n += i / x
		i %= x
		if n < 0 || n > utf8.MaxRune || (n >= 0xD800 && n <= 0xDFFF) {
			return "", errPunycode
		}
		output = append(output, 0)
		copy(output[i+1:], output[i:])
		output[i] = n
		i++
	}
	return string(output), nil
}

// punyEncode encodes a label into the part after "xn--" (RFC 3492 §6.3).
// Only tests and the canonical-form check in parseHost use it.
func punyEncode(s string) (string, error) {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > punyMaxRunes {
		return "", errPunycode
	}
	var out []byte
	var basic int32
	remaining := int32(0)
	for _, r := range s {
		if r < 0x80 {
			out = append(out, byte(r))
			basic++
		} else {
			remaining++
		}
	}
	if basic > 0 {
		out = append(out, '-')
	}
	delta, n, bias, h := int32(0), punyInitialN, punyInitialBias, basic
	for remaining > 0 {
		m := int32(utf8.MaxRune + 1)
		for _, r := range s {
			if r >= n && r < m {
				m = r
			}
		}
		var overflow bool
		if delta, overflow = madd(delta, m-n, h+1); overflow {
			return "", errPunycode
		}
		n = m
		for _, r := range s {
			if r < n {
				delta++
				continue
			}
			if r > n {
				continue
			}
			q := delta
			for k := punyBase; ; k += punyBase {
				t := min(max(k-bias, punyTMin), punyTMax)
				if q < t {
					break
				}
				out = append(out, punyDigit(t+(q-t)%(punyBase-t)))
				q = (q - t) / (punyBase - t)
			}
			out = append(out, punyDigit(q))
			bias = punyAdapt(delta, h+1, h == basic)
			delta = 0
			h++
			remaining--
		}
		delta++
		n++
	}
	return string(out), nil
}

// madd returns a + b*c and whether it overflowed int32.
func madd(a, b, c int32) (int32, bool) {
	p := int64(b) * int64(c)
	if p > 1<<31-1-int64(a) {
		return 0, true
	}
	return a + int32(p), false
}

// punyAdapt is the bias adaptation function of RFC 3492 §6.1.
func punyAdapt(delta, numPoints int32, firstTime bool) int32 {
	if firstTime {
		delta /= punyDamp
	} else {
		delta /= 2
	}
	delta += delta / numPoints
	k := int32(0)
	for delta > ((punyBase-punyTMin)*punyTMax)/2 {
		delta /= punyBase - punyTMin
		k += punyBase
	}
	return k + (punyBase-punyTMin+1)*delta/(delta+punySkew)
}

func punyDigitValue(c byte) (int32, bool) {
	switch {
	case '0' <= c && c <= '9':
		return int32(c-'0') + 26, true
	case 'a' <= c && c <= 'z':
		return int32(c - 'a'), true
	case 'A' <= c && c <= 'Z':
		return int32(c - 'A'), true
	}
	return 0, false
}

func punyDigit(d int32) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}
