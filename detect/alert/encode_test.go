package alert

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestEncoderWritesWhatEncodingJSONWrote holds the hand-written encoder
// (encode.go) to encoding/json on the wire structs (wire_test.go), byte
// for byte: on an event with every object and awkward strings, on every
// rule of the rules table, and on random events whose strings mix what
// encoding/json escapes (quotes, control characters, <>&, U+2028,
// invalid UTF-8) and whose floats cross its 'f'/'e' boundaries.
func TestEncoderWritesWhatEncodingJSONWrote(t *testing.T) {
	check := func(t *testing.T, a Alert) {
		t.Helper()
		want, wantErr := wireMarshal(a)
		got, gotErr := a.MarshalJSON()
		if (wantErr != nil) != (gotErr != nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
			t.Fatalf("error %v, encoding/json %v", gotErr, wantErr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("encoder:\n%s\nencoding/json:\n%s", got, want)
		}
	}
	t.Run("every-object", func(t *testing.T) {
		tricky := "a<b>&c \u2028\u2029 \"q\" \\ é → \x01\x1f\x7f\b\f\n\r\t \xff\xfe end"
		rule := SignatureRule("stratum-v1", "authorized")
		rule.SetSeverity(1)
		check(t, Alert{
			Timestamp: time.Unix(1700000000, 123456789), EventType: EventAlert, FlowID: 1 << 60,
			SrcIP: "2001:db8::1", SrcPort: 65535, DestIP: tricky, DestPort: 1, Proto: "TCP", VLAN: []uint16{1, 4095},
			CommunityID: "1:abc=", AppProto: "stratum", Host: tricky, Capture: tricky, Rule: rule,
			Flow: &Flow{PktsToServer: math.MaxUint64, BytesToClient: 7, Start: time.Unix(1700000000, 1),
				End: time.Unix(1700000100, 999999999), State: "closed", Reason: tricky, Alerted: true},
			TLS:      &TLS{SNI: tricky, ALPN: []string{"h2", tricky}, Version: "TLS 1.3", JA3: tricky, JA3Hash: "abc", JA4: "t13d", NoSNINon443: true},
			Detector: "signature", Confidence: 0.99, Reason: tricky,
			Mining: &Mining{Dialect: "stratum-v1", State: "authorized", StatePath: []string{"hello", tricky}, Agent: tricky,
				MinerName: "x", MinerVersion: "1", MinerOS: "linux", Login: tricky, Coin: "ZEC", Worker: "w",
				Algorithms: []string{"a", "b"}, PoolHost: "p", PoolPort: 3333, Difficulty: 16000.027179764189,
				Target: "0004", Jobs: 3, SharesSubmitted: -1, SharesAccepted: 2, SharesRejected: 1,
				HashrateHs: 1e21, ReportedHashrateHs: 1e-7, OverlapConflicts: 5},
			Intel:   &Intel{Match: "ip", Entry: tricky, Source: "s", Domain: "d", Query: "q", Expires: "e", Note: "n"},
			Model:   &Model{Score: 0.5, Threshold: 0.73, Checkpoint: 10, FeatureSet: "mw51x", TopFeatures: []FeatureValue{{"f", 1, -0.25}}, ModelID: "m"},
			Proxy:   &Proxy{Kind: "socks5", TargetHost: tricky, TargetPort: 443},
			Probe:   &Probe{Result: ProbeConfirmed, Trigger: "model", Cached: true, ProbedAt: tricky, Verdict: []byte(`{"verdict":"pool","dialect":"cryptonote"}`)},
			Summary: &Summary{IntervalStart: time.Unix(1700000000, 5), IntervalEnd: time.Unix(1700000060, 0), Alerted: 100, Suppressed: 7, Sources: 3, Limit: 100},
		})
		check(t, Alert{Live: true, Capture: "eth0", EventType: EventFlow, Flow: &Flow{Start: time.Unix(1, 0)}})
		check(t, Alert{}) // every omitempty field empty, zero times
		for _, r := range Rules() {
			check(t, Alert{EventType: EventAlert, Rule: &r})
		}
		check(t, Alert{Confidence: math.NaN()})
		check(t, Alert{Mining: &Mining{Difficulty: math.Inf(1)}})
		check(t, Alert{Model: &Model{Score: math.NaN()}})
		check(t, Alert{Rule: &Rule{Metadata: map[string][]string{"b<": nil, "a": {}, "\u2028": {"x"}}}})
	})
	t.Run("random", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(13, 2026))
		pieces := []string{"", "a", "plain words", "é", "→", "\u2028", "\u2029", "<", ">", "&", "\"", "\\", "\x00", "\x1f",
			"\x7f", "\n", "\t", "\xff", "\xc3", "\xe2\x80", "\U0001F600", "abc\xed\xa0\x80"}
		str := func() string {
			s := ""
			for range rng.IntN(4) {
				s += pieces[rng.IntN(len(pieces))]
			}
			return s
		}
		strs := func() []string {
			if rng.IntN(3) == 0 {
				return nil
			}
			v := make([]string, rng.IntN(3))
			for i := range v {
				v[i] = str()
			}
			return v
		}
		floats := []float64{0, math.Copysign(0, -1), 1, -1, 0.99, 1e-6, 9.99e-7, 1e-7, -1e-7, 1e20, 1e21, -1e21, 9.999999e20,
			123456789.125, 16000.027179764189, 5e-324, math.MaxFloat64, 1.5e-10, 1e100}
		flt := func() float64 { return floats[rng.IntN(len(floats))] }
		maybe := func() bool { return rng.IntN(2) == 0 }
		for i := range 20000 {
			a := Alert{Timestamp: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)), EventType: str(), FlowID: rng.Uint64() >> rng.IntN(64),
				SrcIP: str(), SrcPort: uint16(rng.IntN(3)), DestIP: str(), Proto: str(), CommunityID: str(), AppProto: str(),
				Host: str(), Capture: str(), Live: maybe(), Detector: str(), Confidence: flt(), Reason: str()}
			if maybe() {
				a.VLAN = make([]uint16, rng.IntN(3))
			}
			if maybe() {
				r := Rule{Action: str(), GID: rng.IntN(3), SignatureID: rng.IntN(2e6), Rev: 1, Signature: str(), Category: str(), Severity: rng.IntN(4)}
				if maybe() {
					r.Metadata = map[string][]string{}
					for range rng.IntN(5) {
						r.Metadata[str()] = strs()
					}
				}
				a.Rule = &r
			}
			if maybe() {
				f := &Flow{PktsToServer: rng.Uint64N(1e6), PktsToClient: rng.Uint64N(3), Start: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)),
					State: str(), Reason: str(), Alerted: maybe()}
				if maybe() {
					f.End = f.Start.Add(time.Duration(rng.Int64N(1e13) - 1e11))
				}
				a.Flow = f
			}
			if maybe() {
				a.TLS = &TLS{SNI: str(), ALPN: strs(), Version: str(), JA4: str(), NoSNINon443: maybe()}
				if maybe() {
					a.TLS.JA3, a.TLS.JA3Hash = str(), str()
				}
			}
			if maybe() {
				a.Mining = &Mining{Dialect: str(), State: str(), StatePath: strs(), Agent: str(), Login: str(), Algorithms: strs(),
					PoolPort: uint16(rng.IntN(2)), Difficulty: flt(), Jobs: rng.IntN(3), HashrateHs: flt(), ReportedHashrateHs: flt(),
					OverlapConflicts: rng.Int64N(2)}
			}
			if rng.IntN(8) == 0 {
				a.Intel = &Intel{Match: str(), Entry: str(), Note: str()}
			}
			if rng.IntN(8) == 0 {
				a.Model = &Model{Score: flt(), Threshold: flt(), FeatureSet: str()}
			}
			if rng.IntN(8) == 0 {
				a.Proxy = &Proxy{Kind: str(), TargetHost: str()}
			}
			if rng.IntN(8) == 0 {
				a.Probe = &Probe{Result: str(), Trigger: str(), Verdict: []byte(`{"verdict":"not-pool"}`)}
			}
			if rng.IntN(8) == 0 {
				a.Summary = &Summary{IntervalStart: time.Unix(rng.Int64N(4e9), 0), Limit: 100}
			}
			want, _ := wireMarshal(a)
			if got, _ := a.MarshalJSON(); !bytes.Equal(got, want) {
				t.Fatalf("event %d:\nencoder:\n%q\nencoding/json:\n%q", i, got, want)
			}
		}
	})
}

