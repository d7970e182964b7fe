package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeInstallHonoursPrefixAndGOBIN reads what `make install` would run
// (make -n: nothing is built or copied) for the places users point it at.
func TestMakeInstallHonoursPrefixAndGOBIN(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make on PATH")
	}
	cases := []struct {
		name  string
		gobin string
		args  []string
		want  string
	}{
		{"default", "", nil, "/usr/local/bin/minerwatch"},
		{"PREFIX", "", []string{"PREFIX=/opt/mw"}, "/opt/mw/bin/minerwatch"},
		{"GOBIN when PREFIX is not given", "/home/u/go/bin", nil, "/home/u/go/bin/minerwatch"},
		{"PREFIX wins over GOBIN", "/home/u/go/bin", []string{"PREFIX=/opt/mw"}, "/opt/mw/bin/minerwatch"},
		{"DESTDIR for packagers", "", []string{"DESTDIR=/tmp/pkg"}, "/tmp/pkg/usr/local/bin/minerwatch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command("make", append([]string{"-n", "--no-print-directory", "install"}, c.args...)...)
			cmd.Dir = filepath.Join("..", "..")
			env := []string{}
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "GOBIN=") && !strings.HasPrefix(kv, "PREFIX=") &&
					!strings.HasPrefix(kv, "BINDIR=") && !strings.HasPrefix(kv, "DESTDIR=") {
					env = append(env, kv)
				}
			}
			if c.gobin != "" {
				env = append(env, "GOBIN="+c.gobin)
			}
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("make -n install: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "bin/minerwatch '"+c.want+"'") {
				t.Errorf("make -n install %v (GOBIN=%q) does not copy to %s:\n%s", c.args, c.gobin, c.want, out)
			}
		})
	}
}
