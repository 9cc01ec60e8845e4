package main

import (
	"encoding/json"
	"io"
)

// writeJSON writes v as one line of JSON: stable field order (struct
// order), so scripts and golden files can rely on it.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
