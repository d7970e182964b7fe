package signature_test

import (
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/internal/flowtest"
	"github.com/minerwatch/minerwatch/detect/reassembly"
	"github.com/minerwatch/minerwatch/detect/signature"
	"github.com/minerwatch/minerwatch/features/packet"
)

// xmrigSession is the lab XMRig exchange (login, job, two shares) with
// prefix in front of the login.
func xmrigSession(prefix string) []flowtest.Msg {
	return []flowtest.Msg{m(up, prefix+xmrigLogin), m(down, xmrigLoginOK), m(down, xmrigJob),
		m(up, xmrigSubmit), m(down, xmrigSubmitOK)}
}

// TestPaddingCannotHideTheLogin: whitespace (which XMRig's pool parsers
// skip) or a garbage line before the login must not push it past the
// 64 KiB scan cap or the 16 KiB line limit.
func TestPaddingCannotHideTheLogin(t *testing.T) {
	cases := []struct{ name, prefix string }{
		{"70 KB of spaces", strings.Repeat(" ", 70_000)},
		{"70 KB of blank lines", strings.Repeat("\r\n", 35_000)},
		{"200 KB of tabs and spaces", strings.Repeat("\t ", 100_000)},
		{"a 20 KB garbage line", strings.Repeat("A", 20_000) + "\n"},
		{"a 200 KB garbage line", strings.Repeat("A", 200_000) + "\n"},
		{"100 KB of binary without a newline", strings.Repeat("\x00\x01\xfe\xff", 25_000) + "\n"},
		{"spaces inside the login", ""}, // built below
	}
	for _, tc := range cases {
		msgs := xmrigSession(tc.prefix)
		if tc.prefix == "" {
			msgs[0].Data = strings.Replace(xmrigLogin, `"method":`, `"method":`+strings.Repeat(" ", 70_000), 1)
		}
		f := signature.New(signature.DefaultConfig(), reassembly.NewBudget(1<<20))
		flowtest.Script{Segment: 1400}.Run(f, msgs)
		f.Finish()
		v := f.Verdict()
		if !v.Mining || v.Dialect != "cryptonote" || v.Meta.Agent == "" {
			t.Errorf("%s: mining %v dialect %q agent %q (stats %+v)", tc.name, v.Mining, v.Dialect, v.Meta.Agent, f.Stats())
		}
		f.Close()
	}
}

// TestEndlessPaddingIsBounded: a stream of nothing but spaces ends at
// MaxPadding + MaxBytes and never grows a buffer.
func TestEndlessPaddingIsBounded(t *testing.T) {
	cfg := signature.DefaultConfig()
	b := reassembly.NewBudget(1 << 20)
	f := signature.New(cfg, b)
	msgs := make([]flowtest.Msg, 0, 300)
	chunk := strings.Repeat(" ", 64<<10)
	for i := 0; i < 300; i++ { // 19.7 MB of spaces
		msgs = append(msgs, m(up, chunk))
	}
	flowtest.Script{Segment: 1460}.Run(f, msgs)
	st := f.Stats()
	if st.Padding != cfg.Stream.MaxPadding || st.CapDropped == 0 || b.Stats().Peak != 0 || f.Decided() {
		t.Errorf("stats %+v, budget %+v", st, b.Stats())
	}
	f.Close()
}

// TestDecoyOverlapsDoNotHideTheSession: each segment is sent twice at
// the same sequence numbers, a decoy first (Ptacek & Newsham insertion:
// the real receiver, or a path with a lower TTL, drops it). The first
// reading sees only the decoy; the last-copy reading sees the session.
func TestDecoyOverlapsDoNotHideTheSession(t *testing.T) {
	for _, tc := range []struct {
		name  string
		decoy string
		seg   int
	}{
		{"x decoy, 100-byte segments", "x", 100},
		{"newline decoy, 1-byte segments", "\n", 1},
		{"JSON-looking decoy, 536-byte segments", `{"id":0,"method":"keepalived"}` + "\n", 536},
	} {
		budget := reassembly.NewBudget(1 << 20)
		f := signature.New(signature.DefaultConfig(), budget)
		flowtest.Script{Segment: tc.seg, Decoy: []byte(tc.decoy)}.Run(f, xmrigSession(""))
		f.Finish()
		v := f.Verdict()
		var a alert.Mining
		v.FillMining(&a)
		if !v.Mining || v.Dialect != "cryptonote" || !v.AltReading || a.OverlapConflicts == 0 || !f.Decided() {
			t.Errorf("%s: mining %v dialect %q alt %v conflicts %d", tc.name, v.Mining, v.Dialect, v.AltReading, a.OverlapConflicts)
		}
		if v.Evidence != "" {
			t.Errorf("%s: a verdict read from conflicting copies claims evidence %q", tc.name, v.Evidence)
		}
		if in := budget.Stats().InUse; in != 0 { // the verdict's follow mode dropped the second reading
			t.Errorf("%s: %d bytes still charged after the verdict", tc.name, in)
		}
		f.Close()
	}
}

