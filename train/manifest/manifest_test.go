package manifest_test

import (
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/train/manifest"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestTruthFollowsTheManifestForms(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.flows"), []byte("10.0.0.1:5000 10.0.0.2:3333\n10.0.0.9:4444\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "x.pools"), []byte("10.0.0.2:3333\n"), 0o644)
	text := "# path\tlabel\tmining\tscenario\tignore\tnote\n" +
		"a.pcap\tmining\t*\tplaintext\t-\tall mining\n" +
		"b.pcap\tbenign\t-\t-\t-\tnone\n" +
		"c.pcap\tmixed\t10.0.0.5:443,10.0.0.6:443\ttls\t-\tendpoints\n" +
		"d.pcap\tmixed\t@x.flows\tplaintext\t@x.pools\tfile forms\n"
	m, err := manifest.Parse(strings.NewReader(text), "m.tsv", dir)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		entry          int
		client, server string
		want           manifest.Truth
	}{
		{0, "1.1.1.1:1", "2.2.2.2:2", manifest.Mining},
		{1, "1.1.1.1:1", "2.2.2.2:2", manifest.Benign},
		{2, "1.1.1.1:1", "10.0.0.6:443", manifest.Mining},
		{2, "1.1.1.1:1", "10.0.0.7:443", manifest.Benign},
		{3, "10.0.0.2:3333", "10.0.0.1:5000", manifest.Mining},  // exact flow, either order
		{3, "10.0.0.1:5001", "10.0.0.2:3333", manifest.Ignored}, // same pool, other flow
		{3, "10.0.0.3:1", "10.0.0.9:4444", manifest.Mining},     // single endpoint line
		{3, "10.0.0.3:1", "10.0.0.4:1", manifest.Benign},
	}
	for _, tc := range cases {
		if got := m.Entries[tc.entry].Truth(ap(tc.client), ap(tc.server)); got != tc.want {
			t.Errorf("entry %d %s %s: %v, want %v", tc.entry, tc.client, tc.server, got, tc.want)
		}
	}
	if m.Entries[3].File != filepath.Join(dir, "d.pcap") || m.Entries[3].Line != 5 {
		t.Errorf("entry %+v", m.Entries[3])
	}
}

func TestInvalidLinesAreReportedWithFileAndLine(t *testing.T) {
	cases := []struct{ text, want string }{
		{"a.pcap\tmining\t*\n", "m.tsv:1: want 6"},
		{"#\na.pcap\tweird\t*\tx\t-\tn\n", "m.tsv:2: label \"weird\""},
		{"a.pcap\tbenign\t*\t-\t-\tn\n", "m.tsv:1: a benign capture"},
		{"a.pcap\tmixed\t10.0.0.1\t-\t-\tn\n", "m.tsv:1: mining column: endpoint"},
		{"a.pcap\tmixed\t@missing.flows\t-\t-\tn\n", "m.tsv:1: mining column: read flow list"},
	}
	for _, tc := range cases {
		_, err := manifest.Parse(strings.NewReader(tc.text), "m.tsv", t.TempDir())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.text, err, tc.want)
		}
	}
}

// TestSharedManifestLoads parses the real manifest when ../shared is present.
func TestSharedManifestLoads(t *testing.T) {
	path := filepath.Join(shareddata.Require(t), "manifest.tsv")
	m, err := manifest.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Entries) < 100 { // 141 entries on 2026-11-23 (wc -l minus the header)
		t.Errorf("only %d entries", len(m.Entries))
	}
}
