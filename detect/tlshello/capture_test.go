package tlshello_test

import (
	"bufio"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/detect/tlshello"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// hello is one row of testdata/tshark-clienthello.tsv, computed once with
// tshark 4.0.17 by testdata/gen-tshark.sh (CI may lack tshark).
type hello struct {
	frame                        string
	src, sport, dst, dport       string
	proto, sni, alpn, ja3f, ja3h string
}

func readHellos(t *testing.T) map[string][]hello {
	f, err := os.Open("testdata/tshark-clienthello.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]hello{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 11 {
			t.Fatalf("bad testdata line %q", sc.Text())
		}
		out[c[0]] = append(out[c[0]], hello{c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10]})
	}
	return out
}

// upStreams concatenates, per TCP direction "src|sport|dst|dport", the
// payloads in sequence order from the first one (or SYN+1), stopping at a
// gap — what the reassembler will hand the engine.
func upStreams(t *testing.T, path string) map[string][][]byte {
	type seg struct {
		seq  uint32
		data []byte
	}
	segs := map[string][]seg{}
	isn := map[string]uint32{}
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var rec capture.Record
	var d decode.Decoder
	for {
		if err := r.Next(&rec); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		var p packet.Packet
		if d.Decode(rec.LinkType, rec.Data, rec.Time, &p) != decode.OK || p.Proto != packet.ProtoTCP || !p.HasTCP {
			continue
		}
		k := strings.Join([]string{p.SrcIP.String(), itoa(p.SrcPort), p.DstIP.String(), itoa(p.DstPort)}, "|")
		if p.Has(packet.FlagSYN) && !p.Has(packet.FlagACK) {
			if _, reused := isn[k]; reused || len(segs[k]) > 0 {
				// A new connection on the same 4-tuple: keep the old one apart.
				n := 1
				for ; ; n++ {
					if _, ok := segs[k+"#"+itoa(uint16(n))]; !ok {
						break
					}
				}
				segs[k+"#"+itoa(uint16(n))], isn[k+"#"+itoa(uint16(n))] = segs[k], isn[k]
				delete(segs, k)
			}
			isn[k] = p.Seq + 1
		}
		if len(p.Payload) > 0 {
			segs[k] = append(segs[k], seg{p.Seq, append([]byte(nil), p.Payload...)})
		}
	}
	out := map[string][][]byte{}
	keys := slices.Sorted(maps.Keys(segs))
	for _, k := range keys {
		ss := segs[k]
		base, ok := isn[k]
		if !ok {
			base = ss[0].seq
		}
		slices.SortStableFunc(ss, func(a, b seg) int { return int(int32(a.seq-base)) - int(int32(b.seq-base)) })
		var s []byte
		for _, x := range ss {
			off := int(int32(x.seq - base))
			if off < 0 || off > len(s) {
				if off > len(s) {
					break // gap
				}
				continue
			}
			if end := off + len(x.data); end > len(s) {
				s = append(s, x.data[len(s)-off:]...)
			}
			if len(s) > 1<<20 {
				break
			}
		}
		// Older connections of a reused 4-tuple ("k#1", "k#2"…) come first.
		base4, _, _ := strings.Cut(k, "#")
		if strings.Contains(k, "#") {
			out[base4] = append([][]byte{s}, out[base4]...)
		} else {
			out[base4] = append(out[base4], s)
		}
	}
	return out
}

func itoa(n uint16) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