// The hand-written timestamp is AppendFormat's, byte for byte: random
// instants (nanoseconds that truncate, not round, to microseconds), the
// ends of years 0 and 9999, and years AppendFormat writes its own way
// (negative, five digits), in UTC and in another zone.
func TestAppendTimeIsAppendFormats(t *testing.T) {
	east := time.FixedZone("UTC+5:30", 5*3600+1800)
	times := []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(-1, 6, 1, 12, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 22, 10, 56, 32, 878994999, east),
		time.Unix(0, 0),
		{},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		times = append(times, time.Unix(rng.Int64N(253402300800), rng.Int64N(1e9)))
	}
	for _, tm := range times {
		want := tm.UTC().AppendFormat(nil, TimeFormat)
		if got := appendTime(nil, tm); string(got) != string(want) {
			t.Fatalf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	}
}

// Every single byte, alone and between plain text, is quoted as
// encoding/json quotes it (the byte table of appendString's fast path).
func TestAppendStringQuotesEveryByteAsEncodingJSON(t *testing.T) {
	for c := 0; c < 256; c++ {
		for _, s := range []string{string([]byte{byte(c)}), "ab" + string([]byte{byte(c)}) + "cd"} {
			want, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendString(nil, s); !bytes.Equal(got, want) {
				t.Fatalf("byte %#x: %s, encoding/json %s", c, got, want)
			}
		}
	}
}
