package flows

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"time"
	"unsafe"

	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/splitmix"
	"github.com/minerwatch/minerwatch/internal/wyfold"
)

// Config holds the flow table's timeouts and limits.
type Config struct {
	IdleTCP       time.Duration // established TCP flow with no packet
	IdleUDP       time.Duration // UDP and other IP protocols
	IdleHalfOpen  time.Duration // TCP flow that saw a SYN but no data yet
	CloseLinger   time.Duration // after both FINs or a RST
	ActiveTimeout time.Duration // emit a record per active period (0 = never)
	MaxFlows      int           // hard cap on concurrent flows
}

// DefaultConfig returns the defaults documented in the package comment.
func DefaultConfig() Config {
	return Config{
		IdleTCP:       600 * time.Second,
		IdleUDP:       120 * time.Second,
		IdleHalfOpen:  30 * time.Second,
		CloseLinger:   5 * time.Second,
		ActiveTimeout: 30 * time.Minute,
		MaxFlows:      1 << 20,
	}
}

// Key identifies a flow independent of direction: the endpoint with the
// smaller (address, port) comes first. It holds the addresses as 16
// bytes each and no pointer (a netip.Addr carries one for its zone, which
// decoded packets never have): 44 bytes instead of 64 per map slot, and a
// million keys the garbage collector need not scan.
type Key struct {
	lo, hi         [16]byte
	LoPort, HiPort uint16
	Proto          uint8
	v4             uint8 // bit 0: lo is IPv4; bit 1: hi is IPv4 (not a 4in6 address)
	VLAN           [2]uint16
}

// Addrs returns the key's lower and higher address.
func (k Key) Addrs() (lo, hi netip.Addr) {
	lo, hi = netip.AddrFrom16(k.lo), netip.AddrFrom16(k.hi)
	if k.v4&1 != 0 {
		lo = lo.Unmap()
	}
	if k.v4&2 != 0 {
		hi = hi.Unmap()
	}
	return lo, hi
}

// FlowID is a flow's 64-bit id, as alerts, flow events and feature rows
// write it: a hash of the key and the first packet's time, so every worker
// and every run over the same capture gives the flow the same id, and a
// key reused later (a new connection) gets another. Like Suricata's, it
// fits in 51 bits, so JavaScript and Elasticsearch consumers, which read
// JSON numbers as doubles, keep it exact.
func FlowID(k Key, first time.Time) uint64 {
	// Word by word through splitmix64's finalizer: fixed constants, so
	// stable across runs and processes (unlike hash/maphash's random
	// seed), and about 4× cheaper than a byte-wise FNV (45 against 167 ns
	// per new flow on the loaded 2-core VM, BenchmarkFlowID).
	h := uint64(0x9e3779b97f4a7c15)
	for _, w := range [...]uint64{
		binary.BigEndian.Uint64(k.lo[:8]), binary.BigEndian.Uint64(k.lo[8:]),
		binary.BigEndian.Uint64(k.hi[:8]), binary.BigEndian.Uint64(k.hi[8:]),
		uint64(k.LoPort)<<48 | uint64(k.HiPort)<<32 | uint64(k.VLAN[0])<<20 | uint64(k.VLAN[1])<<8 | uint64(k.Proto),
		uint64(k.v4)<<56 ^ uint64(first.UnixNano()),
	} {
		h = splitmix.Next(h ^ w)
	}
	// Keep 51 bits: JSON consumers reading numbers as doubles keep them exact.
	id := h & (1<<51 - 1)
	if id == 0 {
		id = 1 // 0 reads as "no flow" to consumers
	}
	return id
}

// KeyOf returns the direction-independent key of p.
func KeyOf(p *packet.Packet) Key {
	return makeKey(p.SrcIP, p.DstIP, p.SrcPort, p.DstPort, p.Proto, p.VLAN)
}

