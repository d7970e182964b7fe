package live_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/features/live"
)

// Compiled programs in tcpdump -ddd form are accepted in every build;
// malformed ones are refused with the line at fault.
func TestProgramFileParsing(t *testing.T) {
	for _, tc := range []struct {
		name, text, wantErr string
		n                   int
	}{
		{name: "tcp port 443", text: tcp443, n: 20},
		{name: "count mismatch", text: "3\n6 0 0 65535\n", wantErr: "header says 3"},
		{name: "not a count", text: "ldh [12]\n", wantErr: "line 1"},
		{name: "short line", text: "1\n6 0 0\n", wantErr: "line 2"},
		{name: "jump too far", text: "1\n21 300 0 1\n", wantErr: "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := live.ParseProgram(bufio.NewScanner(strings.NewReader(tc.text)))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(prog) != tc.n {
				t.Fatalf("got %d instructions, %v; want %d", len(prog), err, tc.n)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "f.bpf")
	os.WriteFile(path, []byte(tcp443), 0o644)
	if prog, err := live.CompileFilter("@"+path, 0); err != nil || len(prog) != 20 {
		t.Fatalf("@file: %d instructions, %v", len(prog), err)
	}
	if prog, err := live.CompileFilter("  ", 0); err != nil || prog != nil {
		t.Fatalf("empty filter: %v, %v; want nil, nil", prog, err)
	}
	if !live.HasCompiler {
		if _, err := live.CompileFilter("tcp", 0); err == nil || !strings.Contains(err.Error(), "-tags libpcap") {
			t.Fatalf("without libpcap, an expression must be refused with the way out; got %v", err)
		}
	}
}

// Opening a missing interface says so.
func TestMissingInterfaceIsAClearError(t *testing.T) {
	_, err := live.Open(live.Config{Interface: "mw-no-such0"})
	if err == nil || !strings.Contains(err.Error(), "no such interface") {
		t.Fatalf("err = %v", err)
	}
}
