package flowfeat

import (
	"math"
	"time"
	"unsafe"

	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/features/seqfeat"
)

var nan = math.NaN()

// Column offsets of the sets inside a Vector.
const (
	NumMW51       = 51
	NumMWX        = 7
	NumNetFlow8   = 8
	NumDeCrypto12 = 12
	NumSeq        = seqfeat.Num
	NumAll        = NumMW51 + NumMWX + NumSeq + NumNetFlow8 + NumDeCrypto12

	offMW51       = 0
	offMWX        = NumMW51         // right after mw51, so mw51x is one slice
	offSeq        = offMWX + NumMWX // and seq after mwx, so mw51x+seq is one too
	offNetFlow8   = offSeq + NumSeq
	offDeCrypto12 = offNetFlow8 + NumNetFlow8
)

// Vector holds every feature of every set, mw51, mwx, seq, netflow8,
// decrypto12, each in the order of Defs.
type Vector [NumAll]float64

// Set returns the slice of v that holds the named set (nil if unknown).
func (v *Vector) Set(name string) []float64 {
	switch name {
	case SetMW51:
		return v[offMW51 : offMW51+NumMW51]
	case SetMWX:
		return v[offMWX : offMWX+NumMWX]
	case SetMW51X:
		return v[offMW51 : offMWX+NumMWX]
	case SetSeq:
		return v[offSeq : offSeq+NumSeq]
	case SetMW51XSeq:
		return v[offMW51 : offSeq+NumSeq]
	case SetNetFlow8:
		return v[offNetFlow8 : offNetFlow8+NumNetFlow8]
	case SetDeCrypto12:
		return v[offDeCrypto12 : offDeCrypto12+NumDeCrypto12]
	}
	return nil
}

// sizeBuckets is the number of 16-byte size buckets for size_entropy;
// sizes of 1520 B and more (jumbo frames, offload) share the last one.
const sizeBuckets = 96

// decryptoPackets is DeCrypto's horizon: its features use the first 30
// packets of a flow.
const decryptoPackets = 30

// maxPendingExact is how many unanswered up data packets keep their exact
// times for resp_share; older ones (a bulk upload) are summed and count
// as unanswered for resp_share.
const maxPendingExact = 8

// burstGap separates down bursts: segments of one message arrive back to
// back, well within 50 ms on any path.
const burstGap = int64(50e6)

type welford struct {
	n    uint32
	mean float64
	m2   float64
}

func (w *welford) add(x float64) {
	w.n++
	d := x - w.mean
	w.mean += d / float64(w.n)
	w.m2 += d * (x - w.mean)
}

func (w *welford) std() float64 {
	if w.n < 2 {
		return nan
	}
	return math.Sqrt(w.m2 / float64(w.n-1))
}

func (w *welford) avg() float64 {
	if w.n == 0 {
		return nan
	}
	return w.mean
}

// moments is a welford whose count the caller keeps: a direction's size
// moments count its data packets, which dirAcc counts anyway (8 bytes
// less per direction). add takes the count including x.
type moments struct{ mean, m2 float64 }

func (m *moments) add(x float64, n uint32) {
	d := x - m.mean
	m.mean += d / float64(n)
	m.m2 += d * (x - m.mean)
}

func (m *moments) std(n uint32) float64 {
	if n < 2 {
		return nan
	}
	return math.Sqrt(m.m2 / float64(n-1))
}

func (m *moments) avg(n uint32) float64 {
	if n == 0 {
		return nan
	}
	return m.mean
}

// dirAcc is one direction's part of an Accumulator. What only a second
// data packet gives meaning to (inter-arrival statistics, the size
// histogram, the arrival bins) lives in more, allocated then: most flows
// of a busy link carry one data packet or none each way (scans, probes,
// DNS, a mid-session TLS record), and a million such flows would otherwise
// carry 240 unused bytes each.
type dirAcc struct {
	pkts, dataPkts   uint32
	payload, ipBytes uint64
	sizeMin, sizeMax uint32
	size             moments // of data packet sizes; n = dataPkts
	lastData         int64
	psh, retx, acks  uint32
	seqHigh          uint32
	// (Whether a SYN and a sequence number were seen are bits of the
	// Accumulator's seq: as two bools here they padded each direction
	// by 8 bytes.)
	// more is in use once dataPkts >= 2; a Reset accumulator keeps it
	// for reuse (cleared when it is next needed).
	more *dirMore
}

