package intel

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Kind says what an entry matches.
type Kind uint8

const (
	// KindAddr is one IP address (optionally with a port).
	KindAddr Kind = iota + 1
	// KindCIDR is an address prefix (optionally with a port).
	KindCIDR
	// KindSuffix is a domain and every name below it, on label boundaries.
	KindSuffix
	// KindExact is one domain name only; written "^name".
	KindExact
)

// String returns the kind's name as used in the CSV "type" column.
func (k Kind) String() string {
	switch k {
	case KindAddr:
		return "ip"
	case KindCIDR:
		return "cidr"
	case KindSuffix:
		return "domain"
	case KindExact:
		return "exact"
	}
	return "unknown"
}

// IsDomain reports whether the kind matches names rather than addresses.
func (k Kind) IsDomain() bool { return k == KindSuffix || k == KindExact }

// Entry is one indicator of a list.
type Entry struct {
	Kind Kind
	// Prefix is the address (a full-length prefix) or CIDR of an address
	// entry, masked, with IPv4-mapped IPv6 addresses unmapped.
	Prefix netip.Prefix
	// Port restricts an address entry to one destination port; 0 = any.
	// On a domain entry it only documents the pool's port (DNS and SNI
	// carry no port).
	Port uint16
	// Domain is the lowercase name of a domain entry, without trailing dot.
	Domain string

	Source  string    // the list (or feed) the entry came from
	Expires time.Time // zero = never
	Note    string    // free text: reference URL, pool name…
}

// Value returns the entry in list syntax: "1.2.3.4", "1.2.3.4:3333",
// "[2001:db8::1]:3333", "10.0.0.0/8", "10.0.0.0/8:3333", "pool.x.com",
// "^pool.x.com". ParseValue(e.Value()) gives the entry back.
func (e Entry) Value() string {
	switch e.Kind {
	case KindSuffix:
		return e.Domain
	case KindExact:
		return "^" + e.Domain
	}
	var s string
	if e.Kind == KindAddr {
		s = e.Prefix.Addr().String()
	} else {
		s = e.Prefix.String()
	}
	if e.Port == 0 {
		return s
	}
	if e.Prefix.Addr().Is6() {
		s = "[" + s + "]"
	}
	return s + ":" + strconv.Itoa(int(e.Port))
}

// Expired reports whether the entry no longer matches at now.
func (e Entry) Expired(now time.Time) bool { return !e.Expires.IsZero() && !now.Before(e.Expires) }

// ParseValue parses one indicator in list syntax: an IP, IP:port,
// [IPv6]:port, CIDR, CIDR:port, a domain (suffix match; a leading "*." or
// "." is accepted and dropped), "^domain" (exact match), domain:port, or a
// URL without a path (its host is the indicator). Source, Expires and Note
// are left empty.
func ParseValue(s string) (Entry, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Entry{}, errors.New("empty value")
	}
	if strings.Contains(s, "://") {
		return parseURL(s)
	}
	if rest, ok := strings.CutPrefix(s, "^"); ok {
		d, err := parseDomain(rest, true)
		if err != nil {
			return Entry{}, err
		}
		return Entry{Kind: KindExact, Domain: d}, nil
	}
	host, port := s, uint16(0)
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return Entry{}, fmt.Errorf("%q: missing ']'", s)
		}
		host = s[1:end]
		if rest := s[end+1:]; rest != "" {
			p, err := parsePort(strings.TrimPrefix(rest, ":"))
			if err != nil || !strings.HasPrefix(rest, ":") {
				return Entry{}, fmt.Errorf("%q: bad port after ']'", s)
			}
			port = p
		}
	case strings.Count(s, ":") == 1:
		i := strings.IndexByte(s, ':')
		p, err := parsePort(s[i+1:])
		if err != nil {
			return Entry{}, fmt.Errorf("%q: %w", s, err)
		}
		host, port = s[:i], p
	}
	e, err := parseHost(host)
	if err != nil {
		return Entry{}, err
	}
	e.Port = port
	return e, nil
}

func parseHost(h string) (Entry, error) {
	if strings.Contains(h, "/") {
		p, err := netip.ParsePrefix(h)
		if err != nil {
			return Entry{}, fmt.Errorf("bad CIDR %q", h)
		}
		a := p.Addr()
		bits := p.Bits()
		if a.Is4In6() {
			if bits < 96 {
				return Entry{}, fmt.Errorf("bad CIDR %q: mapped prefix shorter than /96", h)
			}
			a, bits = a.Unmap(), bits-96
		}
		if min := minPrefixBits(a); bits < min {
			// A /0 (or any very short prefix) in a pool list matches most
			// of the Internet: one careless or hostile list line would
			// turn every flow into an alert (or, in an allowlist, silence
			// every alert). No mining pool needs more than a /8 or /16.
			return Entry{}, fmt.Errorf("CIDR %q is too broad: prefixes shorter than /%d are refused", h, min)
		}
		p = netip.PrefixFrom(a, bits).Masked()
		if bits == a.BitLen() {
			return Entry{Kind: KindAddr, Prefix: p}, nil
		}
		return Entry{Kind: KindCIDR, Prefix: p}, nil
	}
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" {
			return Entry{}, fmt.Errorf("address %q has a zone", h)
		}
		a = a.Unmap()
		return Entry{Kind: KindAddr, Prefix: netip.PrefixFrom(a, a.BitLen())}, nil
	}
	if strings.Contains(h, ":") {
		return Entry{}, fmt.Errorf("bad IPv6 address %q", h)
	}
	d, err := parseDomain(h, false)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Kind: KindSuffix, Domain: d}, nil
}

// minPrefixBits is the shortest CIDR accepted for an address family: /8
// for IPv4 (a class A), /16 for IPv6 (shorter than a regional registry's
// allocation).
func minPrefixBits(a netip.Addr) int {
	if a.Is4() {
		return 8
	}
	return 16
}

func parseURL(s string) (Entry, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return Entry{}, fmt.Errorf("bad URL %q", s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return Entry{}, fmt.Errorf("URL %q has a path: only hosts and addresses are matched", s)
	}
	e, err := parseHost(u.Hostname())
	if err != nil {
		return Entry{}, err
	}
	if p := u.Port(); p != "" {
		if e.Port, err = parsePort(p); err != nil {
			return Entry{}, fmt.Errorf("URL %q: %w", s, err)
		}
	}
	return e, nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return uint16(n), nil
}

// parseDomain lowercases and checks a name. A one-label suffix ("com")
// would match a whole TLD, so it is refused unless exact.
func parseDomain(s string, exact bool) (string, error) {
	orig := s
	if !exact {
		s = strings.TrimPrefix(strings.TrimPrefix(s, "*"), ".")
	}
	s = strings.ToLower(strings.TrimSuffix(s, "."))
	if s == "" || len(s) > 253 {
		return "", fmt.Errorf("bad domain %q: length", orig)
	}
	labels, allDigits := 0, true
	for _, l := range strings.Split(s, ".") {
		labels++
		if l == "" || len(l) > 63 {
			return "", fmt.Errorf("bad domain %q: empty or long label", orig)
		}
		digits := true
		for i := 0; i < len(l); i++ {
			c := l[i]
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c == '-', c == '_':
				digits = false
			default:
				return "", fmt.Errorf("bad domain %q: character %q", orig, c)
			}
		}
		allDigits = allDigits && digits
	}
	if allDigits {
		return "", fmt.Errorf("bad address %q", orig)
	}
	if labels == 1 && !exact {
		return "", fmt.Errorf("one-label domain %q would match a whole top-level domain (write ^%s for the name alone)", orig, orig)
	}
	return s, nil
}
