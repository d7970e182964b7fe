package intel

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/dnsmsg"
	"github.com/minerwatch/minerwatch/detect/tlshello"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// readTSV reads a tshark testdata file of a sibling package (computed once
// with tshark 4.0.17 by its testdata/gen-tshark.sh).
func readTSV(t *testing.T, path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "#") {
			rows = append(rows, strings.Split(sc.Text(), "\t"))
		}
	}
	return rows
}

// TestListsBuiltFromCaptureNamesRaiseExactlyTheExpectedAlerts builds a list
// of every other distinct DNS query name and SNI that tshark found in
// ../shared/datasets (as exact "^name" entries, so unlisted siblings must
// stay quiet), runs every capture through the checks the engine calls —
// DNS messages on UDP, ClientHellos on the reassembled client stream,
// CheckFlow on every new flow — and compares the alerts, deduplicated per
// flow, with the ones tshark's names predict. Flows to addresses learned
// from DNS answers of listed names must alert as dns-answer.
func TestListsBuiltFromCaptureNamesRaiseExactlyTheExpectedAlerts(t *testing.T) {
	ds := shareddata.Require(t)
	dnsRows := readTSV(t, "../dnsmsg/testdata/tshark-dns.tsv")
	tlsRows := readTSV(t, "../tlshello/testdata/tshark-clienthello.tsv")

	nameSet := map[string]bool{}
	for _, r := range dnsRows {
		for _, n := range strings.Split(r[7], ",") {
			if n != "" && n != "<Root>" {
				nameSet[strings.ToLower(n)] = true
			}
		}
	}
	for _, r := range tlsRows {
		if r[6] == "tcp" && r[7] != "" {
			nameSet[strings.ToLower(r[7])] = true
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range nameSet {
			if !yield(n) {
				return
			}
		}
	})
	listed := map[string]bool{}
	set := NewSet()
	for i, n := range names {
		if i%2 == 0 {
			listed[n] = true
			set.Add(Entry{Kind: KindExact, Domain: n, Source: "capture-names"})
		}
	}

	// Expected alerts, from tshark's rows.
	want := map[string]bool{}
	caps := map[string]bool{}
	for _, r := range dnsRows {
		caps[r[0]] = true
		querier := r[2]
		if r[6] == "1" || r[6] == "True" {
			querier = r[4]
		}
		for _, n := range strings.Split(r[7], ",") {
			if listed[strings.ToLower(n)] {
				want[fmt.Sprintf("%s dns-query %s %s", r[0], querier, strings.ToLower(n))] = true
			}
		}
	}
	for _, r := range tlsRows {
		if r[6] == "tcp" && listed[strings.ToLower(r[7])] {
			caps[r[0]] = true
			want[fmt.Sprintf("%s sni %s %s", r[0], r[2], strings.ToLower(r[7]))] = true
		}
	}

	got := map[string]bool{}
	learnedFlows := 0
	for c := range caps {
		in := New([]*Set{set}, nil, nil, Config{DNSMinTTL: 365 * 24 * time.Hour, DNSMaxTTL: 365 * 24 * time.Hour})
		learnedFlows += runCapture(t, in, c, filepath.Join(ds, c), got)
	}
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] && !strings.Contains(k, " dns-answer ") {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, k := range missing {
		t.Errorf("missing alert: %s", k)
	}
	for _, k := range extra {
		t.Errorf("unexpected alert: %s", k)
	}
	t.Logf("%d distinct names in the captures, %d listed; %d expected DNS-query/SNI alerts raised, none extra; %d flows flagged through DNS-learned addresses",
		len(names), len(listed), len(want), learnedFlows)
	if learnedFlows == 0 {
		t.Error("no flow to a DNS-learned address was flagged")
	}
}

// runCapture plays one capture through in, adding alert keys to got, and
// returns how many flows alerted as dns-answer.
func runCapture(t *testing.T, in *Intel, name, path string, got map[string]bool) int {
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type dir struct {
		buf    []byte
		next   uint32
		synced bool
		p      tlshello.Parser
		done   bool
	}
	streams := map[string]*dir{}
	flows := map[string]bool{}
	var rec capture.Record
	var d decode.Decoder
	var p packet.Packet
	var m dnsmsg.Message
	var res DNSResult
	learned := 0
	for {
		if err := r.Next(&rec); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			return learned
		}
		p = packet.Packet{}
		if d.Decode(rec.LinkType, rec.Data, rec.Time, &p) != decode.OK || !p.HasPorts {
			continue
		}
		src, dst := netip.AddrPortFrom(p.SrcIP, p.SrcPort), netip.AddrPortFrom(p.DstIP, p.DstPort)
		// New flow: the first packet's destination is the server (or the
		// SYN's); good enough for a check of address matching.
		fk, rk := src.String()+">"+dst.String(), dst.String()+">"+src.String()
		if !flows[fk] && !flows[rk] && !(p.Proto == packet.ProtoTCP && p.Has(packet.FlagSYN|packet.FlagACK)) {
			flows[fk] = true
			if h, ok := in.CheckFlow(src, dst, p.Time); ok && h.Kind == MatchDNSAnswer {
				got[fmt.Sprintf("%s dns-answer %s %s", name, src.Addr(), h.Domain)] = true
				learned++
			}
		}
		switch {
		case p.Proto == packet.ProtoUDP && len(p.Payload) >= 12:
			if dnsmsg.Parse(p.Payload, &m) != nil && len(m.Questions) == 0 {
				continue
			}
			if m.Opcode != 0 {
				continue
			}
			in.CheckDNS(&m, p.Time, &res)
			querier := p.SrcIP
			if m.Response {
				querier = p.DstIP
			}
			for _, h := range res.Hits {
				got[fmt.Sprintf("%s %s %s %s", name, h.Kind, querier, h.Query)] = true
			}
		case p.Proto == packet.ProtoTCP && p.HasTCP:
			s := streams[fk]
			if s == nil || p.Has(packet.FlagSYN) {
				s = &dir{}
				streams[fk] = s
			}
			if p.Has(packet.FlagSYN) {
				s.next, s.synced = p.Seq+1, true
				continue
			}
			if len(p.Payload) == 0 || s.done {
				continue
			}
			if !s.synced {
				s.next, s.synced = p.Seq, true
			}
			if p.Seq != s.next {
				continue // retransmission or out of order: the reassembler's job; in order is enough here
			}
			s.next += uint32(len(p.Payload))
			s.buf = append(s.buf, p.Payload...)
			i := tlshello.Find(s.buf)
			if i < 0 {
				if len(s.buf) > 4096 {
					s.done = true
				}
				continue
			}
			var err error
			if s.p.Done() || len(s.buf) > i {
				s.p.Reset()
				err = s.p.Feed(s.buf[i:])
			}
			if err == tlshello.ErrNeedMore {
				continue
			}
			if err != nil {
				s.buf = s.buf[i+5:]
				continue
			}
			_, h, ok := in.CheckHello(&s.p.Hello, dst, p.Time)
			if ok {
				got[fmt.Sprintf("%s sni %s %s", name, src.Addr(), h.Query)] = true
			}
			s.buf = s.buf[i+5:] // look for a later hello (STARTTLS, several over one tunnel)
		}
	}
}
