package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// This file makes every mistake in the command line a usageError (exit 2,
// one line, hints), where cobra would show help and exit 0, exit 1, or
// write its message over several lines.

// refuseUnknownTopics makes "sesame help WORD" and a command group called
// with a WORD that names none of its subcommands ("sesame setup frob")
// usage errors. cobra answers both with help and exit 0; the group's case
// reaches only the help function, which cannot return an error, so it is
// left in *helpErr for Main, and no help is shown.
func refuseUnknownTopics(root *cobra.Command, helpErr *error) {
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		if c.Name() == "help" {
			c.Args = helpTopic
		}
	}
	defaultHelp := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		if err := groupHelp(c); err != nil {
			*helpErr = err
			return
		}
		defaultHelp(c, args)
	})
}

// groupHelp is the usage mistake of a command group (setup, completion)
// called with a word that names none of its subcommands: cobra shows a
// group's help when it is called without a runnable subcommand, and would
// show it for "sesame setup frob" too, and exit 0.
func groupHelp(c *cobra.Command) error {
	if c.HasSubCommands() && c.Flags().Parsed() && c.Flags().NArg() > 0 {
		return unknownCommand(c, c.Flags().Arg(0))
	}
	return nil
}

// helpTopic refuses "sesame help WORD" when WORD names no command, as the
// command itself would be refused: cobra would print "Unknown help topic"
// and the usage on stdout, and exit 0.
func helpTopic(c *cobra.Command, args []string) error {
	cmd, rest, err := c.Root().Find(args)
	if err == nil && cmd.HasSubCommands() && len(rest) > 0 {
		return unknownCommand(cmd, rest[0])
	}
	return err
}

// unknownCommand is the usage error for a word that names no subcommand of
// cmd; cobra's suggestions, when it has some, are a hint.
func unknownCommand(cmd *cobra.Command, name string) error {
	err := &usageError{msg: fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath()), help: cmd.CommandPath()}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default, which it sets only on its own path
	}
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		return withHint(err, fmt.Sprintf("did you mean %s?", quotedList(s, "or")))
	}
	return err
}

// exclusiveAnnotation is the key of a command's annotation that lists its
// groups of flags that exclude each other, one group a line.
const exclusiveAnnotation = "sesame_exclusive_flags"

// exclusiveFlags marks flags of cmd that cannot be given together: for
// cobra, whose completion then leaves out the others once one is given,
// and for checkExclusive, which runs before cobra's own check (that one
// would exit 1 with "if any flags in the group [qr no-qr] are set none of
// the others can be").
func exclusiveFlags(cmd *cobra.Command, names ...string) {
	cmd.MarkFlagsMutuallyExclusive(names...)
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[exclusiveAnnotation] += strings.Join(names, " ") + "\n"
}

// checkExclusive is the usage error for flags given together that
// exclusiveFlags marked; the root's PersistentPreRunE calls it.
func checkExclusive(cmd *cobra.Command) error {
	for _, group := range strings.Split(cmd.Annotations[exclusiveAnnotation], "\n") {
		var given []string
		for _, name := range strings.Fields(group) {
			if cmd.Flags().Changed(name) {
				given = append(given, "--"+name)
			}
		}
		if len(given) > 1 {
			return usageErrorf("%s exclude each other", strings.Join(given, " and "))
		}
	}
	return nil
}

// flagError is a mistake in a flag as a usage error. A bad value is said
// in sesame's words: pflag's ends in Go's parser error ("strconv.ParseInt:
// parsing \"x\": invalid syntax").
func flagError(err error) error {
	var bad *pflag.InvalidValueError
	if !errors.As(err, &bad) {
		return &usageError{msg: err.Error()}
	}
	f := bad.GetFlag()
	want := "a " + f.Value.Type()
	switch f.Value.Type() {
	case "duration":
		want = "a duration such as 90s, 10m or 1h"
	case "int":
		want = "a whole number"
	case "bool":
		want = "true or false"
	}
	return usageErrorf("invalid --%s %q: use %s", f.Name, bad.GetValue(), want)
}
