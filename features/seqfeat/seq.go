package seqfeat

import (
	"math"
)

// N is how many messages a Seq records. 32 lengths and gaps fit the 128
// bytes a flow may spend on this set; measured against 8, 16 and 24 (see
// the README's detection-quality section) the last positions still help.
const N = 32

// Seq records the first N messages of one flow. Its zero value is ready;
// it never allocates.
type Seq struct {
	size    [N]int16  // message length in bytes; negative = down (server → client)
	gap     [N]uint8  // log-coded gap before the message (see gapCode); 0 for the first
	last    int64     // ns, time of the last recorded message
	seqHigh [2]uint32 // per direction: highest TCP sequence number seen (retransmissions are skipped)
	skip    [2]uint16 // per direction, TLS: bytes of the current record still to come
	n       uint8
	flags   uint8
}

const (
	flagDecided uint8 = 1 << iota // the first payload was seen
	flagTLS                       // ...and began with a TLS record header
	flagSeqUp                     // seqHigh[0] is valid
	flagSeqDown                   // seqHigh[1] is valid
	flagLostUp                    // TLS record positions lost in this direction (a gap, a cut payload)
	flagLostDown
	flagTLS13 // the ServerHello chose TLS 1.3
	flagAppUp // the client sent an application-data record
)

// Len returns the number of messages recorded.
func (s *Seq) Len() int { return int(s.n) }

// Full reports whether N messages are recorded: Add has nothing left to do.
func (s *Seq) Full() bool { return s.n == N }

// TLS reports whether the flow's first payload began with a TLS record.
func (s *Seq) TLS() bool { return s.flags&flagTLS != 0 }

// Message returns the i-th recorded message: its length (bytes), whether
// it went down (server → client), and the gap before it in seconds (NaN
// for the first).
func (s *Seq) Message(i int) (length int, down bool, gap float64) {
	v := int(s.size[i])
	if v < 0 {
		return -v, true, gapSeconds(s.gap[i])
	}
	return v, false, gapSeconds(s.gap[i])
}

// Add accounts one data packet of the flow: its time (ns), direction,
// payload (possibly cut short by the snap length) and payload length, and
// for TCP its sequence number. overhead is added to every message length
// (training-time augmentation, see flowfeat.Accumulator.SetOverhead).
func (s *Seq) Add(t int64, down bool, payload []byte, payloadLen int, seq uint32, isTCP bool, overhead int) {
	if s.n == N || payloadLen <= 0 {
		return
	}
	d := 0
	if down {
		d = 1
	}
	if isTCP {
		// A retransmission repeats a message already recorded.
		valid := flagSeqUp << d
		end := seq + uint32(payloadLen)
		if s.flags&valid != 0 && int32(end-s.seqHigh[d]) <= 0 {
			return
		}
		s.flags |= valid
		s.seqHigh[d] = end
	}
	if s.flags&flagDecided == 0 {
		s.flags |= flagDecided
		if isTCP && recordHeader(payload) {
			s.flags |= flagTLS
		}
	}
	if s.flags&flagTLS == 0 {
		s.record(t, down, payloadLen+overhead)
		return
	}
	s.records(t, d, payload, payloadLen, overhead)
}

