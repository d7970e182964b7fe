package flowfeat

import (
	"fmt"
	"strings"

	"github.com/minerwatch/minerwatch/features/seqfeat"
)

// Set names.
const (
	SetMW51       = "mw51"
	SetMWX        = "mwx"
	SetNetFlow8   = "netflow8"
	SetDeCrypto12 = "decrypto12"
	// SetMW51X is mw51 followed by mwx.
	SetMW51X = "mw51x"
	// SetSeq is the packet-sequence set (package seqfeat).
	SetSeq = seqfeat.Set
	// SetMW51XSeq is mw51x followed by seq.
	SetMW51XSeq = "mw51x+seq"
)

// Def describes one feature.
type Def struct {
	Name       string
	Set        string
	Unit       string
	Direction  string // up, down, both
	Definition string
}

// perDirection lists mw51's 18 per-direction features, in FEATURES.md order.
var perDirection = []struct{ name, unit, def string }{
	{"pkts", "packets", "packets"},
	{"data_pkts", "packets", "packets with payload"},
	{"bytes", "bytes", "payload bytes"},
	{"size_min", "bytes", "min size of data packets"},
	{"size_max", "bytes", "max size of data packets"},
	{"size_mean", "bytes", "mean size of data packets"},
	{"size_std", "bytes", "standard deviation of data-packet sizes"},
	{"size_entropy", "bits", "Shannon entropy of data-packet sizes in 16-byte buckets (sizes ≥ 1520 B share the last bucket)"},
	{"iat_min", "s", "min inter-arrival time between consecutive data packets"},
	{"iat_max", "s", "max inter-arrival time between data packets"},
	{"iat_mean", "s", "mean inter-arrival time between data packets"},
	{"iat_std", "s", "std of inter-arrival time between data packets"},
	{"iat_median", "s", "median of data-packet inter-arrival (exact up to 5 samples, then the P² streaming estimate)"},
	{"pkts_per_s", "1/s", "packets / window duration"},
	{"bytes_per_s", "bytes/s", "payload bytes / window duration"},
	{"psh_pkts", "packets", "packets with PSH set"},
	{"retx_pkts", "packets", "TCP retransmissions (segment ends at or before the highest sequence already seen)"},
	{"pure_acks", "packets", "packets with ACK and no payload and no SYN/FIN/RST"},
}

var flowLevel = []struct{ name, unit, def string }{
	{"duration", "s", "last − first packet time in the window"},
	{"bytes_ratio", "ratio", "up bytes / down bytes (payload)"},
	{"pkts_ratio", "ratio", "up data packets / down data packets"},
	{"syn", "packets", "SYN packets"},
	{"fin", "packets", "FIN packets"},
	{"rst", "packets", "RST packets"},
	{"rtt", "s", "handshake RTT (SYN → SYN/ACK → ACK), else min up→down data turnaround"},
	{"resp_share", "ratio", "share of up data packets answered by a down data packet within 2×RTT + 50 ms"},
	{"resp_delay_mean", "s", "mean delay from an up data packet to the next down data packet"},
	{"resp_delay_std", "s", "standard deviation of that delay"},
	{"down_period", "s", "dominant period of down data-packet arrivals (autocorrelation of a binned series)"},
	{"down_period_strength", "ratio", "strength of that period in [0, 1] (autocorrelation at the period)"},
	{"up_period", "s", "dominant period of up data-packet arrivals"},
	{"up_period_strength", "ratio", "strength of that period in [0, 1]"},
	{"idle_max", "s", "longest gap with no packet in either direction"},
}

// mwx extends mw51 with shape features that a TLS or AEAD tunnel does not
// change: they are ratios, ranges and shares, so a constant per-record
// overhead (TLS adds ~22–29 B per record, shadowsocks 34 B per chunk)
// cancels out, and a plaintext-trained model still reads an encrypted
// flow. The IAT coefficients of variation separate timer-driven polling
// (≈0) from Poisson-like share submission (≈1); unsolicited down bursts are
// server pushes — new jobs — which request/response protocols lack.
var mwx = []Def{
	{"up_iat_cv", SetMWX, "ratio", "up", "up_iat_std / up_iat_mean (0 for a fixed timer, ≈1 for Poisson arrivals)"},
	{"down_iat_cv", SetMWX, "ratio", "down", "down_iat_std / down_iat_mean"},
	{"up_size_range", SetMWX, "bytes", "up", "up_size_max − up_size_min (invariant to a constant per-record overhead)"},
	{"down_size_range", SetMWX, "bytes", "down", "down_size_max − down_size_min"},
	{"up_size_top_share", SetMWX, "ratio", "up", "share of up data packets in the most common 16-byte size bucket"},
	{"down_size_top_share", SetMWX, "ratio", "down", "share of down data packets in the most common 16-byte size bucket"},
	{"down_unsolicited_share", SetMWX, "ratio", "down", "share of down data bursts (packets < 50 ms apart) with no up data since the previous down burst: server pushes"},
}

