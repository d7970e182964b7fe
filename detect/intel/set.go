package intel

import (
	"iter"
	"net/netip"
	"slices"
	"time"
)

// Set is a collection of entries from one or more sources, indexed for
// constant-time lookups: exact addresses in a hash map, CIDRs in one hash
// map per prefix length present (a lookup masks the address once per
// length, longest first: at most 33 probes for IPv4, 129 for IPv6, in
// practice a handful), and domains in hash maps keyed by name, probed once
// per label of the queried name.
//
// A Set is built by Add/Load and then only read: lookups from many
// goroutines need no lock, but Add must not run concurrently with them.
type Set struct {
	recs    []rec
	sources []string
	srcIdx  map[string]uint32

	addrs    map[addrKey]int32
	prefixes map[prefixKey]int32
	bits4    []uint8 // distinct CIDR lengths present, descending
	bits6    []uint8
	suffix   map[string]int32
	exact    map[string]int32
}

// rec is an entry in compact form; entries with the same key chain
// through next so each keeps its own source and expiry.
type rec struct {
	kind    Kind
	port    uint16
	src     uint32
	next    int32 // index of the next entry with the same key, -1 at the end
	expires int64 // unix seconds, 0 = never
	prefix  netip.Prefix
	domain  string
	note    string
}

type addrKey struct {
	ip   [16]byte
	port uint16
}

type prefixKey struct {
	ip   [16]byte
	bits uint8 // in-family length; ip tells the family (IPv4 is ::ffff:0:0/96)
	port uint16
}

// NewSet returns an empty set.
func NewSet() *Set {
	return &Set{
		srcIdx:   map[string]uint32{},
		addrs:    map[addrKey]int32{},
		prefixes: map[prefixKey]int32{},
		suffix:   map[string]int32{},
		exact:    map[string]int32{},
	}
}

// Len is the number of entries.
func (s *Set) Len() int { return len(s.recs) }

// Add inserts e. An entry with the same value and source replaces the
// earlier one; with another source it is kept beside it.
func (s *Set) Add(e Entry) {
	src, ok := s.srcIdx[e.Source]
	if !ok {
		src = uint32(len(s.sources))
		s.sources = append(s.sources, e.Source)
		s.srcIdx[e.Source] = src
	}
	r := rec{kind: e.Kind, port: e.Port, src: src, next: -1, prefix: e.Prefix, domain: e.Domain, note: e.Note}
	if !e.Expires.IsZero() {
		r.expires = e.Expires.Unix()
	}
	switch e.Kind {
	case KindAddr:
		k := addrKey{ip: e.Prefix.Addr().As16(), port: e.Port}
		s.addrs[k] = chain(s, s.addrs, k, r)
	case KindCIDR:
		a := e.Prefix.Addr()
		k := prefixKey{ip: a.As16(), bits: uint8(e.Prefix.Bits()), port: e.Port}
		s.prefixes[k] = chain(s, s.prefixes, k, r)
		if a.Is4() {
			s.bits4 = addBits(s.bits4, k.bits)
		} else {
			s.bits6 = addBits(s.bits6, k.bits)
		}
	case KindSuffix:
		s.suffix[e.Domain] = chain(s, s.suffix, e.Domain, r)
	case KindExact:
		s.exact[e.Domain] = chain(s, s.exact, e.Domain, r)
	}
}

// chain returns the head index for key after adding r.
func chain[K comparable](s *Set, m map[K]int32, k K, r rec) int32 {
	head, ok := m[k]
	if ok {
		for i := head; i >= 0; i = s.recs[i].next {
			if s.recs[i].src == r.src {
				r.next = s.recs[i].next
				s.recs[i] = r
				return head
			}
		}
		r.next = head
	}
	s.recs = append(s.recs, r)
	return int32(len(s.recs) - 1)
}

func addBits(l []uint8, b uint8) []uint8 {
	if slices.Contains(l, b) {
		return l
	}
	l = append(l, b)
	slices.SortFunc(l, func(x, y uint8) int { return int(y) - int(x) })
	return l
}

// All yields every entry in insertion order.
func (s *Set) All() iter.Seq[Entry] {
	return func(yield func(Entry) bool) {
		for i := range s.recs {
			if !yield(s.entry(int32(i))) {
				return
			}
		}
	}
}