// dirMore is the part of a direction's state that needs two data packets:
// 768 bytes, one size class, one allocation.
type dirMore struct {
	iat            welford
	iatMin, iatMax float64
	iatMed         p2Median
	hist           [sizeBuckets]uint32
	bins           periodBins
}

// Accumulator computes the features of one flow (or one window of it) in
// bounded memory: under 500 bytes, plus 768 bytes per direction from its
// second data packet (inter-arrival statistics, size histogram, period
// bins).
type Accumulator struct {
	start       int64 // ns, window start (bins origin)
	first, last int64 // ns, first/last packet in the window; 0 = none
	up, down    dirAcc
	syn, fin    uint32
	rst         uint32

	// The 32-bit counters, the DeCrypto counts and the byte-sized flags
	// of the fields below sit together, so no 8-byte field pads them (384
	// bytes: a State with its pointers and checkpoint counters is then
	// the 416-byte size class, not 448: 30 MB at a million flows).

	// overflowN counts up data packets since the last down one beyond
	// maxPendingExact: reset at every down data packet, so 32 bits hold
	// any real flow (4 G packets without an answer).
	overflowN    uint32
	respAnswered uint32
	respUp       uint32 // up data packets considered
	// Down bursts.
	downBursts      uint32
	downUnsolicited uint32
	// overhead is added to every data packet's size (augmentation).
	overhead int32
	// respN counts the response delays in respDelay.
	respN uint32
	// DeCrypto: first 30 packets, so 8-bit counts and 32-bit byte sums
	// (30 IP packets of at most 64 KiB) hold them; the time of the first
	// is the window's first (see dcFirst), of the last in dcLast.
	dc       decryptoCounts
	npending uint8
	// Whether the client sent data since the last down burst.
	upSinceDown bool
	// synAckSeen: the server's SYN/ACK came after the client's SYN.
	synAckSeen bool
	// seq holds per direction whether a SYN and a sequence number were
	// seen (seqSYN, seqValid shifted by 2*dir), and seqFirstZero.
	seq uint8

	idleMax float64

	// RTT: handshake times, then the minimum data turnaround.
	synT    int64
	hsRTT   float64
	minTurn float64

	// Request/response pairing: up data packets waiting for a down one.
	pending      [maxPendingExact]int64
	overflowSum  float64 // Σ (t - start) s of overflowed pending
	overflowSum2 float64
	respDelay    moments // n = respN

	dcLast int64
}

// decryptoCounts is the DeCrypto part of an Accumulator that fits 32 bits.
type decryptoCounts struct {
	upB, downB, sumLen uint32
	minLen             int32
	n, upP, downP, psh uint8
}

// The bits of Accumulator.seq.
const (
	seqSYN   = 1 // << 2*dir: direction dir sent a SYN
	seqValid = 2 // << 2*dir: direction dir's highest sequence number is known
	// seqFirstZero: the window's first packet had time 0 (the Unix
	// epoch), so first is not its time: first is set by the first
	// packet with a non-zero time.
	seqFirstZero = 1 << 4
)

// An Accumulator stays at 384 bytes: see the comment on its counters.
var _ [384 - unsafe.Sizeof(Accumulator{})]struct{}

// dcFirst is the time of the DeCrypto window's first packet: the
// accumulator's first packet's, which first holds unless that was 0.
func (a *Accumulator) dcFirst() int64 {
	if a.seq&seqFirstZero != 0 {
		return 0
	}
	return a.first
}

// NewAccumulator returns an accumulator for a window starting at start.
func NewAccumulator(start time.Time) *Accumulator {
	a := &Accumulator{}
	a.Reset(start)
	return a
}

// Reset empties the accumulator for a new window starting at start (its
// size overhead stays, and so does the memory of its second-data-packet
// state, cleared when next used).
func (a *Accumulator) Reset(start time.Time) {
	// Cleared in place, then the kept and non-zero fields set: a composite
	// literal was built beside it and copied over, two passes over 384
	// bytes for every new flow.
	overhead, up, down := a.overhead, a.up.more, a.down.more
	*a = Accumulator{}
	a.start, a.hsRTT, a.minTurn, a.overhead = start.UnixNano(), nan, nan, overhead
	a.up.more, a.down.more = up, down
}

