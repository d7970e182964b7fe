package score

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"github.com/minerwatch/minerwatch/models/defaultmodel"
	"github.com/minerwatch/minerwatch/train/dataset"
	"github.com/minerwatch/minerwatch/train/manifest"
)

func TestShippedModelLoadsAndMatchesTheExtractor(t *testing.T) {
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(m, "default")
	if err != nil {
		t.Fatal(err)
	}
	if s.FeatureSet() != flowfeat.SetMW51X || s.Threshold() <= 0 || s.Threshold() >= 1 {
		t.Errorf("set %s threshold %v", s.FeatureSet(), s.Threshold())
	}
	var v flowfeat.Vector
	p, _ := s.Score(v.Set(s.FeatureSet()))
	if p < 0 || p > 1 {
		t.Errorf("score %v outside [0,1]", p)
	}
}

func TestMismatchedSchemaIsRefused(t *testing.T) {
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	m.FeatureNames = append([]string(nil), m.FeatureNames...)
	m.FeatureNames[3], m.FeatureNames[4] = m.FeatureNames[4], m.FeatureNames[3]
	if _, err := New(m, "swapped"); err == nil || !strings.Contains(err.Error(), "feature 3") {
		t.Errorf("reordered features accepted: %v", err)
	}
	m2, _ := defaultmodel.Load()
	m2.FeatureSet = "pastor2020"
	if _, err := New(m2, "unknown"); err == nil {
		t.Error("unknown feature set accepted")
	}
}

// TestScoresOfAlertingRowsAreExactAndExplained scores every feature row of
// the shared datasets: a row at or above the threshold must get exactly
// the forest's probability and its top features (positive Saabas
// contributions, largest first); a row below gets no explanation and a
// score that is below the threshold and not below its probability (the
// forest may stop early there).
func TestScoresOfAlertingRowsAreExactAndExplained(t *testing.T) {
	dir := shareddata.Require(t)
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(m, "default")
	if err != nil {
		t.Fatal(err)
	}
	man, err := manifest.Load(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	names := flowfeat.Names([]string{m.FeatureSet})
	var rows, above int
	_, err = dataset.Build(context.Background(), man, dataset.Options{Checkpoints: flowfeat.ModelCheckpoints()}, func(r *dataset.Row) error {
		rows++
		x := r.X.Set(m.FeatureSet)
		want := m.Forest.PredictProba(x)
		p, top := s.Score(x)
		if want < m.Threshold {
			if top != nil || !(p < m.Threshold && p >= want) {
				t.Errorf("%s flow %d: below threshold, score %v (probability %v), %d top features", r.Capture, r.FlowID, p, want, len(top))
			}
			return nil
		}
		above++
		if math.Float64bits(p) != math.Float64bits(want) {
			t.Errorf("%s flow %d: score %v, probability %v", r.Capture, r.FlowID, p, want)
		}
		if len(top) == 0 || len(top) > TopFeatures {
			t.Errorf("%s flow %d: %d top features", r.Capture, r.FlowID, len(top))
		}
		for i, fv := range top {
			j := slices.Index(names, fv.Name)
			if j < 0 || fv.Contribution <= 0 || (i > 0 && fv.Contribution > top[i-1].Contribution) {
				t.Errorf("%s flow %d: top feature %d %+v", r.Capture, r.FlowID, i, fv)
				continue
			}
			if math.Float64bits(fv.Value) != math.Float64bits(x[j]) {
				t.Errorf("%s flow %d: %s value %v, row has %v", r.Capture, r.FlowID, fv.Name, fv.Value, x[j])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rows, %d at or above the threshold", rows, above)
	if above == 0 || above == rows {
		t.Errorf("%d of %d rows above the threshold: the shared datasets should give both", above, rows)
	}
}
