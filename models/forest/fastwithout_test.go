package forest_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/internal/shareddata"
	"github.com/minerwatch/minerwatch/models/forest"
)

// TestBounderAnswersAsTheTreeByTreeWalk checks Bounder.BelowWithout on
// the scoring copy (eight trees in lock-step) against the tree-by-tree
// walk on the nodes: the same answer for every row, threshold and set of
// missing features, following detect's chain (each needed feature filled
// in, the walk asked again) to its end. Rows: hostile ones (see
// hostileRows), and the shared datasets' rows when present; missing
// sets: the periodicity features, each direction's pair, single features
// and random sets.
func TestBounderAnswersAsTheTreeByTreeWalk(t *testing.T) {
	m := shippedModel(t)
	f := m.Forest
	bd := forest.NewBounder(f)
	nf := f.NumFeatures()
	rows := hostileRows(t, f, nil, 500, 11)
	if shareddata.Dir() != "" {
		shared := sharedFeatureRows(t, m.FeatureSet)
		rows = append(rows, hostileRows(t, f, shared, 500, 12)...)
		for i := 0; i < len(shared); i += 23 {
			rows = append(rows, shared[i])
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	sets := [][]int{{46, 47, 48, 49}, {48, 49}, {46, 47}, {0}}
	for range 3 {
		var s []int
		for j := range nf {
			if rng.IntN(6) == 0 {
				s = append(s, j)
			}
		}
		sets = append(sets, s)
	}
	needs, belows := 0, 0
	for _, thr := range []float64{m.Threshold, 0.05, 0.9} {
		for si, set := range sets {
			for ri, row := range rows {
				missing := make([]bool, nf)
				for _, j := range set {
					missing[j] = true
				}
				for call := 0; ; call++ {
					ba, ja := bd.BelowWithout(row, thr, missing)
					bb, jb := bd.BelowWithoutNodes(row, thr, missing)
					if ba != bb || ja != jb {
						t.Fatalf("threshold %v, set %d, row %d, call %d: scoring copy answers %v, %d; nodes %v, %d", thr, si, ri, call, ba, ja, bb, jb)
					}
					if ba {
						belows++
					}
					if ja < 0 {
						break
					}
					needs++
					missing[ja] = false
				}
			}
		}
	}
	t.Logf("%d rows × %d missing sets × 3 thresholds: %d below answers, %d need answers", len(rows), len(sets), belows, needs)
	if needs == 0 || belows == 0 {
		t.Fatal("the sample does not exercise both answers")
	}
}

// BenchmarkBounderLayouts times Bounder.BelowWithout on the shared rows
// as detect calls it (the four periodicity features missing at first,
// each direction's pair filled in when a walk names it, asked again until
// it decides), tree by tree on the nodes against the scoring copy,
// interleaved chunk by chunk; the speed-up is the median of the per-chunk
// ratios, which the load of a shared machine barely moves.
func BenchmarkBounderLayouts(b *testing.B) {
	m := shippedModel(b)
	rows := benchRows(b, m)
	bd := forest.NewBounder(m.Forest)
	missing := make([]bool, m.Forest.NumFeatures())
	type walker func([]float64, float64, []bool) (bool, int)
	chain := func(walk walker, row []float64) {
		for _, j := range []int{46, 47, 48, 49} {
			missing[j] = true
		}
		for {
			below, need := walk(row, m.Threshold, missing)
			if below || need < 0 {
				break
			}
			pair := need &^ 1 // 46,47 down; 48,49 up
			missing[pair], missing[pair+1] = false, false
		}
		clear(missing)
	}
	walkers := []walker{bd.BelowWithoutNodes, bd.BelowWithout}
	const chunk = 256
	ratios := make([]float64, 0, 1<<14)
	var spent [2]time.Duration
	start := 0
	for b.Loop() {
		var cur [2]time.Duration
		for w, walk := range walkers {
			t0 := time.Now()
			i := start
			for range chunk {
				chain(walk, rows[i])
				i = (i + 7919) % len(rows)
			}
			cur[w] = time.Since(t0)
			spent[w] += cur[w]
		}
		if len(ratios) < cap(ratios) {
			ratios = append(ratios, cur[0].Seconds()/cur[1].Seconds())
		}
		start = (start + chunk*7919) % len(rows)
	}
	b.ReportMetric(spent[0].Seconds()*1e6/float64(b.N*chunk), "nodes-µs/row")
	b.ReportMetric(spent[1].Seconds()*1e6/float64(b.N*chunk), "fast-µs/row")
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "speedup")
}
