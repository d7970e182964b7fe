package intel

import (
	"bufio"
	"bytes"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestInvalidLinesAreReportedWithFileAndLineAndSkipped(t *testing.T) {
	for _, tc := range []struct {
		format, list string
		entries      int
		warnings     []string
	}{
		{"plain", "good.test\nnot a domain!\n1.2.3.4:99999\n\n# comment\n10.0.0.0/8 tomorrowish\nok.test 7d # note\n", 2, []string{
			"l.txt:2: 3 fields: want VALUE [EXPIRY] [# note]",
			`l.txt:3: "1.2.3.4:99999": bad port "99999"`,
			`l.txt:6: bad expiry "tomorrowish" (want a date like 2026-12-31, RFC 3339, or a TTL like 30d)`}},
		{"hosts", "0.0.0.0 pool.test\npool2.test\n0.0.0.0 localhost\n0.0.0.0 a.test b.test # two\n0.0.0.0 com\n", 3, []string{
			`l.txt:2: not a hosts line (want ADDRESS NAME…): "pool2.test"`,
			`l.txt:5: one-label domain "com" would match a whole top-level domain (write ^com for the name alone)`}},
		{"maltrail", "# Reference: https://x\n1.2.3.4:3333\nhttp://5.6.7.8/gate.php\nhttp://9.9.9.9\n", 2, []string{
			`l.txt:3: URL "http://5.6.7.8/gate.php" has a path: only hosts and addresses are matched`}},
		{"ndpi", "pool.test\t99\nbad line here\n", 1, []string{`l.txt:2: not an nDPI host line (want NAME<TAB>ID): "bad line here"`}},
		{"csv", "value,type,source,expiry\npool.test,domain,feedA,2030-01-01\n1.2.3.4,domain,,\n^x.test,exact,,\n5.6.7.8,ip,,someday\n\"unterminated,ip\n", 2, []string{
			`l.txt:3: type "domain" does not fit value "1.2.3.4" (a ip)`,
			`l.txt:5: bad expiry "someday" (want a date like 2026-12-31, RFC 3339, or a TTL like 30d)`,
			`l.txt:6: bad domain "unterminated,ip": character ','`}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			s := NewSet()
			res, err := s.Load(strings.NewReader(tc.list), "l.txt", LoadOptions{Format: tc.format, Now: t0})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range res.Warnings {
				got = append(got, w.String())
			}
			if res.Entries != tc.entries || strings.Join(got, "\n") != strings.Join(tc.warnings, "\n") {
				t.Fatalf("entries %d (want %d), warnings:\n%s\nwant:\n%s", res.Entries, tc.entries, strings.Join(got, "\n"), strings.Join(tc.warnings, "\n"))
			}
		})
	}
}

func TestFormatIsDetectedFromNameAndContent(t *testing.T) {
	for _, tc := range []struct{ name, list, want string }{
		{"x.csv", "pool.test\n", "csv"},
		{"feed", "value,type\npool.test,domain\n", "csv"},
		{"feed", "# blocklist\n0.0.0.0 a.test\n127.0.0.1 b.test\n", "hosts"},
		{"feed", "a.test\t99\nb.test\t99\n", "ndpi"},
		{"feed", "# Copyright Maltrail developers\n1.2.3.4:80\n", "maltrail"},
		{"feed", "a.test\n1.2.3.4\n", "plain"},
	} {
		res, _ := NewSet().Load(strings.NewReader(tc.list), tc.name, LoadOptions{})
		if res.Format != tc.want {
			t.Errorf("%s %q: format %s, want %s", tc.name, tc.list, res.Format, tc.want)
		}
	}
	if _, err := NewSet().Load(strings.NewReader(""), "x", LoadOptions{Format: "nope"}); err == nil {
		t.Error("unknown format accepted")
	}
}