func makeKey(a, b netip.Addr, ap, bp uint16, proto uint8, vlan [2]uint16) Key {
	if a.Is4() && b.Is4() {
		// Most packets: two IPv4 addresses order as their 32-bit values
		// (what Compare decides after comparing families and the equal
		// upper 96 bits), and As16 is their 4in6 form.
		a4, b4 := a.As4(), b.As4()
		ua, ub := binary.BigEndian.Uint32(a4[:]), binary.BigEndian.Uint32(b4[:])
		if ua > ub || (ua == ub && ap > bp) {
			a4, b4, ap, bp = b4, a4, bp, ap
		}
		k := Key{LoPort: ap, HiPort: bp, Proto: proto, v4: 3, VLAN: vlan}
		k.lo[10], k.lo[11], k.hi[10], k.hi[11] = 0xff, 0xff, 0xff, 0xff
		copy(k.lo[12:], a4[:])
		copy(k.hi[12:], b4[:])
		return k
	}
	c := a.Compare(b)
	if c > 0 || (c == 0 && ap > bp) {
		a, b, ap, bp = b, a, bp, ap
	}
	k := Key{lo: a.As16(), hi: b.As16(), LoPort: ap, HiPort: bp, Proto: proto, VLAN: vlan}
	if a.Is4() {
		k.v4 |= 1
	}
	if b.Is4() {
		k.v4 |= 2
	}
	return k
}

// same reports whether k == o, word by word: == on the 44-byte struct
// calls memequal, 50 instructions where this takes a dozen, and the table
// asks it of every packet (Table.recent).
func (k *Key) same(o *Key) bool {
	le := binary.LittleEndian
	return le.Uint64(k.lo[8:]) == le.Uint64(o.lo[8:]) && le.Uint64(k.hi[8:]) == le.Uint64(o.hi[8:]) &&
		k.LoPort == o.LoPort && k.HiPort == o.HiPort &&
		le.Uint64(k.lo[:8]) == le.Uint64(o.lo[:8]) && le.Uint64(k.hi[:8]) == le.Uint64(o.hi[:8]) &&
		k.Proto == o.Proto && k.v4 == o.v4 && k.VLAN == o.VLAN
}

// EndReason says why a flow ended.
type EndReason uint8

const (
	EndIdle EndReason = iota
	EndClosed
	EndReused
	EndEvicted
	EndFlush
)

func (r EndReason) String() string {
	return [...]string{"idle", "closed", "reused", "evicted", "flush"}[r]
}

// Counters are per-direction totals.
type Counters struct {
	Pkts    uint64
	Bytes   uint64 // IP bytes, as NetFlow counts them
	Payload uint64 // transport payload bytes
	Frames  uint64 // frame bytes on the wire, link layer included
}

// Flow is one bidirectional flow. The table owns it; observers may read it
// during callbacks and keep their own per-flow state in Data. The table
// recycles a flow's memory once FlowEnded has returned: do not keep the
// pointer past that call.
type Flow struct {
	ID     uint64
	Client netip.AddrPort
	Server netip.AddrPort
	// The small fields sit together (a flow record is 224 bytes, not 240:
	// a million of them are the table, and a slab of 256 is then exactly
	// seven 8 KiB pages, where 240 B records took eight).
	Proto               uint8
	SawSYN              bool // the client was identified by its SYN
	VLAN                [2]uint16
	finUp, finDown, rst bool
	synSent             bool
	class               class
	Records             int32 // active-timeout records emitted so far
	First               time.Time
	// last is the last packet's time as an offset from First (see Last):
	// 8 bytes instead of a second time.Time's 24, with First's location.
	last     time.Duration
	Up, Down Counters
	// period is where the current active period began; nil until the
	// first active-timeout record (the period is then the whole flow), so
	// the many short flows do not pay 96 bytes each for it.
	period *period
	// The table's bookkeeping, as 32-bit references into its slabs (slot
	// number + 1; 0 = none) rather than pointers the garbage collector
	// would follow: prev and next link the flow into its class's LRU
	// list, self is the flow's own reference (0 once it has ended), hash
	// its key's hash (to find its index slot without rebuilding the key).
	prev, next, self, hash uint32

	// Data is free for the observer's per-flow state.
	Data any
}

// A flow record stays at 224 bytes: a slab of slabFlows is then whole
// pages (see Flow's small fields).
var _ [224 - unsafe.Sizeof(Flow{})]struct{}

// period holds the start of a flow's current active period and its
// counters at that moment.
type period struct {
	from     time.Time
	up, down Counters
}

func (f *Flow) periodFrom() time.Time {
	if f.period == nil {
		return f.First
	}
	return f.period.from
}

