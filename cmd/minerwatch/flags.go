package main

import (
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
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
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
