package intel

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/dnsmsg"
	"github.com/minerwatch/minerwatch/detect/tlshello"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func newIntel(t *testing.T, list, allow string) *Intel {
	t.Helper()
	return New([]*Set{mustSet(t, list)}, mustSet(t, allow), nil, Config{})
}

func TestAllowlistWinsOverEveryList(t *testing.T) {
	in := newIntel(t, "pool.test\n1.2.3.0/24\n", "^ok.pool.test\n1.2.3.4\n")
	client := ap("10.0.0.1:5000")
	if _, ok := in.CheckFlow(client, ap("1.2.3.4:3333"), t0); ok {
		t.Error("allowlisted address alerted")
	}
	if h, ok := in.CheckFlow(client, ap("1.2.3.5:3333"), t0); !ok || h.Kind != MatchIP || h.Entry != "1.2.3.0/24" {
		t.Errorf("listed neighbour: %+v %v", h, ok)
	}
	if _, ok := in.CheckDomain("ok.pool.test", t0); ok {
		t.Error("allowlisted name alerted")
	}
	if _, ok := in.CheckDomain("eu.pool.test", t0); !ok {
		t.Error("exact allow entry suppressed a sibling")
	}
	// The allowlist also wins over learned entries: a confirmed endpoint
	// that is allowlisted stays quiet.
	in.Confirm(ap("1.2.3.4:443"), netip.MustParseAddr("10.0.0.1"), "", "signature", "handshake+answer", t0)
	if _, ok := in.CheckFlow(client, ap("1.2.3.4:443"), t0); ok {
		t.Error("allowlisted learned endpoint alerted")
	}
}

// dnsResponse builds a response to name with answers (owner, type, ttl, data).
func dnsResponse(id uint16, name string, answers ...[]byte) []byte {
	b := []byte{byte(id >> 8), byte(id), 0x81, 0x80, 0, 1, 0, byte(len(answers)), 0, 0, 0, 0}
	b = append(b, wireName(name)...)
	b = append(b, 0, 1, 0, 1)
	for _, a := range answers {
		b = append(b, a...)
	}
	return b
}