// matches reports whether k is f's table key, as makeKey would build it
// from the flow's endpoints (the flow does not store its key: a million
// flows would pay 42 B each), without building it: k is ordered, so one
// of the flow's two orientations is k exactly, address family included.
func (f *Flow) matches(k *Key) bool {
	if f.Proto != k.Proto || f.VLAN != k.VLAN {
		return false
	}
	c, s := f.Client, f.Server
	if c.Port() == k.LoPort && s.Port() == k.HiPort && sameAddr(c.Addr(), &k.lo, k.v4&1 != 0) && sameAddr(s.Addr(), &k.hi, k.v4&2 != 0) {
		return true
	}
	return s.Port() == k.LoPort && c.Port() == k.HiPort && sameAddr(s.Addr(), &k.lo, k.v4&1 != 0) && sameAddr(c.Addr(), &k.hi, k.v4&2 != 0)
}

// sameAddr reports whether a is the key address b of the given family.
func sameAddr(a netip.Addr, b *[16]byte, is4 bool) bool { return a.Is4() == is4 && a.As16() == *b }

// Closed reports whether the TCP connection was closed (both FINs or a RST).
func (f *Flow) Closed() bool { return f.rst || (f.finUp && f.finDown) }

// Duration is the time between the first and the last packet.
func (f *Flow) Duration() time.Duration { return f.last }

// Last is the time of the flow's last packet (never before First).
func (f *Flow) Last() time.Time { return f.First.Add(f.last) }

// lastNs is Last in Unix nanoseconds.
func (f *Flow) lastNs() int64 { return f.First.UnixNano() + int64(f.last) }

// Record is an active-timeout NetFlow-style record: the counts of one
// active period of a flow that lives on (its end is FlowEnded's).
type Record struct {
	Flow     *Flow
	From, To time.Time
	Up, Down Counters
}

// Observer receives the table's events. Calls happen on the goroutine that
// calls Add/Advance/Flush.
type Observer interface {
	// FlowStarted is called for a new flow before its first packet.
	FlowStarted(f *Flow)
	// Packet is called for every packet after the flow's counters are updated.
	Packet(f *Flow, p *packet.Packet, dir packet.Direction)
	// ActiveRecord is called at each active timeout of a flow that lives on.
	ActiveRecord(r *Record)
	// FlowEnded is called once when the flow leaves the table.
	FlowEnded(f *Flow, reason EndReason)
}

// Stats counts the table's work.
type Stats struct {
	Packets      int64
	NoPorts      int64 // packets without ports (non-first fragments, cut headers): counted, not flowed
	FlowsCreated int64
	FlowsEnded   [5]int64 // by EndReason
	Evicted      int64
	Active       int
	MaxActive    int
}

// Drops is the one-line end-of-run report of what the table's bound cost
// ("capped: N flows evicted (flow table full)"), "" when nothing.
func (s Stats) Drops() string {
	if s.Evicted == 0 {
		return ""
	}
	return "capped: " + strconv.FormatInt(s.Evicted, 10) + " flows evicted (flow table full)"
}

type class uint8

const (
	classNone class = iota
	classHalfOpen
	classTCP
	classUDP
	classClosed
	numClasses
)

// lruList is a doubly linked list of flows by reference (see Flow.prev).
type lruList struct{ head, tail uint32 }

func (t *Table) remove(l *lruList, f *Flow) {
	if f.prev != 0 {
		t.flow(f.prev).next = f.next
	} else {
		l.head = f.next
		t.headMoved = true
	}
	if f.next != 0 {
		t.flow(f.next).prev = f.prev
	} else {
		l.tail = f.prev
	}
	f.prev, f.next = 0, 0
}

func (t *Table) pushBack(l *lruList, f *Flow) {
	f.prev, f.next = l.tail, 0
	if l.tail != 0 {
		t.flow(l.tail).next = f.self
	} else {
		l.head = f.self
		t.headMoved = true
	}
	l.tail = f.self
}

// head returns the list's oldest flow, nil when empty.
func (t *Table) head(l *lruList) *Flow {
	if l.head == 0 {
		return nil
	}
	return t.flow(l.head)
}