// SetOverhead makes the accumulator count every data packet as overhead
// bytes larger (payload and IP length): training-time augmentation that
// shows a model what a TLS record or AEAD chunk does to a plaintext flow.
// Sequence numbers (retransmissions) keep the packet's real length.
func (a *Accumulator) SetOverhead(overhead int) { a.overhead = int32(overhead) }

// Packets returns the packets seen per direction.
func (a *Accumulator) Packets() (up, down uint32) { return a.up.pkts, a.down.pkts }

// IPBytes returns the IP bytes seen per direction.
func (a *Accumulator) IPBytes() (up, down uint64) { return a.up.ipBytes, a.down.ipBytes }

// First and Last return the times of the window's first and last packet
// (zero when empty).
func (a *Accumulator) First() time.Time { return unixTime(a.first) }
func (a *Accumulator) Last() time.Time  { return unixTime(a.last) }

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// Add accounts one packet of the flow in direction dir.
func (a *Accumulator) Add(p *packet.Packet, dir packet.Direction) {
	t := p.Time.UnixNano()
	if a.first == 0 {
		if t == 0 && a.dc.n == 0 {
			a.seq |= seqFirstZero
		}
		a.first = t
	} else if gap := float64(t-a.last) / 1e9; gap > a.idleMax {
		a.idleMax = gap
	}
	if t > a.last {
		a.last = t
	}
	d := &a.up
	if dir == packet.Down {
		d = &a.down
	}
	d.pkts++
	ipLen, size := p.IPLen, p.PayloadLen
	if size > 0 && a.overhead != 0 {
		ipLen += int(a.overhead)
		size += int(a.overhead)
	}
	d.ipBytes += uint64(ipLen)
	isTCP := p.Proto == packet.ProtoTCP && p.HasTCP
	flags := p.TCPFlags
	if isTCP {
		if flags&packet.FlagPSH != 0 {
			d.psh++
		}
		if flags&packet.FlagSYN != 0 {
			a.syn++
		}
		if flags&packet.FlagFIN != 0 {
			a.fin++
		}
		if flags&packet.FlagRST != 0 {
			a.rst++
		}
		if size == 0 && flags&packet.FlagACK != 0 && flags&(packet.FlagSYN|packet.FlagFIN|packet.FlagRST) == 0 {
			d.acks++
		}
		a.trackSeq(d, dir, p, p.PayloadLen) // sequence space is the packet's own
		a.trackHandshake(p, dir, t)
	}
	a.decrypto(p, ipLen, dir, t)
	if size == 0 {
		return
	}
	// A data packet.
	d.dataPkts++
	d.payload += uint64(size)
	s := uint32(size)
	if d.dataPkts == 1 || s < d.sizeMin {
		d.sizeMin = s
	}
	if s > d.sizeMax {
		d.sizeMax = s
	}
	d.size.add(float64(size), d.dataPkts)
	if d.dataPkts >= 2 {
		m := d.more
		if d.dataPkts == 2 {
			// Most flows of a busy link carry one data packet or none each
			// way (scans, probes, DNS): what needs two is allocated (or
			// taken back from a Reset) at the second, which replays the
			// first from sizeMin, sizeMax and lastData.
			if m == nil {
				m = new(dirMore)
				d.more = m
			} else {
				*m = dirMore{}
			}
			m.bins.init(a.start)
			// sizeMin and sizeMax now hold the first size and this one.
			m.hist[sizeBucket(int(d.sizeMin+d.sizeMax)-size)]++
			m.bins.add(d.lastData)
		}
		m.hist[sizeBucket(size)]++
		m.bins.add(t)
		iat := float64(t-d.lastData) / 1e9
		if m.iat.n == 0 || iat < m.iatMin {
			m.iatMin = iat
		}
		if iat > m.iatMax {
			m.iatMax = iat
		}
		m.iat.add(iat)
		m.iatMed.add(iat)
	}
	prevData := d.lastData
	d.lastData = t
	if dir == packet.Up {
		a.upSinceDown = true
		a.upData(t)
	} else {
		// A burst is a run of down data packets less than burstGap apart
		// (one message cut into segments); it is unsolicited when no up
		// data came since the previous burst.
		if d.dataPkts == 1 || a.upSinceDown || t-prevData > burstGap {
			a.downBursts++
			if !a.upSinceDown {
				a.downUnsolicited++
			}
		}
		a.upSinceDown = false
		a.downData(t)
	}
}

