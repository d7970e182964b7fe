//go:build cgo && libpcap

package live_test

import (
	"bufio"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/features/live"
)

// The stored tcpdump -ddd program of the filter test is what libpcap
// compiles today, so the two ways in (-f EXPR, -f @FILE) agree.
func TestLibpcapCompilesTheSameProgram(t *testing.T) {
	got, err := live.CompileFilter("tcp port 443", 65535)
	if err != nil {
		t.Fatal(err)
	}
	want, err := live.ParseProgram(bufio.NewScanner(strings.NewReader(tcp443)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("libpcap: %d instructions, stored program %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("instruction %d: libpcap %v, stored %v", i, got[i], want[i])
		}
	}
}

// A malformed expression is refused with libpcap's message.
func TestBadExpressionIsRefused(t *testing.T) {
	if _, err := live.CompileFilter("tcp port (", 65535); err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Fatalf("err = %v, want libpcap's syntax error", err)
	}
}
