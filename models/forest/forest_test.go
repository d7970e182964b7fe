package forest

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// synth makes n rows of p features in [0,1) and labels them with rule.
func synth(n, p int, seed uint64, rule func([]float64) int) ([][]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	X := make([][]float64, n)
	y := make([]int, n)
	for i := range X {
		X[i] = make([]float64, p)
		for j := range X[i] {
			X[i][j] = rng.Float64()
		}
		y[i] = rule(X[i])
	}
	return X, y
}

func TestTreeRecoversAThresholdRuleExactly(t *testing.T) {
	// y = x2 > 0.3 on 5 features whose values lie on a grid of 1/200 (so
	// fewer distinct values than histogram bins): the root must split on
	// feature 2, both children must be pure leaves, and the threshold must
	// be the midpoint of the two grid values around 0.3, 0.3025 (what
	// scikit-learn picks), with either split method.
	X, y := synth(1000, 5, 7, func(r []float64) int {
		for j := range r {
			r[j] = math.Floor(r[j]*200) / 200
		}
		return boolInt(r[2] > 0.3)
	})
	const want = 0.3/2 + 0.305/2
	for _, method := range []SplitMethod{Exact, Histogram} {
		t.Run(method.String(), func(t *testing.T) {
			tree, err := TrainTree(X, y, Params{Split: method})
			if err != nil {
				t.Fatal(err)
			}
			if tree.NumNodes() != 3 {
				t.Fatalf("tree has %d nodes, want 3 (one split, two pure leaves)", tree.NumNodes())
			}
			root := tree.nodes[0]
			if root.feature != 2 || root.threshold != want {
				t.Errorf("root splits at x%d <= %v, want x2 <= %v", root.feature, root.threshold, want)
			}
			for i, r := range X {
				if p := tree.PredictProba(r); p != float64(y[i]) {
					t.Fatalf("row %d: P = %v, label %d", i, p, y[i])
				}
			}
		})
	}
}

func TestHistogramMatchesExactWhenFewDistinctValues(t *testing.T) {
	// With ≤ MaxBins distinct values per feature every value has its own
	// bin, so both methods see the same candidate splits and grow the same
	// tree.
	rng := rand.New(rand.NewPCG(3, 3))
	X := make([][]float64, 2000)
	y := make([]int, len(X))
	for i := range X {
		X[i] = []float64{float64(rng.IntN(50)), float64(rng.IntN(20)), float64(rng.IntN(7))}
		if X[i][0]+3*X[i][1]+rng.Float64()*20 > 60 {
			y[i] = 1
		}
	}
	a, err := TrainTree(X, y, Params{Split: Exact, MaxDepth: 6})
	if err != nil {
		t.Fatal(err)
	}
	b, err := TrainTree(X, y, Params{Split: Histogram, MaxDepth: 6})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.nodes, b.nodes) {
		t.Errorf("exact tree (%d nodes) and histogram tree (%d nodes) differ", a.NumNodes(), b.NumNodes())
	}
}

func TestTrainingIsDeterministicWhateverTheWorkerCount(t *testing.T) {
	X, y := synth(1500, 8, 11, func(r []float64) int {
		if r[0]+r[1]*r[3] > 0.7 {
			return 1
		}
		return 0
	})
	for _, method := range []SplitMethod{Histogram, Exact} {
		t.Run(method.String(), func(t *testing.T) {
			p := Params{Trees: 12, Seed: 42, Split: method}
			var ref *Forest
			for _, workers := range []int{1, 2, 5, runtime.GOMAXPROCS(0)} {
				p.Workers = workers
				f, err := Train(X, y, p)
				if err != nil {
					t.Fatal(err)
				}
				if ref == nil {
					ref = f
					continue
				}
				if !slices.Equal(f.nodes, ref.nodes) || !slices.Equal(f.importances, ref.importances) || f.oob != ref.oob {
					t.Fatalf("forest with %d workers differs from forest with 1", workers)
				}
			}
			p.Seed = 43
			other, err := Train(X, y, p)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(other.nodes, ref.nodes) {
				t.Error("seeds 42 and 43 grew identical forests")
			}
		})
	}
}