// TestOrdinarySessionsHaveNoConflicts: the same session without decoys
// has no conflicts and no alternative reading.
func TestOrdinarySessionsHaveNoConflicts(t *testing.T) {
	f := signature.New(signature.DefaultConfig(), nil)
	flowtest.Script{Segment: 100}.Run(f, xmrigSession(""))
	f.Finish()
	if v := f.Verdict(); !v.Mining || v.AltReading || v.OverlapConflicts != 0 {
		t.Errorf("mining %v alt %v conflicts %d", v.Mining, v.AltReading, v.OverlapConflicts)
	}
}

// TestEvidenceNeedsAHandshakeAndAnAnswer: only a conversation with a
// handshake in sequence and an acknowledged, answered request earns the
// evidence that lets the endpoint join the learned list on its own.
func TestEvidenceNeedsAHandshakeAndAnAnswer(t *testing.T) {
	cases := []struct {
		name   string
		script flowtest.Script
		msgs   []flowtest.Msg
		want   string
	}{
		{"full session", flowtest.Script{}, xmrigSession(""), signature.EvidenceHandshake},
		{"full session, split", flowtest.Script{Segment: 7}, xmrigSession(""), signature.EvidenceHandshake},
		{"no handshake (mid-session or one spoofed exchange)", flowtest.Script{MidSession: true}, xmrigSession(""), ""},
		{"handshake but acknowledgements out of sequence", flowtest.Script{NoAck: true}, xmrigSession(""), ""},
		{"pushes only, no answered request", flowtest.Script{}, []flowtest.Msg{m(up, xmrigSubmit), m(down, xmrigJob)}, ""},
	}
	for _, tc := range cases {
		f := signature.New(signature.DefaultConfig(), nil)
		tc.script.Run(f, tc.msgs)
		f.Finish()
		v := f.Verdict()
		if !v.Mining || v.Evidence != tc.want {
			t.Errorf("%s: mining %v evidence %q, want %q", tc.name, v.Mining, v.Evidence, tc.want)
		}
	}
}

// TestUnreadableFlowsStopWatchingAfterTheirFirstBytes: a flow read as TLS
// looks for conflicting copies in the first 4 KiB of each direction (a
// decoy ClientHello in front of a plaintext login is caught there), and
// not in the rest of a download, which would cost hashing every byte.
func TestUnreadableFlowsStopWatchingAfterTheirFirstBytes(t *testing.T) {
	hello := "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + strings.Repeat("r", 500)
	body := strings.Repeat("\x17\x03\x03\x40\x00"+strings.Repeat("e", 995), 10) // 10 KB of records
	for _, tc := range []struct {
		name      string
		at        int // where in the client stream the conflicting copy goes
		conflicts bool
	}{
		{"conflict in the first 4 KiB", 1000, true},
		{"conflict after 8 KiB", 8000, false},
		{"conflict at the start", 0, true},
	} {
		stream := hello + body
		f := signature.New(signature.DefaultConfig(), nil)
		send := func(seq int, b string) {
			p := packet.Packet{Proto: packet.ProtoTCP, HasTCP: true, TCPFlags: packet.FlagACK, Seq: 1001 + uint32(seq), Payload: []byte(b), PayloadLen: len(b)}
			f.Packet(&p, up)
		}
		f.Packet(&packet.Packet{Proto: packet.ProtoTCP, HasTCP: true, TCPFlags: packet.FlagSYN, Seq: 1000}, up)
		for off := 0; off < len(stream); off += 1000 {
			seg := stream[off:min(off+1000, len(stream))]
			send(off, seg)
			if off == tc.at {
				send(off, strings.Repeat("Z", len(seg))) // the other copy
			}
		}
		if got := f.Stats().OverlapConflicts > 0; got != tc.conflicts {
			t.Errorf("%s: conflicts %d", tc.name, f.Stats().OverlapConflicts)
		}
	}
}

// TestTapSeesEachByteOnce: the first bytes are buffered until the stream's
// kind is known and then replayed to the reader, not to the tap (the DNS
// over TCP and TLS parsers behind it would read them twice).
func TestTapSeesEachByteOnce(t *testing.T) {
	msgs := xmrigSession("")
	var want [2]int
	for _, m := range msgs {
		want[m.Dir] += len(m.Data)
	}
	f := signature.New(signature.DefaultConfig(), nil)
	var got [2]int
	f.SetTap(func(dir packet.Direction, b []byte) { got[dir] += len(b) })
	flowtest.Script{Segment: 5}.Run(f, msgs)
	if got != want || !f.Decided() {
		t.Errorf("tap saw %v bytes, want %v (decided %v)", got, want, f.Decided())
	}
}
