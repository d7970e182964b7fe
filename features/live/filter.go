package live

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// CompileFilter turns a filter into a classic BPF program for Ethernet
// frames of at most snaplen bytes. The filter is either a tcpdump
// expression ("tcp port 3333"), compiled by libpcap's own compiler when
// minerwatch is built with -tags libpcap (it needs libpcap-dev), or
// "@FILE" naming the output of `tcpdump -ddd EXPR`, which any build
// accepts. An empty filter returns nil (capture everything).
//
// Why libpcap: the pure-Go compiler we evaluated
// (github.com/packetcap/go-pcap/filter) silently mis-compiles parts of the
// language — "tcp[13] & 2 != 0" came out as plain "tcp" and
// "portrange 1-100" as "accept everything" — and a capture filter that
// quietly lets the wrong packets through is worse than none.
func CompileFilter(expr string, snaplen int) ([]bpf.RawInstruction, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, nil
	}
	if path, ok := strings.CutPrefix(expr, "@"); ok {
		return ReadProgram(path)
	}
	if snaplen <= 0 {
		snaplen = 65535
	}
	prog, err := compileExpr(expr, snaplen)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	return prog, nil
}

// ReadProgram reads a compiled program in `tcpdump -ddd` form: the
// instruction count on the first line, then one "code jt jf k" per line.
func ReadProgram(path string) ([]bpf.RawInstruction, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read filter program: %w", err)
	}
	defer f.Close()
	prog, err := ParseProgram(bufio.NewScanner(f))
	if err != nil {
		return nil, fmt.Errorf("read filter program %s: %w", path, err)
	}
	return prog, nil
}

// ParseProgram parses `tcpdump -ddd` output (at most 4096 instructions,
// the kernel's BPF_MAXINSNS).
func ParseProgram(sc *bufio.Scanner) ([]bpf.RawInstruction, error) {
	var (
		prog []bpf.RawInstruction
		want = -1
		line int
	)
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if want < 0 {
			n, err := strconv.Atoi(fields[0])
			if err != nil || len(fields) != 1 || n <= 0 || n > 4096 {
				return nil, fmt.Errorf("line %d: want the instruction count (tcpdump -ddd output)", line)
			}
			want = n
			continue
		}
		if len(fields) != 4 {
			return nil, fmt.Errorf("line %d: want \"code jt jf k\"", line)
		}
		var v [4]uint64
		for i, s := range fields {
			bits := []int{16, 8, 8, 32}[i]
			x, err := strconv.ParseUint(s, 10, bits)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			v[i] = x
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if want < 0 || len(prog) != want {
		return nil, fmt.Errorf("%d instructions, header says %d", len(prog), want)
	}
	if _, ok := bpf.Disassemble(prog); !ok {
		return nil, fmt.Errorf("program has instructions the BPF package does not know")
	}
	return prog, nil
}
