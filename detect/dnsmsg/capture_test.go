package dnsmsg_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/detect/dnsmsg"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// tsharkDNS is one row of testdata/tshark-dns.tsv, computed once with
// tshark 4.0.17 by testdata/gen-tshark.sh (CI may lack tshark).
type tsharkDNS struct {
	frame               int
	response            bool
	qnames, a, aaaa, cn []string
}

func readTsharkDNS(t *testing.T) map[string][]tsharkDNS {
	f, err := os.Open("testdata/tshark-dns.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]tsharkDNS{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 11 {
			t.Fatalf("bad testdata line %q", sc.Text())
		}
		n, _ := strconv.Atoi(c[1])
		out[c[0]] = append(out[c[0]], tsharkDNS{frame: n, response: c[6] == "1" || c[6] == "True",
			qnames: split(c[7]), a: split(c[8]), aaaa: split(c[9]), cn: split(c[10])})
	}
	return out
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// forEachFrame calls fn with every decoded packet and its 1-based frame number.
func forEachFrame(t *testing.T, path string, fn func(frame int, p *packet.Packet)) {
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var rec capture.Record
	var d decode.Decoder
	var p packet.Packet
	for frame := 1; ; frame++ {
		if err := r.Next(&rec); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("%s: %v", path, err)
			}
			return
		}
		p = packet.Packet{}
		if d.Decode(rec.LinkType, rec.Data, rec.Time, &p) == decode.OK {
			fn(frame, &p)
		}
	}
}

// TestEveryDNSMessageInCapturesParsesLikeTshark parses every frame tshark
// decodes as DNS in ../shared/datasets and compares the question names and
// answer records with tshark's. tshark's dns.a/aaaa/cname also include the
// authority and additional sections, which the parser skips, so our answers
// must be a prefix of tshark's list (and equal it when those are empty).
func TestEveryDNSMessageInCapturesParsesLikeTshark(t *testing.T) {
	ds := shareddata.Require(t)
	want := readTsharkDNS(t)
	var m dnsmsg.Message
	names, msgs, frags := 0, 0, 0
	for capPath, rows := range want {
		byFrame := map[int]tsharkDNS{}
		for _, r := range rows {
			byFrame[r.frame] = r
		}
		seen := 0
		// The decoder does not reassemble IP fragments; tshark reports a
		// fragmented message at its last fragment. The question is in the
		// first fragment, so parse that one (answers are cut off).
		firstFrag := map[[2]string][]byte{}
		forEachFrame(t, filepath.Join(ds, capPath), func(frame int, p *packet.Packet) {
			pair := [2]string{p.SrcIP.String(), p.DstIP.String()}
			if p.Fragment && p.HasPorts {
				firstFrag[pair] = append([]byte(nil), p.Payload...)
			}
			w, ok := byFrame[frame]
			if !ok {
				return
			}
			seen++
			payload := p.Payload
			fragmented := p.Fragment && !p.HasPorts
			if fragmented {
				payload = firstFrag[pair]
				frags++
			}
			if p.Proto == packet.ProtoTCP {
				msg, _, ok := dnsmsg.SplitTCP(payload)
				if !ok {
					t.Errorf("%s frame %d: DNS over TCP not in one segment", capPath, frame)
					return
				}
				payload = msg
			}
			err := dnsmsg.Parse(payload, &m)
			var got []string
			for _, q := range m.Questions {
				n := string(q.Name)
				if n == "" {
					n = "<Root>"
				}
				got = append(got, n)
			}
			if strings.Join(got, ",") != strings.Join(w.qnames, ",") {
				t.Errorf("%s frame %d: names %q, tshark %q (err %v)", capPath, frame, got, w.qnames, err)
				return
			}
			if err != nil && !p.Truncated() && !fragmented {
				t.Errorf("%s frame %d: %v", capPath, frame, err)
			}
			if m.Response != w.response {
				t.Errorf("%s frame %d: response=%v, tshark %v", capPath, frame, m.Response, w.response)
			}
			var a, aaaa, cn []string
			for _, rr := range m.Answers {
				switch rr.Type {
				case dnsmsg.TypeA:
					a = append(a, rr.Addr.String())
				case dnsmsg.TypeAAAA:
					aaaa = append(aaaa, rr.Addr.String())
				case dnsmsg.TypeCNAME:
					cn = append(cn, string(rr.Target))
				}
			}
			exact := m.NSCount == 0 && m.ARCount == 0 && err == nil && !fragmented
			for _, c := range []struct {
				kind      string
				got, want []string
			}{{"A", a, w.a}, {"AAAA", aaaa, w.aaaa}, {"CNAME", cn, w.cn}} {
				if !prefix(c.got, c.want) || (exact && len(c.got) != len(c.want)) {
					t.Errorf("%s frame %d: %s %q, tshark %q", capPath, frame, c.kind, c.got, c.want)
				}
			}
			msgs++
			names += len(got)
		})
		if seen != len(rows) {
			t.Errorf("%s: saw %d of tshark's %d DNS frames", capPath, seen, len(rows))
		}
	}
	t.Logf("%d DNS messages (%d IP-fragmented, read from their first fragment), %d question names in %d captures match tshark", msgs, frags, names, len(want))
}

func prefix(got, want []string) bool {
	if len(got) > len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}
