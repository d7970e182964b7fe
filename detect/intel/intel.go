package intel

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/dnsmsg"
	"github.com/minerwatch/minerwatch/detect/tlshello"
)

// Config holds the expiry policy of learned entries.
type Config struct {
	// DNSMinTTL and DNSMaxTTL clamp the TTL of DNS-learned addresses:
	// clients keep using an address a little past its TTL, and a huge
	// TTL from a hostile resolver should not pin an address for weeks.
	DNSMinTTL time.Duration // default 5 minutes
	DNSMaxTTL time.Duration // default 24 hours
	// ConfirmedTTL is how long an endpoint confirmed by the signature stage
	// stays listed; default 7 days.
	ConfirmedTTL time.Duration
}

func (c Config) withDefaults() Config {
	if c.DNSMinTTL <= 0 {
		c.DNSMinTTL = 5 * time.Minute
	}
	if c.DNSMaxTTL <= 0 {
		c.DNSMaxTTL = 24 * time.Hour
	}
	if c.DNSMaxTTL < c.DNSMinTTL {
		c.DNSMaxTTL = c.DNSMinTTL
	}
	if c.ConfirmedTTL <= 0 {
		c.ConfirmedTTL = 7 * 24 * time.Hour
	}
	return c
}

// Intel bundles the lists, the allowlist and the learned store, and offers
// the per-event checks the engine calls. Checks are safe for concurrent
// use (lists are read-only; the learned store locks).
type Intel struct {
	lists   []*Set
	allow   *Set
	learned *Learned
	cfg     Config
}

// New bundles lists (checked in order; the first hit wins), an allowlist
// (nil = none) and a learned store (nil = a fresh in-memory one).
func New(lists []*Set, allow *Set, learned *Learned, cfg Config) *Intel {
	if learned == nil {
		learned = NewLearned()
	}
	if allow == nil {
		allow = NewSet()
	}
	return &Intel{lists: lists, allow: allow, learned: learned, cfg: cfg.withDefaults()}
}

// Options are what `minerwatch detect --intel/--allow/--no-default-intel`
// and `minerwatch intel check` set.
type Options struct {
	// NoDefault drops the shipped default list.
	NoDefault bool
	// Lists and Allow are list files. A path may be prefixed with a format
	// name and a colon ("hosts:/etc/blocklist") to skip detection.
	Lists []string
	Allow []string
	// TTL is LoadOptions.TTL for every list.
	TTL time.Duration
	// LearnedPath is the learned store's file; "" = in memory only.
	LearnedPath string
	Config      Config
	Now         time.Time // load time; zero = time.Now()
}

// Load builds an Intel from options. Invalid list lines come back as
// warnings (each "file:line: reason"); an unreadable file is an error.
func Load(o Options) (*Intel, []Warning, error) {
	var lists []*Set
	var warns []Warning
	if !o.NoDefault {
		d, err := DefaultList()
		if err != nil {
			return nil, nil, err
		}
		lists = append(lists, d)
	}
	lo := LoadOptions{TTL: o.TTL, Now: o.Now}
	if len(o.Lists) > 0 {
		s := NewSet()
		for _, p := range o.Lists {
			res, err := s.LoadFile(SplitFormat(p, &lo))
			warns = append(warns, res.Warnings...)
			if err != nil {
				return nil, warns, err
			}
			lo.Format = ""
		}
		lists = append(lists, s)
	}
	allow := NewSet()
	for _, p := range o.Allow {
		res, err := allow.LoadFile(SplitFormat(p, &lo))
		warns = append(warns, res.Warnings...)
		if err != nil {
			return nil, warns, err
		}
		lo.Format = ""
	}
	learned := NewLearned()
	if o.LearnedPath != "" {
		var lw []Warning
		var err error
		if learned, lw, err = OpenLearned(o.LearnedPath); err != nil {
			return nil, warns, err
		}
		warns = append(warns, lw...)
	}
	return New(lists, allow, learned, o.Config), warns, nil
}

