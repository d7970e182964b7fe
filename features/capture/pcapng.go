package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// pcapng block types (draft-ietf-opsawg-pcapng).
const (
	ngSHB    = 0x0a0d0d0a
	ngIDB    = 1
	ngPB     = 2 // obsolete Packet Block
	ngSPB    = 3
	ngNRB    = 4
	ngISB    = 5
	ngEPB    = 6
	ngDSB    = 10
	ngCustom = 0x00000bad
	ngCustNC = 0x40000bad
	ngBOM    = 0x1a2b3c4d
)

const (
	// ngMaxOptions is how many bytes of options a packet block may carry
	// beyond its packet before its length is taken for corrupt.
	ngMaxOptions = 64 << 10
	// ngMaxOther is the longest non-packet block skipped on trust of its
	// length; a longer one is taken for a corrupt length.
	ngMaxOther = 16 << 20
	// ngMaxIfaces bounds the interfaces of one section (the obsolete
	// Packet Block numbers them in 16 bits): a compressed file of
	// repeated interface blocks must not grow the table without bound.
	ngMaxIfaces = 1 << 16
)

// ngIface is one Interface Description Block.
type ngIface struct {
	link    layers.LinkType
	snaplen uint32
	// Timestamps are counted in units of 1/perSec s (if_tsresol): 10^-dec
	// or, when binary, 2^-exp. offset is if_tsoffset in seconds.
	perSec uint64
	binary bool
	exp    uint8
	offset int64
	// bad marks an interface whose description could not be used; its
	// packets are skipped and counted.
	bad bool
}

// time converts a 64-bit pcapng timestamp.
func (i *ngIface) time(ts uint64) time.Time {
	sec, frac := ts/i.perSec, ts%i.perSec
	var ns uint64
	switch {
	case i.binary:
		// frac/2^exp s in ns, without overflowing frac*1e9.
		hi, lo := bits.Mul64(frac, 1e9)
		if i.exp == 0 {
			ns = lo
		} else {
			ns = hi<<(64-i.exp) | lo>>i.exp
		}
	case i.exp <= 9:
		ns = frac * pow10[9-i.exp]
	default:
		ns = frac / pow10[i.exp-9]
	}
	return time.Unix(int64(sec)+i.offset, int64(ns)).UTC()
}

var pow10 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// ngFile reads pcapng blocks.
type ngFile struct {
	in     *input
	order  binary.ByteOrder
	ifaces []ngIface
	path   string
}

func openPcapng(in *input) (*ngFile, error) {
	g := &ngFile{in: in}
	h, _ := in.peek(28)
	if len(h) < 28 {
		return nil, fmt.Errorf("%w (pcapng section header cut short: %d bytes)", ErrNotCapture, len(h))
	}
	if err := g.checkSHB(h); err != nil {
		return nil, err
	}
	return g, nil
}

// checkSHB validates a Section Header Block's fixed part and takes its
// byte order.
func (g *ngFile) checkSHB(h []byte) error {
	var order binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint32(h[8:12]) == ngBOM:
		order = binary.LittleEndian
	case binary.BigEndian.Uint32(h[8:12]) == ngBOM:
		order = binary.BigEndian
	default:
		return fmt.Errorf("pcapng: section header with a bad byte-order magic %#x", h[8:12])
	}
	if l := order.Uint32(h[4:8]); l < 28 || l%4 != 0 {
		return fmt.Errorf("pcapng: section header with a bad length %d", l)
	}
	if major := order.Uint16(h[12:14]); major != 1 {
		return fmt.Errorf("pcapng: unsupported version %d.%d", major, order.Uint16(h[14:16]))
	}
	g.order = order
	return nil
}

// errCorrupt marks a block whose length or contents do not hold together;
// the reader then looks for the next valid block.
var errCorrupt = errors.New("corrupt block")

// next reads blocks until one holds a packet.
func (g *ngFile) next(f *file, rec *Record) error {
	for {
		err := g.block(f, rec)
		if err == nil {
			return nil
		}
		if err != errCorrupt && err != io.ErrUnexpectedEOF {
			return err
		}
		// A block that does not hold together, or a stream that ends
		// inside one: look for the next valid block after its start.
		at := g.in.off
		g.in.discard(4)
		skipped, found, serr := g.resync()
		switch {
		case found:
			f.corrupt(at, skipped+4)
			continue
		case serr != nil && serr != io.EOF:
			return serr
		case err == io.ErrUnexpectedEOF:
			return io.ErrUnexpectedEOF // plain truncation: nothing valid followed
		}
		return fmt.Errorf("pcapng: corrupt block at offset %d and no valid block in the %d bytes after it", at, skipped+4)
	}
}

