package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Classic pcap magics as read little-endian (the file's byte order is the
// one that reads them as written).
const (
	magicMicros   = 0xa1b2c3d4
	magicNanos    = 0xa1b23c4d
	magicModified = 0xa1b2cd34 // Alexey Kuznetzov's patched libpcap: 24-byte record headers
)

// How a pcap version stores caplen and len (libpcap's sf-pcap.c): 2.3
// swapped them; before 2.3 some writers did, so libpcap swaps when caplen
// exceeds len.
const (
	lengthsInOrder = iota
	lengthsMaybeSwapped
	lengthsSwapped
)

// pcapFile reads classic pcap records.
type pcapFile struct {
	in      *input
	order   binary.ByteOrder
	big     bool // order is big-endian: next reads headers without the interface
	nanos   bool
	hdrLen  int
	swapped int
	link    layers.LinkType
}

// pcapMagic reports the byte order and kind of a pcap magic.
func pcapMagic(m []byte) (order binary.ByteOrder, magic uint32, ok bool) {
	for _, o := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		switch v := o.Uint32(m); v {
		case magicMicros, magicNanos, magicModified:
			return o, v, true
		}
	}
	return nil, 0, false
}

// openPcap reads the 24-byte file header.
func openPcap(in *input) (*pcapFile, error) {
	h, _ := in.peek(24)
	if len(h) < 24 {
		return nil, fmt.Errorf("%w (pcap file header cut short: %d of 24 bytes)", ErrNotCapture, len(h))
	}
	order, magic, _ := pcapMagic(h)
	major, minor := order.Uint16(h[4:6]), order.Uint16(h[6:8])
	// libpcap and tcpdump read 2.0 to 2.4 (nDPI's nfsv2.pcap is 2.1,
	// big-endian); 1.x is "archaic" to them too.
	if major != 2 || minor > 4 {
		return nil, fmt.Errorf("pcap: unsupported file format version %d.%d (2.0 to 2.4 are read)", major, minor)
	}
	p := &pcapFile{
		in:     in,
		order:  order,
		big:    order == binary.BigEndian,
		nanos:  magic == magicNanos,
		hdrLen: 16,
		// The link type is the low 16 bits; the high bits carry FCS
		// information (pcap-savefile(5)).
		link: layers.LinkType(order.Uint32(h[20:24]) & 0xffff),
	}
	if magic == magicModified {
		p.hdrLen = 24
	}
	switch {
	case minor < 3:
		p.swapped = lengthsMaybeSwapped
	case minor == 3:
		p.swapped = lengthsSwapped
	}
	in.consume(24)
	return p, nil
}

// next reads the next record into rec (Data aliasing the input's buffer).
// It returns io.EOF at the end, io.ErrUnexpectedEOF when the file ends
// inside a record, or a read error.
func (p *pcapFile) next(f *file, rec *Record) error {
	for {
		h, err := p.in.peek(p.hdrLen)
		if len(h) < p.hdrLen {
			if len(h) == 0 && err != nil {
				return p.in.ended()
			}
			return cutOr(p.in.ended())
		}
		// Direct calls, not four through binary.ByteOrder per record.
		var sec, frac, caplen, wire uint32
		if h = h[:16]; p.big {
			sec, frac = binary.BigEndian.Uint32(h[0:4]), binary.BigEndian.Uint32(h[4:8])
			caplen, wire = binary.BigEndian.Uint32(h[8:12]), binary.BigEndian.Uint32(h[12:16])
		} else {
			sec, frac = binary.LittleEndian.Uint32(h[0:4]), binary.LittleEndian.Uint32(h[4:8])
			caplen, wire = binary.LittleEndian.Uint32(h[8:12]), binary.LittleEndian.Uint32(h[12:16])
		}
		if p.swapped == lengthsSwapped || (p.swapped == lengthsMaybeSwapped && caplen > wire) {
			caplen, wire = wire, caplen
		}
		if caplen > MaxRecordLen {
			at := p.in.off
			p.in.consume(p.hdrLen)
			if n, _ := p.in.discard(int64(caplen)); n < int64(caplen) {
				return cutOr(p.in.ended())
			}
			f.oversize(at, int64(caplen))
			continue
		}
		n := p.hdrLen + int(caplen)
		b, _ := p.in.peek(n)
		if len(b) < n {
			return cutOr(p.in.ended())
		}
		ns := int64(frac)
		if !p.nanos {
			ns *= 1000
		}
		*rec = Record{
			Time:     time.Unix(int64(sec), ns).UTC(),
			LinkType: p.link,
			Data:     b[p.hdrLen:n:n],
			OrigLen:  int(wire),
		}
		f.unread = n
		return nil
	}
}

// cutOr turns a clean end of stream met inside a record into
// io.ErrUnexpectedEOF and passes other errors through.
func cutOr(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
