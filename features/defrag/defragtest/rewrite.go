package defragtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Rewrite copies the IPv4-over-Ethernet packets of the pcap file in to a
// new pcap file out, handing every IP packet that carries TCP payload to
// shape, which returns the raw IP packets to write in its place (e.g. the
// fragments of Split). Other IPv4 packets are copied; non-IPv4 frames
// (ARP) are dropped. With v6, every IPv4 packet is first rewritten as IPv6
// (ToIPv6). It returns how many packets were given to shape.
func Rewrite(in, out string, v6 bool, shape func(ip []byte) ([][]byte, error)) (int, error) {
	fi, err := os.Open(in)
	if err != nil {
		return 0, err
	}
	defer fi.Close()
	r, err := pcapgo.NewReader(fi)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", in, err)
	}
	fo, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	w := pcapgo.NewWriter(fo)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		fo.Close()
		return 0, err
	}
	n := 0
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fo.Close()
			return n, fmt.Errorf("read %s: %w", in, err)
		}
		if len(data) < 34 || binary.BigEndian.Uint16(data[12:14]) != 0x0800 {
			continue
		}
		ip := data[14:]
		ihl := int(ip[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(ip[2:4]))
		if ihl < 20 || total < ihl || total > len(ip) {
			continue
		}
		ip = ip[:total]
		hasPayload := ip[9] == 6 && len(ip) >= ihl+20 && len(ip) > ihl+int(ip[ihl+12]>>4)*4
		if v6 {
			ip = ToIPv6(ip)
		}
		pkts := [][]byte{ip}
		if hasPayload {
			if pkts, err = shape(ip); err != nil {
				fo.Close()
				return n, err
			}
			n++
		}
		for _, p := range pkts {
			fr := Ether(p)
			ci.CaptureLength, ci.Length = len(fr), len(fr)
			if err := w.WritePacket(ci, fr); err != nil {
				fo.Close()
				return n, err
			}
		}
	}
	return n, fo.Close()
}

// ToIPv6 rewrites a raw IPv4 packet as IPv6 with addresses 2001:db8::<v4>
// (options dropped). Checksums are left as they are: nothing in minerwatch
// verifies them.
func ToIPv6(ip []byte) []byte {
	ihl := int(ip[0]&0x0f) * 4
	body := ip[ihl:]
	out := make([]byte, 40+len(body))
	out[0] = 0x60
	binary.BigEndian.PutUint16(out[4:6], uint16(len(body)))
	out[6], out[7] = ip[9], ip[8]
	copy(out[8:], []byte{0x20, 0x01, 0x0d, 0xb8})
	copy(out[20:24], ip[12:16])
	copy(out[24:], []byte{0x20, 0x01, 0x0d, 0xb8})
	copy(out[36:40], ip[16:20])
	copy(out[40:], body)
	return out
}
