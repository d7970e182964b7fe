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

	"github.com/minerwatch/minerwatch/detect/alert"
)

// HostSummary is what minerwatch knows about one infected host.
type HostSummary struct {
	Host      netip.Addr
	Pools     map[string]bool // server ip:port, with the pool host when known
	Dialects  map[string]bool
	Detectors map[string]bool
	First     time.Time
	Last      time.Time
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

func (e *Engine) updateHost(a *alert.Alert) {
	ip, err := netip.ParseAddr(a.SrcIP)
	if err != nil {
		return
	}
	h, ok := e.hosts.Get(ip)
	if !ok {
		// Bounded: past Caps.Hosts the least recently alerting host goes
		// (counted), so a spoofed flood cannot grow the summary.
		h = &HostSummary{Host: ip, Pools: map[string]bool{}, Detectors: map[string]bool{},
			First: a.Timestamp, Last: a.Timestamp}
		e.hosts.Put(ip, h)
	}
	if a.Timestamp.Before(h.First) {
		h.First = a.Timestamp
	}
	if a.Timestamp.After(h.Last) {
		h.Last = a.Timestamp
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

// WriteSummary prints the per-host table of `detect --summary`.
func WriteSummary(w io.Writer, hosts []*HostSummary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tDETECTORS\tDIALECT\tPOOLS\tFIRST SEEN\tLAST SEEN\tSHARES\tHASHRATE")
	for _, h := range hosts {
		pools := keys(h.Pools)
		if h.MorePools > 0 {
			pools += " and " + strconv.Itoa(h.MorePools) + " more"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", h.Host, keys(h.Detectors), keys(h.Dialects), pools,
			h.First.UTC().Format(time.RFC3339), h.Last.UTC().Format(time.RFC3339), h.Shares, humanRate(h.HashrateHs))
	}
	tw.Flush()
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
