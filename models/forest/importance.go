package forest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// Importances returns the impurity-based (mean decrease in impurity)
// importance of each feature: the weighted impurity decrease of the splits
// on it, normalised per tree, averaged over trees, summing to 1. It is free
// but biased towards features with many distinct values; prefer
// PermutationImportance on held-out data for decisions.
func (f *Forest) Importances() []float64 { return slices.Clone(f.importances) }

// OOBScore is the forest's accuracy and ROC AUC on the out-of-bag rows:
// each training row scored only by the trees whose bootstrap sample left
// it out (a free estimate of held-out performance).
type OOBScore struct {
	Accuracy float64 `json:"accuracy"` // at threshold 0.5
	ROCAUC   float64 `json:"roc_auc"`
	Rows     int     `json:"rows"` // rows left out by at least one tree
}

// OOB returns the out-of-bag score (zero when trained without bootstrap).
func (f *Forest) OOB() OOBScore { return f.oob }

// outOfBag replays every tree's bootstrap draw and scores each row with
// the trees that did not see it. Rows are split among goroutines and each
// row sums its trees in tree order, so the result is deterministic.
func (f *Forest) outOfBag(X [][]float64, d *dataset) OOBScore {
	n, trees := d.n, len(f.roots)
	words := (n + 63) / 64
	inBag := make([]uint64, trees*words)
	count := make([]int32, n)
	for t := range trees {
		bootstrap(treeRNG(f.params.Seed, t), count)
		bits := inBag[t*words : (t+1)*words]
		for i, c := range count {
			if c > 0 {
				bits[i/64] |= 1 << (i % 64)
			}
		}
	}
	proba := make([]float64, n)
	seen := make([]bool, n)
	parallelRows(n, f.params.Workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			sum, k := 0.0, 0
			for t, r := range f.roots {
				if inBag[t*words+i/64]&(1<<(i%64)) != 0 {
					continue
				}
				sum += f.values[f.leaf(r, X[i])]
				k++
			}
			if k > 0 {
				proba[i], seen[i] = sum/float64(k), true
			}
		}
	})
	var ys []int
	var ps []float64
	for i := range n {
		if seen[i] {
			ys = append(ys, int(d.y[i]))
			ps = append(ps, proba[i])
		}
	}
	if len(ys) == 0 {
		return OOBScore{}
	}
	return OOBScore{Accuracy: Accuracy(ys, ps, 0.5), ROCAUC: ROCAUC(ys, ps), Rows: len(ys)}
}

// parallelRows runs fn over [0,n) in contiguous chunks on workers goroutines.
func parallelRows(n, workers int, fn func(lo, hi int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	chunk := max(1, (n+workers-1)/workers)
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(lo+chunk, n))
	}
	wg.Wait()
}

// ScoreFunc scores probabilities p against labels y; higher is better.
type ScoreFunc func(y []int, p []float64) float64

// PermutationParams configure PermutationImportance.
type PermutationParams struct {
	Repeats int       // shuffles per feature; 0 → 5
	Seed    uint64    // shuffles are reproducible given the seed
	Score   ScoreFunc // nil → ROCAUC (accuracy hides the rare class)
}

// PermutationImportance is how much the score of the forest on (X, y)
// drops when one feature's column is shuffled, breaking its link with the
// label: Mean[j] and Std[j] over the repeats, and the unshuffled Baseline.
type PermutationImportance struct {
	Baseline float64
	Mean     []float64
	Std      []float64
}

// PermutationImportance measures every feature's permutation importance
// on a (preferably held-out) data set. X is not modified.
func (f *Forest) PermutationImportance(X [][]float64, y []int, pp PermutationParams) (PermutationImportance, error) {
	if len(X) != len(y) || len(X) == 0 {
		return PermutationImportance{}, fmt.Errorf("permutation importance: %d rows, %d labels", len(X), len(y))
	}
	for i, row := range X {
		if len(row) != f.nFeatures {
			return PermutationImportance{}, fmt.Errorf("permutation importance: row %d has %d features, model expects %d", i, len(row), f.nFeatures)
		}
	}
	if pp.Repeats <= 0 {
		pp.Repeats = 5
	}
	if pp.Score == nil {
		pp.Score = ROCAUC
	}
	proba := make([]float64, len(X))
	f.PredictProbaBatch(X, proba)
	res := PermutationImportance{
		Baseline: pp.Score(y, proba),
		Mean:     make([]float64, f.nFeatures),
		Std:      make([]float64, f.nFeatures),
	}
	// One private copy of the rows; column j is shuffled in place and
	// restored before moving on.
	rows := make([][]float64, len(X))
	for i, row := range X {
		rows[i] = slices.Clone(row)
	}
	orig := make([]float64, len(X))
	perm := make([]int, len(X))
	rng := rand.New(rand.NewPCG(pp.Seed, 0x5851f42d4c957f2d))
	drops := make([]float64, pp.Repeats)
	for j := range f.nFeatures {
		for i := range rows {
			orig[i] = rows[i][j]
		}
		for r := range pp.Repeats {
			for i := range perm {
				perm[i] = i
			}
			rng.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
			for i := range rows {
				rows[i][j] = orig[perm[i]]
			}
			f.PredictProbaBatch(rows, proba)
			drops[r] = res.Baseline - pp.Score(y, proba)
		}
		for i := range rows {
			rows[i][j] = orig[i]
		}
		mean, sd := meanStd(drops)
		res.Mean[j], res.Std[j] = mean, sd
	}
	return res, nil
}

func meanStd(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(v)))
}
