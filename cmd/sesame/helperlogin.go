package main

// interactive reports whether a person is at this helper call: stdin and
// stderr are a terminal, so a browser can be opened and its URL shown.
// kubectl, git and IDEs run helpers without a terminal, and those never get
// a browser (they exit 4 with a hint instead).
func (a *app) interactive() bool {
	return a.env.StdinTTY && a.env.StderrTTY
}
