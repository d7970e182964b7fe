package engine

import (
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/internal/lru"
)

// HostSummary is what minerwatch knows about one infected host.
type HostSummary struct {
	Host      netip.Addr
	Pools     map[string]bool // server ip:port, with the pool host when known
	Dialects  map[string]bool
	Detectors map[string]bool
	// Captures names the input files (or interfaces) the host's alerts
	// came from, at most MaxCapturesPerHost of them.
	Captures map[string]bool
	// First and Last span the host's alerted flows: the first packet of
	// the earliest to the last packet of the latest (a model alert fires
	// at a checkpoint, but its flow may run on for twenty minutes).
	First time.Time
	Last  time.Time
	// Shares and HashrateHs sum the final counts of the host's mining flows.
	Shares     int
	HashrateHs float64
	// MorePools counts the alerts that named a pool beyond
	// MaxPoolsPerHost (not kept, so not de-duplicated): a host scanning a
	// listed range would otherwise grow Pools without bound.
	MorePools  int
	flowShares map[uint64]int // latest counts of the host's open mining flows
	flowRate   map[uint64]float64
}

// MaxPoolsPerHost bounds a host's Pools set.
const MaxPoolsPerHost = 64

// MaxCapturesPerHost bounds a host's Captures set: a week of rotated
// capture files would otherwise make one row as long as a directory listing.
const MaxCapturesPerHost = 16

func (e *Engine) updateHost(a *alert.Alert) { addToHosts(e.hosts, a) }

func addToHosts(hosts *lru.Map[netip.Addr, *HostSummary], a *alert.Alert) {
	ip, err := netip.ParseAddr(a.SrcIP)
	if err != nil {
		return
	}
	h, ok := hosts.Get(ip)
	if !ok {
		// Bounded: past Caps.Hosts the least recently alerting host goes
		// (counted), so a spoofed flood cannot grow the summary.
		h = &HostSummary{Host: ip, Pools: map[string]bool{}, Detectors: map[string]bool{},
			Captures: map[string]bool{}, First: a.Timestamp, Last: a.Timestamp}
		hosts.Put(ip, h)
	}
	h.seen(a.Timestamp)
	if a.Flow != nil && !a.Flow.Start.IsZero() {
		h.seen(a.Flow.Start)
	}
	if a.Capture != "" && (h.Captures[a.Capture] || len(h.Captures) < MaxCapturesPerHost) {
		h.Captures[a.Capture] = true
	}
	h.Detectors[a.Detector] = true
	pool := netip.AddrPortFrom(netip.MustParseAddr(a.DestIP), a.DestPort).String()
	if a.Proxy != nil {
		pool = a.Proxy.TargetHost + ":" + strconv.Itoa(int(a.Proxy.TargetPort)) + " via " + pool
	}
	if a.Intel != nil && a.Intel.Match == "dns-query" {
		pool = a.Intel.Query + " (DNS)"
	}
	if a.Mining != nil {
		if a.Mining.PoolHost != "" && a.Proxy == nil {
			pool += " (" + a.Mining.PoolHost + ")"
		}
		if h.Dialects == nil { // mining metadata: allocated for the hosts that have it
			h.Dialects, h.flowShares, h.flowRate = map[string]bool{}, map[uint64]int{}, map[uint64]float64{}
		}
		h.Dialects[a.Mining.Dialect] = true
		// Replace this flow's previous counts in the running totals (a
		// host may have thousands of flows; no re-summing per alert).
		h.Shares += a.Mining.SharesAccepted - h.flowShares[a.FlowID]
		h.HashrateHs += a.Mining.HashrateHs - h.flowRate[a.FlowID]
		if a.EventType == alert.EventFlow {
			// The flow's last event: its counts stay in the totals, its
			// entry goes (a miner reconnecting for a week is not a
			// thousand entries).
			delete(h.flowShares, a.FlowID)
			delete(h.flowRate, a.FlowID)
		} else {
			h.flowShares[a.FlowID] = a.Mining.SharesAccepted
			h.flowRate[a.FlowID] = a.Mining.HashrateHs
		}
	}
	switch {
	case h.Pools[pool]:
	case len(h.Pools) < MaxPoolsPerHost:
		h.Pools[pool] = true
	default:
		h.MorePools++
	}
}

// seen widens the host's First..Last span to t.
func (h *HostSummary) seen(t time.Time) {
	if t.Before(h.First) {
		h.First = t
	}
	if t.After(h.Last) {
		h.Last = t
	}
}

// alertedFlowEnded extends the span of the flow's client to the flow's
// last packet when a stage other than the signature one alerted on it
// (those alerts always name the client as the source; a signature flow
// gets its own end event, which updateHost sees).
func (e *Engine) alertedFlowEnded(fi *FlowInfo, client netip.Addr, last time.Time) {
	// Most flows never alerted: one test of the bits, not two searches
	// of the detector names.
	if fi.alerted == 0 || !fi.AlertedBy(alert.DetectorModel) && !fi.AlertedBy(alert.DetectorIntel) {
		return
	}
	if h, ok := e.hosts.Get(client); ok {
		h.seen(last)
	}
}

func keys(m map[string]bool) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ", ")
}

// maxCaptureColumn is the width in runes past which the CAPTURE column
// counts names instead of listing them.
const maxCaptureColumn = 40

// WriteSummary prints the per-host table of `detect --summary`; with no
// host, one line saying how much was looked at (flows, packets), so a
// clean capture does not read as a bare header.
func WriteSummary(w io.Writer, hosts []*HostSummary, flows, packets int64) {
	if len(hosts) == 0 {
		fmt.Fprintf(w, "no mining found in %s (%s)\n", count(flows, "flow"), count(packets, "packet"))
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tDETECTORS\tDIALECT\tPOOLS\tCAPTURE\tFIRST SEEN\tLAST SEEN\tSHARES\tHASHRATE")
	for _, h := range hosts {
		pools := keys(h.Pools)
		if h.MorePools > 0 {
			pools += " and " + strconv.Itoa(h.MorePools) + " more"
		}
		// Shares are counted by the signature stage only: a host the
		// model or intel alone flagged has an unknown count, not zero.
		shares := "-"
		if len(h.Dialects) > 0 {
			shares = strconv.Itoa(h.Shares)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Host, keys(h.Detectors), keys(h.Dialects), pools,
			capturesColumn(h.Captures, maxCaptureColumn),
			h.First.UTC().Format(time.RFC3339), h.Last.UTC().Format(time.RFC3339), shares, humanRate(h.HashrateHs))
	}
	tw.Flush()
}

// capturesColumn joins the sorted capture names while they fit in n
// runes and counts the rest ("a.pcap, b.pcap and 3 more"): a cut name
// is no use to look up, a count says there is more to see in the alerts.
func capturesColumn(m map[string]bool, n int) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	if len(names) == 0 {
		return "-"
	}
	sort.Strings(names)
	out, width := names[0], utf8.RuneCountInString(names[0])
	for i, name := range names[1:] {
		w := utf8.RuneCountInString(name) + 2
		if width+w > n {
			return out + " and " + strconv.Itoa(len(names)-1-i) + " more"
		}
		out += ", " + name
		width += w
	}
	return out
}

// count says "1 flow", "2 flows".
func count(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}

func humanRate(hs float64) string {
	if hs <= 0 {
		return "-"
	}
	units := []string{"H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s"}
	i := 0
	for hs >= 1000 && i < len(units)-1 {
		hs /= 1000
		i++
	}
	return strconv.FormatFloat(hs, 'f', 1, 64) + " " + units[i]
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }
