package main

import (
	"strings"

	"rsc.io/qr"
)

// terminalQR renders QR codes with Unicode half blocks, two modules per
// character cell, dark on light with the four-module quiet zone the
// standard asks for, so a phone can scan the device flow's link from a
// terminal. rsc.io/qr is used for the encoding: a small, dependency-free
// encoder by a Go author, where writing Reed-Solomon coding ourselves
// would add risk for nothing.
type terminalQR struct{}

func (terminalQR) EncodeQR(text string) (string, error) {
	code, err := qr.Encode(text, qr.L)
	if err != nil {
		return "", err
	}
	const quiet = 4
	n := code.Size + 2*quiet
	dark := func(x, y int) bool {
		x, y = x-quiet, y-quiet
		return x >= 0 && y >= 0 && x < code.Size && y < code.Size && code.Black(x, y)
	}
	var b strings.Builder
	for y := 0; y < n; y += 2 {
		b.WriteString("  ")
		for x := range n {
			top, bottom := dark(x, y), dark(x, y+1)
			switch {
			case top && bottom:
				b.WriteRune(' ')
			case top:
				b.WriteRune('▄')
			case bottom:
				b.WriteRune('▀')
			default:
				b.WriteRune('█')
			}
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}