func wireName(n string) []byte {
	var b []byte
	for _, l := range strings.Split(n, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

func rr(owner string, typ uint16, ttl uint32, data []byte) []byte {
	b := wireName(owner)
	b = append(b, byte(typ>>8), byte(typ), 0, 1, byte(ttl>>24), byte(ttl>>16), byte(ttl>>8), byte(ttl), byte(len(data)>>8), byte(len(data)))
	return append(b, data...)
}

func TestDNSAnswersOfListedNamesAreLearnedWithTheirTTL(t *testing.T) {
	in := newIntel(t, "supportxmr.com\n^cdn-pool.net\n", "")
	var m dnsmsg.Message
	var r DNSResult
	// pool.supportxmr.com CNAME edge.cdn.test; edge.cdn.test A 5.5.5.5 (TTL 3600); AAAA; unrelated A.
	b := dnsResponse(1, "pool.supportxmr.com",
		rr("pool.supportxmr.com", dnsmsg.TypeCNAME, 60, wireName("edge.cdn.test")),
		rr("edge.cdn.test", dnsmsg.TypeA, 3600, []byte{5, 5, 5, 5}),
		rr("edge.cdn.test", dnsmsg.TypeAAAA, 10, netip.MustParseAddr("2001:db8::5").AsSlice()),
		rr("other.test", dnsmsg.TypeA, 3600, []byte{6, 6, 6, 6}))
	if err := dnsmsg.Parse(b, &m); err != nil {
		t.Fatal(err)
	}
	in.CheckDNS(&m, t0, &r)
	if len(r.Hits) != 1 || r.Hits[0].Kind != MatchDNSQuery || r.Hits[0].Query != "pool.supportxmr.com" || r.Hits[0].Entry != "supportxmr.com" {
		t.Fatalf("hits %+v", r.Hits)
	}
	if len(r.Learned) != 2 || r.Learned[0].Addr.String() != "5.5.5.5" || !r.Learned[0].Expires.Equal(t0.Add(time.Hour)) ||
		!r.Learned[1].Expires.Equal(t0.Add(5*time.Minute)) { // TTL 10 s raised to the 5-minute floor
		t.Fatalf("learned %+v", r.Learned)
	}
	// The later connection to the resolved address is flagged and names the domain.
	h, ok := in.CheckFlow(ap("10.0.0.2:40000"), ap("5.5.5.5:443"), t0.Add(time.Minute))
	if !ok || h.Kind != MatchDNSAnswer || h.Domain != "pool.supportxmr.com" || h.Source != "test.txt" {
		t.Fatalf("flow to learned address: %+v %v", h, ok)
	}
	if a := h.Alert(); a.Match != "dns-answer" || a.Domain != "pool.supportxmr.com" || a.Expires == "" {
		t.Fatalf("alert %+v", a)
	}
	if _, ok := in.CheckFlow(ap("10.0.0.2:40000"), ap("6.6.6.6:443"), t0); ok {
		t.Fatal("unrelated answer learned")
	}
	if _, ok := in.CheckFlow(ap("10.0.0.2:40000"), ap("5.5.5.5:443"), t0.Add(2*time.Hour)); ok {
		t.Fatal("learned address outlived its TTL")
	}
	// A listed CNAME target taints an unlisted question.
	b = dnsResponse(2, "innocent.test",
		rr("innocent.test", dnsmsg.TypeCNAME, 60, wireName("cdn-pool.net")),
		rr("cdn-pool.net", dnsmsg.TypeA, 600, []byte{7, 7, 7, 7}))
	dnsmsg.Parse(b, &m)
	in.CheckDNS(&m, t0, &r)
	if len(r.Hits) != 1 || r.Hits[0].Kind != MatchDNSAnswer || r.Hits[0].Domain != "cdn-pool.net" || r.Hits[0].Query != "innocent.test" || len(r.Learned) != 1 {
		t.Fatalf("cname hit %+v learned %+v", r.Hits, r.Learned)
	}
}

func TestDNSCheckOfUnlistedNamesDoesNotAllocate(t *testing.T) {
	in := newIntel(t, "supportxmr.com\n", "")
	var m dnsmsg.Message
	var r DNSResult
	b := dnsResponse(1, "www.Example.com", rr("www.example.com", dnsmsg.TypeA, 60, []byte{1, 1, 1, 1}))
	dnsmsg.Parse(b, &m)
	if n := testing.AllocsPerRun(100, func() { in.CheckDNS(&m, t0, &r) }); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}

func TestConfirmedEndpointsAreLearnedAndSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "learned.jsonl")
	in, _, err := Load(Options{NoDefault: true, LearnedPath: path})
	if err != nil {
		t.Fatal(err)
	}
	in.Confirm(ap("203.0.113.7:3333"), netip.MustParseAddr("10.0.0.9"), "pool.private.test", "signature:cryptonote", "handshake+answer", t0)
	if h, ok := in.CheckFlow(ap("10.0.0.9:1234"), ap("203.0.113.7:3333"), t0.Add(time.Hour)); !ok || h.Kind != MatchLearned || h.Domain != "pool.private.test" {
		t.Fatalf("confirmed endpoint: %+v %v", h, ok)
	}
	if _, ok := in.CheckFlow(ap("10.0.0.9:1234"), ap("203.0.113.7:3334"), t0); ok {
		t.Fatal("confirmed ip:port matched another port")
	}
	if err := in.Learned().Save(); err != nil {
		t.Fatal(err)
	}
	again, warns, err := Load(Options{NoDefault: true, LearnedPath: path})
	if err != nil || len(warns) > 0 {
		t.Fatal(err, warns)
	}
	if h, ok := again.CheckFlow(ap("10.0.0.8:1"), ap("203.0.113.7:3333"), t0.Add(6*24*time.Hour)); !ok || h.Source != "signature:cryptonote" {
		t.Fatalf("after restart: %+v %v", h, ok)
	}
	if _, ok := again.CheckFlow(ap("10.0.0.8:1"), ap("203.0.113.7:3333"), t0.Add(8*24*time.Hour)); ok {
		t.Fatal("confirmed entry outlived the 7-day default")
	}
	if n := again.Learned().Expire(t0.Add(8 * 24 * time.Hour)); n != 1 || again.Learned().Len() != 0 {
		t.Fatalf("expire dropped %d", n)
	}
	// No temporary files are left beside the list.
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Fatalf("files: %v", ents)
	}
}

