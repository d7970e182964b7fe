package dataset

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"github.com/minerwatch/minerwatch/train/manifest"
)

// The benign long-lived captures made by scripts/benign-ns/gen.sh and
// committed under datasets/benign-ns agree with their manifest: every
// listed file exists and is small (each < 200 KB, all < 3 MB: the
// repository's limit), is read through the whole pipeline without error,
// holds at least one TCP flow that lives 60 s or more (the point of these
// captures: long-lived benign connections for the checkpoints), and is
// labelled benign by construction — so none of its rows may be mining.
func TestBenignNSCapturesMatchTheirManifest(t *testing.T) {
	dir := filepath.Join(shareddata.Root(), "datasets", "benign-ns")
	m, err := manifest.Load(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Entries) == 0 {
		t.Fatal("the benign-ns manifest lists no capture")
	}
	var total int64
	for _, e := range m.Entries {
		if e.Label != LabelBenign || !e.Mining.Empty() || !e.Ignore.Empty() {
			t.Errorf("line %d %s: label %q, mining/ignore rules set: want benign with '-' rules (benign by construction)", e.Line, e.Path, e.Label)
		}
		if filepath.Dir(e.File) != dir {
			t.Errorf("line %d %s: not directly in %s", e.Line, e.Path, dir)
		}
		fi, err := os.Stat(e.File)
		if err != nil {
			t.Errorf("line %d: %v", e.Line, err)
			continue
		}
		if fi.Size() >= 200<<10 {
			t.Errorf("%s: %d bytes, want < 200 KB", e.Path, fi.Size())
		}
		total += fi.Size()
	}
	if total >= 3<<20 {
		t.Errorf("benign-ns captures: %d bytes in all, want < 3 MB", total)
	}
	longest := map[string]time.Duration{}
	rows := map[string]map[string]int{}
	_, err = Build(context.Background(), m, Options{Checkpoints: flowfeat.ModelCheckpoints()}, func(r *Row) error {
		if rows[r.Capture] == nil {
			rows[r.Capture] = map[string]int{}
		}
		rows[r.Capture][r.Label]++
		if r.Proto == 6 {
			longest[r.Capture] = max(longest[r.Capture], r.Last.Sub(r.FlowFirst))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range m.Entries {
		if longest[e.Path] < 60*time.Second {
			t.Errorf("%s: longest TCP flow %v, want ≥ 60 s", e.Path, longest[e.Path])
		}
		if n := rows[e.Path][LabelMining]; n != 0 {
			t.Errorf("%s: %d mining rows in a benign capture", e.Path, n)
		}
		if rows[e.Path][LabelBenign] == 0 {
			t.Errorf("%s: no benign rows", e.Path)
		}
	}
}
