package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// multiFlag collects a repeatable string flag (-r a -r b).
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// newFlagSet returns a flag set that prints its usage to stderr (or stdout
// for --help) with a one-line synopsis and description.
func newFlagSet(name, synopsis, desc string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: minerwatch %s %s\n\n%s\n\nFlags:\n", name, synopsis, desc)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; it returns (exit code, false) when the caller
// should stop: 0 after --help, 2 after a flag error (already reported).
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (int, bool) {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0, false
		}
		if a == "--" {
			break
		}
	}
	// Flags may follow positional arguments (`-r a.pcap b.pcap -o x`), as
	// with tcpdump and tshark: parse, set aside one positional, go on.
	//
	// The flag package reacts to a bad flag by printing the whole flag list;
	// a typo deserves one line and a hint (as git and tcpdump do), so it
	// parses silently here and parseError reports.
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	defer func() { fs.SetOutput(out); fs.Usage = usage }()
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			parseError(out, fs, err)
			return 2, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" || (len(args) > len(rest) && args[len(args)-len(rest)-1] == "--") {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Leave the positionals where callers look for them.
	fs.Parse(append([]string{"--"}, positional...))
	return 0, true
}

// fail prints one error line and returns exit code 1.
func fail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "minerwatch %s: %v\n", cmd, err)
	return 1
}

// badFlag prints one error line about a flag value and returns exit code
// 2, as for a flag that does not parse.
func badFlag(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "minerwatch %s: %v\n", cmd, err)
	return 2
}

// parseError reports a flag error in one line, suggests the closest flag
// when the bad one looks like a typo of it, and says where the full list is.
func parseError(w io.Writer, fs *flag.FlagSet, err error) {
	msg := err.Error()
	const undefined = "flag provided but not defined: -"
	if name, ok := strings.CutPrefix(msg, undefined); ok {
		msg = "unknown flag -" + name
		if near := closestFlag(fs, name); near != "" {
			msg += fmt.Sprintf(" (did you mean --%s?)", near)
		}
	} else if errors.Is(err, flag.ErrHelp) {
		msg = "help requested"
	}
	fmt.Fprintf(w, "minerwatch %s: %s; run 'minerwatch %s --help' for usage\n", fs.Name(), msg, fs.Name())
}

// closestFlag returns the defined flag nearest to name by edit distance,
// or "" when none is near enough to be a plausible typo.
func closestFlag(fs *flag.FlagSet, name string) string {
	name = strings.TrimLeft(name, "-")
	if i := strings.IndexByte(name, '='); i >= 0 {
		name = name[:i]
	}
	best, bestD := "", 0
	fs.VisitAll(func(f *flag.Flag) {
		d := editDistance(name, f.Name)
		if best == "" || d < bestD {
			best, bestD = f.Name, d
		}
	})
	// One edit per three letters, at least one: "max-flow" finds
	// "max-flows", "x" finds nothing.
	if best == "" || bestD > max(1, len(name)/3) || bestD >= len(name) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes; flag
// names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