// TestEveryClientHelloInCapturesMatchesTshark reassembles the client
// stream of every TCP connection where tshark saw a ClientHello, feeds it
// to a Parser in the capture's own segment sizes, and compares SNI, ALPN
// and JA3 with tshark. A hello after a plaintext preamble (STARTTLS,
// SOCKS5, HTTP CONNECT) is located with Find. Hellos tshark found inside
// QUIC Initial packets (encrypted) and OpenVPN's control channel are not
// TCP streams and are counted as out of scope.
func TestEveryClientHelloInCapturesMatchesTshark(t *testing.T) {
	ds := shareddata.Require(t)
	var checked, withSNI, outOfScope, afterPreamble, sslv2, quic int
	for capPath, rows := range readHellos(t) {
		streams := upStreams(t, filepath.Join(ds, capPath))
		next := map[string]int{} // offset into the stream for repeated hellos
		conn := map[string]int{} // which connection of a reused 4-tuple
		for _, w := range rows {
			if w.sport == "" || strings.Contains(capPath, "openvpn") {
				outOfScope++ // OpenVPN carries TLS inside its own control-channel framing
				continue
			}
			if w.proto == "udp" {
				checkQUIC(t, filepath.Join(ds, capPath), w)
				quic++
				if w.sni != "" {
					withSNI++
				}
				continue
			}
			k := strings.Join([]string{w.src, w.sport, w.dst, w.dport}, "|")
			var s []byte
			start, i := 0, -1
			for ; conn[k] < len(streams[k]); conn[k], next[k] = conn[k]+1, 0 {
				s = streams[k][conn[k]]
				start = min(next[k], len(s))
				if len(s) > 2 && s[0]&0x80 != 0 && s[2] == 1 && w.ja3h == "" {
					break // SSLv2-compatible hello: no extensions, tshark derives nothing
				}
				if i = tlshello.Find(s[start:]); i >= 0 {
					break
				}
			}
			if i < 0 && len(s) > 2 && s[0]&0x80 != 0 && s[2] == 1 {
				sslv2++
				conn[k]++
				continue
			}
			if i < 0 {
				t.Errorf("%s frame %s: no ClientHello in the %d-byte client stream %s", capPath, w.frame, len(s), k)
				continue
			}
			if start+i > 0 {
				afterPreamble++
			}
			var p tlshello.Parser
			var err error
			rest := s[start+i:]
			for off := 0; off < len(rest); off += 1448 { // MSS-sized chunks
				if err = p.Feed(rest[off:min(off+1448, len(rest))]); err != tlshello.ErrNeedMore {
					break
				}
			}
			if err != nil {
				t.Errorf("%s frame %s: %v", capPath, w.frame, err)
				continue
			}
			next[k] = start + i + 5
			h := &p.Hello
			var alpn []string
			for _, a := range h.ALPN {
				alpn = append(alpn, string(a))
			}
			if got := string(h.SNI); got != w.sni {
				t.Errorf("%s frame %s: SNI %q, tshark %q", capPath, w.frame, got, w.sni)
			}
			if got := strings.Join(alpn, ","); got != w.alpn {
				t.Errorf("%s frame %s: ALPN %q, tshark %q", capPath, w.frame, got, w.alpn)
			}
			if got := h.JA3(); got != w.ja3f {
				t.Errorf("%s frame %s: JA3 %q, tshark %q", capPath, w.frame, got, w.ja3f)
			}
			if got := h.JA3Hash(); got != w.ja3h {
				t.Errorf("%s frame %s: JA3 hash %s, tshark %s", capPath, w.frame, got, w.ja3h)
			}
			checked++
			if w.sni != "" {
				withSNI++
			}
		}
	}
	t.Logf("%d TCP and %d QUIC ClientHellos (%d with SNI; %d after a plaintext preamble) match tshark's SNI, ALPN and JA3; out of scope: %d SSLv2-format hellos (no SNI, no JA3 in tshark), %d inside OpenVPN",
		checked, quic, withSNI, afterPreamble, sslv2, outOfScope)
}

// checkQUIC feeds the client's UDP payloads of one flow to a QUICParser
// and compares the hello with tshark's row.
func checkQUIC(t *testing.T, path string, w hello) {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var rec capture.Record
	var d decode.Decoder
	var q tlshello.QUICParser
	err = tlshello.ErrNeedMore
	for err == tlshello.ErrNeedMore {
		if e := r.Next(&rec); e != nil {
			break
		}
		var p packet.Packet
		if d.Decode(rec.LinkType, rec.Data, rec.Time, &p) != decode.OK || p.Proto != packet.ProtoUDP ||
			p.SrcIP.String() != w.src || itoa(p.SrcPort) != w.sport || p.DstIP.String() != w.dst || itoa(p.DstPort) != w.dport {
			continue
		}
		err = q.Feed(p.Payload)
	}
	if err != nil {
		t.Errorf("%s frame %s: QUIC: %v", path, w.frame, err)
		return
	}
	h := &q.Hello
	var alpn []string
	for _, a := range h.ALPN {
		alpn = append(alpn, string(a))
	}
	if string(h.SNI) != w.sni || strings.Join(alpn, ",") != w.alpn || h.JA3() != w.ja3f || h.JA3Hash() != w.ja3h {
		t.Errorf("%s frame %s: QUIC hello SNI %q ALPN %q JA3 %s; tshark %q %q %s", path, w.frame, h.SNI, alpn, h.JA3(), w.sni, w.alpn, w.ja3f)
	}
	if !strings.HasPrefix(h.JA4(), "q13d") {
		t.Errorf("QUIC JA4 %s", h.JA4())
	}
}