// block reads one block. It returns nil with rec filled for a packet, or
// io.EOF, errCorrupt, io.ErrUnexpectedEOF or a read error; nil with
// rec.Data == nil is never returned (other blocks are consumed and the
// loop goes on).
func (g *ngFile) block(f *file, rec *Record) error {
	for {
		h, err := g.in.peek(12)
		if len(h) < 12 {
			if len(h) == 0 && err != nil {
				return g.in.ended()
			}
			return cutOr(g.in.ended())
		}
		if binary.LittleEndian.Uint32(h[0:4]) == ngSHB {
			// A new section: its own byte order and interfaces.
			h, _ = g.in.peek(28)
			if len(h) < 28 {
				return cutOr(g.in.ended())
			}
			if g.checkSHB(h) != nil {
				return errCorrupt
			}
			g.ifaces = g.ifaces[:0]
		}
		typ, l := g.order.Uint32(h[0:4]), g.order.Uint32(h[4:8])
		if l < 12 || l%4 != 0 {
			return errCorrupt
		}
		if l > maxPeek {
			if err := g.skipLong(f, typ, l); err != nil {
				return err
			}
			continue
		}
		b, _ := g.in.peek(int(l))
		if len(b) < int(l) {
			return cutOr(g.in.ended())
		}
		if g.order.Uint32(b[l-4:]) != l {
			return errCorrupt
		}
		body := b[8 : l-4]
		switch typ {
		case ngSHB:
			// checked above
		case ngIDB:
			if err := g.addIface(f, body); err != nil {
				return err
			}
		case ngEPB, ngPB, ngSPB:
			// The block is well framed (its trailer matched): a packet
			// in it that does not hold together is skipped alone.
			if g.packet(f, typ, body, rec) {
				f.unread = int(l)
				return nil
			}
		}
		g.in.consume(int(l))
	}
}

// packet fills rec from a packet block body. It returns false for a
// packet that is skipped and counted: over MaxRecordLen, or inconsistent
// (a captured length beyond its block, an interface the section does not
// describe, as after a corrupt interface block).
func (g *ngFile) packet(f *file, typ uint32, body []byte, rec *Record) bool {
	var (
		ifc        uint32
		ts         uint64
		caplen     uint32
		wire       uint32
		data       []byte
		hasTime    = true
		fixedBytes = 20
	)
	o := g.order
	switch typ {
	case ngEPB, ngPB:
		if len(body) < 20 {
			f.badPacket(g.in.off, "shorter than its fixed fields")
			return false
		}
		if typ == ngEPB {
			ifc = o.Uint32(body[0:4])
		} else {
			ifc = uint32(o.Uint16(body[0:2]))
		}
		ts = uint64(o.Uint32(body[4:8]))<<32 | uint64(o.Uint32(body[8:12]))
		caplen, wire = o.Uint32(body[12:16]), o.Uint32(body[16:20])
		if uint64(caplen) > uint64(len(body)-fixedBytes) {
			f.badPacket(g.in.off, "captured length beyond the block")
			return false
		}
		data = body[20 : 20+caplen]
	case ngSPB:
		if len(body) < 4 || len(g.ifaces) == 0 {
			f.badPacket(g.in.off, "simple packet block before any interface")
			return false
		}
		hasTime = false
		wire = o.Uint32(body[0:4])
		caplen = uint32(len(body) - 4)
		if wire < caplen {
			caplen = wire // the rest is padding
		}
		if s := g.ifaces[0].snaplen; s != 0 && caplen > s {
			caplen = s
		}
		data = body[4 : 4+caplen]
	}
	if int(ifc) >= len(g.ifaces) || g.ifaces[ifc].bad {
		f.badPacket(g.in.off, fmt.Sprintf("interface %d is not described (or its description was unreadable)", ifc))
		return false
	}
	if caplen > MaxRecordLen {
		f.oversize(g.in.off, int64(caplen))
		return false
	}
	iface := &g.ifaces[ifc]
	at := f.last // a Simple Packet Block has no time: keep the file's clock
	if hasTime {
		at = iface.time(ts)
	}
	*rec = Record{Time: at, LinkType: iface.link, Data: data[:len(data):len(data)], OrigLen: int(wire)}
	return true
}

