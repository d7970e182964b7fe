package intel

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func mustSet(t *testing.T, list string) *Set {
	t.Helper()
	s := NewSet()
	res, err := s.Load(strings.NewReader(list), "test.txt", LoadOptions{Format: "plain", Now: t0, Date: t0})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Warnings {
		t.Fatalf("unexpected warning %s", w)
	}
	return s
}

func TestDomainSuffixMatchesOnLabelBoundariesAndExactOnlyItself(t *testing.T) {
	s := mustSet(t, "hoo.com\n^pool.example.org\n*.wild.net\n")
	for _, tc := range []struct {
		name  string
		entry string // "" = no match
	}{
		{"hoo.com", "hoo.com"},
		{"pool.hoo.com", "hoo.com"},
		{"a.b.pool.hoo.com.", "hoo.com"},
		{"POOL.Hoo.COM", "hoo.com"},
		{"yahoo.com", ""},
		{"news.yahoo.com", ""},
		{"hoo.com.evil.net", ""},
		{"pool.example.org", "^pool.example.org"},
		{"pool.example.org.", "^pool.example.org"},
		{"eu.pool.example.org", ""},
		{"example.org", ""},
		{"x.wild.net", "wild.net"},
		{"", ""},
		{".", ""},
	} {
		h, ok := s.MatchDomain(tc.name, t0)
		if ok != (tc.entry != "") || h.Entry != tc.entry {
			t.Errorf("MatchDomain(%q) = %q %v, want %q", tc.name, h.Entry, ok, tc.entry)
		}
	}
}

func TestMostSpecificDomainEntryWins(t *testing.T) {
	s := mustSet(t, "# Reference: broad\nexample.org\n# Reference: narrow\n^pool.example.org\n")
	if h, _ := s.MatchDomain("pool.example.org", t0); h.Entry != "^pool.example.org" || h.Note != "narrow" {
		t.Fatalf("got %+v", h)
	}
	if h, _ := s.MatchDomain("www.example.org", t0); h.Entry != "example.org" || h.Note != "broad" {
		t.Fatalf("got %+v", h)
	}
}

func TestAddressEntriesMatchIPPortAndCIDR(t *testing.T) {
	s := mustSet(t, "1.2.3.4\n5.6.7.8:3333\n10.0.0.0/8\n10.1.0.0/16:4444\n[2001:db8::1]:443\n2001:db8:1::/48\n::ffff:9.9.9.9\n")
	for _, tc := range []struct {
		ip    string
		port  uint16
		entry string
	}{
		{"1.2.3.4", 80, "1.2.3.4"},
		{"5.6.7.8", 3333, "5.6.7.8:3333"},
		{"5.6.7.8", 3334, ""},
		{"10.9.9.9", 1, "10.0.0.0/8"},
		{"10.1.2.3", 4444, "10.1.0.0/16:4444"}, // longest prefix first
		{"10.1.2.3", 4445, "10.0.0.0/8"},
		{"11.0.0.1", 1, ""},
		{"2001:db8::1", 443, "[2001:db8::1]:443"},
		{"2001:db8::1", 80, ""},
		{"2001:db8:1:ffff::5", 80, "2001:db8:1::/48"},
		{"9.9.9.9", 53, "9.9.9.9"},
		{"::ffff:1.2.3.4", 80, "1.2.3.4"},
	} {
		h, ok := s.MatchAddr(netip.MustParseAddr(tc.ip), tc.port, t0)
		if ok != (tc.entry != "") || h.Entry != tc.entry {
			t.Errorf("MatchAddr(%s, %d) = %q %v, want %q", tc.ip, tc.port, h.Entry, ok, tc.entry)
		}
		if ok && h.Kind != MatchIP {
			t.Errorf("kind %q", h.Kind)
		}
	}
}

func TestExpiredEntriesDoNotMatchButOtherSourcesStill(t *testing.T) {
	s := NewSet()
	s.Add(Entry{Kind: KindSuffix, Domain: "pool.test", Source: "old-feed", Expires: t0.Add(time.Hour)})
	s.Add(Entry{Kind: KindSuffix, Domain: "gone.test", Source: "old-feed", Expires: t0.Add(time.Hour)})
	s.Add(Entry{Kind: KindSuffix, Domain: "pool.test", Source: "new-feed", Expires: t0.Add(48 * time.Hour)})
	if h, ok := s.MatchDomain("a.pool.test", t0); !ok || h.Source != "new-feed" {
		t.Fatalf("before expiry: %+v %v", h, ok) // newest addition is checked first
	}
	if _, ok := s.MatchDomain("gone.test", t0.Add(time.Hour)); ok {
		t.Fatal("matched at its expiry instant")
	}
	if h, ok := s.MatchDomain("pool.test", t0.Add(2*time.Hour)); !ok || h.Source != "new-feed" {
		t.Fatalf("after old expiry: %+v %v", h, ok)
	}
	if _, ok := s.MatchDomain("pool.test", t0.Add(49*time.Hour)); ok {
		t.Fatal("matched after every source expired")
	}
}

