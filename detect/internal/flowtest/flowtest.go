// Package flowtest groups the TCP packets of capture files into flows and
// runs stage 1 (signature.Flow) over each, for tests. It stands in for the
// engine's flow table: client = SYN sender, else the first sender.
package flowtest

import (
	"errors"
	"fmt"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"io"
	"net/netip"
	"path/filepath"

	"github.com/minerwatch/minerwatch/detect/reassembly"
	"github.com/minerwatch/minerwatch/detect/signature"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/packet"
)

// Flow is one TCP flow of a capture with its stage-1 state.
type Flow struct {
	Client, Server netip.AddrPort
	Sig            *signature.Flow
	Packets        int
	Payload        [2]int64 // payload bytes per direction
	// Head holds the first bytes of each direction when a test asks for them.
	Head [2][]byte
}

type key struct{ a, b netip.AddrPort }

func canon(a, b netip.AddrPort) key {
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return key{a, b}
}

// Run reads the captures and returns their TCP flows in first-seen order.
func Run(cfg signature.Config, budget *reassembly.Budget, paths ...string) ([]*Flow, error) {
	return RunWith(cfg, budget, nil, paths...)
}

// RunWith is Run with a hook called on each new flow (e.g. to set a tap).
func RunWith(cfg signature.Config, budget *reassembly.Budget, onNew func(*Flow), paths ...string) ([]*Flow, error) {
	r, err := capture.Open(paths...)
	if err != nil {
		return nil, fmt.Errorf("open %v: %w", paths, err)
	}
	var (
		rec   capture.Record
		p     packet.Packet
		d     decode.Decoder
		flows []*Flow
		index = map[key]*Flow{}
	)
	for {
		if err := r.Next(&rec); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return flows, fmt.Errorf("read %v: %w", paths, err)
		}
		if d.Decode(rec.LinkType, rec.Data, rec.Time, &p) != decode.OK || p.Proto != packet.ProtoTCP || !p.HasTCP || !p.HasPorts {
			continue
		}
		src := netip.AddrPortFrom(p.SrcIP, p.SrcPort)
		dst := netip.AddrPortFrom(p.DstIP, p.DstPort)
		k := canon(src, dst)
		f := index[k]
		if f == nil {
			f = &Flow{Client: src, Server: dst, Sig: signature.New(cfg, budget)}
			if p.Has(packet.FlagSYN|packet.FlagACK) && !p.Has(packet.FlagRST) {
				f.Client, f.Server = dst, src // we saw the SYN-ACK first
			}
			index[k] = f
			if onNew != nil {
				onNew(f)
			}
			flows = append(flows, f)
		}
		dir := packet.Up
		if src != f.Client {
			dir = packet.Down
		}
		f.Packets++
		f.Payload[dir] += int64(len(p.Payload))
		f.Sig.Packet(&p, dir)
	}
	return flows, nil
}

// SharedDir returns ../shared relative to the repository root, or
// $MINERWATCH_SHARED; ok is false when it does not exist.
func SharedDir() (string, bool) {
	d := shareddata.Dir() // …/shared/datasets
	if d == "" {
		return "", false
	}
	return filepath.Dir(d), true
}