func TestBadLearnedLinesAreReportedAndSkipped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.jsonl")
	os.WriteFile(path, []byte("# header\n{\"ip\":\"1.2.3.4\",\"port\":80,\"reason\":\"manual\",\"added\":\"2026-01-01T00:00:00Z\",\"expires\":\"2030-01-01T00:00:00Z\"}\nnot json\n{\"reason\":\"manual\"}\n"), 0o644)
	l, warns, err := OpenLearned(path)
	if err != nil || l.Len() != 1 || len(warns) != 2 || warns[0].Line != 3 || !strings.HasPrefix(warns[1].String(), path+":4: ") {
		t.Fatalf("%v len=%d warns=%v", err, l.Len(), warns)
	}
}

func TestDNSLearnedEntryDoesNotOverrideAConfirmedOne(t *testing.T) {
	l := NewLearned()
	a := netip.MustParseAddr("1.2.3.4")
	l.Add(LearnedEntry{Addr: a, Reason: ReasonManual, Added: t0, Expires: t0.Add(30 * 24 * time.Hour)})
	if l.Add(LearnedEntry{Addr: a, Reason: ReasonDNSAnswer, Added: t0, Expires: t0.Add(time.Hour)}) {
		t.Fatal("DNS answer shortened a manual entry")
	}
}

func TestHelloMetadataFlagsNoSNIOnNon443(t *testing.T) {
	in := newIntel(t, "^pool.example.org\n", "")
	var h tlshello.ClientHello
	// A minimal TLS 1.2 hello without extensions, as xmr-stak sends no SNI.
	hs := []byte{1, 0, 0, 41, 3, 3}
	hs = append(hs, make([]byte, 32)...)
	hs = append(hs, 0, 0, 2, 0x13, 0x01, 1, 0)
	rec := append([]byte{22, 3, 1, 0, byte(len(hs))}, hs...)
	if err := tlshello.Parse(rec, &h); err != nil {
		t.Fatal(err)
	}
	meta, _, ok := in.CheckHello(&h, ap("1.2.3.4:3333"), t0)
	if ok || !meta.NoSNINon443 || meta.JA3 == "" || meta.JA4[:4] != "t12i" {
		t.Fatalf("meta %+v ok %v", meta, ok)
	}
	if meta, _, _ := in.CheckHello(&h, ap("1.2.3.4:443"), t0); meta.NoSNINon443 {
		t.Fatal("flag set on 443")
	}
}

func TestLoadReportsBadListFilesAndFormatPrefixes(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "blocklist")
	os.WriteFile(p, []byte("pool.test\n"), 0o644)
	in, _, err := Load(Options{Lists: []string{"hosts:" + p}})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Lists()) != 2 || in.Lists()[1].Len() != 0 { // as a hosts file, "pool.test" alone is invalid
		t.Fatalf("lists %d", len(in.Lists()))
	}
	if _, _, err := Load(Options{Lists: []string{filepath.Join(dir, "missing")}}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing file: %v", err)
	}
}

