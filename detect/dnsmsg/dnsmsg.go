package dnsmsg

import (
	"errors"
	"fmt"
	"net/netip"
)

// Record types the parser keeps; answers of other types are skipped
// (counted in Message.Skipped).
const (
	TypeA     uint16 = 1
	TypeCNAME uint16 = 5
	TypeAAAA  uint16 = 28
)

// Limits that bound the work done on one message.
const (
	// MaxQuestions and MaxAnswers cap the kept entries; real messages
	// carry one question and a handful of answers.
	MaxQuestions = 16
	MaxAnswers   = 64
	// MaxNameLen is RFC 1035's limit on a name in wire form; in dotted
	// form that is at most 253 characters (plus escapes we do not do).
	MaxNameLen = 255
	// maxPointers bounds compression-pointer hops; backward-only pointers
	// already forbid loops, this bounds the work of long chains.
	maxPointers = 64
)

// Errors returned by Parse. Callers usually only count them.
var (
	ErrShort       = errors.New("dns: message truncated")
	ErrName        = errors.New("dns: malformed name")
	ErrPointerLoop = errors.New("dns: bad compression pointer")
	ErrNameTooLong = errors.New("dns: name longer than 255 bytes")
)

// Question is one entry of the question section.
type Question struct {
	// Name is the queried name in dotted form without the trailing dot,
	// as on the wire (case preserved; "" for the root). It aliases the
	// Message's buffer and is valid until the next Parse into it.
	Name  []byte
	Type  uint16
	Class uint16
}

// RR is one kept answer record (A, AAAA or CNAME).
type RR struct {
	Name  []byte // owner name, aliases the Message's buffer
	Type  uint16
	Class uint16
	TTL   uint32
	// Addr is the address of an A or AAAA record.
	Addr netip.Addr
	// Target is the canonical name of a CNAME record.
	Target []byte
}

// Message is a parsed DNS message. Reuse one value across Parse calls.
type Message struct {
	ID       uint16
	Response bool  // QR bit
	Opcode   uint8 // 0 = QUERY
	RCode    uint8
	// Truncated is the TC bit.
	Truncated bool
	// QDCount etc. are the header counts as sent (the kept slices may be
	// shorter because of the caps).
	QDCount, ANCount, NSCount, ARCount uint16

	Questions []Question
	Answers   []RR
	// Skipped counts answer records of other types, or beyond MaxAnswers.
	Skipped int

	names []byte // backing store for every Name/Target of this message
}

// Reset empties m, keeping its buffers.
func (m *Message) Reset() {
	*m = Message{Questions: m.Questions[:0], Answers: m.Answers[:0], names: m.names[:0]}
}

// Parse decodes the DNS message b into m (which it resets first). On error
// m holds whatever was decoded before the fault, so a truncated response
// still yields its question. b is not retained.
func Parse(b []byte, m *Message) error {
	m.Reset()
	if len(b) < 12 {
		return ErrShort
	}
	m.ID = be16(b[0:])
	flags := be16(b[2:])
	m.Response = flags&0x8000 != 0
	m.Opcode = uint8(flags>>11) & 0xf
	m.Truncated = flags&0x0200 != 0
	m.RCode = uint8(flags & 0xf)
	m.QDCount, m.ANCount = be16(b[4:]), be16(b[6:])
	m.NSCount, m.ARCount = be16(b[8:]), be16(b[10:])

	off := 12
	for i := 0; i < int(m.QDCount); i++ {
		name, next, err := m.readName(b, off)
		if err != nil {
			return fmt.Errorf("question %d: %w", i, err)
		}
		if next+4 > len(b) {
			return fmt.Errorf("question %d: %w", i, ErrShort)
		}
		if len(m.Questions) < MaxQuestions {
			m.Questions = append(m.Questions, Question{Name: name, Type: be16(b[next:]), Class: be16(b[next+2:])})
		}
		off = next + 4
	}
	for i := 0; i < int(m.ANCount); i++ {
		name, next, err := m.readName(b, off)
		if err != nil {
			return fmt.Errorf("answer %d: %w", i, err)
		}
		if next+10 > len(b) {
			return fmt.Errorf("answer %d: %w", i, ErrShort)
		}
		rr := RR{Name: name, Type: be16(b[next:]), Class: be16(b[next+2:]), TTL: be32(b[next+4:])}
		rdlen := int(be16(b[next+8:]))
		rd := next + 10
		if rd+rdlen > len(b) {
			return fmt.Errorf("answer %d rdata: %w", i, ErrShort)
		}
		off = rd + rdlen
		keep := len(m.Answers) < MaxAnswers
		switch {
		case rr.Type == TypeA && rdlen == 4 && keep:
			rr.Addr = netip.AddrFrom4([4]byte(b[rd : rd+4]))
		case rr.Type == TypeAAAA && rdlen == 16 && keep:
			rr.Addr = netip.AddrFrom16([16]byte(b[rd : rd+16]))
		case rr.Type == TypeCNAME && keep:
			target, _, err := m.readName(b[:rd+rdlen], rd)
			if err != nil {
				return fmt.Errorf("answer %d cname: %w", i, err)
			}
			rr.Target = target
		default:
			m.Skipped++
			continue
		}
		m.Answers = append(m.Answers, rr)
	}
	// Authority and additional sections are not needed for intel.
	return nil
}

// readName decodes the (possibly compressed) name at off and returns it
// in dotted form, appended to m.names, plus the offset after the name's
// in-place bytes.
func (m *Message) readName(b []byte, off int) ([]byte, int, error) {
	start := len(m.names)
	next := -1    // offset after the name in place, set at the first pointer
	wire := 0     // wire length so far, for the 255-byte limit
	lowest := off // pointers must point strictly below every label read so far
	hops := 0
	for {
		if off >= len(b) {
			return nil, 0, ErrShort
		}
		l := int(b[off])
		switch l & 0xc0 {
		case 0x00:
			if l == 0 {
				if next < 0 {
					next = off + 1
				}
				name := m.names[start:len(m.names):len(m.names)]
				return name, next, nil
			}
			if off+1+l > len(b) {
				return nil, 0, ErrShort
			}
			wire += l + 1
			if wire > MaxNameLen {
				return nil, 0, ErrNameTooLong
			}
			if len(m.names) > start {
				m.names = append(m.names, '.')
			}
			m.names = append(m.names, b[off+1:off+1+l]...)
			off += 1 + l
		case 0xc0:
			if off+2 > len(b) {
				return nil, 0, ErrShort
			}
			ptr := int(be16(b[off:]) & 0x3fff)
			if next < 0 {
				next = off + 2
			}
			// A pointer to an earlier position than anything read so far
			// cannot revisit bytes of this name, so there is no loop.
			if ptr >= lowest {
				return nil, 0, ErrPointerLoop
			}
			hops++
			if hops > maxPointers {
				return nil, 0, ErrPointerLoop
			}
			lowest = ptr
			off = ptr
		default:
			// 0x40 and 0x80 label types (EDNS0 extended labels) are obsolete.
			return nil, 0, ErrName
		}
	}
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
