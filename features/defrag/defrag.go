package defrag

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/packet"
)

// Config bounds a Table. Zero fields take the defaults below.
type Config struct {
	// MemCap bounds the bytes held for incomplete datagrams (fragment data
	// plus a fixed bookkeeping cost per datagram and fragment). Default
	// 16 MiB; at least MinMemCap, so one maximal datagram always fits.
	MemCap int
	// MaxDatagrams bounds the datagrams in progress. Default 4096.
	MaxDatagrams int
	// MaxFragments bounds the fragments kept per datagram; one more and
	// the datagram is refused. Default 64: a 64 KiB datagram on IPv6's
	// minimum MTU takes 54, and FreeBSD's limit is 16.
	MaxFragments int
	// Timeout is how long after its first fragment (in packet time) an
	// incomplete datagram is dropped. Default 30 s (Linux's ipfrag_time).
	Timeout time.Duration
}

// Defaults and floors of Config.
const (
	DefaultMemCap       = 16 << 20
	DefaultMaxDatagrams = 4096
	DefaultMaxFragments = 64
	DefaultTimeout      = 30 * time.Second
	// MinMemCap fits one 64 KiB datagram in maximal fragments.
	MinMemCap = 1 << 17
)

// Bookkeeping costs charged against MemCap besides the fragment bytes:
// roughly the datagram struct with its map entry, and a fragment entry.
const (
	datagramCost = 192
	fragmentCost = 48
)

// maxIPv4 is the largest IPv4 datagram (header included); maxIPv6Payload
// the largest IPv6 payload without a jumbogram option.
const (
	maxIPv4        = 65535
	maxIPv6Payload = 65535
)

