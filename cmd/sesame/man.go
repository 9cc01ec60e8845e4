//go:build man

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// The man page generator is built only with -tags man (`make man`): it
// pulls in a Markdown and roff renderer that every helper call would
// otherwise load and page in for nothing.

func init() { extraCommands = append(extraCommands, newManCmd) }

// newManCmd is the hidden `sesame __man DIR`: it writes a man page (section
// 1) for every visible command into DIR. `make man` runs it.
func newManCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "__man DIR",
		Short:  "Write the man pages of every command into DIR",
		Hidden: true,
		Args:   oneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeManPages(cmd.Root(), args[0])
		},
	}
}

// writeManPages generates the pages with cobra's GenManTree (the date comes
// from $SOURCE_DATE_EPOCH when set, for reproducible pages), then adds an
// EXIT STATUS section, taken from exitCodesHelp, to each page.
func writeManPages(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// GenManTree reads Long as Markdown, where "<port>" would be dropped as
	// HTML. This changes the command tree, which only this run uses.
	escapeManMarkdown(root)
	header := &doc.GenManHeader{Section: "1", Source: "sesame"}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return err
	}
	pages, err := filepath.Glob(filepath.Join(dir, root.Name()+"*.1"))
	if err != nil {
		return err
	}
	if len(pages) == 0 {
		return fmt.Errorf("no man pages were written to %s", dir)
	}
	section := exitStatusRoff()
	for _, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		data = insertManSection(data, section)
		if filepath.Base(p) == root.Name()+".1" {
			// `sesame help environment` is a help topic, which gets no
			// page of its own: its list is the main page's ENVIRONMENT.
			data = insertManSection(data, environmentRoff())
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// environmentRoff renders environmentVars as a roff ENVIRONMENT section.
func environmentRoff() []byte {
	var b bytes.Buffer
	b.WriteString(".SH ENVIRONMENT\n")
	for _, g := range environmentVars {
		fmt.Fprintf(&b, ".PP\n%s\n", roffEscape(g.heading))
		for _, v := range g.vars {
			fmt.Fprintf(&b, ".TP\n\\fB%s\\fP\n%s\n", roffEscape(v.name), roffEscape(v.meaning))
		}
	}
	return b.Bytes()
}

// escapeManMarkdown escapes the characters that Markdown would take for
// HTML in the descriptions of cmd and its descendants.
func escapeManMarkdown(cmd *cobra.Command) {
	r := strings.NewReplacer("<", `\<`, ">", `\>`)
	cmd.Long = r.Replace(cmd.Long)
	for _, c := range cmd.Commands() {
		escapeManMarkdown(c)
	}
}

// exitStatusRoff renders exitCodesHelp as a roff EXIT STATUS section.
func exitStatusRoff() []byte {
	var b bytes.Buffer
	b.WriteString(".SH EXIT STATUS\n")
	for _, line := range strings.Split(exitCodesHelp, "\n")[1:] {
		code, meaning, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		fmt.Fprintf(&b, ".TP\n\\fB%s\\fP\n%s\n", roffEscape(code), roffEscape(strings.TrimSpace(meaning)))
	}
	return b.Bytes()
}

// roffEscape makes text safe as a roff text line.
func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// insertManSection puts section before SEE ALSO (where man-pages(7) puts
// EXIT STATUS), or at the end of a page without one.
func insertManSection(page, section []byte) []byte {
	if i := bytes.Index(page, []byte("\n.SH SEE ALSO")); i >= 0 {
		out := make([]byte, 0, len(page)+len(section))
		out = append(out, page[:i+1]...)
		out = append(out, section...)
		return append(out, page[i+1:]...)
	}
	if len(page) > 0 && page[len(page)-1] != '\n' {
		page = append(page, '\n')
	}
	return append(page, section...)
}