// records walks the TLS records of one packet, recording each
// application-data record that starts in it.
func (s *Seq) records(t int64, d int, payload []byte, payloadLen, overhead int) {
	lost := flagLostUp << d
	off := int(s.skip[d])
	if s.flags&lost != 0 {
		// Resynchronise on a packet that starts with a record header.
		if !recordHeader(payload) {
			return
		}
		s.flags &^= lost
		off = 0
	}
	for off < payloadLen {
		if off+5 > len(payload) || !recordHeader(payload[off:]) {
			// A header cut by the snap length or split across packets,
			// or not a header at all (a capture gap): wait for a packet
			// that starts with one.
			s.flags |= lost
			s.skip[d] = 0
			return
		}
		h := payload[off:]
		n := int(h[3])<<8 | int(h[4])
		switch {
		case h[0] == contentHandshake && d == 1 && serverHello13(h[5:]):
			s.flags |= flagTLS13
		case h[0] != contentApplicationData:
		case s.flags&(flagTLS13|flagAppUp) == flagTLS13:
			// TLS 1.3 encrypts the rest of the handshake into
			// application-data records: the server's (EncryptedExtensions
			// … Finished) before the client's first, and the client's
			// first (Finished). Not messages: skipping them lines TLS 1.3
			// sessions up with TLS 1.2 and plaintext ones.
			if d == 0 {
				s.flags |= flagAppUp
			}
		default:
			if d == 0 {
				s.flags |= flagAppUp
			}
			s.record(t, d == 1, n+overhead)
		}
		off += 5 + n
	}
	rest := off - payloadLen
	if rest > math.MaxUint16 {
		s.flags |= lost
		rest = 0
	}
	s.skip[d] = uint16(rest)
}

const (
	contentChangeCipherSpec = 20
	contentHandshake        = 22
	contentApplicationData  = 23
	contentHeartbeat        = 24
)

// serverHello13 reports whether a handshake record's body (as far as the
// packet holds it) is a ServerHello whose supported_versions extension
// selects TLS 1.3 (RFC 8446 §4.1.3, §4.2.1).
func serverHello13(b []byte) bool {
	// type(1) length(3) legacy_version(2) random(32) session_id(1+n)
	if len(b) < 39 || b[0] != 2 {
		return false
	}
	i := 38
	i += 1 + int(b[i])
	i += 2 + 1 // cipher_suite, legacy_compression_method
	if i+2 > len(b) {
		return false
	}
	end := min(i+2+(int(b[i])<<8|int(b[i+1])), len(b))
	for i += 2; i+4 <= end; {
		typ, n := int(b[i])<<8|int(b[i+1]), int(b[i+2])<<8|int(b[i+3])
		i += 4
		if typ == 43 && n == 2 && i+2 <= end { // supported_versions
			return b[i] == 3 && b[i+1] == 4
		}
		i += n
	}
	return false
}

// recordHeader reports whether b starts with a plausible TLS record
// header: content type 20–24, version 3.0–3.4 (SSL 3 to TLS 1.3's legacy
// 3.3), length at most 2^14 + 2048 (RFC 8446 §5.2).
func recordHeader(b []byte) bool {
	if len(b) < 5 || b[0] < contentChangeCipherSpec || b[0] > contentHeartbeat || b[1] != 3 || b[2] > 4 {
		return false
	}
	return int(b[3])<<8|int(b[4]) <= 1<<14+2048
}

func (s *Seq) record(t int64, down bool, length int) {
	if s.n == N {
		return
	}
	length = min(length, math.MaxInt16)
	if down {
		length = -length
	}
	s.size[s.n] = int16(length)
	if s.n > 0 {
		s.gap[s.n] = gapCode(t - s.last)
	}
	s.last = t
	s.n++
}

// gapCode maps a gap in ns to a byte: 1 + 8·log2(1 + µs), so each code
// step is 9% and 254 steps reach about an hour; 0 is "none".
func gapCode(ns int64) uint8 {
	if ns < 0 {
		ns = 0
	}
	c := 1 + math.Round(8*math.Log2(1+float64(ns)/1e3))
	return uint8(min(c, 255))
}

// gapSeconds inverts gapCode (NaN for code 0).
func gapSeconds(c uint8) float64 { return gapTable[c] }

// gapTable is gapSeconds for every code: a checkpoint decodes up to 31
// gaps, and Exp2 was most of Fill's time. Read-only after init.
var gapTable = func() (t [256]float64) {
	t[0] = math.NaN()
	for c := 1; c < 256; c++ {
		t[c] = (math.Exp2(float64(c-1)/8) - 1) / 1e6
	}
	return t
}()