func (s *Set) entry(i int32) Entry {
	r := &s.recs[i]
	e := Entry{Kind: r.kind, Port: r.port, Prefix: r.prefix, Domain: r.domain, Source: s.sources[r.src], Note: r.note}
	if r.expires != 0 {
		e.Expires = time.Unix(r.expires, 0).UTC()
	}
	return e
}

// live returns the first unexpired entry of a chain.
func (s *Set) live(head int32, now int64) (int32, bool) {
	for i := head; i >= 0; i = s.recs[i].next {
		if x := s.recs[i].expires; x == 0 || now < x {
			return i, true
		}
	}
	return -1, false
}

// MatchAddr looks ip (and port) up: exact address with this port, exact
// address with any port, then CIDRs longest first. Expired entries do not
// match. The hit's Kind is MatchIP.
func (s *Set) MatchAddr(ip netip.Addr, port uint16, now time.Time) (Hit, bool) {
	i, ok := s.lookupAddr(ip.Unmap(), port, now.Unix())
	if !ok {
		return Hit{}, false
	}
	return s.hit(i, MatchIP), true
}

// lookupAddr is MatchAddr's search for an unmapped ip at Unix second t:
// the matching record's index. Building the Hit is left to the caller
// that found one (a new flow's check, which mostly finds none, then
// neither zeroes nor copies one per set).
func (s *Set) lookupAddr(ip netip.Addr, port uint16, t int64) (int32, bool) {
	if s == nil || len(s.recs) == 0 {
		return -1, false
	}
	if len(s.addrs) > 0 {
		a16 := ip.As16()
		for _, p := range [2]uint16{port, 0} {
			if head, ok := s.addrs[addrKey{ip: a16, port: p}]; ok {
				if i, ok := s.live(head, t); ok {
					return i, true
				}
			}
			if port == 0 {
				break
			}
		}
	}
	bits := s.bits6
	if ip.Is4() {
		bits = s.bits4
	}
	for _, b := range bits {
		p, err := ip.Prefix(int(b))
		if err != nil {
			continue
		}
		k := prefixKey{ip: p.Addr().As16(), bits: b}
		for _, pt := range [2]uint16{port, 0} {
			k.port = pt
			if head, ok := s.prefixes[k]; ok {
				if i, ok := s.live(head, t); ok {
					return i, true
				}
			}
			if port == 0 {
				break
			}
		}
	}
	return -1, false
}

// MatchDomain looks a DNS name or SNI up: case-insensitive, trailing dot
// ignored. An exact ("^") entry matches the name alone; a suffix entry
// matches the name and every name below it on a label boundary
// ("hoo.com" matches "pool.hoo.com", not "yahoo.com"). The most specific
// match wins. The hit's Kind is left empty for the caller (dns-query or
// sni) and Query is the normalised name.
func (s *Set) MatchDomain(name string, now time.Time) (Hit, bool) {
	var buf [256]byte
	return s.matchDomain(appendName(buf[:0], name), now)
}

// appendName appends the lowercase name without its trailing dot.
func appendName[T string | []byte](dst []byte, name T) []byte {
	n := len(name)
	if n > 0 && name[n-1] == '.' {
		n--
	}
	for i := 0; i < n; i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// matchDomain does the lookups on a normalised name; the map index
// expressions with string(b) do not allocate.
func (s *Set) matchDomain(b []byte, now time.Time) (Hit, bool) {
	if s == nil || len(b) == 0 || (len(s.exact) == 0 && len(s.suffix) == 0) {
		return Hit{}, false
	}
	t := now.Unix()
	if head, ok := s.exact[string(b)]; ok {
		if i, ok := s.live(head, t); ok {
			h := s.hit(i, "")
			h.Query = string(b)
			return h, true
		}
	}
	for off := 0; off < len(b); {
		if head, ok := s.suffix[string(b[off:])]; ok {
			if i, ok := s.live(head, t); ok {
				h := s.hit(i, "")
				h.Query = string(b)
				return h, true
			}
		}
		dot := indexByte(b[off:], '.')
		if dot < 0 {
			break
		}
		off += dot + 1
	}
	return Hit{}, false
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func (s *Set) hit(i int32, kind MatchKind) Hit {
	e := s.entry(i)
	return Hit{Kind: kind, Entry: e.Value(), Source: e.Source, Note: e.Note, Expires: e.Expires}
}