// TestPublicFeedsImportCompletely loads every list in ../shared/datasets/intel
// and checks the entry count against the "entries" column of its
// SOURCES.tsv (counted by whoever fetched the lists), with no invalid lines.
func TestPublicFeedsImportCompletely(t *testing.T) {
	dir := filepath.Join(shareddata.Require(t), "intel")
	f, err := os.Open(filepath.Join(dir, "SOURCES.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	n := 0
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		want, _ := strconv.Atoi(c[5])
		s := NewSet()
		res, err := s.LoadFile(filepath.Join(dir, c[0]), LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Entries != want || res.Invalid != 0 {
			t.Errorf("%s (%s): %d entries, %d invalid; SOURCES.tsv says %d", c[0], res.Format, res.Entries, res.Invalid, want)
		}
		n++
	}
	if n != 7 {
		t.Errorf("%d lists in SOURCES.tsv", n)
	}
	// Spot checks of what the formats mean.
	s := NewSet()
	s.LoadFile(filepath.Join(dir, "stamparm_maltrail__crypto_mining.txt"), LoadOptions{})
	if h, ok := s.MatchAddr(netip.MustParseAddr("107.191.47.239"), 3333, t0); !ok || h.Entry != "107.191.47.239:3333" ||
		!strings.Contains(h.Note, "hackforums") || h.Source != "stamparm_maltrail__crypto_mining.txt" {
		t.Errorf("maltrail ip:port: %+v %v", h, ok)
	}
	if _, ok := s.MatchAddr(netip.MustParseAddr("107.191.47.239"), 80, t0); ok {
		t.Error("maltrail ip:port matched another port")
	}
	p := NewSet()
	p.LoadFile(filepath.Join(dir, "AdamYoung71_mining-pool-domain-intel__mining_pool_domains.csv"), LoadOptions{})
	if h, ok := p.MatchAddr(netip.MustParseAddr("195.3.222.105"), 3380, t0); !ok || !strings.Contains(h.Note, "confidence=candidate") {
		t.Errorf("pool csv ip:port: %+v %v", h, ok)
	}
	if h, ok := p.MatchDomain("asia-erg.2miners.com", t0); !ok || !strings.Contains(h.Note, "2Miners") {
		t.Errorf("pool csv domain: %+v %v", h, ok)
	}
}

func TestPoolCSVRowsExpireTTLAfterTheirLastSeenDate(t *testing.T) {
	csv := "domain,port,pool_name,confidence,status,last_seen\r\npool.test,3333,P,confirmed,active,2026-04-21\r\n"
	s := NewSet()
	s.Load(strings.NewReader(csv), "p.csv", LoadOptions{TTL: 90 * 24 * time.Hour})
	for e := range s.All() {
		if want := time.Date(2026, 7, 20, 0, 0, 0, 0, time.UTC); !e.Expires.Equal(want) || e.Port != 3333 {
			t.Fatalf("expires %v port %d", e.Expires, e.Port)
		}
	}
}

func TestCSVExportReadsBackUnchanged(t *testing.T) {
	s := mustSet(t, "# Reference: r1\npool.test\n^x.test 2027-01-01\n1.2.3.4:3333\n10.0.0.0/8\n[2001:db8::1]:443\n")
	var buf bytes.Buffer
	if err := WriteCSV(&buf, s.All()); err != nil {
		t.Fatal(err)
	}
	back := NewSet()
	res, err := back.Load(bytes.NewReader(buf.Bytes()), "export.csv", LoadOptions{})
	if err != nil || res.Invalid != 0 {
		t.Fatal(err, res.Warnings)
	}
	var a, b []string
	for e := range s.All() {
		a = append(a, e.Value()+"|"+e.Source+"|"+e.Expires.String()+"|"+e.Note)
	}
	for e := range back.All() {
		b = append(b, e.Value()+"|"+e.Source+"|"+e.Expires.String()+"|"+e.Note)
	}
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("round trip:\n%s\nvs\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}

func TestDefaultListLoadsAndCoversTheNamedPools(t *testing.T) {
	d, err := DefaultList()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"donate.v2.xmrig.com", "donate.ssl.xmrig.com", "pool.supportxmr.com", "xmr-eu1.nanopool.org",
		"pool.minexmr.com", "xmr.2miners.com", "btc.f2pool.com", "btc.viabtc.io", "monero.herominers.com", "gulf.moneroocean.stream",
		"pool.hashvault.pro", "mine.c3pool.com", "rx.unmineable.com", "randomxmonero.auto.nicehash.com"} {
		h, ok := d.MatchDomain(name, t0)
		if !ok || h.Source != DefaultSource || !strings.HasPrefix(h.Note, "https://") {
			t.Errorf("%s: %+v %v", name, h, ok)
		}
	}
	for _, name := range []string{"xmrig.com", "www.xmrig.com", "github.com", "viabtc.com"} {
		if h, ok := d.MatchDomain(name, t0); ok {
			t.Errorf("%s matched %s", name, h.Entry)
		}
	}
	for e := range d.All() {
		if !e.Kind.IsDomain() {
			t.Errorf("default list holds an address entry %s", e.Value())
		}
	}
}