// trackSeq counts retransmissions: a segment that carries nothing beyond
// the highest sequence number already seen in its direction.
func (a *Accumulator) trackSeq(d *dirAcc, dir packet.Direction, p *packet.Packet, size int) {
	flags := p.TCPFlags
	shift := 2 * uint(dir)
	if flags&packet.FlagSYN != 0 {
		if a.seq&(seqSYN<<shift) != 0 {
			d.retx++
		}
		a.seq |= (seqSYN | seqValid) << shift
		d.seqHigh = p.Seq + 1
		return
	}
	if size == 0 && flags&packet.FlagFIN == 0 {
		return
	}
	end := p.Seq + uint32(size)
	if flags&packet.FlagFIN != 0 {
		end++
	}
	if a.seq&(seqValid<<shift) == 0 {
		a.seq |= seqValid << shift
		d.seqHigh = end
		return
	}
	if int32(end-d.seqHigh) <= 0 {
		d.retx++
		return
	}
	d.seqHigh = end
}

func (a *Accumulator) trackHandshake(p *packet.Packet, dir packet.Direction, t int64) {
	flags := p.TCPFlags
	switch {
	case dir == packet.Up && flags&(packet.FlagSYN|packet.FlagACK) == packet.FlagSYN:
		if a.synT == 0 {
			a.synT = t
		}
	case dir == packet.Down && flags&(packet.FlagSYN|packet.FlagACK) == packet.FlagSYN|packet.FlagACK:
		if a.synT != 0 && !a.synAckSeen {
			a.synAckSeen = t != 0 // a zero time reads as "not yet", as synT's does
		}
	case dir == packet.Up && flags&packet.FlagACK != 0 && a.synAckSeen && math.IsNaN(a.hsRTT):
		// SYN → SYN/ACK → ACK spans one full round trip wherever the
		// capture point sits on the path.
		a.hsRTT = float64(t-a.synT) / 1e9
	}
}

func (a *Accumulator) rel(t int64) float64 { return float64(t-a.start) / 1e9 }

func (a *Accumulator) upData(t int64) {
	a.respUp++
	if a.npending == maxPendingExact {
		old := a.rel(a.pending[0])
		a.overflowN++
		a.overflowSum += old
		a.overflowSum2 += old * old
		copy(a.pending[:], a.pending[1:])
		a.npending--
	}
	a.pending[a.npending] = t
	a.npending++
}

func (a *Accumulator) rtt() float64 {
	if !math.IsNaN(a.hsRTT) {
		return a.hsRTT
	}
	return a.minTurn
}

func (a *Accumulator) downData(t int64) {
	if a.npending == 0 && a.overflowN == 0 {
		return
	}
	// The turnaround from the latest request is the tightest RTT bound.
	if a.npending > 0 {
		turn := float64(t-a.pending[a.npending-1]) / 1e9
		if math.IsNaN(a.minTurn) || turn < a.minTurn {
			a.minTurn = turn
		}
	}
	rtt := a.rtt()
	if math.IsNaN(rtt) {
		rtt = 0
	}
	limit := 2*rtt + 0.05
	for _, tu := range a.pending[:a.npending] {
		delay := float64(t-tu) / 1e9
		a.respN++
		a.respDelay.add(delay, a.respN)
		if delay <= limit {
			a.respAnswered++
		}
	}
	if a.overflowN > 0 {
		// Fold the overflowed delays in exactly from their sums.
		tr := a.rel(t)
		n := float64(a.overflowN)
		sum := n*tr - a.overflowSum
		sum2 := n*tr*tr - 2*tr*a.overflowSum + a.overflowSum2
		a.foldDelays(n, sum, sum2)
	}
	a.npending, a.overflowN, a.overflowSum, a.overflowSum2 = 0, 0, 0, 0
}