// Table is a bidirectional flow table. It is not safe for concurrent use;
// run one per worker.
//
// Flows live in slabs of slabFlows records, found through an
// open-addressing index of 8-byte slots (key hash, flow reference) and
// recycled through a free list: a million flows cost the garbage
// collector a few thousand objects instead of a million records and a
// map of pointers, and a new flow in steady state allocates nothing.
type Table struct {
	cfg   Config
	obs   Observer
	index index
	slabs [][]Flow
	// free holds the references of ended flows, reused first; slabs grow
	// by one only when it is empty, so they never hold more records than
	// the most flows the table held at once (at most MaxFlows).
	free []uint32
	// flushing is set while Flush ends every flow: their records are not
	// kept for reuse (the input is over), so the free list does not grow
	// to a million references, in ~20 MB of doubling slices, at the very
	// moment the heap is at its largest.
	flushing bool
	n        int // flows in the table
	lists    [numClasses]lruList
	now      time.Time
	stats    Stats
	// expireAt is when the first list head times out: before it, expire
	// would end nothing, so a packet that moves the clock skips it (it
	// visited four list heads per packet). headMoved marks it stale: a
	// head left its list or an empty list got one. hasExpiry is false
	// while every list is empty. In Unix nanoseconds, compared by
	// difference (see expire).
	expireAt  int64
	hasExpiry bool
	headMoved bool
	// recent is the flow of the last packet (its reference; 0 = none)
	// and recentKey its key: a flow's packets often come in a row (a
	// handshake and its first request, a burst of segments), and those
	// find it without hashing the key and probing the index. A flow that
	// ends stops being recent, before its record can serve another.
	recent    uint32
	recentKey Key
}

// slabFlows is the number of flow records per slab (56 KiB, seven whole pages): small
// enough that a table of a few flows stays small, large enough that a
// million flows are four thousand objects.
const (
	slabShift = 8
	slabFlows = 1 << slabShift
)

// flow returns the flow of reference ref (non-zero).
func (t *Table) flow(ref uint32) *Flow {
	r := ref - 1
	return &t.slabs[r>>slabShift][r&(slabFlows-1)]
}

// alloc returns a zeroed flow record and its reference.
func (t *Table) alloc() *Flow {
	var ref uint32
	if n := len(t.free); n > 0 {
		ref, t.free = t.free[n-1], t.free[:n-1]
	} else {
		last := len(t.slabs) - 1
		if last < 0 || len(t.slabs[last]) == slabFlows {
			t.slabs = append(t.slabs, make([]Flow, 0, slabFlows))
			last++
		}
		t.slabs[last] = t.slabs[last][:len(t.slabs[last])+1]
		ref = uint32(last<<slabShift+len(t.slabs[last])-1) + 1
	}
	f := t.flow(ref)
	f.self = ref
	return f
}

// release zeroes an ended flow (dropping what it pointed to) and keeps
// its record for the next new flow.
func (t *Table) release(f *Flow) {
	ref := f.self
	*f = Flow{}
	if !t.flushing {
		t.free = append(t.free, ref)
	}
}

// NewTable returns an empty table.
func NewTable(cfg Config, obs Observer) *Table {
	if cfg.MaxFlows <= 0 {
		cfg.MaxFlows = DefaultConfig().MaxFlows
	}
	return &Table{cfg: cfg, obs: obs, index: newIndex()}
}

// Stats returns the counters so far.
func (t *Table) Stats() Stats {
	s := t.stats
	s.Active = t.n
	return s
}

// Len returns the number of flows in the table.
func (t *Table) Len() int { return t.n }

func (t *Table) timeout(c class) time.Duration {
	switch c {
	case classHalfOpen:
		return t.cfg.IdleHalfOpen
	case classTCP:
		return t.cfg.IdleTCP
	case classClosed:
		return t.cfg.CloseLinger
	default:
		return t.cfg.IdleUDP
	}
}

// Add accounts one packet. Packets without ports (non-first fragments,
// headers cut before the ports) are counted in Stats and not flowed.
func (t *Table) Add(p *packet.Packet) { t.add(p, 0, false) }

// AddHashed is Add for a caller that has hashed p's flow key already
// (detect/parallel's reader, which picks the worker by it:
// online.Spreader.SpreadHash): the table uses the upper 32 bits of hash
// instead of hashing the key again (about 30 instructions a packet; 137
// with maphash before). hash must
// be a function of the flow key alone (KeyOf), the same for both
// directions, and well mixed; a table is fed by Add alone or by AddHashed
// alone.
func (t *Table) AddHashed(p *packet.Packet, hash uint64) { t.add(p, uint32(hash>>32), true) }

