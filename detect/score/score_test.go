package score

import (
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/models/defaultmodel"
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
