//go:build cgo && libpcap

package live

import (
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"
)

// HasCompiler reports whether tcpdump expressions can be compiled.
const HasCompiler = true

func compileExpr(expr string, snaplen int) ([]bpf.RawInstruction, error) {
	ins, err := pcap.CompileBPFFilter(layers.LinkTypeEthernet, snaplen, expr)
	if err != nil {
		return nil, err
	}
	out := make([]bpf.RawInstruction, len(ins))
	for i, in := range ins {
		out[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return out, nil
}