func (t *Table) add(p *packet.Packet, h uint32, hashed bool) {
	t.stats.Packets++
	if !p.HasPorts && (p.Proto == packet.ProtoTCP || p.Proto == packet.ProtoUDP) {
		t.stats.NoPorts++
		return
	}
	if p.Time.After(t.now) {
		t.now = p.Time
		if t.headMoved || (t.hasExpiry && t.now.UnixNano()-t.expireAt > 0) {
			t.expire(t.now)
		}
	}
	key := KeyOf(p)
	var f *Flow
	if t.recent != 0 && key.same(&t.recentKey) {
		f = t.flow(t.recent)
		h = f.hash
	} else {
		if !hashed {
			h = t.index.hash(&key)
		}
		f = t.lookup(&key, h)
	}
	syn := p.Proto == packet.ProtoTCP && p.HasTCP && p.TCPFlags&(packet.FlagSYN|packet.FlagACK) == packet.FlagSYN
	if f != nil && syn && f.Closed() {
		t.end(f, EndReused)
		f = nil
	}
	if f == nil {
		f = t.newFlow(&key, h, p, syn)
	}
	if t.recent != f.self {
		t.recent, t.recentKey = f.self, key
	}
	dir := packet.Up
	if p.SrcIP != f.Client.Addr() || p.SrcPort != f.Client.Port() {
		dir = packet.Down
	}
	// The difference of UnixNano values, not Sub: Sub's overflow check
	// costs every packet, and the wrapped difference is exact for any
	// flow shorter than 292 years.
	d := time.Duration(p.Time.UnixNano() - f.First.UnixNano())
	if d >= f.last {
		f.last = d
	}
	c := &f.Up
	if dir == packet.Down {
		c = &f.Down
	}
	c.Pkts++
	c.Bytes += uint64(p.IPLen)
	c.Payload += uint64(p.PayloadLen)
	c.Frames += uint64(p.FrameLen)
	if p.Proto == packet.ProtoTCP && p.HasTCP {
		if p.TCPFlags&packet.FlagRST != 0 {
			f.rst = true
		}
		if p.TCPFlags&packet.FlagFIN != 0 {
			if dir == packet.Up {
				f.finUp = true
			} else {
				f.finDown = true
			}
		}
	}
	t.obs.Packet(f, p, dir)
	t.touch(f, p)
	if t.cfg.ActiveTimeout > 0 && t.activeDue(f, p, d) {
		t.emitActive(f, p.Time)
	}
}

// activeDue reports whether packet p, d after flow f's first, ends the
// flow's active period: !p.Time.Before(f.periodFrom().Add(ActiveTimeout))
// as a difference of UnixNano values, like d (exact for any period
// shorter than 292 years). Not Sub, which checks for overflow with an Add
// and an Equal of its own (2 % of detect -r per packet), nor Add and
// Before, which cost a new flow of four packets 350 instructions.
func (t *Table) activeDue(f *Flow, p *packet.Packet, d time.Duration) bool {
	if f.period != nil {
		d = time.Duration(p.Time.UnixNano() - f.period.from.UnixNano())
	}
	return d >= t.cfg.ActiveTimeout
}

func (t *Table) newFlow(key *Key, h uint32, p *packet.Packet, syn bool) *Flow {
	if t.n >= t.cfg.MaxFlows {
		t.evictOne()
	}
	f := t.alloc()
	f.ID = FlowID(*key, p.Time)
	f.Proto, f.VLAN, f.SawSYN = p.Proto, p.VLAN, syn
	f.First, f.last = p.Time, 0
	f.hash = h
	src := netip.AddrPortFrom(p.SrcIP, p.SrcPort)
	dst := netip.AddrPortFrom(p.DstIP, p.DstPort)
	f.Client, f.Server = src, dst
	// A SYN/ACK as the first packet seen means the capture missed the SYN:
	// its receiver is the client.
	if p.Proto == packet.ProtoTCP && p.HasTCP && p.TCPFlags&(packet.FlagSYN|packet.FlagACK) == packet.FlagSYN|packet.FlagACK {
		f.Client, f.Server = dst, src
	}
	t.index.insert(h, f.self)
	t.n++
	t.stats.FlowsCreated++
	if t.n > t.stats.MaxActive {
		t.stats.MaxActive = t.n
	}
	t.obs.FlowStarted(f)
	return f
}

// lookup returns the flow of key (whose hash is h), nil if none.
func (t *Table) lookup(key *Key, h uint32) *Flow {
	ix := &t.index
	for i := h & ix.mask; ; i = (i + 1) & ix.mask {
		s := ix.slots[i]
		if s.ref == 0 {
			return nil
		}
		if s.hash == h {
			if f := t.flow(s.ref); f.matches(key) {
				return f
			}
		}
	}
}

