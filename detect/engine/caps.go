package engine

import (
	"strconv"
	"strings"
	"time"
)

// Caps bounds the engine's tables keyed by traffic: an attacker chooses
// how many hosts, names and endpoints it shows us, so each table has a
// cap, evicts its least recently used entry past it, and counts that.
// Zero fields take DefaultCaps' values.
type Caps struct {
	// Hosts bounds the per-host summaries (`detect --summary`).
	Hosts int
	// DNSSeen bounds the (host, name) pairs of the dns-query alert
	// de-duplication; an evicted pair may alert again.
	DNSSeen int
	// IntelEndpoints bounds the listed endpoints and names whose intel
	// alert rate is tracked; an evicted one gets its summary at once.
	IntelEndpoints int
	// IntelAlerts is how many intel alerts one listed endpoint (or listed
	// name, for DNS queries and TLS/QUIC server names) may raise per
	// IntelInterval of packet time; the flows beyond are folded into one
	// intel_summary event per endpoint and interval. A SYN flood from
	// spoofed sources to a listed address would otherwise be one alert per
	// packet, a DoS on the SIEM.
	IntelAlerts int
	// IntelInterval is the rate-limit interval, in packet time.
	IntelInterval time.Duration
}

// DefaultCaps: 65,536 hosts, names and endpoints; 100 intel alerts per
// listed endpoint per minute.
func DefaultCaps() Caps {
	return Caps{Hosts: 1 << 16, DNSSeen: 1 << 16, IntelEndpoints: 1 << 16, IntelAlerts: 100, IntelInterval: time.Minute}
}

func (c Caps) withDefaults() Caps {
	d := DefaultCaps()
	if c.Hosts <= 0 {
		c.Hosts = d.Hosts
	}
	if c.DNSSeen <= 0 {
		c.DNSSeen = d.DNSSeen
	}
	if c.IntelEndpoints <= 0 {
		c.IntelEndpoints = d.IntelEndpoints
	}
	if c.IntelAlerts <= 0 {
		c.IntelAlerts = d.IntelAlerts
	}
	if c.IntelInterval <= 0 {
		c.IntelInterval = d.IntelInterval
	}
	return c
}

// Capped counts what the bounded tables dropped or folded.
type Capped struct {
	HostsEvicted          int64 // per-host summaries evicted (the host may come back, with its history lost)
	DNSSeenEvicted        int64 // (host, name) de-duplication pairs evicted
	IntelEndpointsEvicted int64 // rate-limited endpoints evicted (their summary was emitted early)
	IntelSuppressed       int64 // intel alerts folded into summaries
	IntelSummaries        int64 // intel_summary events emitted
	// LearnedRefused counts DNS-learned intel entries refused because the
	// learned list was full (its cap is intel.MaxLearned; the list may be
	// shared by several engines, so this is the list's count, not a share).
	LearnedRefused int64
	// LearnedPendingEvicted counts signature-confirmed pools dropped from
	// the pending list (not yet trusted: see intel.Learned.Propose) to
	// stay within its cap; like LearnedRefused, the list's own count.
	LearnedPendingEvicted int64
}

// Drops summarises, in one line for stderr, everything a run evicted,
// dropped or folded because a bound was reached; "" when nothing was. An
// operator sees it at the end of every run, not only with --stats.
func (s *Stats) Drops() string {
	var parts []string
	add := func(n int64, what string) {
		if n > 0 {
			parts = append(parts, strconv.FormatInt(n, 10)+" "+what)
		}
	}
	if d := s.Flows.Drops(); d != "" {
		parts = append(parts, strings.TrimPrefix(d, "capped: "))
	}
	add(s.Budget.RefusedBytes, "stream bytes not reassembled (reassembly budget full)")
	add(s.Capped.HostsEvicted, "host summaries evicted")
	add(s.Capped.DNSSeenEvicted, "DNS de-duplication entries evicted")
	add(s.Capped.IntelEndpointsEvicted, "intel rate-limit entries evicted")
	add(s.Capped.LearnedRefused, "DNS-learned intel entries refused (learned list full)")
	add(s.Capped.LearnedPendingEvicted, "pending learned pools evicted (pending list full)")
	if s.Capped.IntelSuppressed > 0 {
		parts = append(parts, strconv.FormatInt(s.Capped.IntelSuppressed, 10)+" intel alerts folded into "+
			strconv.FormatInt(s.Capped.IntelSummaries, 10)+" intel_summary events")
	}
	if len(parts) == 0 {
		return ""
	}
	return "capped: " + strings.Join(parts, ", ")
}

// Add adds the counters of s, another engine's, to t: the totals of
// several engines working on one capture (offline --workers, online
// workers) for `detect --stats`, the end-of-run report and its warnings.
// Counts of the learned list, which the engines share, are not summed.
func (t *Stats) Add(s Stats) {
	t.Flows.Packets += s.Flows.Packets
	t.Flows.NoPorts += s.Flows.NoPorts
	t.Flows.FlowsCreated += s.Flows.FlowsCreated
	t.Flows.Evicted += s.Flows.Evicted
	t.Flows.Active += s.Flows.Active
	t.Flows.MaxActive += s.Flows.MaxActive
	for i := range t.Flows.FlowsEnded {
		t.Flows.FlowsEnded[i] += s.Flows.FlowsEnded[i]
	}
	if t.Alerts == nil && len(s.Alerts) > 0 {
		t.Alerts = map[string]int64{}
	}
	for k, v := range s.Alerts {
		t.Alerts[k] += v
	}
	t.Signature.Add(s.Signature)
	t.Budget.Max += s.Budget.Max
	t.Budget.InUse += s.Budget.InUse
	t.Budget.Peak += s.Budget.Peak // an upper bound: the workers' peaks need not coincide
	t.Budget.RefusedBytes += s.Budget.RefusedBytes
	t.DNSParsed += s.DNSParsed
	t.DNSErrors += s.DNSErrors
	t.TLSHellos += s.TLSHellos
	t.Scored += s.Scored
	t.ScoreNanos += s.ScoreNanos
	t.PeriodsSkipped += s.PeriodsSkipped
	t.PeriodsComputed += s.PeriodsComputed
	t.PeriodNanos += s.PeriodNanos
	t.Earned += s.Earned
	c, d := &t.Capped, s.Capped
	c.HostsEvicted += d.HostsEvicted
	c.DNSSeenEvicted += d.DNSSeenEvicted
	c.IntelEndpointsEvicted += d.IntelEndpointsEvicted
	c.IntelSuppressed += d.IntelSuppressed
	c.IntelSummaries += d.IntelSummaries
	c.LearnedRefused = max(c.LearnedRefused, d.LearnedRefused) // the shared list's count, not a share
	c.LearnedPendingEvicted = max(c.LearnedPendingEvicted, d.LearnedPendingEvicted)
}
