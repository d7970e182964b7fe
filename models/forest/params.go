package forest

import (
	"fmt"
	"math"
	"runtime"
)

// Criterion is the impurity measure a split minimises.
type Criterion int

const (
	// Gini impurity, 1 − Σ p_c². The default, as in scikit-learn.
	Gini Criterion = iota
	// Entropy (information gain), −Σ p_c log p_c.
	Entropy
)

func (c Criterion) String() string {
	switch c {
	case Gini:
		return "gini"
	case Entropy:
		return "entropy"
	}
	return fmt.Sprintf("Criterion(%d)", int(c))
}

// MarshalText writes the criterion by name, so model files say "gini".
func (c Criterion) MarshalText() ([]byte, error) {
	if c != Gini && c != Entropy {
		return nil, fmt.Errorf("unknown criterion %d", int(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalJSON reads a criterion name, or the number earlier model files
// (written before names) hold.
func (c *Criterion) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"gini"`, "0":
		*c = Gini
	case `"entropy"`, "1":
		*c = Entropy
	default:
		return fmt.Errorf("unknown criterion %s", b)
	}
	return nil
}

// SplitMethod chooses how candidate thresholds are enumerated.
type SplitMethod int

const (
	// Histogram bins every feature once into at most MaxBins ordered bins
	// (quantile edges; one bin per distinct value when there are few) and
	// scans bin totals at each node: O(n) per node and feature instead of
	// O(n log n). It is the default because it trains several times faster
	// than Exact at the same held-out accuracy (see bench_test.go and the
	// scikit-learn cross-check); with ≤ MaxBins distinct values per feature
	// it finds exactly the same partitions as Exact.
	Histogram SplitMethod = iota
	// Exact sorts the node's values of each candidate feature and tries a
	// threshold between every pair of adjacent distinct values, like
	// scikit-learn's "best" splitter.
	Exact
)

func (s SplitMethod) String() string {
	switch s {
	case Histogram:
		return "histogram"
	case Exact:
		return "exact"
	}
	return fmt.Sprintf("SplitMethod(%d)", int(s))
}

// MarshalText writes the split method by name.
func (s SplitMethod) MarshalText() ([]byte, error) {
	if s != Histogram && s != Exact {
		return nil, fmt.Errorf("unknown split method %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalJSON reads a split method name, or the number earlier model
// files hold.
func (s *SplitMethod) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"histogram"`, "0":
		*s = Histogram
	case `"exact"`, "1":
		*s = Exact
	default:
		return fmt.Errorf("unknown split method %s", b)
	}
	return nil
}

// AllFeatures, as Params.MaxFeatures, tries every feature at every split
// (no feature subsampling; what a plain decision tree does).
const AllFeatures = -1

// Params are the hyper-parameters of Train. The zero value is a sensible
// forest: 100 trees, fully grown, sqrt(features) tried per split, Gini,
// bootstrap, histogram splits, seed 0, all cores. The names follow
// scikit-learn's RandomForestClassifier so that settings can be carried
// over one to one.
type Params struct {
	Trees           int       `json:"trees"`             // number of trees; 0 → 100
	MaxDepth        int       `json:"max_depth"`         // 0 → unlimited
	MinSamplesSplit int       `json:"min_samples_split"` // a node with fewer samples is a leaf; 0 → 2
	MinSamplesLeaf  int       `json:"min_samples_leaf"`  // each child keeps at least this many; 0 → 1
	MaxFeatures     int       `json:"max_features"`      // features tried per split; 0 → ⌊√p⌋, AllFeatures → p
	Criterion       Criterion `json:"criterion"`

	// ClassWeights multiply the weight of every sample of class 0 and 1;
	// zero means {1, 1}. Balanced overrides it with n / (2·n_c), computed on
	// the whole training set (scikit-learn's class_weight="balanced"), so
	// that the rare mining class counts as much as the benign one.
	ClassWeights [2]float64 `json:"class_weights"`
	Balanced     bool       `json:"balanced"`

	// NoBootstrap trains every tree on the whole data set (still with
	// feature subsampling). There is then no out-of-bag score.
	NoBootstrap bool `json:"no_bootstrap"`

	Split   SplitMethod `json:"split"`
	MaxBins int         `json:"max_bins"` // histogram bins per feature, 2..255; 0 → 255

	// Seed makes training reproducible: the same data, Params and Seed give
	// the same forest whatever Workers is, because tree t always draws from
	// its own generator seeded by (Seed, t).
	Seed uint64 `json:"seed"`
	// Workers is the number of goroutines growing trees; 0 → GOMAXPROCS.
	Workers int `json:"-"`
}

// resolved returns p with defaults filled in for p features, or an error
// for values that cannot be meant.
func (p Params) resolved(nFeatures int) (Params, error) {
	if p.Trees == 0 {
		p.Trees = 100
	}
	if p.MinSamplesSplit == 0 {
		p.MinSamplesSplit = 2
	}
	if p.MinSamplesLeaf == 0 {
		p.MinSamplesLeaf = 1
	}
	if p.MaxBins == 0 {
		p.MaxBins = maxBins
	}
	switch {
	case p.MaxFeatures == 0:
		p.MaxFeatures = max(1, int(math.Sqrt(float64(nFeatures))))
	case p.MaxFeatures == AllFeatures || p.MaxFeatures > nFeatures:
		p.MaxFeatures = nFeatures
	}
	if p.Workers <= 0 {
		p.Workers = runtime.GOMAXPROCS(0)
	}
	switch {
	case p.Trees < 0:
		return p, fmt.Errorf("trees = %d, want > 0", p.Trees)
	case p.MaxDepth < 0:
		return p, fmt.Errorf("max depth = %d, want ≥ 0", p.MaxDepth)
	case p.MinSamplesSplit < 2:
		return p, fmt.Errorf("min samples per split = %d, want ≥ 2", p.MinSamplesSplit)
	case p.MinSamplesLeaf < 0:
		return p, fmt.Errorf("min samples per leaf = %d, want ≥ 1", p.MinSamplesLeaf)
	case p.MaxFeatures < 1:
		return p, fmt.Errorf("max features = %d, want ≥ 1 or AllFeatures", p.MaxFeatures)
	case p.Criterion != Gini && p.Criterion != Entropy:
		return p, fmt.Errorf("unknown criterion %v", p.Criterion)
	case p.Split != Histogram && p.Split != Exact:
		return p, fmt.Errorf("unknown split method %v", p.Split)
	case p.MaxBins < 2 || p.MaxBins > maxBins:
		return p, fmt.Errorf("max bins = %d, want 2..%d", p.MaxBins, maxBins)
	}
	for c, w := range p.ClassWeights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return p, fmt.Errorf("class %d weight = %v, want finite ≥ 0", c, w)
		}
	}
	if p.ClassWeights == [2]float64{} {
		p.ClassWeights = [2]float64{1, 1}
	}
	return p, nil
}
