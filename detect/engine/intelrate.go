package engine

import (
	"math"
	"math/bits"
	"net/netip"
	"strconv"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/internal/lru"
	"github.com/minerwatch/minerwatch/internal/splitmix"
)

// intelKey is what intel alerts are rate-limited by: the listed server
// endpoint of a flow, or the listed name of a DNS query.
type intelKey struct {
	addr netip.AddrPort
	name string
}

// intelWindow is one endpoint's current rate-limit interval.
type intelWindow struct {
	start      time.Time // interval start (packet time)
	last       time.Time // last hit
	alerted    int
	suppressed int64
	hit        intel.Hit // the last hit, for the summary's intel object
	sources    *sourceSketch
}

// intelLimits holds the intel state that crosses flows: the intel alert
// rate limits per listed endpoint or name and the dns-query
// de-duplication. A lone engine has its own; the engines of a parallel
// run leave every decision on it to one Decider.
type intelLimits struct {
	caps   Caps
	sensor *alert.Sensor
	rate   *lru.Map[intelKey, *intelWindow]
	// dnsSeen de-duplicates dns-query alerts per (host, name): a host that
	// resolves a pool name every minute is one finding, not a flood.
	dnsSeen               *lru.Map[dnsKey, time.Time]
	suppressed, summaries int64
	// out receives the intel_summary events; capture names the input then.
	out     func(*alert.Alert)
	capture func() string
}

func newIntelLimits(caps Caps, sensor *alert.Sensor, out func(*alert.Alert), capture func() string) *intelLimits {
	l := &intelLimits{caps: caps, sensor: sensor, out: out, capture: capture,
		rate: lru.New[intelKey, *intelWindow](caps.IntelEndpoints), dnsSeen: lru.New[dnsKey, time.Time](caps.DNSSeen)}
	l.rate.OnEvict = l.summary
	return l
}

// dnsFirst reports whether host's query of name at now is not a repeat
// within dnsRepeat, and remembers it.
func (l *intelLimits) dnsFirst(host netip.Addr, name string, now time.Time) bool {
	key := dnsKey{host: host, name: name}
	if last, ok := l.dnsSeen.Get(key); ok && now.Sub(last) < dnsRepeat {
		return false
	}
	l.dnsSeen.Put(key, now)
	return true
}

// allowed accounts one intel hit of key from src at now and reports
// whether it may raise an alert; the hits beyond Caps.IntelAlerts in an
// interval are counted and summarised when the interval closes.
func (l *intelLimits) allowed(key intelKey, src netip.Addr, h *intel.Hit, now time.Time) bool {
	w, ok := l.rate.Get(key)
	interval := l.caps.IntelInterval
	if ok && now.Sub(w.start) >= interval {
		l.summary(key, w)
		w.start, w.alerted, w.suppressed = now, 0, 0
		if w.sources != nil {
			*w.sources = sourceSketch{}
		}
	}
	if !ok {
		w = &intelWindow{start: now}
		l.rate.Put(key, w)
	}
	if now.After(w.last) {
		w.last = now
	}
	if w.alerted < l.caps.IntelAlerts {
		w.alerted++
		return true
	}
	w.suppressed++
	w.hit = *h
	if w.sources == nil {
		w.sources = &sourceSketch{}
	}
	w.sources.add(src)
	l.suppressed++
	return false
}

// sweep emits the summaries of intervals that ended before now (all
// of them when now is zero: end of input).
func (l *intelLimits) sweep(now time.Time) {
	interval := l.caps.IntelInterval
	var done []intelKey
	l.rate.Each(func(k intelKey, w *intelWindow) bool {
		if w.suppressed > 0 && (now.IsZero() || now.Sub(w.start) >= interval) {
			done = append(done, k)
		}
		return true
	})
	for _, k := range done {
		w, _ := l.rate.Peek(k)
		l.summary(k, w)
		w.suppressed = 0
		if w.sources != nil {
			*w.sources = sourceSketch{}
		}
	}
}

// summary emits the intel_summary event of w's interval, if it
// folded any alert.
func (l *intelLimits) summary(k intelKey, w *intelWindow) {
	if w.suppressed == 0 {
		return
	}
	l.summaries++
	end := w.start.Add(l.caps.IntelInterval)
	what := k.name
	capture := ""
	if l.capture != nil {
		capture = l.capture()
	}
	a := &alert.Alert{Timestamp: w.last, EventType: alert.EventIntelSummary, Detector: alert.DetectorIntel,
		Confidence: intelConfidence(w.hit.Kind), Intel: w.hit.Alert(), Host: l.sensor.Host, Live: l.sensor.Live, Capture: capture}
	if k.addr.IsValid() {
		what = k.addr.String()
		a.DestIP, a.DestPort, a.Proto = k.addr.Addr().String(), k.addr.Port(), "TCP"
	}
	sources := w.sources.count()
	a.Summary = &alert.Summary{IntervalStart: w.start, IntervalEnd: end, Alerted: w.alerted,
		Suppressed: w.suppressed, Sources: sources, Limit: l.caps.IntelAlerts}
	a.Reason = strconv.FormatInt(w.suppressed, 10) + " more flows from about " + strconv.FormatInt(sources, 10) +
		" sources matched listed " + what + " (" + w.hit.Entry + ") after " + strconv.Itoa(w.alerted) +
		" alerts in this interval; not alerted one by one"
	l.out(a)
}

// capped fills the counters of the limits' tables into c.
func (l *intelLimits) capped(c *Capped) {
	c.DNSSeenEvicted = l.dnsSeen.Evicted()
	c.IntelEndpointsEvicted = l.rate.Evicted()
	c.IntelSuppressed = l.suppressed
	c.IntelSummaries = l.summaries
}

// sourceSketch estimates the distinct source addresses of the folded
// flows in 256 bytes (HyperLogLog, 256 registers: about 6.5 % error),
// exact enough to tell one noisy host from a spoofed flood.
type sourceSketch [256]uint8

func (s *sourceSketch) add(a netip.Addr) {
	b := a.As16()
	hi := uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 | uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
	lo := uint64(b[8])<<56 | uint64(b[9])<<48 | uint64(b[10])<<40 | uint64(b[11])<<32 | uint64(b[12])<<24 | uint64(b[13])<<16 | uint64(b[14])<<8 | uint64(b[15])
	x := splitmix.Mix(hi ^ splitmix.Mix(lo))
	i := x >> 56
	r := uint8(bits.LeadingZeros64(x<<8|1<<7)) + 1
	if r > s[i] {
		s[i] = r
	}
}

// count returns the estimate (0 for a nil sketch).
func (s *sourceSketch) count() int64 {
	if s == nil {
		return 0
	}
	const m = 256.0
	sum, zeros := 0.0, 0
	for _, r := range s {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		est = m * math.Log(m/float64(zeros)) // linear counting for small sets
	}
	return int64(math.Round(est))
}
