package alert

import (
	"fmt"
	"io"
	"sort"
)

// Rule identity. gid 1 and signature ids in 1496000–1496399 (local-rule
// range 1000000–1999999; 1496 after MITRE ATT&CK T1496, Resource
// Hijacking). A signature id never changes meaning: new dialects, match
// kinds and feature sets get new numbers, a changed detection bumps rev.
const (
	GID      = 1
	Category = "Crypto Currency Mining Activity Detected" // the coin-mining classtype of the ET rules
	Action   = "allowed"                                  // minerwatch watches; it never blocks

	sidSignature = 1496000 // + 10×dialect + state (9: attempt)
	sidIntel     = 1496100 // + match kind
	sidModel     = 1496200 // + feature set
	sidProbe     = 1496300 // + probe result
)

// Index tables: a name's position is part of its signature id, so new
// names are appended, never inserted. Index 0 is the catch-all for a name
// this build does not know. The names are the stratum, intel and flowfeat
// packages' constants (alert sits below them; a test checks they match).
var (
	dialectRules = [...]struct{ name, title string }{
		{"", "mining protocol"},
		{"stratum-v1", "Stratum v1"},
		{"cryptonote", "Stratum (CryptoNote)"},
		{"eth-proxy", "Stratum (eth-proxy)"},
		{"ethereumstratum/1.0.0", "EthereumStratum/1.0.0"},
		{"ethereumstratum/2.0.0", "EthereumStratum/2.0.0"},
		{"getwork", "getwork/getblocktemplate over HTTP"},
		{"stratum-v2", "Stratum V2"},
		{"stratum-v2-noise", "Stratum V2 (Noise handshake sizes)"},
	}
	stateRules = [...]struct{ name, phrase string }{
		{"", "exchange in both directions"},
		{"hello", "handshake in mining vocabulary from both sides"},
		{"authorized", "login accepted by the pool"},
		{"job", "login answered with a job"},
		{"submit", "share submitted"},
		{"accepted", "share accepted"},
		{"keepalive", "keepalive answered"},
	}
	intelRules = [...]struct{ name, text string }{
		{"", "threat intelligence match"},
		{"ip", "destination is a listed mining pool address"},
		{"dns-query", "DNS query for a listed mining pool name"},
		{"dns-answer", "destination was resolved from a listed mining pool name"},
		{"sni", "TLS server name is a listed mining pool"},
		{"learned", "destination is a pool endpoint confirmed earlier by the signature stage"},
	}
	modelRules = [...]string{"", "mw51", "mwx", "netflow8", "decrypto12", "mw51x", "seq", "mw51x+seq"}
	probeRules = [...]struct{ name, text string }{
		{"", "active probe result"},
		{ProbeConfirmed, "active probe: the suspected server answered a mining login as a pool"},
		{ProbeUnconfirmed, "active probe: the suspected server did not answer as a pool (unconfirmed)"},
	}
)

// attemptState is the state digit of the attempt rules.
const attemptState = 9

func indexOf[T any](list []T, name func(T) string, want string) int {
	for i, x := range list {
		if name(x) == want {
			return i
		}
	}
	return 0
}

func newRule(sid int, signature, detector string) *Rule {
	return &Rule{Action: Action, GID: GID, SignatureID: sid, Rev: 1, Detector: detector,
		Signature: "MINERWATCH " + signature, Category: Category,
		Metadata: map[string][]string{
			"tag":           {"coin-mining", "T1496", "minerwatch-" + detector},
			"attack_target": {"Client_Endpoint"},
			"deployment":    {"Perimeter", "Internal"},
		}}
}

// SignatureRule is the rule of a signature verdict: one per dialect and
// state reached (the last state when the verdict came).
func SignatureRule(dialect, state string) *Rule {
	d := indexOf(dialectRules[:], func(x struct{ name, title string }) string { return x.name }, dialect)
	s := indexOf(stateRules[:], func(x struct{ name, phrase string }) string { return x.name }, state)
	return newRule(sidSignature+10*d+s, dialectRules[d].title+" "+stateRules[s].phrase, DetectorSignature)
}

// AttemptRule is the rule of an unanswered mining attempt in a dialect.
func AttemptRule(dialect string) *Rule {
	d := indexOf(dialectRules[:], func(x struct{ name, title string }) string { return x.name }, dialect)
	return newRule(sidSignature+10*d+attemptState, dialectRules[d].title+" requests not answered as a pool (attempt)", DetectorSignature)
}

// IntelRule is the rule of an intel match kind (ip, dns-query, …).
func IntelRule(kind string) *Rule {
	k := indexOf(intelRules[:], func(x struct{ name, text string }) string { return x.name }, kind)
	return newRule(sidIntel+k, "Intel "+intelRules[k].text, DetectorIntel)
}

// ModelRule is the rule of a model alert, one per feature set the model reads.
func ModelRule(featureSet string) *Rule {
	m := indexOf(modelRules[:], func(x string) string { return x }, featureSet)
	name := modelRules[m]
	if name == "" {
		name = "unknown feature set"
	}
	return newRule(sidModel+m, "Model flow statistics ("+name+") score at or above the mining threshold", DetectorModel)
}

