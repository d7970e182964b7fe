package decode_test

import (
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// TestDecodeAgreesWithGopacketOnLabCaptures decodes every frame of the lab
// mining captures twice, with our decoder and with gopacket's full
// NewPacket, and requires the two to agree on addresses, ports, TCP flags,
// seq/ack/window and payload length. gopacket is the reference here.
func TestDecodeAgreesWithGopacketOnLabCaptures(t *testing.T) {
	dir := filepath.Join(shareddata.Require(t), "lab", "mining")
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	aux, _ := filepath.Glob(filepath.Join(dir, "aux", "*.pcap"))
	files = append(files, aux...)
	if len(files) == 0 {
		t.Skipf("no captures in %s", dir)
	}
	var total, ip int
	for _, path := range files {
		r, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var (
			d   decode.Decoder
			rec capture.Record
			p   packet.Packet
		)
		for n := 0; ; n++ {
			err := r.Next(&rec)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			total++
			res := d.Decode(rec.LinkType, rec.Data, rec.Time, &p)
			want := reference(rec.LinkType, rec.Data)
			if res == decode.OK {
				ip++
			}
			got := summarize(res, &p)
			got.TTL, got.VLAN, got.IPLen, got.Fragment = 0, [2]uint16{}, 0, false
			if got != want {
				t.Errorf("%s frame %d:\n ours     %+v\n gopacket %+v", filepath.Base(path), n+1, got, want)
			}
		}
		r.Close()
	}
	t.Logf("%d files, %d frames, %d IP packets agree with gopacket", len(files), total, ip)
	if ip == 0 {
		t.Error("no IP packets decoded")
	}
}

// reference decodes a frame with gopacket into the fields the cross-check
// compares (TTL, VLAN, IPLen and Fragment are left zero).
func reference(link layers.LinkType, data []byte) summary {
	pkt := gopacket.NewPacket(data, link, gopacket.DecodeOptions{NoCopy: true})
	var s summary
	switch nl := pkt.NetworkLayer().(type) {
	case *layers.IPv4:
		s.Src, _ = netip.AddrFromSlice(nl.SrcIP.To4())
		s.Dst, _ = netip.AddrFromSlice(nl.DstIP.To4())
		s.Proto = uint8(nl.Protocol)
	case *layers.IPv6:
		s.Src, _ = netip.AddrFromSlice(nl.SrcIP.To16())
		s.Dst, _ = netip.AddrFromSlice(nl.DstIP.To16())
		s.Proto = uint8(nl.NextHeader)
	default:
		return summary{Res: decode.NotIP}
	}
	switch tl := pkt.TransportLayer().(type) {
	case *layers.TCP:
		s.HasPorts, s.SrcPort, s.DstPort = true, uint16(tl.SrcPort), uint16(tl.DstPort)
		s.HasTCP, s.Seq, s.Ack, s.Window = true, tl.Seq, tl.Ack, tl.Window
		s.Flags = tcpFlags(tl)
		s.PayloadLen, s.Captured = len(tl.Payload), len(tl.Payload)
	case *layers.UDP:
		s.HasPorts, s.SrcPort, s.DstPort = true, uint16(tl.SrcPort), uint16(tl.DstPort)
		s.PayloadLen, s.Captured = len(tl.Payload), len(tl.Payload)
	}
	return s
}

func tcpFlags(t *layers.TCP) uint8 {
	var f uint8
	for _, b := range []struct {
		set  bool
		mask uint8
	}{{t.FIN, packet.FlagFIN}, {t.SYN, packet.FlagSYN}, {t.RST, packet.FlagRST}, {t.PSH, packet.FlagPSH},
		{t.ACK, packet.FlagACK}, {t.URG, packet.FlagURG}, {t.ECE, packet.FlagECE}, {t.CWR, packet.FlagCWR}} {
		if b.set {
			f |= b.mask
		}
	}
	return f
}