// skipLong handles a block longer than the reader looks ahead: a packet
// over MaxRecordLen whose header agrees with the block length is skipped
// and counted, a long non-packet block is skipped; anything else is taken
// for a corrupt length (before consuming it, so the reader can resync).
func (g *ngFile) skipLong(f *file, typ, l uint32) error {
	h, _ := g.in.peek(36)
	if len(h) < 36 {
		return cutOr(g.in.ended())
	}
	o := g.order
	packet := false
	switch typ {
	case ngEPB, ngPB:
		caplen := uint64(o.Uint32(h[20:24]))
		need := 32 + (caplen+3)&^3
		if need > uint64(l) || uint64(l)-need > ngMaxOptions {
			return errCorrupt
		}
		packet = true
	case ngSPB:
		if uint64(o.Uint32(h[8:12]))+16+3 < uint64(l) {
			return errCorrupt // more block than packet
		}
		packet = true
	case ngIDB, ngNRB, ngISB, ngDSB, ngCustom, ngCustNC:
		if l > ngMaxOther {
			return errCorrupt
		}
	default:
		return errCorrupt
	}
	at := g.in.off
	if n, _ := g.in.discard(int64(l) - 4); n < int64(l)-4 {
		return cutOr(g.in.ended())
	}
	t, _ := g.in.peek(4)
	if len(t) < 4 {
		return cutOr(g.in.ended())
	}
	if o.Uint32(t) != l {
		return fmt.Errorf("pcapng: block at offset %d claims %d bytes but its trailer does not match; stopped at offset %d", at, l, g.in.off)
	}
	g.in.consume(4)
	if packet {
		f.oversize(at, int64(l))
	}
	return nil
}

// addIface parses an Interface Description Block body. One that cannot
// be used still takes its interface number, marked bad, so the packets of
// the other interfaces keep theirs.
func (g *ngFile) addIface(f *file, body []byte) error {
	if len(g.ifaces) >= ngMaxIfaces {
		return fmt.Errorf("pcapng: more than %d interfaces in one section", ngMaxIfaces)
	}
	if len(body) < 8 {
		f.badPacket(g.in.off, "interface description shorter than its fixed fields")
		g.ifaces = append(g.ifaces, ngIface{bad: true})
		return nil
	}
	o := g.order
	i := ngIface{link: layers.LinkType(o.Uint16(body[0:2])), snaplen: o.Uint32(body[4:8]), perSec: 1e6, exp: 6}
	for opts := body[8:]; len(opts) >= 4; {
		code, n := o.Uint16(opts[0:2]), int(o.Uint16(opts[2:4]))
		if code == 0 || 4+n > len(opts) {
			break
		}
		v := opts[4 : 4+n]
		switch {
		case code == 9 && n >= 1: // if_tsresol
			i.binary, i.exp = v[0]&0x80 != 0, v[0]&0x7f
			if i.binary {
				if i.exp > 63 {
					f.badPacket(g.in.off, fmt.Sprintf("interface %d: timestamp resolution 2^-%d is not supported", len(g.ifaces), i.exp))
					i.bad = true
					break
				}
				i.perSec = 1 << i.exp
			} else {
				if i.exp > 19 {
					f.badPacket(g.in.off, fmt.Sprintf("interface %d: timestamp resolution 10^-%d is not supported", len(g.ifaces), i.exp))
					i.bad = true
					break
				}
				i.perSec = pow10[i.exp]
			}
		case code == 14 && n >= 8: // if_tsoffset
			i.offset = int64(o.Uint64(v[0:8]))
		}
		opts = opts[4+(n+3)&^3:]
	}
	g.ifaces = append(g.ifaces, i)
	return nil
}

// resync scans forward in 4-byte steps for a plausible block: a known
// type, a sane length and a trailer that repeats it. It leaves the input
// at that block and says how many bytes it skipped.
func (g *ngFile) resync() (skipped int64, found bool, err error) {
	for {
		h, _ := g.in.peek(12)
		if len(h) < 12 {
			n := int64(len(h))
			g.in.discard(n)
			return skipped + n, false, g.in.ended()
		}
		if g.plausible(h) {
			return skipped, true, nil
		}
		g.in.consume(4)
		skipped += 4
	}
}

// plausible reports whether a valid block starts at h (its first 12
// bytes; the rest is peeked).
func (g *ngFile) plausible(h []byte) bool {
	o := g.order
	typ := binary.LittleEndian.Uint32(h[0:4])
	if typ == ngSHB {
		switch {
		case binary.LittleEndian.Uint32(h[8:12]) == ngBOM:
			o = binary.LittleEndian
		case binary.BigEndian.Uint32(h[8:12]) == ngBOM:
			o = binary.BigEndian
		default:
			return false
		}
	} else {
		typ = o.Uint32(h[0:4])
	}
	switch typ {
	case ngSHB, ngIDB, ngPB, ngSPB, ngNRB, ngISB, ngEPB, ngDSB, ngCustom, ngCustNC:
	default:
		return false
	}
	l := o.Uint32(h[4:8])
	if l < 12 || l%4 != 0 || l > maxPeek {
		return false
	}
	b, _ := g.in.peek(int(l))
	if len(b) < int(l) || o.Uint32(b[l-4:]) != l {
		return false
	}
	// The interface number is not checked: after a lost interface block
	// the packets of the others must still be found.
	if typ == ngEPB && (l < 32 || uint64(o.Uint32(b[20:24])) > uint64(l-32)) {
		return false
	}
	return true
}