// ProbeRule is the rule of an active probe event (confirmed/unconfirmed).
func ProbeRule(result string) *Rule {
	k := indexOf(probeRules[:], func(x struct{ name, text string }) string { return x.name }, result)
	return newRule(sidProbe+k, probeRules[k].text, DetectorProbe)
}

// Severity is EVE's 1 (high) … 3 (low), from the detector and the
// confidence:
//
//	1  evidence (signature or intel) with confidence ≥ 0.95: a confirmed
//	   Stratum exchange, or an endpoint confirmed earlier (learned)
//	2  evidence with confidence ≥ 0.8 (listed pool address, name or SNI;
//	   Stratum V2 Noise sizes), or a model score ≥ 0.8
//	3  below: an unanswered attempt, a model score just over its threshold
//
// A model score is a probability, not evidence: it never reaches 1.
func Severity(detector string, confidence float64) int {
	switch {
	case confidence >= 0.95 && detector != DetectorModel:
		return 1
	case confidence >= 0.8:
		return 2
	}
	return 3
}

// signatureSeverity names a severity in ET's signature_severity words.
var severityWords = [...]string{1: "Major", 2: "Minor", 3: "Informational"}

// SetSeverity sets r's severity and its metadata.signature_severity.
func (r *Rule) SetSeverity(s int) {
	r.Severity = s
	if s >= 1 && s <= 3 {
		r.Metadata["signature_severity"] = []string{severityWords[s]}
	}
}

// Rules returns every rule, by signature id: the published list analysts
// tune and suppress by (`minerwatch rules`).
func Rules() []Rule {
	var out []Rule
	for d := range dialectRules {
		for s := range stateRules {
			out = append(out, *SignatureRule(dialectRules[d].name, stateRules[s].name))
		}
		out = append(out, *AttemptRule(dialectRules[d].name))
	}
	for k := range intelRules {
		out = append(out, *IntelRule(intelRules[k].name))
	}
	for m := range modelRules {
		out = append(out, *ModelRule(modelRules[m]))
	}
	for k := range probeRules {
		out = append(out, *ProbeRule(probeRules[k].name))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SignatureID < out[j].SignatureID })
	return out
}

// RuleOf returns the rule an alert event fired, from its detector and
// sub-object, with its severity set.
func RuleOf(a *Alert) *Rule {
	var r *Rule
	switch {
	case a.Detector == DetectorSignature && a.Mining != nil && a.Mining.State == StateAttempt:
		r = AttemptRule(a.Mining.Dialect)
	case a.Detector == DetectorSignature && a.Mining != nil:
		r = SignatureRule(a.Mining.Dialect, a.Mining.State)
	case a.Detector == DetectorSignature:
		r = SignatureRule("", "")
	case a.Detector == DetectorIntel && a.Intel != nil:
		r = IntelRule(a.Intel.Match)
	case a.Detector == DetectorModel && a.Model != nil:
		r = ModelRule(a.Model.FeatureSet)
	case a.Detector == DetectorModel:
		r = ModelRule("")
	case a.Detector == DetectorProbe:
		r = ProbeRule("")
		if a.Probe != nil {
			r = ProbeRule(a.Probe.Result)
			if a.Probe.Result != ProbeConfirmed {
				// Unconfirmed is shown, never a detection of its own: the
				// flow's own alert keeps its severity.
				r.SetSeverity(3)
				return r
			}
		}
	default:
		r = IntelRule("")
	}
	r.SetSeverity(Severity(a.Detector, a.Confidence))
	return r
}

// StateAttempt is the mining state of an unanswered attempt.
const StateAttempt = "attempt"

// Sensor is what every event says about where it was seen.
type Sensor struct {
	// Host is the sensor name, written as "host".
	Host string
	// Live: the capture name is an interface (in_iface), not a file
	// (pcap_filename).
	Live bool
	// CommunityIDSeed is the Community ID seed (0 unless the deployment
	// agreed on another with its Zeek/Suricata sensors).
	CommunityIDSeed uint16
}

// WriteRules writes the rules table: aligned text, or a Markdown table
// (the README's is this output, checked by a test).
func WriteRules(w io.Writer, markdown bool) error {
	format := "%-8d %-3d %-3d %-9s %s\n"
	if markdown {
		format = "| %d | %d | %d | %s | %s |\n"
		if _, err := io.WriteString(w, "| signature_id | gid | rev | detector | signature |\n|---|---|---|---|---|\n"); err != nil {
			return err
		}
	} else if _, err := fmt.Fprintf(w, "%-8s %-3s %-3s %-9s %s\n", "sid", "gid", "rev", "detector", "signature"); err != nil {
		return err
	}
	for _, r := range Rules() {
		if _, err := fmt.Fprintf(w, format, r.SignatureID, r.GID, r.Rev, r.Detector, r.Signature); err != nil {
			return err
		}
	}
	return nil
}
