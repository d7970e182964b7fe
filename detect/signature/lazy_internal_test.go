package signature

import (
	"strings"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/features/packet"
)

// conv feeds a conversation to a Flow packet by packet (this file is in
// package signature to look at what a flow holds, so it cannot use
// internal/flowtest, which imports the package).
type conv struct {
	f   *Flow
	seq [2]uint32
	ts  time.Time
	seg int // segment size (0: 1400)
}

func newConv(f *Flow) *conv {
	c := &conv{f: f, seq: [2]uint32{1000, 500000}, ts: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c.pkt(packet.Up, packet.FlagSYN, "")
	c.pkt(packet.Down, packet.FlagSYN|packet.FlagACK, "")
	c.pkt(packet.Up, packet.FlagACK, "")
	return c
}

func (c *conv) pkt(dir packet.Direction, flags uint8, payload string) {
	p := packet.Packet{Time: c.ts, Proto: packet.ProtoTCP, HasTCP: true, HasPorts: true,
		TCPFlags: flags, Seq: c.seq[dir], Payload: []byte(payload), PayloadLen: len(payload)}
	if flags&packet.FlagACK != 0 {
		p.Ack = c.seq[1-dir]
	}
	c.f.Packet(&p, dir)
	c.seq[dir] += uint32(len(payload))
	if flags&packet.FlagSYN != 0 {
		c.seq[dir]++
	}
	c.ts = c.ts.Add(time.Millisecond)
}

func (c *conv) send(dir packet.Direction, payload string) {
	for len(payload) > 0 {
		n := min(len(payload), 1400)
		if c.seg > 0 {
			n = min(len(payload), c.seg)
		}
		c.pkt(dir, packet.FlagACK|packet.FlagPSH, payload[:n])
		payload = payload[n:]
	}
}

// tlsRecord is an n-byte TLS 1.2 record of type typ.
func tlsRecord(typ byte, n int) string {
	b := make([]byte, n)
	b[0], b[1], b[2], b[3], b[4] = typ, 3, 3, byte((n-5)>>8), byte(n-5)
	for i := 5; i < n; i++ {
		b[i] = byte(i*7) | 0x80 // no newline, no JSON
	}
	return string(b)
}

// What a flow holds depends on what its first bytes turned out to be: a
// million TLS flows must not each carry JSON-RPC readers and a Stratum
// machine they will never use.
func TestFlowStateFollowsWhatTheStreamIs(t *testing.T) {
	// Plain JSON-RPC (an Ethereum node call): read, and not mining.
	call := `{"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":1}` + "\n"
	cases := []struct {
		name                       string
		up, down                   string
		readers, http, machine, px bool
	}{
		// 0x16: a ClientHello; the stage gives up at the first byte.
		{"TLS handshake", tlsRecord(0x16, 517), tlsRecord(0x16, 1400), false, false, false, false},
		// A SOCKS5 server refusing: nothing left to read after the refusal.
		{"refused SOCKS5", "\x05\x01\x00", "\x05\xff", false, false, false, true},
		// A capture that begins mid-session: application-data records
		// (internal/benchgen's concurrent flows).
		{"TLS application data", tlsRecord(0x17, 64), tlsRecord(0x17, 200), false, false, false, false},
		{"TLS application data in 3-byte segments", tlsRecord(0x17, 64), tlsRecord(0x17, 200), false, false, false, false},
		// Binary bytes that are no TLS record (version 9.9) are read as
		// lines: readers, but no message, so no machine.
		{"binary records read as lines", "\x17\x09\x09" + tlsRecord(0x17, 64)[3:], tlsRecord(0x17, 200), true, false, false, false},
		{"JSON-RPC lines", call, `{"jsonrpc":"2.0","id":1,"result":"0x4b7"}` + "\n", true, false, true, false},
		{"HTTP", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", true, true, true, false},
	}
	for _, tc := range cases {
		f := New(DefaultConfig(), nil)
		c := newConv(f)
		if strings.Contains(tc.name, "3-byte segments") {
			c.seg = 3
		}
		c.send(packet.Up, tc.up)
		c.send(packet.Down, tc.down)
		got := [4]bool{f.lineRd() != nil, f.httpRd() != nil, f.mach() != nil, f.proxyRes() != nil}
		if want := [4]bool{tc.readers, tc.http, tc.machine, tc.px}; got != want {
			t.Errorf("%s: readers, http, machine, proxy = %v, want %v", tc.name, got, want)
		}
		if f.preBufs() != nil {
			t.Errorf("%s: still holds %d+%d first bytes after deciding", tc.name, len(f.preBufs()[0]), len(f.preBufs()[1]))
		}
		if v := f.Verdict(); v.Mining || v.Swapped {
			t.Errorf("%s: verdict %+v from a flow without a mining exchange", tc.name, v)
		}
		f.Close()
	}
}

// A flow without a verdict whose both directions reached the 64 KiB scan
// cap frees its partial lines: no byte reaches the readers again, and a
// partial line is never read.
func TestCappedFlowDropsItsPartialLines(t *testing.T) {
	f := New(DefaultConfig(), nil)
	c := newConv(f)
	// Non-JSON lines count toward the cap (oversized ones would be
	// forgiven), then a partial line that the cap cuts.
	stream := strings.Repeat(strings.Repeat("a", 999)+"\n", 60) + strings.Repeat("b", 10_000)
	c.send(packet.Up, stream)
	if f.lineRd().lines[packet.Up].Buffered() == 0 {
		t.Fatal("the up partial line is not buffered before the other direction is capped")
	}
	c.send(packet.Down, stream)
	for d := range f.streams {
		if !f.streams[d].Done() {
			t.Fatalf("stream %d not capped", d)
		}
		if n := f.lineRd().lines[d].Buffered(); n != 0 {
			t.Errorf("direction %d still holds a %d-byte line buffer", d, n)
		}
	}
	// 60 lines per direction were read (and skipped as not JSON) before.
	if s := f.Stats(); s.Lines != 120 || s.SkippedBytes != 120*999 {
		t.Errorf("lines %d skipped %d, want 120 and %d", s.Lines, s.SkippedBytes, 120*999)
	}
}