// foldDelays merges n delays with the given sum and sum of squares into
// the running mean/variance (Chan et al.'s parallel formula).
func (a *Accumulator) foldDelays(n, sum, sum2 float64) {
	w := &a.respDelay
	mb := sum / n
	m2b := sum2 - n*mb*mb
	if m2b < 0 {
		m2b = 0
	}
	na := float64(a.respN)
	tot := na + n
	delta := mb - w.mean
	w.mean += delta * n / tot
	w.m2 += m2b + delta*delta*na*n/tot
	a.respN += uint32(n)
}

func (a *Accumulator) decrypto(p *packet.Packet, ipLen int, dir packet.Direction, t int64) {
	dc := &a.dc
	if dc.n >= decryptoPackets {
		return
	}
	if dc.n == 0 {
		dc.minLen = int32(ipLen)
	}
	dc.n++
	a.dcLast = t
	if dir == packet.Up {
		dc.upB += uint32(ipLen)
		dc.upP++
	} else {
		dc.downB += uint32(ipLen)
		dc.downP++
	}
	if p.HasTCP && p.TCPFlags&packet.FlagPSH != 0 {
		dc.psh++
	}
	if int32(ipLen) < dc.minLen {
		dc.minLen = int32(ipLen)
	}
	dc.sumLen += uint32(ipLen)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return nan
	}
	return a / b
}

