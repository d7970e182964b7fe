package alert

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Detector names, as written in the "detector" field.
const (
	DetectorIntel     = "intel"
	DetectorSignature = "signature"
	DetectorModel     = "model"
)

// Event types, as written in the "event_type" field.
const (
	EventAlert  = "alert"  // a detection, emitted when the verdict is reached
	EventUpdate = "update" // final metadata of an alerted flow, at flow end
	// EventIntelSummary folds the intel alerts one listed endpoint (or
	// name) raised beyond the engine's per-interval limit: one event per
	// endpoint and interval, with counts, instead of one per flow.
	EventIntelSummary = "intel_summary"
)

// Alert is one detection event.
type Alert struct {
	Timestamp  time.Time `json:"-"`
	EventType  string    `json:"event_type"`
	FlowID     uint64    `json:"flow_id"`
	SrcIP      string    `json:"src_ip"`
	SrcPort    uint16    `json:"src_port"`
	DestIP     string    `json:"dest_ip"`
	DestPort   uint16    `json:"dest_port"`
	Proto      string    `json:"proto"`
	VLAN       []uint16  `json:"vlan,omitempty"`
	Detector   string    `json:"detector"`
	Confidence float64   `json:"confidence"`
	Reason     string    `json:"reason"`
	// Capture names the input file the triggering packet came from (offline
	// mode) or the interface (online mode).
	Capture string `json:"capture,omitempty"`

	Mining *Mining `json:"mining,omitempty"`
	Intel  *Intel  `json:"intel,omitempty"`
	Model  *Model  `json:"model,omitempty"`
	TLS    *TLS    `json:"tls,omitempty"`
	Proxy  *Proxy  `json:"proxy,omitempty"`
	// Summary is set on intel_summary events only.
	Summary *Summary `json:"summary,omitempty"`
}

// Summary is the body of an intel_summary event: how many flows matching
// one listed endpoint were not alerted one by one in an interval.
type Summary struct {
	IntervalStart time.Time `json:"interval_start"`
	IntervalEnd   time.Time `json:"interval_end"`
	Alerted       int       `json:"alerted"`    // flows alerted individually in the interval (the limit)
	Suppressed    int64     `json:"suppressed"` // flows folded into this event
	Sources       int64     `json:"sources"`    // distinct source addresses of the folded flows (estimate, ±7 %)
	Limit         int       `json:"limit"`      // alerts allowed per endpoint and interval
}

// Mining is the signature stage's view of a Stratum conversation.
type Mining struct {
	Dialect         string   `json:"dialect"`
	State           string   `json:"state,omitempty"`
	StatePath       []string `json:"state_path,omitempty"`
	Agent           string   `json:"agent,omitempty"`
	MinerName       string   `json:"miner_name,omitempty"`
	MinerVersion    string   `json:"miner_version,omitempty"`
	MinerOS         string   `json:"miner_os,omitempty"`
	Login           string   `json:"login,omitempty"`
	Coin            string   `json:"coin,omitempty"`
	Worker          string   `json:"worker,omitempty"`
	Algorithms      []string `json:"algorithms,omitempty"`
	PoolHost        string   `json:"pool_host,omitempty"`
	PoolPort        uint16   `json:"pool_port,omitempty"`
	Difficulty      float64  `json:"difficulty,omitempty"`
	Target          string   `json:"target,omitempty"`
	Jobs            int      `json:"jobs"`
	SharesSubmitted int      `json:"shares_submitted"`
	SharesAccepted  int      `json:"shares_accepted"`
	SharesRejected  int      `json:"shares_rejected"`
	// HashrateHs is Σ difficulty of accepted shares ÷ seconds since the first job (H/s).
	HashrateHs float64 `json:"hashrate_hs,omitempty"`
	// ReportedHashrateHs is the hashrate the miner itself reported (eth_submitHashrate), H/s.
	ReportedHashrateHs float64 `json:"reported_hashrate_hs,omitempty"`
	// OverlapConflicts counts TCP retransmissions whose bytes differed
	// from the first copy (an insertion/evasion attempt or a broken path).
	OverlapConflicts int64 `json:"overlap_conflicts,omitempty"`
}

// Intel describes a threat-intelligence match.
type Intel struct {
	Match   string `json:"match"` // ip, dns-query, dns-answer, sni, learned
	Entry   string `json:"entry"`
	Source  string `json:"source"`
	Domain  string `json:"domain,omitempty"` // the listed name behind a learned/dns-answer IP
	Query   string `json:"query,omitempty"`  // the DNS name or SNI seen
	Expires string `json:"expires,omitempty"`
	Note    string `json:"note,omitempty"` // the entry's reference or pool name, from its list
}

// Model describes a flow-classifier score.
type Model struct {
	Score       float64        `json:"score"`
	Threshold   float64        `json:"threshold"`
	Checkpoint  float64        `json:"checkpoint_s"`
	FeatureSet  string         `json:"feature_set"`
	TopFeatures []FeatureValue `json:"top_features,omitempty"`
	ModelID     string         `json:"model_id,omitempty"`
}

// FeatureValue is one feature's value and its contribution to a score.
type FeatureValue struct {
	Name         string  `json:"name"`
	Value        float64 `json:"value"`
	Contribution float64 `json:"contribution"`
}

// TLS is ClientHello metadata.
type TLS struct {
	SNI         string   `json:"sni,omitempty"`
	ALPN        []string `json:"alpn,omitempty"`
	Version     string   `json:"version,omitempty"`
	JA3         string   `json:"ja3,omitempty"`
	JA3Hash     string   `json:"ja3_hash,omitempty"`
	JA4         string   `json:"ja4,omitempty"`
	NoSNINon443 bool     `json:"no_sni_non_443,omitempty"`
}

// Proxy records a plaintext proxy preamble (SOCKS4/5, HTTP CONNECT) and the
// real target behind it.
type Proxy struct {
	Kind       string `json:"kind"`
	TargetHost string `json:"target_host"`
	TargetPort uint16 `json:"target_port"`
}

// MarshalJSON writes the timestamp as RFC 3339 with zone and nanoseconds
// first, so log shippers see it as the event time.
func (a Alert) MarshalJSON() ([]byte, error) {
	type plain Alert // drops the method, keeps the tags
	body, err := json.Marshal(plain(a))
	if err != nil {
		return nil, err
	}
	ts, _ := json.Marshal(a.Timestamp.Format(time.RFC3339Nano))
	out := make([]byte, 0, len(body)+len(ts)+16)
	out = append(out, `{"timestamp":`...)
	out = append(out, ts...)
	if len(body) > 2 {
		out = append(out, ',')
		out = append(out, body[1:]...)
	} else {
		out = append(out, '}')
	}
	return out, nil
}

// Writer writes alerts as JSON lines. It is safe for concurrent use and
// flushes after every alert so a crash loses nothing already reported.
type Writer struct {
	mu  sync.Mutex
	w   *bufio.Writer
	n   int
	err error
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriter(w)} }

// Write writes one alert line and flushes it.
func (w *Writer) Write(a *Alert) error {
	line, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.w.Write(line)
	w.w.WriteByte('\n')
	if err := w.w.Flush(); err != nil {
		w.err = fmt.Errorf("write alert: %w", err)
		return w.err
	}
	w.n++
	return nil
}

// Count returns the number of alerts written.
func (w *Writer) Count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}