func (c Config) withDefaults() Config {
	if c.MemCap <= 0 {
		c.MemCap = DefaultMemCap
	}
	if c.MemCap < MinMemCap {
		c.MemCap = MinMemCap
	}
	if c.MaxDatagrams <= 0 {
		c.MaxDatagrams = DefaultMaxDatagrams
	}
	if c.MaxFragments <= 0 {
		c.MaxFragments = DefaultMaxFragments
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// Stats counts what a Table did. Fragments = fragments taken in; the
// others say what became of them.
type Stats struct {
	Fragments   int64 // fragments taken in for reassembly
	Reassembled int64 // datagrams completed and handed on
	TimedOut    int64 // incomplete datagrams dropped after Timeout
	Evicted     int64 // incomplete datagrams dropped to stay within MemCap or MaxDatagrams
	Incomplete  int64 // incomplete datagrams dropped by Flush (end of input)
	Overlaps    int64 // fragments overlapping bytes already held (duplicates included)
	Conflicts   int64 // overlaps with different bytes, or a disagreeing end of datagram
	Oversize    int64 // datagrams refused for reaching beyond 65535 bytes
	TooMany     int64 // datagrams refused for having more than MaxFragments fragments
	Truncated   int64 // fragments cut by the snaplen, passed through unreassembled
	Malformed   int64 // fragments with impossible headers, passed through
	HeldBytes   int64 // bytes charged against MemCap right now
	HeldDgrams  int64 // datagrams in progress right now
}

// Any reports whether a run met any fragment at all.
func (s Stats) Any() bool { return s.Fragments+s.Truncated+s.Malformed > 0 }

// String is the one-line report the commands print.
func (s Stats) String() string {
	return fmt.Sprintf("fragments %d: reassembled %d datagrams, dropped %d timed out, %d evicted (caps), %d incomplete at end; "+
		"overlaps %d (conflicting %d), refused %d oversize, %d too many fragments; passed through %d cut by snaplen, %d malformed",
		s.Fragments, s.Reassembled, s.TimedOut, s.Evicted, s.Incomplete, s.Overlaps, s.Conflicts, s.Oversize, s.TooMany, s.Truncated, s.Malformed)
}

// Drops says, for the end-of-run report, how many incomplete datagrams
// were dropped because a bound was reached (timeout, memory or datagram
// caps); "" when none were.
func (s Stats) Drops() string {
	if s.TimedOut+s.Evicted == 0 {
		return ""
	}
	return fmt.Sprintf("%d fragmented datagrams dropped incomplete (%d timed out, %d evicted by the caps)", s.TimedOut+s.Evicted, s.TimedOut, s.Evicted)
}

// Add adds o's counters to s (to sum the tables of several workers).
func (s *Stats) Add(o Stats) {
	s.Fragments += o.Fragments
	s.Reassembled += o.Reassembled
	s.TimedOut += o.TimedOut
	s.Evicted += o.Evicted
	s.Incomplete += o.Incomplete
	s.Overlaps += o.Overlaps
	s.Conflicts += o.Conflicts
	s.Oversize += o.Oversize
	s.TooMany += o.TooMany
	s.Truncated += o.Truncated
	s.Malformed += o.Malformed
	s.HeldBytes += o.HeldBytes
	s.HeldDgrams += o.HeldDgrams
}

// key identifies a datagram. proto is 0 for IPv6 (RFC 8200 keys on the
// addresses and identification only).
type key struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	vlan     [2]uint16
}

type frag struct {
	off  int
	seq  int // arrival order within the datagram, for the "first" policy
	data []byte
}

type datagram struct {
	key        key
	first      time.Time
	prev, next *datagram // in order of creation: front is the oldest
	frags      []frag    // sorted by offset
	held       int
	end        int // length of the fragmentable part; -1 until the last fragment is seen
	proto      uint8
	ttl        uint8
	v6         bool
	seq        int
	frameLen   int  // of the first copy of the offset-0 fragment
	haveFirst  bool // an offset-0 fragment arrived
}

// Table reassembles fragments. It is not safe for concurrent use; give each
// decoding goroutine its own.
type Table struct {
	cfg   Config
	m     map[key]*datagram
	front *datagram
	back  *datagram
	free  []*datagram
	stats Stats

	buf   []byte // the last reassembled datagram, IP header included
	out   packet.Packet
	dec   decode.Decoder
	order []int
}

// New returns an empty table.
func New(cfg Config) *Table {
	return &Table{cfg: cfg.withDefaults(), m: map[key]*datagram{}}
}

// Stats returns the counters.
func (t *Table) Stats() Stats {
	s := t.stats
	s.HeldDgrams = int64(len(t.m))
	return s
}

// Datagram returns the rebuilt IP packet behind the last reassembled
// Packet (valid until the next Add).
func (t *Table) Datagram() []byte { return t.buf }

// fragInfo is what Add reads from a fragment's IP header.
type fragInfo struct {
	key     key
	off     int
	payload []byte
	more    bool
	proto   uint8
	v6      bool
}

// Add takes one decoded packet and its IP packet (decode.Decoder.IPPacket).
// It returns p when p is not a fragment (or cannot be reassembled), nil
// when p was a fragment that is now held or dropped, and the reassembled
// datagram when p completed one; that Packet is valid until the next Add.
func (t *Table) Add(p *packet.Packet, ip []byte) *packet.Packet {
	if t.front == nil && !p.Fragment {
		return p // small enough to inline: the common case costs two loads
	}
	return t.add(p, ip)
}

func (t *Table) add(p *packet.Packet, ip []byte) *packet.Packet {
	if t.front != nil {
		t.expire(p.Time)
	}
	if !p.Fragment {
		return p
	}
	var fi fragInfo
	switch parse(p, ip, &fi) {
	case parseTruncated:
		t.stats.Truncated++
		return p
	case parseMalformed:
		t.stats.Malformed++
		return p
	}
	t.stats.Fragments++
	d := t.m[fi.key]
	limit := maxIPv4 - 20 // rebuilt without options
	if fi.v6 {
		limit = maxIPv6Payload
	}
	if fi.off+len(fi.payload) > limit {
		t.stats.Oversize++
		if d != nil {
			t.drop(d)
		}
		return nil
	}
	if d == nil {
		d = t.create(fi.key, fi.v6, p.Time)
	}
	if !t.insert(d, &fi, p) {
		return nil
	}
	if !complete(d) {
		t.makeRoom(d)
		return nil
	}
	out := t.reassemble(d, p)
	t.drop(d)
	return out
}

// Flush drops every incomplete datagram (end of input), counting them.
func (t *Table) Flush() {
	for t.front != nil {
		t.stats.Incomplete++
		t.drop(t.front)
	}
}

// expire drops datagrams whose first fragment is older than the timeout.
// Creation order makes the list time-ordered unless capture time went
// backwards, in which case a datagram lives a little longer: harmless.
func (t *Table) expire(now time.Time) {
	for d := t.front; d != nil && now.Sub(d.first) > t.cfg.Timeout; d = t.front {
		t.stats.TimedOut++
		t.drop(d)
	}
}

func (t *Table) create(k key, v6 bool, now time.Time) *datagram {
	if len(t.m) >= t.cfg.MaxDatagrams {
		t.stats.Evicted++
		t.drop(t.front)
	}
	var d *datagram
	if n := len(t.free); n > 0 {
		d = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		d = &datagram{}
	}
	frags := d.frags[:0]
	*d = datagram{key: k, first: now, frags: frags, end: -1, held: datagramCost, v6: v6}
	t.stats.HeldBytes += datagramCost
	t.m[k] = d
	d.prev = t.back
	if t.back != nil {
		t.back.next = d
	} else {
		t.front = d
	}
	t.back = d
	return d
}

// drop forgets d and recycles it.
func (t *Table) drop(d *datagram) {
	delete(t.m, d.key)
	if d.prev != nil {
		d.prev.next = d.next
	} else {
		t.front = d.next
	}
	if d.next != nil {
		d.next.prev = d.prev
	} else {
		t.back = d.prev
	}
	t.stats.HeldBytes -= int64(d.held)
	for i := range d.frags {
		d.frags[i].data = nil
	}
	d.frags = d.frags[:0]
	d.prev, d.next = nil, nil
	if cap(d.frags) <= t.cfg.MaxFragments && len(t.free) < 64 {
		t.free = append(t.free, d)
	}
}

// makeRoom evicts the oldest other datagrams until the held bytes fit the
// memory cap; keep is the datagram just added to. If keep alone is over
// the cap it goes too.
func (t *Table) makeRoom(keep *datagram) {
	for t.stats.HeldBytes > int64(t.cfg.MemCap) {
		victim := t.front
		if victim == keep {
			victim = keep.next
			if victim == nil {
				victim = keep
			}
		}
		t.stats.Evicted++
		t.drop(victim)
		if victim == keep {
			return
		}
	}
}

// insert records fi in d under the first policy. It returns false when the
// datagram was refused (and dropped).
func (t *Table) insert(d *datagram, fi *fragInfo, p *packet.Packet) bool {
	end := fi.off + len(fi.payload)
	if !fi.more {
		switch {
		case d.end < 0:
			d.end = end
		case d.end != end:
			t.stats.Conflicts++ // a second, different end: the first one stands
		}
	}
	if fi.off == 0 && !d.haveFirst {
		// The frame that carries the transport header is the one tshark
		// (without reassembly) and the flow table before reassembly
		// counted: its length stays the datagram's frame length, so frame
		// byte counts match tshark's conversations; IPLen has the rest.
		d.proto, d.ttl, d.frameLen, d.haveFirst = fi.proto, p.TTL, p.FrameLen, true
	}
	// Compare with the bytes already held: count overlaps and conflicts,
	// and skip a fragment that adds nothing (a duplicate costs no memory).
	overlap, conflict := false, false
	covered := fi.off // how far the held fragments cover [fi.off, end) from its start
	gap := false
	for i := range d.frags {
		f := &d.frags[i]
		fe := f.off + len(f.data)
		lo, hi := max(f.off, fi.off), min(fe, end)
		if lo >= hi {
			continue
		}
		overlap = true
		if !bytes.Equal(f.data[lo-f.off:hi-f.off], fi.payload[lo-fi.off:hi-fi.off]) {
			conflict = true
		}
		if f.off > covered {
			gap = true
		}
		covered = max(covered, fe)
	}
	if overlap {
		t.stats.Overlaps++
	}
	if conflict {
		t.stats.Conflicts++
	}
	if overlap && !gap && covered >= end {
		return true
	}
	if len(d.frags) >= t.cfg.MaxFragments {
		t.stats.TooMany++
		t.drop(d)
		return false
	}
	data := make([]byte, len(fi.payload))
	copy(data, fi.payload)
	i, _ := slices.BinarySearchFunc(d.frags, fi.off, func(f frag, off int) int { return f.off - off })
	d.frags = slices.Insert(d.frags, i, frag{off: fi.off, seq: d.seq, data: data})
	d.seq++
	n := len(data) + fragmentCost
	d.held += n
	t.stats.HeldBytes += int64(n)
	return true
}

// complete reports whether d's fragments cover [0, end).
func complete(d *datagram) bool {
	if d.end < 0 {
		return false
	}
	covered := 0
	for i := range d.frags {
		f := &d.frags[i]
		if f.off > covered {
			return false
		}
		covered = max(covered, f.off+len(f.data))
		if covered >= d.end {
			return true
		}
	}
	return covered >= d.end
}

// reassemble builds the datagram in t.buf and decodes it into t.out.
func (t *Table) reassemble(d *datagram, last *packet.Packet) *packet.Packet {
	hlen := 20
	if d.v6 {
		hlen = 40
	}
	size := hlen + d.end
	if cap(t.buf) < size {
		t.buf = make([]byte, size, max(size, 2048))
	}
	t.buf = t.buf[:size]
	body := t.buf[hlen:]
	// First policy: write the fragments latest-first so that earlier
	// arrivals overwrite later ones wherever they overlap.
	t.order = t.order[:0]
	for i := range d.frags {
		t.order = append(t.order, i)
	}
	slices.SortFunc(t.order, func(a, b int) int { return d.frags[b].seq - d.frags[a].seq })
	for _, i := range t.order {
		f := &d.frags[i]
		if f.off < len(body) {
			copy(body[f.off:], f.data)
		}
	}
	h := t.buf[:hlen]
	clear(h)
	if d.v6 {
		h[0] = 0x60
		binary.BigEndian.PutUint16(h[4:6], uint16(d.end))
		h[6] = d.proto
		h[7] = d.ttl
		src, dst := d.key.src.As16(), d.key.dst.As16()
		copy(h[8:24], src[:])
		copy(h[24:40], dst[:])
	} else {
		h[0] = 0x45
		binary.BigEndian.PutUint16(h[2:4], uint16(size))
		binary.BigEndian.PutUint16(h[4:6], uint16(d.key.id))
		h[8] = d.ttl
		h[9] = d.proto
		src, dst := d.key.src.As4(), d.key.dst.As4()
		copy(h[12:16], src[:])
		copy(h[16:20], dst[:])
	}
	if t.dec.Decode(layers.LinkTypeRaw, t.buf, last.Time, &t.out) != decode.OK || t.out.Fragment {
		// A fragment header inside the reassembled payload (nested
		// fragmentation, which RFC 8200 does not allow) would make the
		// datagram a fragment again: refuse it rather than loop.
		t.stats.Malformed++
		return nil
	}
	t.out.VLAN = last.VLAN
	t.out.FrameLen = d.frameLen
	t.stats.Reassembled++
	return &t.out
}

type parseResult uint8

const (
	parseOK parseResult = iota
	parseTruncated
	parseMalformed
)

// parse reads the fragment fields of ip (the IP packet p was decoded from).
func parse(p *packet.Packet, ip []byte, fi *fragInfo) parseResult {
	fi.key = key{src: p.SrcIP, dst: p.DstIP, vlan: p.VLAN}
	if len(ip) < 1 {
		return parseMalformed
	}
	switch ip[0] >> 4 {
	case 4:
		if len(ip) < 20 {
			return parseTruncated
		}
		ihl := int(ip[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(ip[2:4]))
		if ihl < 20 || total <= ihl {
			return parseMalformed
		}
		if len(ip) < total {
			return parseTruncated
		}
		ff := binary.BigEndian.Uint16(ip[6:8])
		fi.more = ff&0x2000 != 0
		fi.off = int(ff&0x1fff) * 8
		fi.proto = ip[9]
		fi.key.proto = ip[9]
		fi.key.id = uint32(binary.BigEndian.Uint16(ip[4:6]))
		fi.payload = ip[ihl:total]
	case 6:
		fi.v6 = true
		if len(ip) < 40 {
			return parseTruncated
		}
		plen := int(binary.BigEndian.Uint16(ip[4:6]))
		if plen == 0 {
			return parseMalformed // jumbograms are not fragmented
		}
		if len(ip) < 40+plen {
			return parseTruncated
		}
		next, rest := ip[6], ip[40:40+plen]
		for i := 0; ; i++ {
			if i == 8 {
				return parseMalformed // the decoder gives up at the same depth
			}
			switch next {
			case 0, 43, 60:
				if len(rest) < 2 {
					return parseMalformed
				}
				hl := (int(rest[1]) + 1) * 8
				if hl > len(rest) {
					return parseMalformed
				}
				next, rest = rest[0], rest[hl:]
				continue
			case 44:
				if len(rest) < 8 {
					return parseMalformed
				}
				fo := binary.BigEndian.Uint16(rest[2:4])
				fi.off = int(fo>>3) * 8
				fi.more = fo&1 != 0
				fi.proto = rest[0]
				fi.key.id = binary.BigEndian.Uint32(rest[4:8])
				fi.payload = rest[8:]
			default:
				return parseMalformed
			}
			break
		}
	default:
		return parseMalformed
	}
	if len(fi.payload) == 0 || (fi.more && len(fi.payload)%8 != 0) {
		// RFC 791/8200: every fragment but the last carries a multiple of
		// 8 bytes; an empty fragment carries nothing to place.
		return parseMalformed
	}
	return parseOK
}