// SplitFormat splits an optional "format:" prefix off a list path and
// returns the path and options with that format set.
func SplitFormat(p string, o *LoadOptions) (string, LoadOptions) {
	if name, rest, ok := strings.Cut(p, ":"); ok && rest != "" {
		for _, f := range FormatNames() {
			if f == name {
				oo := *o
				oo.Format = name
				return rest, oo
			}
		}
	}
	return p, *o
}

// Lists returns the lists in check order (default first when loaded).
func (in *Intel) Lists() []*Set { return in.lists }

// Allow returns the allowlist.
func (in *Intel) Allow() *Set { return in.allow }

// Learned returns the learned store; call Save on it at shutdown (and now
// and then) so learned endpoints survive a restart.
func (in *Intel) Learned() *Learned { return in.learned }

// CheckFlow checks a new flow's server endpoint: the lists (kind ip), then
// the learned store (kind dns-answer or learned). The allowlist wins.
func (in *Intel) CheckFlow(client, server netip.AddrPort, now time.Time) (Hit, bool) {
	s, i, listed, allowed := in.listed(server, now)
	switch {
	case listed:
		return s.hit(i, MatchIP), true
	case allowed:
		return Hit{}, false
	}
	return in.CheckLearned(server, now)
}

// CheckFlowListed is the part of CheckFlow that reads only what does not
// change while running (the lists): the hit if a list has the endpoint
// (listed), or whether the allowlist covers it (then CheckFlow reports no
// hit, whatever the learned store says). When neither, CheckFlow's answer
// is CheckLearned's.
func (in *Intel) CheckFlowListed(server netip.AddrPort, now time.Time) (h Hit, listed, allowed bool) {
	s, i, listed, allowed := in.listed(server, now)
	if listed {
		h = s.hit(i, MatchIP)
	}
	return h, listed, allowed
}

// listed is CheckFlowListed's search: the set and record that list the
// endpoint. The address is unmapped and the time taken apart once for
// every set, and no Hit is built (zeroed, copied) per set for the new
// flows that are in none, which are nearly all.
func (in *Intel) listed(server netip.AddrPort, now time.Time) (s *Set, i int32, listed, allowed bool) {
	ip, port, t := server.Addr().Unmap(), server.Port(), now.Unix()
	if _, ok := in.allow.lookupAddr(ip, port, t); ok {
		return nil, -1, false, true
	}
	for _, s := range in.lists {
		if i, ok := s.lookupAddr(ip, port, t); ok {
			return s, i, true, false
		}
	}
	return nil, -1, false, false
}

// CheckLearned checks a new flow's server endpoint against the learned
// store only (kind dns-answer or learned); see CheckFlow.
func (in *Intel) CheckLearned(server netip.AddrPort, now time.Time) (Hit, bool) {
	if in.learned.Len() == 0 {
		return Hit{}, false // most runs learn nothing: no entry to copy out
	}
	ip, port := server.Addr(), server.Port()
	if e, ok := in.learned.Match(ip, port, now); ok {
		kind := MatchLearned
		if e.Reason == ReasonDNSAnswer {
			kind = MatchDNSAnswer
		}
		return Hit{Kind: kind, Entry: e.Key(), Source: e.Source, Domain: e.Domain, Note: learnedNote(e), Expires: e.Expires}, true
	}
	return Hit{}, false
}

// CheckDomain matches a name (a DNS name or SNI) against the lists; the
// allowlist wins. The hit's Kind is left for the caller to set.
func (in *Intel) CheckDomain(name string, now time.Time) (Hit, bool) {
	var buf [256]byte
	return in.checkName(appendName(buf[:0], name), now)
}

func (in *Intel) checkName(b []byte, now time.Time) (Hit, bool) {
	if _, ok := in.allow.matchDomain(b, now); ok {
		return Hit{}, false
	}
	for _, s := range in.lists {
		if h, ok := s.matchDomain(b, now); ok {
			return h, true
		}
	}
	return Hit{}, false
}