// touch moves f to the back of the LRU list of its current class.
func (t *Table) touch(f *Flow, p *packet.Packet) {
	c := classUDP
	if f.Proto == packet.ProtoTCP {
		switch {
		case f.Closed():
			c = classClosed
		case f.Up.Payload == 0 && f.Down.Payload == 0:
			c = classHalfOpen
		default:
			c = classTCP
		}
	}
	if f.class == c && t.lists[c].tail == f.self {
		return // already the newest of its list (a burst of one flow)
	}
	if f.class != classNone {
		t.remove(&t.lists[f.class], f)
	}
	f.class = c
	t.pushBack(&t.lists[c], f)
}

func (t *Table) emitActive(f *Flow, now time.Time) {
	f.Records++
	if f.period == nil {
		f.period = &period{from: f.First}
	}
	pd := f.period
	r := Record{Flow: f, From: pd.from, To: now, Up: f.Up.minus(pd.up), Down: f.Down.minus(pd.down)}
	t.obs.ActiveRecord(&r)
	pd.from, pd.up, pd.down = now, f.Up, f.Down
}

// minus returns the counts of c since base.
func (c Counters) minus(base Counters) Counters {
	return Counters{Pkts: c.Pkts - base.Pkts, Bytes: c.Bytes - base.Bytes, Payload: c.Payload - base.Payload, Frames: c.Frames - base.Frames}
}

// expire ends the flows idle longer than their class's timeout at now.
// Its tests are differences of Unix nanoseconds, as Flow.last is (exact
// for any idle time under 292 years): now.After(f.Last().Add(to)) took
// two time.Time Adds per list head, and a table at its cap, whose every
// new flow evicts a list head, comes here at every packet that moves the
// clock.
//
// One pass per list: its due heads end, and the head left sets the next
// deadline (ending a flow touches no other list, so this is what a pass
// ending them all and then a pass over the heads found, in half the
// work).
func (t *Table) expire(now time.Time) {
	nowNs := now.UnixNano()
	t.hasExpiry = false
	for c := classHalfOpen; c < numClasses; c++ {
		to := int64(t.timeout(c))
		l := &t.lists[c]
		for f := t.head(l); f != nil; f = t.head(l) {
			if last := f.lastNs(); nowNs-last <= to {
				// The same test as the loop's: the head's deadline.
				if at := last + to; !t.hasExpiry || at-t.expireAt < 0 {
					t.expireAt, t.hasExpiry = at, true
				}
				break
			}
			reason := EndIdle
			if c == classClosed {
				reason = EndClosed
			}
			t.end(f, reason)
		}
	}
	t.headMoved = false
}

// Advance expires flows as of the wall-clock (or packet-clock) time now,
// for a quiet interface where no packet moves the clock.
//
// Like Add, it visits the list heads only once the first of them is due
// (or a head moved): detect/parallel's workers call it for every packet
// of the capture, and visiting four heads each time was a seventh of
// their CPU time.
func (t *Table) Advance(now time.Time) {
	if now.After(t.now) {
		t.now = now
	}
	if t.headMoved || (t.hasExpiry && now.UnixNano()-t.expireAt > 0) {
		t.expire(now)
	}
}

// NextExpiry says when Advance next has work: Advance(now) ends no flow
// and changes nothing a later call depends on (the clock it moves is read
// only to decide whether to expire) unless check, or ok and
// now.UnixNano()-at > 0 — the very test Advance makes — so a caller that
// moves the clock often (detect/parallel's workers, at every packet of the
// capture) may skip the other calls, comparing nanoseconds of its own.
// check is true when a list head moved since the last expiry pass (the
// next Advance must run); ok is false when no flow can expire (the table
// is empty). at is Unix nanoseconds.
func (t *Table) NextExpiry() (at int64, check, ok bool) {
	return t.expireAt, t.headMoved, t.hasExpiry
}

func (t *Table) evictOne() {
	for _, c := range []class{classClosed, classHalfOpen, classUDP, classTCP} {
		if f := t.head(&t.lists[c]); f != nil {
			t.stats.Evicted++
			t.end(f, EndEvicted)
			return
		}
	}
}

func (t *Table) end(f *Flow, reason EndReason) {
	if f.class != classNone {
		t.remove(&t.lists[f.class], f)
		f.class = classNone
	}
	t.index.delete(f.hash, f.self)
	if t.recent == f.self {
		t.recent = 0
	}
	t.n--
	t.stats.FlowsEnded[reason]++
	t.obs.FlowEnded(f, reason)
	t.release(f)
}

