package seqfeat

import (
	"math"
	"testing"
	"unsafe"
)

// rec builds a TLS record: header (type, version 3.3, length) and a body
// of n bytes.
func rec(typ byte, n int) []byte {
	b := make([]byte, 5+n)
	b[0], b[1], b[2], b[3], b[4] = typ, 3, 3, byte(n>>8), byte(n)
	return b
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

type pkt struct {
	at      float64 // s
	down    bool
	payload []byte
	n       int // payload length when payload is nil (or cut short)
	seq     uint32
}

func feed(s *Seq, pkts []pkt) {
	seqs := [2]uint32{1000, 5000}
	for _, p := range pkts {
		d := 0
		if p.down {
			d = 1
		}
		n := p.n
		if n == 0 {
			n = len(p.payload)
		}
		seq := p.seq
		if seq == 0 {
			seq = seqs[d]
			seqs[d] += uint32(n)
		}
		s.Add(int64(p.at*1e9), p.down, p.payload, n, seq, true, 0)
	}
}

func TestSeqFitsTheFlowBudget(t *testing.T) {
	// The flow table must hold a million flows: this set may cost a flow
	// at most 128 bytes.
	if sz := unsafe.Sizeof(Seq{}); sz > 128 {
		t.Fatalf("Seq is %d bytes, want ≤ 128", sz)
	}
}

func TestDefsHaveNumColumns(t *testing.T) {
	if got := len(Defs()); got != Num {
		t.Fatalf("len(Defs()) = %d, Num = %d", got, Num)
	}
	seen := map[string]bool{}
	for _, d := range Defs() {
		if seen[d.Name] || d.Unit == "" || d.Definition == "" {
			t.Errorf("bad or duplicate def %+v", d)
		}
		seen[d.Name] = true
	}
}

func TestTLSMessagesAreApplicationRecords(t *testing.T) {
	// A TLS 1.2 session as XMRig's looks: the handshake records are not
	// messages; the login (one 180-byte record split over two packets),
	// the job answer and, coalesced with it, a second record, are.
	login := rec(23, 180)
	var s Seq
	feed(&s, []pkt{
		{at: 0.00, payload: rec(22, 300)},                                            // ClientHello
		{at: 0.05, down: true, payload: cat(rec(22, 90), rec(22, 1200), rec(22, 4))}, // ServerHello, Certificate, Done
		{at: 0.10, payload: cat(rec(22, 70), rec(20, 1), rec(22, 40))},               // key exchange, CCS, Finished
		{at: 0.15, down: true, payload: cat(rec(20, 1), rec(22, 40))},
		{at: 0.20, payload: login[:100]},
		{at: 0.21, payload: login[100:]},
		{at: 0.30, down: true, payload: cat(rec(23, 400), rec(23, 60))},
		{at: 20.3, payload: rec(23, 140)},
	})
	if !s.TLS() {
		t.Fatal("flow starting with a handshake record not taken for TLS")
	}
	want := []struct {
		length int
		down   bool
		gap    float64
	}{{180, false, math.NaN()}, {400, true, 0.10}, {60, true, 0}, {140, false, 20.0}}
	if s.Len() != len(want) {
		t.Fatalf("%d messages, want %d", s.Len(), len(want))
	}
	for i, w := range want {
		l, down, gap := s.Message(i)
		if l != w.length || down != w.down || !nearRel(gap, w.gap, 0.1) {
			t.Errorf("message %d = (%d, %v, %v), want (%d, %v, %v)", i, l, down, gap, w.length, w.down, w.gap)
		}
	}
}

// serverHello returns a handshake record holding a ServerHello; with
// v13 its supported_versions extension selects TLS 1.3.
func serverHello(v13 bool) []byte {
	body := []byte{3, 3}
	body = append(body, make([]byte, 32)...) // random
	body = append(body, 0)                   // session id
	body = append(body, 0x13, 0x01, 0)       // cipher suite, compression
	ext := []byte{0, 51, 0, 4, 0, 29, 0, 0}  // key_share (stub)
	if v13 {
		ext = append(ext, 0, 43, 0, 2, 3, 4)
	}
	body = append(body, byte(len(ext)>>8), byte(len(ext)))
	body = append(body, ext...)
	hs := append([]byte{2, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	r := rec(22, len(hs))
	copy(r[5:], hs)
	return r
}

func TestTLS13EncryptedHandshakeIsNotMessages(t *testing.T) {
	// TLS 1.3: after the ServerHello, the server's EncryptedExtensions …
	// Finished and the client's Finished travel as application-data
	// records. They are skipped, so the login is message 1 as under
	// TLS 1.2; with a TLS 1.2 ServerHello the same records all count.
	for _, v13 := range []bool{true, false} {
		var s Seq
		feed(&s, []pkt{
			{at: 0, payload: rec(22, 300)},
			{at: 0.05, down: true, payload: cat(serverHello(v13), rec(20, 1), rec(23, 30), rec(23, 1800), rec(23, 270), rec(23, 60))},
			{at: 0.1, payload: cat(rec(20, 1), rec(23, 60))},
			{at: 0.1, payload: rec(23, 150)},
			{at: 0.2, down: true, payload: rec(23, 400)},
		})
		want := 2
		if !v13 {
			want = 7
		}
		if s.Len() != want {
			t.Fatalf("TLS 1.3 %v: %d messages, want %d", v13, s.Len(), want)
		}
		if l, down, _ := s.Message(s.Len() - 2); l != 150 || down {
			t.Errorf("TLS 1.3 %v: login = %d down=%v, want 150 up", v13, l, down)
		}
	}
}

func TestPlainMessagesArePacketsAndRetransmissionsAreSkipped(t *testing.T) {
	var s Seq
	feed(&s, []pkt{
		{at: 0, n: 250, seq: 100},
		{at: 1, n: 250, seq: 100}, // retransmission
		{at: 1.1, down: true, n: 600, seq: 900},
		{at: 21, n: 120, seq: 350},
	})
	if s.TLS() || s.Len() != 3 {
		t.Fatalf("tls=%v len=%d, want plain with 3 messages", s.TLS(), s.Len())
	}
	if l, _, gap := s.Message(1); l != 600 || !nearRel(gap, 1.1, 0.1) {
		t.Errorf("message 2 = %d after %vs, want 600 after 1.1s", l, gap)
	}
}

func TestMidSessionTLSResynchronises(t *testing.T) {
	// The capture starts inside a record: the first packets' bytes are
	// not headers. Positions are found again at the first packet that
	// starts with one.
	body := make([]byte, 300)
	var s Seq
	feed(&s, []pkt{
		{at: 0, payload: rec(23, 50)}, // first payload: a record, so TLS
		{at: 1, down: true, payload: body},
		{at: 2, down: true, payload: rec(23, 77)},
	})
	if s.Len() != 2 {
		t.Fatalf("%d messages, want 2", s.Len())
	}
	if l, down, _ := s.Message(1); l != 77 || !down {
		t.Errorf("message 2 = %d down=%v, want 77 down", l, down)
	}
}

func TestSeqFillsOnce(t *testing.T) {
	var s Seq
	for i := 0; i < 3*N; i++ {
		s.Add(int64(i)*1e9, i%2 == 1, nil, 100+i, uint32(1000*i), true, 0)
	}
	if !s.Full() || s.Len() != N {
		t.Fatalf("len %d, want %d", s.Len(), N)
	}
	if l, _, _ := s.Message(N - 1); l != 100+N-1 {
		t.Errorf("last message %d, want %d: later packets must not overwrite", l, 100+N-1)
	}
}

func TestGapCodeKeepsNinePercent(t *testing.T) {
	for _, sec := range []float64{0.0001, 0.003, 0.05, 0.7, 12, 95, 1800} {
		got := gapSeconds(gapCode(int64(sec * 1e9)))
		if !nearRel(got, sec, 0.05) {
			t.Errorf("gap %vs decodes to %v", sec, got)
		}
	}
	if gapCode(0) != 1 || !math.IsNaN(gapSeconds(0)) {
		t.Error("0 s must code to 1, code 0 must be 'none'")
	}
}

func TestFillSummaries(t *testing.T) {
	// A Stratum-like exchange: login 250 up, job 600 down after 0.1 s,
	// a pushed job 500 down 10 s later, then two shares of 140 each
	// answered by 60-byte results after 0.08 s.
	var s Seq
	feed(&s, []pkt{
		{at: 0, n: 250},
		{at: 0.1, down: true, n: 600},
		{at: 10.1, down: true, n: 500},
		{at: 20, n: 140},
		{at: 20.08, down: true, n: 60},
		{at: 45, n: 140},
		{at: 45.08, down: true, n: 60},
	})
	out := make([]float64, Num)
	Fill(out, &s, 60, 60e9)
	got := map[string]float64{}
	for i, d := range Defs() {
		got[d.Name] = out[i]
	}
	// Expected values by hand from the exchange above.
	want := map[string]float64{
		"seq_len_1": 250, "seq_len_2": -600, "seq_len_7": -60, "seq_len_8": math.NaN(),
		"seq_gap_2": 0.1, "seq_gap_4": 9.9,
		"seq_n": 7, "seq_tls": 0,
		"seq_up_len_mode": 140, "seq_up_len_mode_share": 2.0 / 3, "seq_up_len_range": 110,
		"seq_down_len_mode": 60, "seq_down_len_mode_share": 0.5, "seq_down_len_range": 540,
		"seq_up_share": 3.0 / 7, "seq_pair_share": 1,
		"seq_resp_delay_median": 0.08, "seq_up_gap_median": 22.5,
		"seq_push_share": 0.25, "seq_span": 45.08, "elapsed": 60,
		// The login's answer is the 600-byte job; the 500-byte job 10 s
		// later answers nothing (unasked); both shares are answered, of
		// one size each way; quiet since 45.08 s at the row (60 s).
		"seq_open_answer": 600, "seq_quiet": 14.92, "seq_answered_share": 1,
		"seq_req_len_range": 0, "seq_reply_len_range": 0, "seq_unasked": 1,
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || !nearRel(g, w, 0.06) {
			t.Errorf("%s = %v, want %v", name, g, w)
		}
	}
	Fill(out, nil, 12, 12e9)
	if out[Num-1] != 12 || out[N+N-1] != 0 || !math.IsNaN(out[0]) {
		t.Errorf("a flow without data: elapsed %v, seq_n %v, seq_len_1 %v", out[Num-1], out[N+N-1], out[0])
	}
}

func TestEarlyColumnsReadTheOpeningExchange(t *testing.T) {
	// name → messages (at s, up length > 0, down < 0), row time, and the
	// expected columns (by hand from the messages).
	type msg struct {
		at float64
		n  int
	}
	cases := []struct {
		name string
		msgs []msg
		now  float64
		want map[string]float64
	}{
		{"TLS 1.3 tickets come before the login's answer", []msg{{0, 609}, {0.1, -250}, {0.1, -250}, {0.12, -557}}, 30,
			map[string]float64{"seq_open_answer": 557, "seq_quiet": 29.88, "seq_answered_share": math.NaN(), "seq_unasked": 0}},
		{"a job pushed unasked after a quiet login", []msg{{0, 583}, {0.1, -522}, {20, -410}, {25, 238}, {25.1, -88}}, 30,
			map[string]float64{"seq_open_answer": 522, "seq_unasked": 1, "seq_answered_share": 1, "seq_req_len_range": math.NaN()}},
		{"shares of one size with short answers, one unanswered", []msg{{0, 300}, {0.2, -900}, {10, 230}, {10.1, -80}, {20, 230}, {20.1, -80}, {30, 230}, {35, -80}}, 40,
			map[string]float64{"seq_answered_share": 2.0 / 3, "seq_req_len_range": 0, "seq_reply_len_range": 0, "seq_unasked": 1}},
		{"the server speaks first (a banner): unasked, no opening answer", []msg{{0, -40}, {0.3, 40}, {0.35, -900}}, 5,
			map[string]float64{"seq_open_answer": 900, "seq_unasked": 1}},
		{"requests of varying size answered with varying size", []msg{{0, 100}, {0.1, -100}, {1, 120}, {1.1, -2000}, {2, 700}, {2.1, -90}}, 3,
			map[string]float64{"seq_answered_share": 1, "seq_req_len_range": 580, "seq_reply_len_range": 1910}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s Seq
			var pkts []pkt
			for _, m := range c.msgs {
				if m.n < 0 {
					pkts = append(pkts, pkt{at: m.at, down: true, n: -m.n})
				} else {
					pkts = append(pkts, pkt{at: m.at, n: m.n})
				}
			}
			feed(&s, pkts)
			out := make([]float64, Num)
			Fill(out, &s, c.now, int64(c.now*1e9))
			for i, d := range Defs() {
				if w, ok := c.want[d.Name]; ok && !nearRel(out[i], w, 0.06) {
					t.Errorf("%s = %v, want %v", d.Name, out[i], w)
				}
			}
		})
	}
}

func TestQuietIsUndefinedOnceTheSequenceIsFull(t *testing.T) {
	// Past N messages the last recorded one says nothing about the row.
	var s Seq
	var pkts []pkt
	for i := 0; i <= N; i++ {
		pkts = append(pkts, pkt{at: float64(i), down: i%2 == 1, n: 100})
	}
	feed(&s, pkts)
	out := make([]float64, Num)
	Fill(out, &s, 600, 600e9)
	for i, d := range Defs() {
		if d.Name == "seq_quiet" && !math.IsNaN(out[i]) {
			t.Errorf("seq_quiet = %v with %d messages recorded, want NaN", out[i], s.Len())
		}
	}
}

func nearRel(a, b, rel float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= rel*math.Abs(b)+1e-9
}
