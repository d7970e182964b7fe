package alert

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// The event encoder writes the JSON that encoding/json would make of the
// EVE wire shape (wire_test.go keeps that shape and compares the two on
// every kind of event and on random ones), by hand: reflecting over the
// structs was 11 % of detect -r's CPU time on the merged bench capture,
// most events carrying a flow, a rule and a mining object. Field order,
// omitempty, HTML escaping of strings and number formats are
// encoding/json's. The rarer objects (intel, model, proxy, summary) go
// through encoding/json still.

// enc appends an event's JSON to b; err is the first value encoding/json
// would have refused (a NaN or infinite float).
type enc struct {
	b   []byte
	err error
}

func (e *enc) raw(s string) { e.b = append(e.b, s...) }

// key writes ,"name": (or "name": right after an opening brace).
func (e *enc) key(name string) {
	if n := len(e.b); n > 0 && e.b[n-1] != '{' {
		e.b = append(e.b, ',')
	}
	e.b = append(e.b, '"')
	e.b = append(e.b, name...)
	e.b = append(e.b, '"', ':')
}

func (e *enc) str(s string) { e.b = appendString(e.b, s) }

func (e *enc) uint(v uint64) { e.b = strconv.AppendUint(e.b, v, 10) }

func (e *enc) int(v int64) { e.b = strconv.AppendInt(e.b, v, 10) }

func (e *enc) float(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		if e.err == nil {
			e.err = &json.UnsupportedValueError{Str: strconv.FormatFloat(f, 'g', -1, 64)}
		}
		e.b = append(e.b, '0')
		return
	}
	e.b = appendFloat(e.b, f)
}

func (e *enc) strings(v []string) {
	e.b = append(e.b, '[')
	for i, s := range v {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.str(s)
	}
	e.b = append(e.b, ']')
}

// value writes v with encoding/json (the rare objects).
func (e *enc) value(v any) {
	line, err := json.Marshal(v)
	if err != nil && e.err == nil {
		e.err = err
	}
	e.b = append(e.b, line...)
}

// Omitempty fields: written only when not the zero value.
func (e *enc) optStr(name, s string) {
	if s != "" {
		e.key(name)
		e.str(s)
	}
}

func (e *enc) optUint(name string, v uint64) {
	if v != 0 {
		e.key(name)
		e.uint(v)
	}
}

func (e *enc) optFloat(name string, f float64) {
	if f != 0 {
		e.key(name)
		e.float(f)
	}
}

func (e *enc) optStrings(name string, v []string) {
	if len(v) > 0 {
		e.key(name)
		e.strings(v)
	}
}

// appendEvent is MarshalJSON's encoder.
func appendEvent(b []byte, a *Alert) ([]byte, error) {
	e := enc{b: b}
	e.raw("{")
	e.key("timestamp")
	e.time(a.Timestamp)
	e.optUint("flow_id", a.FlowID)
	if a.Live {
		e.optStr("in_iface", a.Capture)
	} else {
		e.optStr("pcap_filename", a.Capture)
	}
	e.key("event_type")
	e.str(a.EventType)
	if len(a.VLAN) > 0 {
		e.key("vlan")
		e.raw("[")
		for i, v := range a.VLAN {
			if i > 0 {
				e.raw(",")
			}
			e.uint(uint64(v))
		}
		e.raw("]")
	}
	e.optStr("src_ip", a.SrcIP)
	e.optUint("src_port", uint64(a.SrcPort))
	e.optStr("dest_ip", a.DestIP)
	e.optUint("dest_port", uint64(a.DestPort))
	e.optStr("proto", a.Proto)
	e.optStr("community_id", a.CommunityID)
	e.optStr("app_proto", a.AppProto)
	e.optStr("host", a.Host)
	if r := a.Rule; r != nil {
		e.key("alert")
		e.rule(r)
	}
	if f := a.Flow; f != nil {
		e.key("flow")
		e.flow(f)
	}
	if t := a.TLS; t != nil {
		e.key("tls")
		e.raw("{")
		e.optStr("sni", t.SNI)
		e.optStr("version", t.Version)
		if t.JA3 != "" || t.JA3Hash != "" {
			e.key("ja3")
			e.raw("{")
			e.key("hash")
			e.str(t.JA3Hash)
			e.key("string")
			e.str(t.JA3)
			e.raw("}")
		}
		e.optStr("ja4", t.JA4)
		e.optStrings("client_alpns", t.ALPN)
		e.raw("}")
	}
	e.key("minerwatch")
	e.raw("{")
	e.key("detector")
	e.str(a.Detector)
	e.key("confidence")
	e.float(a.Confidence)
	e.key("reason")
	e.str(a.Reason)
	if a.TLS != nil && a.TLS.NoSNINon443 {
		e.key("tls_no_sni_non_443")
		e.raw("true")
	}
	if m := a.Mining; m != nil {
		e.key("mining")
		e.mining(m)
	}
	if a.Intel != nil {
		e.key("intel")
		e.value(a.Intel)
	}
	if a.Model != nil {
		e.key("model")
		e.value(a.Model)
	}
	if a.Proxy != nil {
		e.key("proxy")
		e.value(a.Proxy)
	}
	if a.Probe != nil {
		e.key("probe")
		e.value(a.Probe)
	}
	if a.Summary != nil {
		e.key("summary")
		e.value(a.Summary)
	}
	e.raw("}}")
	if e.err != nil {
		return nil, e.err
	}
	return e.b, nil
}