// Flush ends every flow (end of input, or shutdown), oldest first.
func (t *Table) Flush() {
	t.flushing = true
	for {
		var oldest *Flow
		for c := classHalfOpen; c < numClasses; c++ {
			if h := t.head(&t.lists[c]); h != nil && (oldest == nil || h.Last().Before(oldest.Last())) {
				oldest = h
			}
		}
		if oldest == nil {
			break
		}
		t.end(oldest, EndFlush)
	}
	// Every record is free now and none was listed: drop the slabs, so a
	// table used again after a Flush starts from empty ones.
	t.flushing = false
	t.slabs, t.free = nil, nil
}

// Each calls fn for every flow in the table, in the order of their
// records (the same for the same input). fn must not add or end flows.
func (t *Table) Each(fn func(*Flow)) {
	for _, slab := range t.slabs {
		for i := range slab {
			if f := &slab[i]; f.self != 0 {
				fn(f)
			}
		}
	}
}

// index is the table's open-addressing hash index: linear probing over a
// power-of-two array of slots, at most half full, with backward-shift
// deletion (no tombstones, so a churning table never degrades).
type index struct {
	slots []slot
	mask  uint32
	n     int
	// seed is random per table: keys chosen to collide need the seed.
	seed [4]uint64
}

// slot is one index entry: a flow's key hash and reference (0 = empty).
type slot struct{ hash, ref uint32 }

const minIndexSlots = 64

func newIndex() index {
	ix := index{slots: make([]slot, minIndexSlots), mask: minIndexSlots - 1}
	for i := range ix.seed {
		ix.seed[i] = rand.Uint64() // ChaCha8, seeded by the OS
	}
	return ix
}

// hash is wyhash's multiply-fold over the key's words, each mixed with a
// secret of the table, as the Go runtime hashes where it has no AES
// instructions: about 30 instructions where maphash.Comparable's AES hash
// of the 44-byte key took 110, and every packet hashes its key. Without
// the secrets a 128-bit product of a known zero would drop what was
// hashed before it; with them, keys chosen to collide need the seed, as
// with maphash.
func (ix *index) hash(k *Key) uint32 {
	s := &ix.seed
	le := binary.LittleEndian
	h := wyfold.Fold(le.Uint64(k.lo[:8])^s[0], le.Uint64(k.lo[8:])^s[1])
	h = wyfold.Fold(le.Uint64(k.hi[:8])^s[2]^h, le.Uint64(k.hi[8:])^s[3])
	rest := uint64(k.LoPort) | uint64(k.HiPort)<<16 | uint64(k.Proto)<<32 | uint64(k.v4)<<40
	h = wyfold.Fold(rest^s[1]^h, (uint64(k.VLAN[0])|uint64(k.VLAN[1])<<16)^s[0])
	return uint32(h ^ h>>32)
}

func (ix *index) insert(h, ref uint32) {
	if 2*(ix.n+1) > len(ix.slots) {
		ix.grow()
	}
	ix.put(slot{h, ref})
	ix.n++
}

// put places s in the first free slot from its home.
func (ix *index) put(s slot) {
	i := s.hash & ix.mask
	for ix.slots[i].ref != 0 {
		i = (i + 1) & ix.mask
	}
	ix.slots[i] = s
}

func (ix *index) grow() {
	old := ix.slots
	ix.slots = make([]slot, 2*len(old))
	ix.mask = uint32(len(ix.slots) - 1)
	for _, s := range old {
		if s.ref != 0 {
			ix.put(s)
		}
	}
}

// delete removes the slot of ref (whose key hash is h) and shifts the
// entries after it back so no probe sequence is broken.
func (ix *index) delete(h, ref uint32) {
	i := h & ix.mask
	for ix.slots[i].ref != ref {
		i = (i + 1) & ix.mask
	}
	ix.n--
	for j := i; ; {
		j = (j + 1) & ix.mask
		s := ix.slots[j]
		if s.ref == 0 {
			break
		}
		// s may move back to i unless its home lies cyclically in (i, j].
		home := s.hash & ix.mask
		if (i <= j && i < home && home <= j) || (i > j && (i < home || home <= j)) {
			continue
		}
		ix.slots[i] = s
		i = j
	}
	ix.slots[i] = slot{}
}