var netflow8 = []Def{
	{"pkts_in_per_s", SetNetFlow8, "1/s", "down", "down packets / window duration"},
	{"pkts_out_per_s", SetNetFlow8, "1/s", "up", "up packets / window duration"},
	{"bytes_in_per_s", SetNetFlow8, "bytes/s", "down", "down IP bytes / window duration"},
	{"bytes_out_per_s", SetNetFlow8, "bytes/s", "up", "up IP bytes / window duration"},
	{"bytes_in_per_pkt", SetNetFlow8, "bytes", "down", "down IP bytes / down packets (0 when no packets)"},
	{"bytes_out_per_pkt", SetNetFlow8, "bytes", "up", "up IP bytes / up packets (0 when no packets)"},
	{"ratio_bytes_in_out", SetNetFlow8, "ratio", "both", "down IP bytes / up IP bytes (0 when up is 0)"},
	{"ratio_pkts_in_out", SetNetFlow8, "ratio", "both", "down packets / up packets (0 when up is 0)"},
}

var decrypto12 = []Def{
	{"BYTES", SetDeCrypto12, "bytes", "up", "up IP bytes in the first 30 packets"},
	{"BYTES_REV", SetDeCrypto12, "bytes", "down", "down IP bytes in the first 30 packets"},
	{"PACKETS", SetDeCrypto12, "packets", "up", "up packets in the first 30 packets"},
	{"PACKETS_REV", SetDeCrypto12, "packets", "down", "down packets in the first 30 packets"},
	{"SENT_PERCENTAGE", SetDeCrypto12, "ratio", "up", "up IP bytes / all IP bytes of the first 30 packets"},
	{"RECV_PERCENTAGE", SetDeCrypto12, "ratio", "down", "down IP bytes / all IP bytes of the first 30 packets"},
	{"AVG_PKT_INTERVAL", SetDeCrypto12, "s", "both", "mean time between consecutive packets (either direction) of the first 30"},
	{"OVERALL_DURATION", SetDeCrypto12, "s", "both", "time from the first to the last of the first 30 packets"},
	{"AVG_PKT_LEN", SetDeCrypto12, "bytes", "both", "mean IP packet length of the first 30 packets"},
	{"PSH_RATIO", SetDeCrypto12, "ratio", "both", "share of the first 30 packets with PSH set"},
	{"MIN_PKT_LEN", SetDeCrypto12, "bytes", "both", "min IP packet length of the first 30 packets"},
	{"DATA_SYMMETRY", SetDeCrypto12, "ratio", "both", "up IP bytes / down IP bytes of the first 30 packets"},
}

// Defs returns every feature of a set, in column order. An unknown set
// returns nil.
func Defs(set string) []Def {
	switch set {
	case SetMW51:
		out := make([]Def, 0, 51)
		for _, dir := range []string{"up", "down"} {
			for _, d := range perDirection {
				out = append(out, Def{dir + "_" + d.name, SetMW51, d.unit, dir, d.def})
			}
		}
		for _, d := range flowLevel {
			out = append(out, Def{d.name, SetMW51, d.unit, "both", d.def})
		}
		return out
	case SetMWX:
		return append([]Def(nil), mwx...)
	case SetMW51X:
		return append(Defs(SetMW51), mwx...)
	case SetSeq:
		var out []Def
		for _, d := range seqfeat.Defs() {
			out = append(out, Def{d.Name, SetSeq, d.Unit, d.Direction, d.Definition})
		}
		return out
	case SetMW51XSeq:
		return append(Defs(SetMW51X), Defs(SetSeq)...)
	case SetNetFlow8:
		return append([]Def(nil), netflow8...)
	case SetDeCrypto12:
		return append([]Def(nil), decrypto12...)
	}
	return nil
}

// SeqFree reports whether a model set reads none of the seq set's columns
// (so a flow needs no sequence state for it).
func SeqFree(set string) bool { return set != SetSeq && set != SetMW51XSeq }

// Sets lists the set names in their canonical order (the column order of
// exports; mw51x and mw51x+seq are not listed, being concatenations).
func Sets() []string { return []string{SetMW51, SetMWX, SetSeq, SetNetFlow8, SetDeCrypto12} }

// ModelSets lists the sets a model may be trained on.
func ModelSets() []string {
	return []string{SetMW51X, SetMW51XSeq, SetSeq, SetMW51, SetMWX, SetNetFlow8, SetDeCrypto12}
}

// ParseSets parses a comma-separated list of set names ("all" for every set).
func ParseSets(list string) ([]string, error) {
	if list == "" || list == "all" {
		return Sets(), nil
	}
	var out []string
	seen := map[string]bool{}
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if Defs(s) == nil || s == SetMW51X || s == SetMW51XSeq {
			return nil, fmt.Errorf("unknown feature set %q (known: %s, all)", s, strings.Join(Sets(), ", "))
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}

// Names returns the column names of the given sets, in order.
func Names(sets []string) []string {
	var out []string
	for _, s := range sets {
		for _, d := range Defs(s) {
			out = append(out, d.Name)
		}
	}
	return out
}

// MarkdownTable renders the feature table of the given sets for the README.
func MarkdownTable(sets []string) string {
	var b strings.Builder
	b.WriteString("| set | name | unit | direction | definition |\n|---|---|---|---|---|\n")
	for _, s := range sets {
		if s == SetSeq {
			for _, d := range seqfeat.TableDefs() {
				fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", s, d.Name, d.Unit, d.Direction, d.Definition)
			}
			continue
		}
		for _, d := range Defs(s) {
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", d.Set, d.Name, d.Unit, d.Direction, d.Definition)
		}
	}
	return b.String()
}