func TestExpiryFromListLinesAndTTLFromSourceDate(t *testing.T) {
	list := "# Date: 2026-04-01T00:00:00\na.test 2026-04-10\nb.test 30d\nc.test\n"
	s := NewSet()
	res, err := s.Load(strings.NewReader(list), "feed.txt", LoadOptions{TTL: 7 * 24 * time.Hour, Now: t0})
	if err != nil || len(res.Warnings) > 0 {
		t.Fatal(err, res.Warnings)
	}
	exp := map[string]time.Time{}
	for e := range s.All() {
		exp[e.Domain] = e.Expires
	}
	day := func(d int) time.Time { return time.Date(2026, 4, d, 0, 0, 0, 0, time.UTC) }
	if !exp["a.test"].Equal(day(10)) || !exp["b.test"].Equal(day(1).Add(30*24*time.Hour)) || !exp["c.test"].Equal(day(8)) {
		t.Fatalf("expiries %v", exp)
	}
}

func TestDuplicateEntryOfOneSourceIsReplacedNotDoubled(t *testing.T) {
	s := mustSet(t, "pool.test\npool.test\n1.2.3.4:80\n1.2.3.4:80\n")
	if s.Len() != 2 {
		t.Fatalf("len %d", s.Len())
	}
}

func TestParseValueRoundTripsAndRejectsNonsense(t *testing.T) {
	for _, v := range []string{"1.2.3.4", "1.2.3.4:3333", "[2001:db8::1]:3333", "2001:db8::1", "10.0.0.0/8", "10.0.0.0/8:3333",
		"[2001:db8::/32]:443", "pool.example.org", "^pool.example.org"} {
		e, err := ParseValue(v)
		if err != nil || e.Value() != v {
			t.Errorf("ParseValue(%q) = %q, %v", v, e.Value(), err)
		}
	}
	for in, want := range map[string]string{"*.Pool.Example.ORG.": "pool.example.org", "10.1.2.3/8": "10.0.0.0/8",
		"http://185.141.25.35": "185.141.25.35", "stratum+tcp://pool.x.com:3333": "pool.x.com", "::ffff:1.2.3.4": "1.2.3.4"} {
		if e, err := ParseValue(in); err != nil || e.Value() != want {
			t.Errorf("ParseValue(%q) = %q, %v; want %q", in, e.Value(), err, want)
		}
	}
	for _, bad := range []string{"", "com", "1.2.3.256", "1.2.3.4:0", "1.2.3.4:70000", "a..b", "bad_char!.com",
		"http://x.com/path", "[::1", "fe80::1%eth0", "10.0.0.0/33", strings.Repeat("a", 64) + ".com", "^"} {
		if e, err := ParseValue(bad); err == nil {
			t.Errorf("ParseValue(%q) = %q, want error", bad, e.Value())
		}
	}
}

// A list line "0.0.0.0/0" would make every flow an intel hit (or, in an
// allowlist, hide every alert); prefixes shorter than /8 (IPv4) and /16
// (IPv6) are refused, the narrowest allowed ones still parse.
func TestParseValueRefusesPrefixesThatCoverTheInternet(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"0.0.0.0/0", false},
		{"0.0.0.0/0:3333", false},
		{"::/0", false},
		{"[::/0]:443", false},
		{"128.0.0.0/1", false},
		{"10.0.0.0/7", false},
		{"::ffff:0.0.0.0/96", false}, // IPv4-mapped /0
		{"2000::/3", false},
		{"2001::/15", false},
		{"10.0.0.0/8", true},
		{"2001:db8::/16", true},
	} {
		_, err := ParseValue(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ParseValue(%q): err = %v, want ok=%v", c.in, err, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "too broad") {
			t.Errorf("ParseValue(%q): error %q does not say the prefix is too broad", c.in, err)
		}
	}
	// In a list file the line is skipped with a warning, the rest loaded.
	s := NewSet()
	res, err := s.Load(strings.NewReader("0.0.0.0/0\npool.test\n"), "test.txt", LoadOptions{Format: "plain", Now: t0, Date: t0})
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1 || len(res.Warnings) != 1 || res.Warnings[0].Line != 1 {
		t.Errorf("list with a /0 line: %d entries, warnings %q; want 1 entry and one warning naming line 1", s.Len(), res.Warnings)
	}
}
