package score

import (
	"fmt"
	"sort"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/models/forest"
	"github.com/minerwatch/minerwatch/models/modelfile"
)

// TopFeatures is how many contributing features an alert names.
const TopFeatures = 5

// Scorer scores flows with a model. It is safe for concurrent use (live
// workers share one): scoring allocates nothing, and the explanation of an
// alerting score allocates its own buffer.
type Scorer struct {
	m *modelfile.Model
	// bounds decides rows below the threshold with features missing.
	bounds *forest.Bounder
	names  []string
	id     string
}

// New checks m's schema against the extractor and returns a scorer.
func New(m *modelfile.Model, id string) (*Scorer, error) {
	if flowfeat.Defs(m.FeatureSet) == nil {
		return nil, fmt.Errorf("model feature set %q is not one this build extracts (known: %v)", m.FeatureSet, flowfeat.ModelSets())
	}
	names := flowfeat.Names([]string{m.FeatureSet})
	if err := m.CheckSchema(m.FeatureSet, names); err != nil {
		return nil, fmt.Errorf("model %s: %w", id, err)
	}
	return &Scorer{m: m, names: names, id: id, bounds: forest.NewBounder(m.Forest)}, nil
}

// FeatureSet implements engine.Scorer.
func (s *Scorer) FeatureSet() string { return s.m.FeatureSet }

// Threshold implements engine.Scorer.
func (s *Scorer) Threshold() float64 { return s.m.Threshold }

// ID implements engine.Scorer.
func (s *Scorer) ID() string { return s.id }

// Probability implements engine.Prober: the forest's exact probability,
// every tree walked (Score stops early below the threshold).
func (s *Scorer) Probability(x []float64) float64 { return s.m.Forest.PredictProba(x) }

// BelowWithout implements engine.PartialScorer: whether the score is known to be
// below the threshold without the features marked missing (and if not,
// a missing one the model asks for); see forest.Bounder.
func (s *Scorer) BelowWithout(x []float64, missing []bool) (below bool, need int) {
	return s.bounds.BelowWithout(x, s.m.Threshold, missing)
}

// Model returns the underlying model.
func (s *Scorer) Model() *modelfile.Model { return s.m }

// Score implements engine.Scorer: the probability, and the features with
// the largest positive contributions when the score is worth explaining.
// At or above the threshold the score is exactly the forest's
// probability. Below it, the score is an upper bound of that probability,
// still below the threshold: the forest stops walking trees as soon as the
// rest cannot reach the threshold (49 or a few more of the shipped
// model's 120 trees for a benign flow), since nothing reports the exact score of a
// flow that does not alert.
func (s *Scorer) Score(x []float64) (float64, []alert.FeatureValue) {
	p, above := s.m.Forest.PredictAbove(x, s.m.Threshold)
	if !above {
		return p, nil
	}
	contrib := make([]float64, len(x))
	s.m.Forest.Contributions(x, contrib)
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return contrib[idx[a]] > contrib[idx[b]] })
	var top []alert.FeatureValue
	for _, i := range idx[:min(TopFeatures, len(idx))] {
		if contrib[i] <= 0 {
			break
		}
		top = append(top, alert.FeatureValue{Name: s.names[i], Value: x[i], Contribution: contrib[i]})
	}
	return p, top
}
