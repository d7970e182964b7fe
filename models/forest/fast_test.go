package forest

import (
	"math"
	"testing"
)

// TestFastSplitRoutesEveryValueLikeTheNode checks the folding of NaN
// routing into slot, threshold and child order (fastSplit) against node's
// own step, on the values where it could go wrong: NaN, ±Inf, ±MaxFloat64,
// ±0, the threshold itself and its neighbours, for every kind of split.
func TestFastSplitRoutesEveryValueLikeTheNode(t *testing.T) {
	inf := math.Inf(1)
	thresholds := []float64{0.5, -3, 0, math.Copysign(0, -1), inf, -inf, math.MaxFloat64, -math.MaxFloat64,
		math.SmallestNonzeroFloat64, 1e300}
	for _, thr := range thresholds {
		for _, nanRightFlag := range []uint16{0, nanRight} {
			// Node 0 splits on feature 1 into leaves 1 and 2.
			nodes := []node{
				{threshold: thr, left: 1, feature: 1, flags: nanRightFlag | leftLeaf | rightLeaf},
				{threshold: inf, left: 1, flags: leftLeaf | rightLeaf},
				{threshold: inf, left: 2, flags: leftLeaf | rightLeaf},
			}
			f := &Forest{nFeatures: 2, nodes: nodes, values: []float64{0.5, 0, 1}, roots: []uint32{0}}
			f.setFast()
			xs := []float64{math.NaN(), inf, -inf, math.MaxFloat64, -math.MaxFloat64, 0, math.Copysign(0, -1), 1, -1}
			if !math.IsInf(thr, 0) {
				xs = append(xs, thr, math.Nextafter(thr, inf), math.Nextafter(thr, -inf))
			}
			for _, x := range xs {
				row := []float64{7, x}
				want, _ := step(nodes, row, 0)
				var xr extendedRow
				extendRow(&xr, row)
				got, atLeaf := fastStep(f.fast, &xr, f.fastRoots[0])
				if fastLeafValue(f.fast, got) != f.values[want] || atLeaf != 1 {
					t.Errorf("threshold %v nanRight %v, x %v: node goes to %d (value %v), scoring copy to value %v (at leaf %d)",
						thr, nanRightFlag != 0, x, want, f.values[want], fastLeafValue(f.fast, got), atLeaf)
				}
			}
		}
	}
}

// TestWideForestIsScoredOnNodes checks that a forest wider than the
// scoring copy allows still scores, on node, like the reference.
func TestWideForestIsScoredOnNodes(t *testing.T) {
	const p = maxFastFeatures + 1
	X := make([][]float64, 200)
	y := make([]int, len(X))
	for i := range X {
		X[i] = make([]float64, p)
		for j := range X[i] {
			X[i][j] = float64((i*31 + j*17) % 23)
		}
		y[i] = i % 2
		X[i][p-1] = float64(y[i]) + float64(i%5)/10
	}
	f, err := Train(X, y, Params{Trees: 9, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if f.fast != nil {
		t.Fatalf("a forest of %d features got a scoring copy", p)
	}
	ref := newRefForest(f)
	for i, row := range X {
		if got, want := f.PredictProba(row), ref.PredictProba(row); got != want {
			t.Fatalf("row %d: %v, reference %v", i, got, want)
		}
	}
}
