package main

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/live"
)

// recordFilter applies -f to capture files as tcpdump -r FILE EXPR does:
// the same compiled BPF program the live path hands the kernel, run here
// by golang.org/x/net/bpf's interpreter on each record before decoding.
type recordFilter struct {
	vm *bpf.VM
	// nonEthernet counts records of another link type: the program is
	// compiled for Ethernet frames, so they are left out and reported
	// rather than matched against the wrong offsets.
	nonEthernet int64
	link        layers.LinkType
}

// newRecordFilter compiles expr (a tcpdump expression with -tags libpcap,
// or @FILE holding tcpdump -ddd output) for Ethernet frames.
func newRecordFilter(expr string) (*recordFilter, error) {
	raw, err := live.CompileFilter(expr, maxSnaplen)
	if err != nil {
		return nil, fmt.Errorf("-f: %w", err)
	}
	prog, ok := bpf.Disassemble(raw)
	if !ok {
		return nil, fmt.Errorf("-f %q: the program holds an instruction the offline filter cannot run", expr)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		return nil, fmt.Errorf("-f %q: %w", expr, err)
	}
	return &recordFilter{vm: vm}, nil
}

// keep reports whether the program accepts rec. A load past the captured
// bytes rejects the record, as in the kernel and libpcap; 'len' (greater,
// less) is the captured length here, libpcap's is the wire length, which
// differs only for records the capture's snaplen cut.
func (f *recordFilter) keep(rec *capture.Record) bool {
	if rec.LinkType != layers.LinkTypeEthernet {
		f.nonEthernet++
		f.link = rec.LinkType
		return false
	}
	n, err := f.vm.Run(rec.Data)
	return err == nil && n > 0
}

// report returns a warning when records were left out only because they
// are not Ethernet, or "".
func (f *recordFilter) report() string {
	if f == nil || f.nonEthernet == 0 {
		return ""
	}
	return fmt.Sprintf("-f left out %d packets of link type %v unmatched: the offline filter is compiled for Ethernet captures", f.nonEthernet, f.link)
}
