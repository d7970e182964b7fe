package signature_test

import (
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/reassembly"
	"github.com/minerwatch/minerwatch/detect/signature"
	"github.com/minerwatch/minerwatch/features/packet"
)

// Segment records of a FuzzSignatureFlow input: a control byte (bit 0:
// direction down; 1: SYN; 2: FIN; 3: payload cut by the snaplen; 4: the
// sequence offset counts in KiB), a signed sequence offset from the next
// expected byte of that direction, the payload length and the payload.
const (
	ctlDown = 1 << iota
	ctlSYN
	ctlFIN
	ctlCut
	ctlKiB
)

func segRecord(ctl byte, off int8, payload string) []byte {
	return append([]byte{ctl, byte(off), byte(len(payload))}, payload...)
}

// conversation encodes a dialect case as in-order segments of at most 255
// bytes after a handshake.
func conversation(c dialectCase) []byte {
	b := append(segRecord(ctlSYN, 0, ""), segRecord(ctlDown|ctlSYN, 0, "")...)
	for _, msg := range c.msgs {
		ctl := byte(0)
		if msg.Dir == down {
			ctl = ctlDown
		}
		for s := msg.Data; len(s) > 0; {
			k := min(255, len(s))
			b = append(b, segRecord(ctl, 0, s[:k])...)
			s = s[k:]
		}
	}
	return b
}

// FuzzSignatureFlow feeds TCP segments with arbitrary sequence numbers,
// flags and payloads to one signature.Flow with small caps. Invariants: no
// panic; the shared reassembly budget is never exceeded and is all given
// back by Close; a verdict, once reached, stays; counters stay >= 0.
func FuzzSignatureFlow(f *testing.F) {
	for _, c := range dialectCases() {
		f.Add(conversation(c))
	}
	// Out of order, overlapping and retransmitted copies of an XMRig login.
	f.Add(append(append(segRecord(ctlSYN, 0, ""), segRecord(0, 50, xmrigLogin[50:150])...),
		append(segRecord(0, 0, xmrigLogin[:80]), segRecord(0, -80, xmrigLogin[:100])...)...))
	f.Add(append(segRecord(ctlKiB, 100, xmrigLogin[:90]), segRecord(ctlDown|ctlFIN|ctlCut, -3, xmrigSubmitOK)...))
	const budgetMax = 8 << 10
	cfg := signature.Config{
		Stream:  reassembly.Config{MaxBytes: 4 << 10, MaxBuffered: 1 << 10, MaxSegments: 8},
		Follow:  reassembly.Config{MaxBytes: 4 << 10},
		MaxLine: 2 << 10,
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		budget := reassembly.NewBudget(budgetMax)
		fl := signature.New(cfg, budget)
		decided := false
		feedSegments(fl, data, func() {
			if in := budget.Stats().InUse; in > budgetMax || in < 0 {
				t.Fatalf("budget in use %d of %d", in, budgetMax)
			}
			if decided && !fl.Decided() {
				t.Fatal("verdict withdrawn")
			}
			decided = fl.Decided()
		})
		v := fl.Verdict()
		if decided && !v.Mining {
			t.Fatal("decided flow without a mining verdict")
		}
		st := fl.Stats()
		for _, x := range []int64{st.Lines, st.Messages, st.Gaps, st.GapBytes, st.CapDropped, st.BudgetDropped, st.SkippedBytes} {
			if x < 0 {
				t.Fatalf("negative counter: %+v", st)
			}
		}
		fl.Close()
		if in := budget.Stats().InUse; in != 0 {
			t.Fatalf("Close left %d bytes of the budget taken", in)
		}
	})
}

// feedSegments decodes segment records into packets for fl, calling after
// each one.
func feedSegments(fl *signature.Flow, data []byte, after func()) {
	next := [2]uint32{1000, 900000}
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for len(data) >= 3 {
		ctl, off, n := data[0], int8(data[1]), int(data[2])
		data = data[3:]
		n = min(n, len(data))
		payload := data[:n]
		data = data[n:]
		dir := packet.Direction(ctl & ctlDown)
		p := packet.Packet{Time: ts, Proto: packet.ProtoTCP, HasTCP: true, HasPorts: true,
			TCPFlags: packet.FlagACK | packet.FlagPSH, Payload: payload, PayloadLen: len(payload)}
		if ctl&ctlSYN != 0 {
			p.TCPFlags = packet.FlagSYN
			if dir == down {
				p.TCPFlags |= packet.FlagACK
			}
		}
		if ctl&ctlFIN != 0 {
			p.TCPFlags |= packet.FlagFIN
		}
		if ctl&ctlCut != 0 {
			p.PayloadLen += 10
		}
		delta := int32(off)
		if ctl&ctlKiB != 0 {
			delta *= 1024
		}
		p.Seq = next[dir] + uint32(delta)
		fl.Packet(&p, dir)
		if end := p.Seq + uint32(len(p.Payload)); int32(end-next[dir]) > 0 {
			next[dir] = end
		}
		if ctl&ctlSYN != 0 {
			next[dir]++
		}
		ts = ts.Add(100 * time.Millisecond)
		after()
	}
}

// The fuzz seeds are the dialect table's conversations: through the
// segment encoding each still reaches its verdict, so the fuzzer starts
// from deep states of the machine.
func TestFuzzSeedsReachTheirVerdicts(t *testing.T) {
	for _, c := range dialectCases() {
		fl := signature.New(signature.DefaultConfig(), nil)
		feedSegments(fl, conversation(c), func() {})
		if v := fl.Verdict(); !v.Mining || v.Dialect != c.dialect {
			t.Errorf("%s: verdict %+v", c.name, v)
		}
	}
}