func (e *enc) time(t time.Time) {
	e.b = append(e.b, '"')
	e.b = appendTime(e.b, t)
	e.b = append(e.b, '"')
}

// appendTime appends t in TimeFormat, byte for byte what AppendFormat
// writes (fraction truncated, zone +0000), without interpreting the
// layout: each event carries two or three timestamps, and AppendFormat
// was about a third of the encoder's time. Years outside 0–9999, which
// AppendFormat writes its own way, go through it.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, TimeFormat)
	}
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1000, 6)
	return append(b, "+0000"...)
}

// appendDigits appends v (≥ 0, < 10^width) in exactly width digits.
func appendDigits(b []byte, v, width int) []byte {
	var d [6]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:width]...)
}

func (e *enc) rule(r *Rule) {
	e.raw("{")
	e.key("action")
	e.str(r.Action)
	e.key("gid")
	e.int(int64(r.GID))
	e.key("signature_id")
	e.int(int64(r.SignatureID))
	e.key("rev")
	e.int(int64(r.Rev))
	e.key("signature")
	e.str(r.Signature)
	e.key("category")
	e.str(r.Category)
	e.key("severity")
	e.int(int64(r.Severity))
	if len(r.Metadata) > 0 {
		e.key("metadata")
		e.raw("{")
		// encoding/json sorts map keys.
		var keysBuf [8]string
		keys := keysBuf[:0]
		for k := range r.Metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			e.key2(k)
			if v := r.Metadata[k]; v == nil {
				e.raw("null")
			} else {
				e.strings(v)
			}
		}
		e.raw("}")
	}
	e.raw("}")
}

// key2 is key for a name that may need escaping (a map key).
func (e *enc) key2(name string) {
	if n := len(e.b); n > 0 && e.b[n-1] != '{' {
		e.b = append(e.b, ',')
	}
	e.str(name)
	e.b = append(e.b, ':')
}

func (e *enc) flow(f *Flow) {
	e.raw("{")
	e.key("pkts_toserver")
	e.uint(f.PktsToServer)
	e.key("pkts_toclient")
	e.uint(f.PktsToClient)
	e.key("bytes_toserver")
	e.uint(f.BytesToServer)
	e.key("bytes_toclient")
	e.uint(f.BytesToClient)
	e.key("start")
	e.time(f.Start)
	ended := !f.End.IsZero()
	if ended {
		e.key("end")
		e.time(f.End)
		e.key("age")
		e.int(int64(f.End.Sub(f.Start) / time.Second))
	}
	e.optStr("state", f.State)
	e.optStr("reason", f.Reason)
	if ended {
		e.key("alerted")
		e.b = strconv.AppendBool(e.b, f.Alerted)
	}
	e.raw("}")
}

func (e *enc) mining(m *Mining) {
	e.raw("{")
	e.key("dialect")
	e.str(m.Dialect)
	e.optStr("state", m.State)
	e.optStrings("state_path", m.StatePath)
	e.optStr("agent", m.Agent)
	e.optStr("miner_name", m.MinerName)
	e.optStr("miner_version", m.MinerVersion)
	e.optStr("miner_os", m.MinerOS)
	e.optStr("login", m.Login)
	e.optStr("coin", m.Coin)
	e.optStr("worker", m.Worker)
	e.optStrings("algorithms", m.Algorithms)
	e.optStr("pool_host", m.PoolHost)
	e.optUint("pool_port", uint64(m.PoolPort))
	e.optFloat("difficulty", m.Difficulty)
	e.optStr("target", m.Target)
	e.key("jobs")
	e.int(int64(m.Jobs))
	e.key("shares_submitted")
	e.int(int64(m.SharesSubmitted))
	e.key("shares_accepted")
	e.int(int64(m.SharesAccepted))
	e.key("shares_rejected")
	e.int(int64(m.SharesRejected))
	e.optFloat("hashrate_hs", m.HashrateHs)
	e.optFloat("reported_hashrate_hs", m.ReportedHashrateHs)
	if m.OverlapConflicts != 0 {
		e.key("overlap_conflicts")
		e.int(m.OverlapConflicts)
	}
	e.raw("}")
}

// appendFloat formats f as encoding/json does: like ES6, 'f' format
// unless the magnitude is below 1e-6 or at least 1e21, then 'e' with a
// one-digit negative exponent written without its leading zero.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// plainASCII marks the ASCII bytes appendString copies as they are: one
// load per byte instead of six comparisons (string fields are most of an
// event's bytes).
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString writes s quoted as encoding/json does with HTML escaping
// (its default): ", \ and control characters escaped, <, > and & as
// \u003c…, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if plainASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