func TestClassWeightsMoveTheDecisionTowardsTheHeavierClass(t *testing.T) {
	// One feature, x in {0,1}; at x=1 there are 3 benign rows for every
	// mining row, so unweighted the x=1 leaf says P(mining)=0.25; weighting
	// mining ×6 makes it 6/(6+3)=0.667, and "balanced" (n/2n_c: class 0
	// has 3/4 of x=1 rows plus all x=0 rows) also flips it above 0.5.
	var X [][]float64
	var y []int
	for range 30 {
		X = append(X, []float64{0})
		y = append(y, 0)
	}
	for i := range 40 {
		X = append(X, []float64{1})
		y = append(y, boolInt(i%4 == 0))
	}
	cases := []struct {
		name string
		p    Params
		want float64
	}{
		{"unweighted", Params{}, 0.25},
		{"mining weighted 6x", Params{ClassWeights: [2]float64{1, 6}}, 6.0 / 9},
		{"balanced", Params{Balanced: true}, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tree, err := TrainTree(X, y, c.p)
			if err != nil {
				t.Fatal(err)
			}
			got := tree.PredictProba([]float64{1})
			if c.want >= 0 && math.Abs(got-c.want) > 1e-12 {
				t.Errorf("P(mining | x=1) = %v, want %v", got, c.want)
			}
			// balanced: class 1 has 10 rows → weight 70/20 = 3.5; class 0
			// has 60 → 70/120; at x=1: 10·3.5 / (10·3.5 + 30·70/120) = 0.667.
			if c.want < 0 && math.Abs(got-35/(35+17.5)) > 1e-12 {
				t.Errorf("P(mining | x=1) = %v, want %v", got, 35/(35+17.5))
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestNaNRowsTrainAndScore(t *testing.T) {
	// Feature 0 carries the label but is missing (NaN) for every mining
	// row whose feature 1 is > 0.5 — missingness itself is informative, so
	// the tree must learn where NaN goes rather than lose those rows.
	X, y := synth(2000, 2, 5, func(r []float64) int {
		if r[0] > 0.6 {
			return 1
		}
		return 0
	})
	for i, r := range X {
		if y[i] == 1 && r[1] > 0.5 {
			r[0] = math.NaN()
		}
	}
	for _, method := range []SplitMethod{Exact, Histogram} {
		t.Run(method.String(), func(t *testing.T) {
			tree, err := TrainTree(X, y, Params{Split: method})
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range X {
				if p := tree.PredictProba(r); p != float64(y[i]) {
					t.Fatalf("row %d %v: P = %v, label %d", i, r, p, y[i])
				}
			}
			if p := tree.PredictProba([]float64{math.NaN(), 0.9}); p != 1 {
				t.Errorf("P(NaN row) = %v, want 1: NaN was always mining in training", p)
			}
			f, err := Train(X, y, Params{Trees: 10, Split: method, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if acc := f.OOB().Accuracy; acc < 0.97 {
				t.Errorf("forest OOB accuracy = %v with NaNs, want ≥ 0.97", acc)
			}
		})
	}
}

func TestUnseenNaNFollowsTheLargerChild(t *testing.T) {
	// No NaN in training: at inference a NaN must go where most training
	// rows went (scikit-learn's rule), here the x ≤ 0.8 side (benign).
	X, y := synth(1000, 1, 9, func(r []float64) int { return boolInt(r[0] > 0.8) })
	tree, err := TrainTree(X, y, Params{})
	if err != nil {
		t.Fatal(err)
	}
	if p := tree.PredictProba([]float64{math.NaN()}); p != 0 {
		t.Errorf("P(NaN) = %v, want 0", p)
	}
}

func TestContributionsAddUpToThePrediction(t *testing.T) {
	X, y := synth(3000, 6, 13, func(r []float64) int { return boolInt(r[1]+r[4] > 1.1) })
	X[0][1] = math.NaN()
	f, err := Train(X, y, Params{Trees: 20, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float64, 6)
	for _, row := range X[:50] {
		bias := f.Contributions(row, dst)
		sum := bias
		for _, c := range dst {
			sum += c
		}
		if p := f.PredictProba(row); math.Abs(sum-p) > 1e-9 {
			t.Fatalf("bias + Σ contributions = %v, PredictProba = %v", sum, p)
		}
	}
	// The label depends on features 1 and 4 only: they must carry the
	// bulk of the explanation (and of the impurity importance).
	bias := f.Contributions([]float64{0.5, 0.95, 0.5, 0.5, 0.9, 0.5}, dst)
	if dst[1] <= 0 || dst[4] <= 0 || bias <= 0 {
		t.Errorf("contributions %v (bias %v): features 1 and 4 should push towards mining", dst, bias)
	}
	imp := f.Importances()
	if imp[1]+imp[4] < 0.7 {
		t.Errorf("importances %v: features 1 and 4 hold < 70%%", imp)
	}
}

func TestPermutationImportanceFindsTheInformativeFeature(t *testing.T) {
	X, y := synth(2000, 4, 17, func(r []float64) int { return boolInt(r[2] > 0.5) })
	f, err := Train(X[:1000], y[:1000], Params{Trees: 20, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(X[1000])
	pi, err := f.PermutationImportance(X[1000:], y[1000:], PermutationParams{Repeats: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, X[1000]) {
		t.Error("PermutationImportance modified X")
	}
	if pi.Baseline < 0.99 {
		t.Errorf("baseline AUC = %v", pi.Baseline)
	}
	for j, m := range pi.Mean {
		if j == 2 && m < 0.3 {
			t.Errorf("feature 2 (the label) importance %v, want ≥ 0.3", m)
		}
		if j != 2 && math.Abs(m) > 0.02 {
			t.Errorf("noise feature %d importance %v, want ≈ 0", j, m)
		}
	}
}

func TestBatchPredictionEqualsRowPrediction(t *testing.T) {
	X, y := synth(700, 5, 19, func(r []float64) int { return boolInt(r[0]*r[1] > 0.2) })
	f, err := Train(X, y, Params{Trees: 15, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(X))
	f.PredictProbaBatch(X, out)
	for i, row := range X {
		if p := f.PredictProba(row); p != out[i] {
			t.Fatalf("row %d: batch %v, single %v", i, out[i], p)
		}
	}
}

func TestScoringDoesNotAllocate(t *testing.T) {
	X, y := synth(500, 5, 23, func(r []float64) int { return boolInt(r[3] > 0.4) })
	f, err := Train(X, y, Params{Trees: 10})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(X))
	dst := make([]float64, 5)
	allocs := testing.AllocsPerRun(20, func() {
		f.PredictProba(X[0])
		f.PredictAbove(X[2], 0.5)
		f.PredictProbaBatch(X, out)
		f.Contributions(X[1], dst)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per scoring round, want 0", allocs)
	}
}

// TestPredictAboveStopsOnlyWhenTheThresholdIsOutOfReach trains a forest
// on a noisy rule and checks the decision against the full score at
// thresholds across the range (shipped_test.go does the same on the
// shipped model and real rows).
func TestPredictAboveStopsOnlyWhenTheThresholdIsOutOfReach(t *testing.T) {
	X, y := synth(2000, 6, 29, func(r []float64) int { return boolInt(r[0]+r[1]*r[2] > 0.8) })
	for i := range X {
		if i%17 == 0 {
			X[i][1] = math.NaN()
		}
	}
	f, err := Train(X, y, Params{Trees: 23, Seed: 4}) // not a multiple of the lock-step width
	if err != nil {
		t.Fatal(err)
	}
	early := 0
	for _, thr := range []float64{0, 0.1, 0.3, 0.5, 0.7, 0.9, 1} {
		for i, row := range X {
			want := f.PredictProba(row)
			p, above := f.PredictAbove(row, thr)
			if above != (want >= thr) {
				t.Fatalf("threshold %v row %d: above=%v, score %v", thr, i, above, want)
			}
			if above && p != want {
				t.Fatalf("threshold %v row %d: %v above, score %v", thr, i, p, want)
			}
			if !above && !(p < thr && p >= want) {
				t.Fatalf("threshold %v row %d: %v is not an upper bound of %v below the threshold", thr, i, p, want)
			}
			if !above && p != want {
				early++
			}
		}
	}
	if early == 0 {
		t.Error("no row stopped early: the bound is never used")
	}
}

func TestBadTrainingInputIsRefused(t *testing.T) {
	cases := []struct {
		name string
		X    [][]float64
		y    []int
		p    Params
		want string
	}{
		{"no rows", nil, nil, Params{}, "no training rows"},
		{"label count", [][]float64{{1}, {2}}, []int{0}, Params{}, "2 rows but 1 labels"},
		{"ragged", [][]float64{{1, 2}, {2}}, []int{0, 1}, Params{}, "row 1 has 1 features"},
		{"label 2", [][]float64{{1}, {2}}, []int{0, 2}, Params{}, "label 2"},
		{"negative weight", [][]float64{{1}, {2}}, []int{0, 1}, Params{ClassWeights: [2]float64{-1, 1}}, "weight"},
		{"bins", [][]float64{{1}, {2}}, []int{0, 1}, Params{MaxBins: 300}, "max bins"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Train(c.X, c.y, c.p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

func TestRulesNameFeaturesAndNaNDirection(t *testing.T) {
	X, y := synth(200, 2, 29, func(r []float64) int { return boolInt(r[1] > 0.5) })
	tree, err := TrainTree(X, y, Params{})
	if err != nil {
		t.Fatal(err)
	}
	text, err := tree.Rules(0, []string{"bytes_up", "iat_mean"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text, "if iat_mean <= 0.49") || !strings.Contains(text, "(NaN: ") ||
		!strings.Contains(text, "return 1  // P(mining)") || !strings.Contains(text, "} else {") {
		t.Errorf("rules:\n%s", text)
	}
}

func TestROCAUCMatchesAHandCount(t *testing.T) {
	// Positives score {0.8, 0.4, 0.6}, negatives {0.3, 0.4, 0.9}: of the 9
	// pairs, positive wins 5 (0.8>0.3,0.4; 0.6>0.3,0.4; 0.4>0.3) and ties
	// 1 (0.4=0.4) → (5 + 0.5)/9.
	y := []int{1, 1, 1, 0, 0, 0}
	p := []float64{0.8, 0.4, 0.6, 0.3, 0.4, 0.9}
	if got := ROCAUC(y, p); math.Abs(got-5.5/9) > 1e-12 {
		t.Errorf("AUC = %v, want %v", got, 5.5/9)
	}
}

func TestInfiniteValuesRouteTheSameInTrainingScoringAndAfterReload(t *testing.T) {
	// Ratios over an empty direction can come out ±Inf. Training must
	// route them as scoring does, and the JSON form (which has no Inf)
	// must not change any decision on these rows.
	inf := math.Inf(1)
	X := [][]float64{{-inf}, {-inf}, {-1}, {0}, {2}, {inf}, {inf}, {math.NaN()}, {math.NaN()}}
	y := []int{1, 1, 0, 0, 0, 1, 1, 0, 1}
	tree, err := TrainTree(X, y, Params{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := tree.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Forest
	if err := back.UnmarshalJSON(raw); err != nil {
		t.Fatal(err)
	}
	for i, row := range X[:7] {
		if p := tree.PredictProba(row); p != float64(y[i]) {
			t.Errorf("row %v: P = %v, label %d", row, p, y[i])
		}
		if a, b := tree.PredictProba(row), back.PredictProba(row); a != b {
			t.Errorf("row %v: %v before JSON, %v after", row, a, b)
		}
	}
	if p := tree.PredictProba([]float64{math.NaN()}); p != 0.5 {
		t.Errorf("P(NaN) = %v, want 0.5 (one of each NaN row in training)", p)
	}
}
