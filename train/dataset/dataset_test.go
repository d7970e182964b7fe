package dataset

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"github.com/minerwatch/minerwatch/train/manifest"
)

func TestGroupKeepsAuxLegWithItsSession(t *testing.T) {
	cases := map[string]string{
		"lab/mining/xmrig-shadowsocks.pcap":                                 "xmrig-shadowsocks",
		"lab/mining/aux/xmrig-shadowsocks_aux-vps-to-pool-leg.pcap":         "xmrig-shadowsocks",
		"lab/benign/aux/benign_ssh-D-api-poll_aux-proxy-to-server-leg.pcap": "benign_ssh-D-api-poll",
		"public/mining/x.pcapng":                                            "x",
		"a/b.pcap.gz":                                                       "b",
	}
	for in, want := range cases {
		if got := GroupOf(in); got != want {
			t.Errorf("GroupOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLabelFlowRules(t *testing.T) {
	m, err := manifest.Parse(strings.NewReader(
		"u.pcap\tunknown\t-\t-\t-\tweak\n"+
			"x.pcap\tmixed\t10.0.0.2:3333\ttls\t10.0.0.9:443\tmixed\n"), "test", ".")
	if err != nil {
		t.Fatal(err)
	}
	u, x := &m.Entries[0], &m.Entries[1]
	cli := mustAP("10.0.0.1:40000")
	cases := []struct {
		name                 string
		e                    int
		server               string
		dialect              string
		label, source, scenr string
	}{
		{"unknown capture, confirmed by signature", 0, "10.0.0.5:1", "cryptonote", LabelMining, SourceSignature, "plaintext"},
		{"unknown capture, not confirmed", 0, "10.0.0.5:1", "", LabelBenign, SourceSignature, ""},
		{"mixed capture, pool endpoint", 1, "10.0.0.2:3333", "", LabelMining, SourceManifest, "tls"},
		{"mixed capture, ignored endpoint", 1, "10.0.0.9:443", "", LabelIgnore, SourceManifest, ""},
		{"mixed capture, other flow", 1, "10.0.0.7:443", "", LabelBenign, SourceManifest, ""},
		{"mixed capture, other flow confirmed by signature", 1, "10.0.0.7:80", "stratum-v1", LabelMining, SourceSignature, "plaintext"},
	}
	for _, c := range cases {
		e := u
		if c.e == 1 {
			e = x
		}
		l, s, sc := labelFlow(e, cli, mustAP(c.server), c.dialect)
		if l != c.label || s != c.source || sc != c.scenr {
			t.Errorf("%s: got %s/%s/%s, want %s/%s/%s", c.name, l, s, sc, c.label, c.source, c.scenr)
		}
	}
}

// Over the shared lab captures: every mining capture yields mining rows
// (its one Stratum connection lives 20 minutes: checkpoints up to 1200 s),
// benign captures yield none, and no row leaks between captures.
func TestBuildLabelsLabCaptures(t *testing.T) {
	root := shareddata.Require(t)
	m, err := manifest.Load(filepath.Join(root, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	perCapture := map[string]map[string]int{}
	_, err = Build(context.Background(), m, Options{
		Checkpoints: flowfeat.DefaultCheckpoints(),
		Filter:      func(e *manifest.Entry) bool { return strings.HasPrefix(e.Path, "lab/") },
	}, func(r *Row) error {
		if perCapture[r.Capture] == nil {
			perCapture[r.Capture] = map[string]int{}
		}
		perCapture[r.Capture][r.Label]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range m.Entries {
		if !strings.HasPrefix(e.Path, "lab/") {
			continue
		}
		got := perCapture[e.Path]
		switch e.Label {
		case "mining", "mixed":
			if got[LabelMining] < 5 {
				t.Errorf("%s: %d mining rows, want ≥ 5", e.Path, got[LabelMining])
			}
		case "benign":
			if got[LabelMining] != 0 {
				t.Errorf("%s: %d mining rows in a benign capture", e.Path, got[LabelMining])
			}
		}
		if e.Label == "mining" && got[LabelBenign] != 0 {
			t.Errorf("%s: %d benign rows in an all-mining capture", e.Path, got[LabelBenign])
		}
	}
}

func mustAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