// DNSResult is what CheckDNS found in one message; reuse one value.
type DNSResult struct {
	// Hits are listed question names (kind dns-query; the querying host is
	// the flow's client) and listed CNAME targets of answers to unlisted
	// questions (kind dns-answer). At most one hit per name.
	Hits []Hit
	// Learned are the addresses added to the learned store from A/AAAA
	// answers of listed names (directly or through CNAMEs).
	Learned []LearnedEntry
}

// Reset empties r, keeping its buffers.
func (r *DNSResult) Reset() { r.Hits, r.Learned = r.Hits[:0], r.Learned[:0] }

// CheckDNS checks a parsed DNS message seen on a flow. Question names of
// queries and responses are matched (a host that keeps resolving pool
// names is infected even when the connection is blocked); in a successful
// response, addresses of listed names — or of names whose CNAME chain
// reaches a listed name — join the learned store with the record's TTL
// (clamped to Config), so the later connection to them is flagged as
// dns-answer naming the domain. Messages without a listed name cost no
// allocation.
func (in *Intel) CheckDNS(m *dnsmsg.Message, now time.Time, r *DNSResult) {
	in.checkDNS(m, now, r, true)
}

// CheckDNSLists is CheckDNS without the learned store: r.Learned are the
// entries CheckDNS would have offered the store (in order; AddLearned
// adds them), which is left unchanged. It reads only the lists and the
// allowlist, so several goroutines may call it at once (detect/parallel's
// workers, whose merger then adds the entries in capture order).
func (in *Intel) CheckDNSLists(m *dnsmsg.Message, now time.Time, r *DNSResult) {
	in.checkDNS(m, now, r, false)
}

// AddLearned offers entries CheckDNSLists found to the learned store, as
// CheckDNS would have, and reports how many it took.
func (in *Intel) AddLearned(entries []LearnedEntry) int {
	n := 0
	for _, e := range entries {
		if in.learned.Add(e) {
			n++
		}
	}
	return n
}

func (in *Intel) checkDNS(m *dnsmsg.Message, now time.Time, r *DNSResult, learn bool) {
	r.Reset()
	var buf [256]byte
	type tainted struct {
		name []byte
		hit  int // index in r.Hits of the hit that taints it
	}
	var taintBuf [8]tainted
	taint := taintBuf[:0]
	for _, q := range m.Questions {
		b := appendName(buf[:0], q.Name)
		h, ok := in.checkName(b, now)
		if !ok || hasQuery(r.Hits, b) {
			continue
		}
		h.Kind = MatchDNSQuery
		h.Domain = h.Query
		r.Hits = append(r.Hits, h)
		taint = append(taint, tainted{name: q.Name, hit: len(r.Hits) - 1})
	}
	if !m.Response || m.RCode != 0 || len(m.Answers) == 0 {
		return
	}
	isTainted := func(name []byte) int {
		for _, t := range taint {
			if equalFoldName(t.name, name) {
				return t.hit
			}
		}
		return -1
	}
	// Owners and CNAME targets that are listed themselves.
	for _, rr := range m.Answers {
		for _, name := range [2][]byte{rr.Name, rr.Target} {
			if len(name) == 0 || isTainted(name) >= 0 {
				continue
			}
			b := appendName(buf[:0], name)
			if h, ok := in.checkName(b, now); ok {
				h.Kind = MatchDNSAnswer
				h.Domain = h.Query
				if len(m.Questions) > 0 {
					h.Query = string(appendName(buf[:0], m.Questions[0].Name))
				}
				r.Hits = append(r.Hits, h)
				taint = append(taint, tainted{name: name, hit: len(r.Hits) - 1})
			}
		}
	}
	if len(taint) == 0 {
		return
	}
	// Follow CNAMEs forward from tainted owners (bounded: each pass taints
	// at least one more name or stops).
	for changed := true; changed; {
		changed = false
		for _, rr := range m.Answers {
			if rr.Type != dnsmsg.TypeCNAME || isTainted(rr.Target) >= 0 {
				continue
			}
			if i := isTainted(rr.Name); i >= 0 {
				taint = append(taint, tainted{name: rr.Target, hit: i})
				changed = true
			}
		}
	}
	for _, rr := range m.Answers {
		if !rr.Addr.IsValid() {
			continue
		}
		i := isTainted(rr.Name)
		if i < 0 {
			continue
		}
		if _, ok := in.allow.MatchAddr(rr.Addr, 0, now); ok {
			continue
		}
		ttl := min(max(time.Duration(rr.TTL)*time.Second, in.cfg.DNSMinTTL), in.cfg.DNSMaxTTL)
		h := &r.Hits[i]
		e := LearnedEntry{Addr: rr.Addr.Unmap(), Domain: h.Domain, Reason: ReasonDNSAnswer, Source: h.Source, Added: now, Expires: now.Add(ttl)}
		if !learn || in.learned.Add(e) {
			r.Learned = append(r.Learned, e)
		}
	}
}

