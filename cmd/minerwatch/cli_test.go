package main

import (
	"flag"
	"strings"
	"testing"
)

func TestHelpCommandPrintsThatCommandsHelp(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"help", "detect"}, "Usage: minerwatch detect "},
		{[]string{"help", "train"}, "Usage: minerwatch train "},
		{[]string{"help", "intel", "import"}, "Usage: minerwatch intel import "},
		{[]string{"help"}, "Commands:"},
		{[]string{"help", "help"}, "Commands:"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCmd(c.args...)
			if code != 0 || !strings.HasPrefix(stdout, c.want) && !strings.Contains(stdout, c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 0 and %q", code, stdout, stderr, c.want)
			}
		})
	}
	// help of a command that does not exist is an error, not the top help.
	if code, stdout, _ := runCmd("help", "frobnicate"); code != 2 || stdout != "" {
		t.Errorf("help frobnicate: exit %d, stdout %q; want exit 2, nothing on stdout", code, stdout)
	}
}

func TestVersionFlagAndCommandPrintTheVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		code, stdout, stderr := runCmd(args...)
		if code != 0 || !strings.HasPrefix(stdout, "minerwatch "+version) || strings.Count(stdout, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want one line 'minerwatch %s…'", args, code, stdout, stderr, version)
		}
	}
}

func TestCommandLineMistakesGiveOneLineAndAHint(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string // substrings of the one stderr line
	}{
		{"flag typo near a real flag", []string{"detect", "--max-flow", "3", "-r", sample},
			[]string{"unknown flag -max-flow", "did you mean --max-flows?", "run 'minerwatch detect --help'"}},
		{"unknown flag far from any", []string{"flows", "--zzzzzzzz", "-r", sample},
			[]string{"unknown flag -zzzzzzzz", "run 'minerwatch flows --help'"}},
		{"bad flag value", []string{"detect", "--max-flows", "lots", "-r", sample},
			[]string{"invalid value", "run 'minerwatch detect --help'"}},
		{"flag without its value", []string{"features", "-o"},
			[]string{"flag needs an argument", "run 'minerwatch features --help'"}},
		{"sub-subcommand flag typo", []string{"intel", "import", "--formt", "plain"},
			[]string{"unknown flag -formt", "did you mean --format?", "run 'minerwatch intel import --help'"}},
		{"unknown command", []string{"detetc"}, []string{`unknown command "detetc"`, "run 'minerwatch --help'"}},
		{"unknown top-level flag", []string{"--frobnicate"}, []string{`unknown flag "--frobnicate"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(c.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr has %d lines, want 1:\n%s", strings.Count(stderr, "\n"), stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr = %q, want %q in it", stderr, w)
				}
			}
		})
	}
}

func TestClosestFlagSuggestsOnlyPlausibleTypos(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Int("max-flows", 0, "")
	fs.String("o", "", "")
	fs.String("format", "", "")
	cases := []struct{ typo, want string }{
		{"max-flow", "max-flows"},
		{"maxflows", "max-flows"},
		{"fromat", "format"},
		{"format=csv", "format"},
		{"x", ""},       // one letter: any one-letter flag is one edit away; no guess
		{"verbose", ""}, // nothing like it
	}
	for _, c := range cases {
		if got := closestFlag(fs, c.typo); got != c.want {
			t.Errorf("closestFlag(%q) = %q, want %q", c.typo, got, c.want)
		}
	}
}

func TestHelpPlaceholdersNameWhatTheFlagTakes(t *testing.T) {
	// Go's flag package uses the first `backquoted` word of a usage string
	// as the placeholder; stray backquotes once gave "-manifest train".
	cases := []struct{ cmd, want, notWant string }{
		{"features", "-manifest FILE\n", "-manifest train"},
		{"features", "-train-rows\n", "-train-rows train"},
		{"features", "-r FILE\n", "-r value"},
		{"detect", "-f EXPR\n", "tcpdump -ddd\n"},
		{"detect", "-i IFACE\n", "-i string"},
		{"train", "-manifest FILE\n", "-manifest value"},
		{"eval", "-model FILE\n", "-model string"},
	}
	for _, c := range cases {
		_, stdout, _ := runCmd(c.cmd, "--help")
		if !strings.Contains(stdout, "  "+c.want) || strings.Contains(stdout, c.notWant) {
			t.Errorf("%s --help: want %q and not %q in:\n%s", c.cmd, c.want, c.notWant, stdout)
		}
	}
}