// TestSplitChecksDecideAsTheWholeOnes: the checks detect/parallel splits
// between its workers and its merger — CheckFlowListed then CheckLearned,
// CheckDNSLists then AddLearned — answer as CheckFlow and CheckDNS, and
// CheckDNSLists leaves the learned store alone (a second response names
// an address the store holds confirmed on one port: both add it for any
// port, and the confirmed endpoint still matches first).
func TestSplitChecksDecideAsTheWholeOnes(t *testing.T) {
	const list, allow = "supportxmr.com\n1.2.3.0/24\n", "1.2.3.4\n"
	whole, split := newIntel(t, list, allow), newIntel(t, list, allow)
	for _, in := range []*Intel{whole, split} {
		in.Confirm(ap("9.9.9.9:3333"), netip.MustParseAddr("10.0.0.1"), "", "signature", "handshake+answer", t0)
	}
	answers := [][]byte{
		dnsResponse(1, "pool.supportxmr.com", rr("pool.supportxmr.com", dnsmsg.TypeA, 600, []byte{5, 5, 5, 5})),
		dnsResponse(2, "pool.supportxmr.com", rr("pool.supportxmr.com", dnsmsg.TypeA, 600, []byte{9, 9, 9, 9})),
		dnsResponse(3, "unlisted.test", rr("unlisted.test", dnsmsg.TypeA, 600, []byte{6, 6, 6, 6})),
	}
	for i, b := range answers {
		var m dnsmsg.Message
		if err := dnsmsg.Parse(b, &m); err != nil {
			t.Fatal(err)
		}
		var rw, rs DNSResult
		whole.CheckDNS(&m, t0, &rw)
		before := split.Learned().Len()
		split.CheckDNSLists(&m, t0, &rs)
		if split.Learned().Len() != before {
			t.Fatalf("answer %d: CheckDNSLists changed the learned store", i)
		}
		if n := split.AddLearned(rs.Learned); n != len(rw.Learned) {
			t.Errorf("answer %d: AddLearned took %d entries, CheckDNS %d", i, n, len(rw.Learned))
		}
		if !slices.EqualFunc(rw.Hits, rs.Hits, func(a, b Hit) bool { return a.Kind == b.Kind && a.Query == b.Query && a.Entry == b.Entry }) {
			t.Errorf("answer %d: hits %+v, split %+v", i, rw.Hits, rs.Hits)
		}
	}
	if !slices.Equal(whole.Learned().Entries(), split.Learned().Entries()) {
		t.Fatalf("learned stores differ:\n%+v\n%+v", whole.Learned().Entries(), split.Learned().Entries())
	}
	cases := []struct {
		server          string
		listed, allowed bool
		want            MatchKind // CheckFlow's, "" = no hit
	}{
		{"1.2.3.4:3333", false, true, ""},             // allowlisted, though listed
		{"1.2.3.5:3333", true, false, MatchIP},        // listed
		{"5.5.5.5:443", false, false, MatchDNSAnswer}, // learned from the answer
		{"9.9.9.9:3333", false, false, MatchLearned},  // confirmed
		{"6.6.6.6:443", false, false, ""},             // neither
	}
	for _, c := range cases {
		h, ok := whole.CheckFlow(ap("10.0.0.2:40000"), ap(c.server), t0)
		_, listed, allowed := split.CheckFlowListed(ap(c.server), t0)
		if listed != c.listed || allowed != c.allowed {
			t.Errorf("%s: listed %v allowed %v, want %v %v", c.server, listed, allowed, c.listed, c.allowed)
		}
		if !listed && !allowed {
			hs, oks := split.CheckLearned(ap(c.server), t0)
			if oks != ok || hs.Kind != h.Kind || hs.Entry != h.Entry {
				t.Errorf("%s: CheckLearned %+v %v, CheckFlow %+v %v", c.server, hs, oks, h, ok)
			}
		}
		if h.Kind != c.want || ok != (c.want != "") {
			t.Errorf("%s: CheckFlow %v %v, want %q", c.server, h.Kind, ok, c.want)
		}
	}
}

// TestCheckFlowFollowsTheLearnedStoresSize: the new-flow check skips the
// learned store while it is empty (Len without the lock), so its size
// must follow every add and removal.
func TestCheckFlowFollowsTheLearnedStoresSize(t *testing.T) {
	l := NewLearned()
	in := New(nil, nil, l, Config{})
	t0 := time.Unix(1_800_000_000, 0)
	server := netip.MustParseAddrPort("192.0.2.7:3333")
	client := netip.MustParseAddrPort("10.0.0.1:40000")
	if _, ok := in.CheckFlow(client, server, t0); ok || l.Len() != 0 {
		t.Fatalf("empty store: hit or Len %d", l.Len())
	}
	if !l.Add(LearnedEntry{Addr: server.Addr(), Port: server.Port(), Reason: ReasonManual, Added: t0, Expires: t0.Add(time.Hour)}) {
		t.Fatal("Add refused")
	}
	if h, ok := in.CheckFlow(client, server, t0); !ok || h.Kind != MatchLearned || l.Len() != 1 {
		t.Fatalf("after Add: hit %v %+v, Len %d", ok, h, l.Len())
	}
	if !l.Remove(server.Addr(), server.Port()) {
		t.Fatal("Remove found nothing")
	}
	if _, ok := in.CheckFlow(client, server, t0); ok || l.Len() != 0 {
		t.Fatalf("after Remove: hit or Len %d", l.Len())
	}
}