func hasQuery(hits []Hit, b []byte) bool {
	for i := range hits {
		if hits[i].Query == string(b) {
			return true
		}
	}
	return false
}

// equalFoldName compares names ASCII-case-insensitively, ignoring a
// trailing dot.
func equalFoldName(a, b []byte) bool {
	a, b = bytes.TrimSuffix(a, []byte{'.'}), bytes.TrimSuffix(b, []byte{'.'})
	return bytes.EqualFold(a, b)
}

// CheckHello checks a parsed ClientHello sent to server: the SNI against
// the lists (kind sni). It always returns the TLS metadata for the alert
// (SNI, ALPN, version, JA3, JA4, and the no-SNI-to-a-non-443-port flag:
// XMRig and xmr-stak send no SNI by default, browsers always do).
func (in *Intel) CheckHello(h *tlshello.ClientHello, server netip.AddrPort, now time.Time) (*alert.TLS, Hit, bool) {
	meta := TLSMeta(h, server.Port())
	if len(h.SNI) == 0 {
		return meta, Hit{}, false
	}
	var buf [256]byte
	hit, ok := in.checkName(appendName(buf[:0], h.SNI), now)
	if ok {
		hit.Kind = MatchSNI
		hit.Domain = hit.Query
	}
	return meta, hit, ok
}

// TLSMeta returns the alert metadata of a ClientHello sent to port.
func TLSMeta(h *tlshello.ClientHello, port uint16) *alert.TLS {
	t := &alert.TLS{
		SNI:         string(h.SNI),
		Version:     tlshello.VersionName(h.MaxVersion()),
		JA3:         h.JA3(),
		JA3Hash:     h.JA3Hash(),
		JA4:         h.JA4(),
		NoSNINon443: len(h.SNI) == 0 && port != 443,
	}
	for _, p := range h.ALPN {
		t.ALPN = append(t.ALPN, string(p))
	}
	return t
}

// Confirm records that the signature stage confirmed mining on server in
// a flow from client: the endpoint joins the learned store for
// Config.ConfirmedTTL, so other hosts reaching the same pool are flagged
// (kind learned) even over TLS — but only with evidence a spoofer cannot
// give with one forged exchange: evidence from the confirming flow (e.g.
// "handshake+answer"), or a second client address confirming the same
// endpoint. Until then the confirmation is pending (see Learned.Propose)
// and Confirm reports false. domain is the pool host if known (SNI or the
// login's host), source names the confirming detector (e.g.
// "signature:cryptonote").
func (in *Intel) Confirm(server netip.AddrPort, client netip.Addr, domain, source, evidence string, now time.Time) (LearnedEntry, bool) {
	e := LearnedEntry{Addr: server.Addr().Unmap(), Port: server.Port(), Domain: domain, Reason: ReasonConfirmed,
		Source: source, Evidence: evidence, Added: now, Expires: now.Add(in.cfg.ConfirmedTTL)}
	return in.learned.Propose(e, client)
}

// Describe is a one-line summary for logs: how many entries in which lists.
func (in *Intel) Describe() string {
	var parts []string
	for _, s := range in.lists {
		parts = append(parts, fmt.Sprintf("%d entries", s.Len()))
	}
	return fmt.Sprintf("intel: lists [%s], allowlist %d, learned %d", strings.Join(parts, ", "), in.allow.Len(), in.learned.Len())
}
