// Command minerwatch finds cryptocurrency-mining connections in network
// traffic. It holds flags and wiring only; the work is in the packages under
// features/, detect/, models/ and train/.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/minerwatch/minerwatch/detect/alert"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// command is one subcommand: its one-line summary and its entry point,
// which returns the process exit code.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() map[string]command {
	return map[string]command{
		"flows":    {"print one line per bidirectional flow of capture files", runFlows},
		"detect":   {"find mining connections in captures (intel, Stratum signatures, flow model)", runDetect},
		"intel":    {"manage threat-intelligence lists and the learned pool list", runIntel},
		"features": {"extract flow feature sets (optionally labelled) to Arrow or Parquet", runFeatures},
		"train":    {"train the flow classifier on labelled captures (grouped CV report + model file)", runTrain},
		"eval":     {"evaluate a model or run a training experiment on labelled captures", runEval},
		"probe":    {"ask a suspected endpoint to speak Stratum (active confirmation; opt-in)", runProbe},
		"rules":    {"list the detection rules' EVE signature ids (to tune and suppress by id)", runRules},
		"version":  {"print the version", runVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `minerwatch %s — find cryptocurrency-mining connections in network traffic

Usage: minerwatch <command> [flags]

Commands:
`, version)
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'minerwatch <command> --help' (or 'minerwatch help <command>') for a command's flags;\n"+
		"'minerwatch --version' prints the version.\n")
	fmt.Fprintf(w, "Exit status: 0 done, 1 error, 2 bad command line, 128+N stopped by signal N (130 SIGINT,\n"+
		"143 SIGTERM, 129 SIGHUP) before the end of an offline input.\n")
}

func main() {
	stop := startProfile(os.Stderr)
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return 0
	case "help":
		// `help CMD [SUB]` is `CMD [SUB] --help`, as with git and go.
		if len(args) == 1 || args[1] == "help" {
			usage(stdout)
			return 0
		}
		if _, ok := commands()[args[1]]; !ok {
			return unknownCommand(stderr, args[1])
		}
		return run(append(append([]string{}, args[1:]...), "--help"), stdout, stderr)
	case "-version", "--version", "-V":
		return runVersion(nil, stdout, stderr)
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		return unknownCommand(stderr, args[0])
	}
	return cmd.run(args[1:], stdout, stderr)
}

// unknownCommand reports a command (or top-level flag) that does not
// exist in one line, with a hint, and returns exit code 2.
func unknownCommand(stderr io.Writer, name string) int {
	what := "command"
	if strings.HasPrefix(name, "-") {
		what = "flag"
	}
	fmt.Fprintf(stderr, "minerwatch: unknown %s %q (commands: %s); run 'minerwatch --help' for usage\n",
		what, name, strings.Join(knownCommands(), ", "))
	return 2
}

func knownCommands() []string {
	var names []string
	for n := range commands() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func runRules(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rules", "[--markdown]", "List every detection rule: its EVE alert.signature_id, gid, rev, detector and\nsignature text. Ids are stable: analysts suppress and tune by them as with Suricata rules.\nSeverity is per alert (README, \"Alerts\").", stderr)
	md := fs.Bool("markdown", false, "write a Markdown table (the README's)")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if err := alert.WriteRules(stdout, *md); err != nil {
		return fail(stderr, "rules", err)
	}
	return 0
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "", "Print minerwatch's version.", stderr)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	fmt.Fprintf(stdout, "minerwatch %s\n", buildVersion())
	return 0
}

// buildVersion is the version set with -ldflags "-X main.version=…", plus
// the commit and Go toolchain recorded in the binary when the build knows
// them, so a bug report names the exact build.
func buildVersion() string {
	v := version
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " (" + rev + dirty + ")"
	}
	return v + " " + info.GoVersion
}
