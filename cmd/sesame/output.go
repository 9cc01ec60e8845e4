package main

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/sesame-auth/sesame/internal/redact"
)

// writeJSON writes v as one line of JSON: stable field order (struct
// order), so scripts and golden files can rely on it. Characters a
// terminal would act on (DEL, C1 controls, bidi and format characters)
// are written as \u escapes: the values stay exact for a script, and a
// person whose terminal shows the line sees the escape, not its effect.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(redact.EscapeJSON(buf.Bytes()))
	return err
}
