package live_test

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/features/live"
)

// FuzzParseProgram feeds arbitrary text to the `tcpdump -ddd` parser
// behind `--filter @FILE`, the only parser in this package that reads
// bytes (frames come from the kernel's ring through gopacket's afpacket).
// Nothing may panic; an accepted program has 1 to 4096 instructions and
// reads back the same when written out again in -ddd form.
func FuzzParseProgram(f *testing.F) {
	for _, s := range []string{
		tcp443,
		"1\n6 0 0 65535\n",
		"3\n6 0 0 65535\n",
		"1\n21 300 0 1\n",
		"2\n40 0 0 12\n6 0 0 0\n\n",
		"4096\n",
		"  1  \n\t6\t0\t0\t262144\n",
		"-1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		prog, err := live.ParseProgram(bufio.NewScanner(bytes.NewReader(in)))
		if err != nil {
			if prog != nil {
				t.Fatalf("error %v with a program of %d instructions", err, len(prog))
			}
			return
		}
		if len(prog) == 0 || len(prog) > 4096 {
			t.Fatalf("accepted a program of %d instructions", len(prog))
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%d\n", len(prog))
		for _, ins := range prog {
			fmt.Fprintf(&b, "%d %d %d %d\n", ins.Op, ins.Jt, ins.Jf, ins.K)
		}
		again, err := live.ParseProgram(bufio.NewScanner(strings.NewReader(b.String())))
		if err != nil || !slices.Equal(again, prog) {
			t.Fatalf("program does not read back: %v", err)
		}
	})
}
