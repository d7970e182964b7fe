package online

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/internal/lru"
)

// HostState is the live view of one alerting host, built from the merged
// alert stream (workers' engines are not shared, so the view is kept
// here rather than read from them).
type HostState struct {
	Host      string    `json:"host"`
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
	Alerts    int       `json:"alerts"`
	Detectors []string  `json:"detectors"`
	Pools     []string  `json:"pools"`
	Dialects  []string  `json:"dialects,omitempty"`
	// Shares and HashrateHs sum the latest counts of the host's mining flows.
	Shares     int     `json:"shares"`
	HashrateHs float64 `json:"hashrate_hs,omitempty"`
	// MorePools counts alerts naming a pool beyond the engine's
	// MaxPoolsPerHost, not listed in Pools.
	MorePools int `json:"more_pools,omitempty"`
}

// HostView is the per-host state of a running detector, bounded: past
// MaxHosts the host that alerted least recently is evicted (and counted),
// so a flood of spoofed sources cannot grow it.
type HostView struct {
	mu    sync.Mutex
	hosts *lru.Map[string, *hostEntry]
}

type hostEntry struct {
	HostState
	detectors, pools, dialects map[string]bool
	// Latest counts of the host's open mining flows; an ended flow's
	// counts move into sharesDone/rateDone and its entries go.
	flowShares map[uint64]int
	flowRate   map[uint64]float64
	sharesDone int
	rateDone   float64
}

// MaxHosts bounds the view. The view is for operators, not a second log:
// an evicted host is still in the alert log, and alerts again.
const MaxHosts = 1 << 16

// NewHostView returns an empty view of at most MaxHosts hosts.
func NewHostView() *HostView { return newHostView(MaxHosts) }

func newHostView(max int) *HostView { return &HostView{hosts: lru.New[string, *hostEntry](max)} }

// Evicted returns how many hosts were evicted to keep the view bounded.
func (v *HostView) Evicted() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.hosts.Evicted()
}

// Add accounts one alert. Summary events (intel_summary) name no host and
// are not accounted.
func (v *HostView) Add(a *alert.Alert) {
	if a.SrcIP == "" || a.EventType == alert.EventIntelSummary {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	h, ok := v.hosts.Get(a.SrcIP)
	if !ok {
		h = &hostEntry{HostState: HostState{Host: a.SrcIP, First: a.Timestamp, Last: a.Timestamp},
			detectors: map[string]bool{}, pools: map[string]bool{}}
		v.hosts.Put(a.SrcIP, h)
	}
	if a.Timestamp.Before(h.First) {
		h.First = a.Timestamp
	}
	if a.Timestamp.After(h.Last) {
		h.Last = a.Timestamp
	}
	if a.EventType == alert.EventAlert {
		h.Alerts++
	}
	h.detectors[a.Detector] = true
	pool := a.DestIP + ":" + strconv.Itoa(int(a.DestPort))
	if a.Intel != nil && a.Intel.Match == "dns-query" {
		pool = a.Intel.Query + " (DNS)"
	}
	if len(h.pools) < engine.MaxPoolsPerHost || h.pools[pool] {
		h.pools[pool] = true
	} else {
		h.MorePools++
	}
	if a.Mining != nil {
		if h.dialects == nil { // only hosts with mining metadata pay for these
			h.dialects, h.flowShares, h.flowRate = map[string]bool{}, map[uint64]int{}, map[uint64]float64{}
		}
		h.dialects[a.Mining.Dialect] = true
		if a.EventType == alert.EventFlow { // the flow's last event
			h.sharesDone += a.Mining.SharesAccepted
			h.rateDone += a.Mining.HashrateHs
			delete(h.flowShares, a.FlowID)
			delete(h.flowRate, a.FlowID)
		} else {
			h.flowShares[a.FlowID] = a.Mining.SharesAccepted
			h.flowRate[a.FlowID] = a.Mining.HashrateHs
		}
	}
}

// Snapshot returns the hosts, most recent activity first.
func (v *HostView) Snapshot() []HostState {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]HostState, 0, v.hosts.Len())
	v.hosts.Each(func(_ string, h *hostEntry) bool {
		s := h.HostState
		s.Detectors, s.Pools, s.Dialects = keys(h.detectors), keys(h.pools), keys(h.dialects)
		s.Shares, s.HashrateHs = h.sharesDone, h.rateDone
		for id, n := range h.flowShares {
			s.Shares += n
			s.HashrateHs += h.flowRate[id]
		}
		out = append(out, s)
		return true
	})
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Last.Equal(out[j].Last) {
			return out[i].Last.After(out[j].Last)
		}
		return out[i].Host < out[j].Host
	})
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ServeHTTP writes the view as JSON.
func (v *HostView) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v.Snapshot())
}

// MergeHosts merges the per-host summaries of several engines (one per
// worker: a host's flows may have landed on different workers).
func MergeHosts(lists ...[]*engine.HostSummary) []*engine.HostSummary {
	byHost := map[netip.Addr]*engine.HostSummary{}
	var order []netip.Addr
	for _, l := range lists {
		for _, h := range l {
			m := byHost[h.Host]
			if m == nil {
				c := *h
				c.Pools, c.Dialects, c.Detectors = copySet(h.Pools), copySet(h.Dialects), copySet(h.Detectors)
				c.Captures = copySet(h.Captures)
				byHost[h.Host] = &c
				order = append(order, h.Host)
				continue
			}
			for k := range h.Pools {
				m.Pools[k] = true
			}
			for k := range h.Dialects {
				m.Dialects[k] = true
			}
			for k := range h.Detectors {
				m.Detectors[k] = true
			}
			for k := range h.Captures {
				if m.Captures[k] || len(m.Captures) < engine.MaxCapturesPerHost {
					m.Captures[k] = true
				}
			}
			if h.First.Before(m.First) {
				m.First = h.First
			}
			if h.Last.After(m.Last) {
				m.Last = h.Last
			}
			m.Shares += h.Shares
			m.MorePools += h.MorePools
			m.HashrateHs += h.HashrateHs
		}
	}
	out := make([]*engine.HostSummary, 0, len(order))
	for _, a := range order {
		out = append(out, byHost[a])
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Shares != out[j].Shares {
			return out[i].Shares > out[j].Shares
		}
		return out[i].Host.Less(out[j].Host)
	})
	return out
}

func copySet(m map[string]bool) map[string]bool {
	c := make(map[string]bool, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
