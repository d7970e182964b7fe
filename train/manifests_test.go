package train

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"github.com/minerwatch/minerwatch/train/manifest"
)

// A capture named alike in two manifests would put two sessions in one
// split group (or one session in it twice): LoadRows refuses it before
// reading any capture, naming both manifests' lines.
func TestLoadRowsRefusesAGroupSpanningManifests(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a/manifest.tsv", "x/mqtt-idle.pcap\tbenign\t-\t-\t-\tone\n")
	b := write("b/manifest.tsv", "other.pcap\tbenign\t-\t-\t-\tfine\ny/mqtt-idle.pcap.gz\tbenign\t-\t-\t-\tsame group\n")
	for _, c := range []struct {
		name      string
		manifests []string
	}{
		{"same name in another folder and manifest", []string{a, b}},
		{"one manifest given twice", []string{a, a}},
	} {
		_, _, err := LoadRows(context.Background(), c.manifests, flowfeat.ModelCheckpoints(), nil, false, nil)
		if err == nil || !strings.Contains(err.Error(), `"mqtt-idle"`) || !strings.Contains(err.Error(), "line ") {
			t.Errorf("%s: err = %v, want one naming the group and the line", c.name, err)
		}
	}
}

// The repository's own manifests — the samples and the benign-ns
// captures — load together: every capture of both gives rows, paths
// resolve against each manifest's own folder, and each capture is its
// own group (one session each).
func TestLoadRowsReadsTheRepoSamplesAndBenignNS(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the 33 captures of both manifests (about a second)")
	}
	root := shareddata.Root()
	ms := []string{filepath.Join(root, "datasets", "manifest.tsv"), filepath.Join(root, "datasets", "benign-ns", "manifest.tsv")}
	rows, sum, err := LoadRows(context.Background(), ms, flowfeat.ModelCheckpoints(), nil, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]map[string]bool{} // capture → groups
	for _, r := range rows {
		if groups[r.Capture] == nil {
			groups[r.Capture] = map[string]bool{}
		}
		groups[r.Capture][r.Group] = true
	}
	ns := 0
	for c, g := range groups {
		if len(g) != 1 {
			t.Errorf("%s: groups %v, want one", c, g)
		}
		if strings.HasPrefix(c, "ns-") {
			ns++
		}
	}
	if ns < 10 || sum.ByLabel["mining"] == 0 {
		t.Errorf("rows from %d benign-ns captures and %d mining rows, want ≥ 10 and > 0 (both manifests read)", ns, sum.ByLabel["mining"])
	}
}

// make model passes the shared manifest and the repository's benign-ns
// one together: no benign-ns capture may share a split group with a
// shared capture (checked without reading a capture).
func TestBenignNSGroupsAreNotInTheSharedManifest(t *testing.T) {
	shared := shareddata.Require(t)
	paths := []string{filepath.Join(shared, "manifest.tsv"), filepath.Join(shareddata.Root(), "datasets", "benign-ns", "manifest.tsv")}
	var ms []*manifest.Manifest
	for _, p := range paths {
		m, err := manifest.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	if err := disjointGroups(paths, ms); err != nil {
		t.Error(err)
	}
}
