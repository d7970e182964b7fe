package alert

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Detector names, as written in minerwatch.detector.
const (
	DetectorIntel     = "intel"
	DetectorSignature = "signature"
	DetectorModel     = "model"
	// DetectorProbe is the active probe (detect --probe): an extra event
	// on a suspected flow saying whether its server answered as a pool.
	DetectorProbe = "probe"
)

// Event types, as written in the "event_type" field.
const (
	EventAlert = "alert" // a detection, emitted when the verdict is reached
	// EventFlow is EVE's end-of-flow record, written for every flow the
	// signature stage alerted on, with the final mining counts.
	EventFlow = "flow"
	// EventIntelSummary folds the intel alerts one listed endpoint (or
	// name) raised beyond the engine's per-interval limit: one event per
	// endpoint and interval, with counts, instead of one per flow. It is
	// not an EVE type: an EVE-only pipeline leaves it out (--eve-types).
	EventIntelSummary = "intel_summary"
)

// Alert is one EVE event: an alert, or the flow record that closes an
// alerted flow. The Go fields map onto EVE's shape in MarshalJSON: the
// common fields at the top, Rule as EVE's "alert" object, and everything
// that is minerwatch's own (Detector, Confidence, Reason, Mining, Intel,
// Model, Proxy) under one "minerwatch" key.
type Alert struct {
	Timestamp time.Time
	EventType string
	// FlowID is flows.FlowID: the same in every event and feature row of
	// the flow.
	FlowID   uint64
	SrcIP    string
	SrcPort  uint16
	DestIP   string
	DestPort uint16
	Proto    string
	VLAN     []uint16
	// CommunityID is Community ID v1 of the flow; empty when it cannot be
	// computed (ICMP: the flow key keeps no type and code).
	CommunityID string
	// Capture names the input file the triggering packet came from
	// (offline: written as pcap_filename) or the interface (Live: in_iface).
	Capture string
	Live    bool
	// Host is the sensor name (--sensor-name).
	Host string
	// AppProto is the application protocol where known: tls, quic, dns,
	// stratum, http, socks5, …
	AppProto string
	// Rule is EVE's "alert" object; nil on flow events.
	Rule *Rule
	// Flow holds the flow's counters at the time of the event.
	Flow *Flow
	TLS  *TLS

	// minerwatch's own, under the "minerwatch" key.
	Detector   string
	Confidence float64
	Reason     string
	Mining     *Mining
	Intel      *Intel
	Model      *Model
	Proxy      *Proxy
	// Probe is set on the active probe's events only.
	Probe *Probe
	// Summary is set on intel_summary events only.
	Summary *Summary

	// line is the event's JSON line, kept by Seal for Writer.Write.
	line []byte
}

// Seal encodes the event now and keeps the line, which Writer.Write then
// writes as is: the encoding can run where alerts are raised (each worker
// of detect -r --workers N) instead of in the one goroutine that writes
// them in order, where it was a serial stage of the run. The alert must
// not change after Seal. An encoding error is returned, and Write would
// then encode again and report it.
func (a *Alert) Seal() error {
	line, err := a.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	a.line = line
	return nil
}

// SealAppend is Seal encoding into buf: it appends the line to buf and
// returns buf, so a caller that seals many events (a worker of detect -r
// --workers N, an epoch at a time) reuses one slab rather than allocating
// a line per event — a fifth of that run's allocations, and GC work. The
// alert keeps a reference into buf: the caller must not overwrite that
// part of buf until the alert is written, and should Unseal it then. On
// an encoding error buf is returned as it was and the alert is not
// sealed.
func (a *Alert) SealAppend(buf []byte) ([]byte, error) {
	n := len(buf)
	out, err := appendEvent(buf, a)
	if err != nil {
		return buf, fmt.Errorf("encode alert: %w", err)
	}
	a.line = out[n:len(out):len(out)]
	return out, nil
}

// Unseal drops the line Seal or SealAppend kept: the alert no longer
// refers to the caller's buffer, and Writer.Write encodes it again if it
// is written once more.
func (a *Alert) Unseal() { a.line = nil }

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

// Rule is EVE's "alert" object: which detection rule fired.
type Rule struct {
	Action      string              `json:"action"`
	GID         int                 `json:"gid"`
	SignatureID int                 `json:"signature_id"`
	Rev         int                 `json:"rev"`
	Signature   string              `json:"signature"`
	Category    string              `json:"category"`
	Severity    int                 `json:"severity"`
	Metadata    map[string][]string `json:"metadata,omitempty"`
	// Detector is the stage the rule belongs to (it is written under
	// minerwatch.detector, not here).
	Detector string `json:"-"`
}