func ratioOr0(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func sizeBucket(size int) int { return min(size/16, sizeBuckets-1) }

func (d *dirAcc) entropy() float64 {
	switch d.dataPkts {
	case 0:
		return nan
	case 1:
		return 0 // one packet, one bucket
	}
	n := float64(d.dataPkts)
	var h float64
	for _, c := range d.more.hist {
		if c > 0 {
			q := float64(c) / n
			h -= q * math.Log2(q)
		}
	}
	return h + 0 // avoid -0
}

// topShare is the share of data packets in the fullest size bucket.
func (d *dirAcc) topShare() float64 {
	switch d.dataPkts {
	case 0:
		return nan
	case 1:
		return 1
	}
	var top uint32
	for _, c := range d.more.hist {
		top = max(top, c)
	}
	return float64(top) / float64(d.dataPkts)
}

func (d *dirAcc) fill(out []float64, dur float64) {
	out[0] = float64(d.pkts)
	out[1] = float64(d.dataPkts)
	out[2] = float64(d.payload)
	if d.dataPkts > 0 {
		out[3] = float64(d.sizeMin)
		out[4] = float64(d.sizeMax)
	} else {
		out[3], out[4] = nan, nan
	}
	out[5] = d.size.avg(d.dataPkts)
	out[6] = d.size.std(d.dataPkts)
	out[7] = d.entropy()
	if d.dataPkts >= 2 {
		m := d.more
		out[8], out[9] = m.iatMin, m.iatMax
		out[10] = m.iat.avg()
		out[11] = m.iat.std()
		out[12] = m.iatMed.value()
	} else {
		// No inter-arrival time yet: what an empty welford and median give.
		out[8], out[9], out[10], out[11], out[12] = nan, nan, nan, nan, nan
	}
	out[13] = ratio(float64(d.pkts), dur)
	out[14] = ratio(float64(d.payload), dur)
	out[15] = float64(d.psh)
	out[16] = float64(d.retx)
	out[17] = float64(d.acks)
}

// Snapshot writes every feature over the window [start, end] into v; end
// is the window's end (a checkpoint time, or the last packet for a final
// row) and sets the window duration for the per-second rates.
func (a *Accumulator) Snapshot(end time.Time, v *Vector) {
	var sc periodScratch
	a.snapshot(end.UnixNano(), v, &sc, false)
}

// snapshot writes the features; with deferPeriod it leaves the
// periodicity features NaN (see TrackerConfig.DeferPeriod) and reports
// which directions would have computed theirs (periodFor does it later).
func (a *Accumulator) snapshot(end int64, v *Vector, scratch *periodScratch, deferPeriod bool) (pending uint8) {
	dur := float64(end-a.start) / 1e9
	if dur < 0 {
		dur = 0
	}
	m := v[offMW51 : offMW51+NumMW51]
	a.up.fill(m[0:18], dur)
	a.down.fill(m[18:36], dur)
	f := m[36:]
	if a.first != 0 {
		f[0] = float64(a.last-a.first) / 1e9
	} else {
		f[0] = nan
	}
	f[1] = ratio(float64(a.up.payload), float64(a.down.payload))
	f[2] = ratio(float64(a.up.dataPkts), float64(a.down.dataPkts))
	f[3], f[4], f[5] = float64(a.syn), float64(a.fin), float64(a.rst)
	f[6] = a.rtt()
	f[7] = ratio(float64(a.respAnswered), float64(a.respUp))
	f[8] = a.respDelay.avg(a.respN)
	f[9] = a.respDelay.std(a.respN)
	if deferPeriod {
		f[10], f[11], f[12], f[13] = nan, nan, nan, nan
		if a.down.dataPkts >= minPeriodPkts {
			pending |= pendingDown
		}
		if a.up.dataPkts >= minPeriodPkts {
			pending |= pendingUp
		}
	} else {
		a.periodFor(v, packet.Down, end, scratch)
		a.periodFor(v, packet.Up, end, scratch)
	}
	if a.up.pkts+a.down.pkts >= 2 {
		f[14] = a.idleMax
	} else {
		f[14] = nan
	}

	x := v[offMWX : offMWX+NumMWX]
	x[0] = ratio(m[11], m[10])
	x[1] = ratio(m[18+11], m[18+10])
	x[2] = m[4] - m[3]
	x[3] = m[18+4] - m[18+3]
	x[4] = a.up.topShare()
	x[5] = a.down.topShare()
	x[6] = ratio(float64(a.downUnsolicited), float64(a.downBursts))

	nf := v[offNetFlow8 : offNetFlow8+NumNetFlow8]
	upP, downP := float64(a.up.pkts), float64(a.down.pkts)
	upB, downB := float64(a.up.ipBytes), float64(a.down.ipBytes)
	nf[0] = ratioOr0(downP, dur)
	nf[1] = ratioOr0(upP, dur)
	nf[2] = ratioOr0(downB, dur)
	nf[3] = ratioOr0(upB, dur)
	nf[4] = ratioOr0(downB, downP)
	nf[5] = ratioOr0(upB, upP)
	nf[6] = ratioOr0(downB, upB)
	nf[7] = ratioOr0(downP, upP)

	dc := &a.dc
	d := v[offDeCrypto12 : offDeCrypto12+NumDeCrypto12]
	tot := float64(uint64(dc.upB) + uint64(dc.downB))
	d[0], d[1] = float64(dc.upB), float64(dc.downB)
	d[2], d[3] = float64(dc.upP), float64(dc.downP)
	d[4] = ratio(float64(dc.upB), tot)
	d[5] = ratio(float64(dc.downB), tot)
	if dc.n >= 2 {
		d[6] = float64(a.dcLast-a.dcFirst()) / 1e9 / float64(dc.n-1)
	} else {
		d[6] = nan
	}
	if dc.n >= 1 {
		d[7] = float64(a.dcLast-a.dcFirst()) / 1e9
		d[8] = float64(dc.sumLen) / float64(dc.n)
		d[9] = float64(dc.psh) / float64(dc.n)
		d[10] = float64(dc.minLen)
	} else {
		d[7], d[8], d[9], d[10] = nan, nan, nan, nan
	}
	d[11] = ratio(float64(dc.upB), float64(dc.downB))
	return pending
}

// Bits of a row's pending periodicity features, by direction.
const (
	pendingDown uint8 = 1 << iota
	pendingUp
)

// periodCol is the column of down_period in mw51 (and in the sets that
// begin with it); down_period_strength, up_period and up_period_strength
// follow.
const periodCol = 36 + 10

// periodFor writes direction dir's period and its strength into v.
func (a *Accumulator) periodFor(v *Vector, dir packet.Direction, end int64, scratch *periodScratch) {
	d, col := &a.down, offMW51+periodCol
	if dir == packet.Up {
		d, col = &a.up, col+2
	}
	v[col], v[col+1] = a.period(d, end, scratch)
}

func (a *Accumulator) period(d *dirAcc, end int64, scratch *periodScratch) (float64, float64) {
	if d.dataPkts < minPeriodPkts {
		return nan, nan
	}
	return d.more.bins.dominantPeriod(end, scratch)
}