// Flow is EVE's "flow" object. Start is always set; End, State and Reason
// only on flow events.
type Flow struct {
	PktsToServer  uint64
	PktsToClient  uint64
	BytesToServer uint64
	BytesToClient uint64
	Start         time.Time
	End           time.Time
	// State is EVE's flow state: new, established or closed.
	State string
	// Reason is EVE's end reason: timeout, forced or shutdown.
	Reason  string
	Alerted bool
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

// TLS is ClientHello metadata. It is written as EVE's "tls" object
// (sni, version, ja3{hash,string}, ja4, client_alpns); NoSNINon443 is
// ours and goes under minerwatch.
type TLS struct {
	SNI         string
	ALPN        []string
	Version     string
	JA3         string
	JA3Hash     string
	JA4         string
	NoSNINon443 bool
}

// Probe results, as written in minerwatch.probe.result.
const (
	ProbeConfirmed   = "confirmed"   // the server answered a mining login as a pool
	ProbeUnconfirmed = "unconfirmed" // it did not (or could not be reached)
)

// Probe is the active probe's finding on a suspected flow's server: the
// result, what triggered the probe, and the probe's own verdict object
// (detect/probe's JSON, as `minerwatch probe` prints it).
type Probe struct {
	Result   string          `json:"result"`    // confirmed or unconfirmed
	Trigger  string          `json:"trigger"`   // the detector whose alert asked for the probe
	Cached   bool            `json:"cached"`    // the verdict came from the cache, not a new probe
	ProbedAt string          `json:"probed_at"` // wall-clock time of the probe (EVE format)
	Verdict  json.RawMessage `json:"verdict"`   // the probe's verdict object (detect/probe.Result)
}

// Proxy records a plaintext proxy preamble (SOCKS4/5, HTTP CONNECT) and the
// real target behind it.
type Proxy struct {
	Kind       string `json:"kind"`
	TargetHost string `json:"target_host"`
	TargetPort uint16 `json:"target_port"`
}

// TimeFormat is Suricata's EVE timestamp: always six fraction digits and
// a numeric zone offset, so a fixed "%Y-%m-%dT%H:%M:%S.%6N%z" parser reads
// every event.
const TimeFormat = "2006-01-02T15:04:05.000000-0700"

// FormatTime writes t as EVE does, in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// MarshalJSON writes the event in EVE's shape: timestamp first (log
// shippers take it as the event time), minerwatch's own fields last under
// one key. Like EVE, an event without a flow (intel_summary) or without
// ports (ICMP) omits those fields rather than writing zeros. The JSON is
// what encoding/json makes of the wire structs in wire_test.go, written
// by hand (encode.go).
func (a Alert) MarshalJSON() ([]byte, error) {
	return appendEvent(make([]byte, 0, 1024), &a)
}

// Types is a set of event types to write (--eve-types); nil writes all.
type Types map[string]bool

// ParseTypes reads a comma-separated list of event types ("alert,flow").
func ParseTypes(s string) (Types, error) {
	t := Types{}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case EventAlert, EventFlow, EventIntelSummary:
			t[name] = true
		case "":
		default:
			return nil, fmt.Errorf("unknown event type %q (known: %s, %s, %s)", name, EventAlert, EventFlow, EventIntelSummary)
		}
	}
	if len(t) == 0 {
		return nil, fmt.Errorf("no EVE event type in %q", s)
	}
	return t, nil
}

// Has reports whether events of type typ are to be written.
func (t Types) Has(typ string) bool { return t == nil || t[typ] }

// Writer writes alerts as JSON lines. It is safe for concurrent use and
// flushes after every alert so a crash loses nothing already reported,
// unless Hold hands the flushing to its caller.
type Writer struct {
	mu    sync.Mutex
	w     *bufio.Writer
	dst   io.Writer
	types Types
	n     int
	err   error
	hold  bool
	// scratch is the line being written, reused (events not sealed).
	scratch []byte
}

// NewWriter returns a Writer on w that writes the event types in types
// (nil: all).
func NewWriter(w io.Writer, types Types) *Writer {
	return &Writer{w: bufio.NewWriter(w), dst: w, types: types}
}

// holdBuffer is the buffer of a held Writer: about a hundred alerts per
// write(2) instead of one.
const holdBuffer = 64 << 10

// Hold makes Write leave its lines in a buffer, written out when it fills
// and by Flush, instead of one write per alert: on a capture that raises
// tens of thousands of events the per-alert write was ~5 % of detect -r's
// CPU time. The caller must Flush (on a timer, and before it exits) so
// that an alert still reaches the file promptly. Call it before the first
// Write.
func (w *Writer) Hold() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hold = true
	w.w = bufio.NewWriterSize(w.dst, holdBuffer)
}

// Flush writes out the lines a held Writer keeps; the error, like a
// failed Write's, is returned by every later call.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if err := w.w.Flush(); err != nil {
		w.err = fmt.Errorf("write alert: %w", err)
	}
	return w.err
}

// Write writes one event line and flushes it; events of a type not
// chosen are skipped.
func (w *Writer) Write(a *Alert) error {
	if !w.types.Has(a.EventType) {
		return nil
	}
	// MarshalJSON's encoder directly, not json.Marshal(a): that would
	// re-validate and re-compact the line the encoder already made compact and
	// HTML-escaped (with json.Marshal): the same bytes, for a seventh of
	// detect's CPU time on a capture that raises many events (the merged
	// bench capture: 76k events).
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	line := a.line
	if line == nil {
		// Encoded into the writer's own buffer, under its lock: not a
		// fresh 1 KiB line and a copy of the Alert per event.
		var err error
		if w.scratch, err = appendEvent(w.scratch[:0], a); err != nil {
			return fmt.Errorf("encode alert: %w", err)
		}
		line = w.scratch
	}
	w.w.Write(line)
	err := w.w.WriteByte('\n') // a failed write before it sticks in bufio
	if !w.hold {
		err = w.w.Flush()
	}
	if err != nil {
		w.err = fmt.Errorf("write alert: %w", err)
		return w.err
	}
	w.n++
	return nil
}

// Count returns the number of events written.
func (w *Writer) Count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}
