package forest_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/internal/shareddata"
	"github.com/minerwatch/minerwatch/models/forest"
)

// TestBelowWithoutAnswersAsTheTreeByTreeWalk checks BelowWithout on the
// scoring copy (eight trees in lock-step) against the tree-by-tree walk
// on the nodes: the same answer for every row and set of missing
// features, and after a "need" answer the same Partial, so that resuming
// goes on identically; the chain of answers is followed to its end,
// filling each needed feature in. Rows: hostile ones (see hostileRows),
// and the shared datasets' rows when present; missing sets: the
// periodicity features, each alone, and random ones.
func TestBelowWithoutAnswersAsTheTreeByTreeWalk(t *testing.T) {
	m := shippedModel(t)
	f := m.Forest
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
	sets := [][]int{{46, 47, 48, 49}, {48, 49}, {46}, {0}}
	for range 3 {
		var s []int
		for j := range nf {
			if rng.IntN(6) == 0 {
				s = append(s, j)
			}
		}
		sets = append(sets, s)
	}
	needs := 0
	for _, thr := range []float64{m.Threshold, 0.05, 0.9} {
		for si, set := range sets {
			for ri, row := range rows {
				missA, missB := make([]bool, nf), make([]bool, nf)
				for _, j := range set {
					missA[j], missB[j] = true, true
				}
				var pa, pb forest.Partial
				for step := 0; ; step++ {
					ba, ja := f.BelowWithout(row, thr, missA, &pa)
					bb, jb := f.BelowWithoutNodes(row, thr, missB, &pb)
					if ba != bb || ja != jb {
						t.Fatalf("threshold %v, set %d, row %d, call %d: scoring copy answers %v, %d; nodes %v, %d", thr, si, ri, step, ba, ja, bb, jb)
					}
					if ja < 0 {
						break
					}
					needs++
					if pa != pb {
						t.Fatalf("threshold %v, set %d, row %d, call %d: need %d, but stopped at %+v against %+v", thr, si, ri, step, ja, pa, pb)
					}
					missA[ja], missB[ja] = false, false
				}
			}
		}
	}
	t.Logf("%d rows × %d missing sets × 3 thresholds, %d need answers", len(rows), len(sets), needs)
	if needs == 0 {
		t.Fatal("no walk needed a missing feature")
	}
}

// BenchmarkBelowWithoutLayouts times BelowWithout on the shared rows as
// detect calls it: the four periodicity features missing at first, each
// direction's pair filled in when the walk needs it and the walk resumed,
// until it decides (chain); and alone, the call with only the up
// direction's pair missing (up). Tree by tree on the nodes against the
// scoring copy, interleaved chunk by chunk; the speed-up is the median of
// the per-chunk ratios, which the load of a shared machine barely moves.
func BenchmarkBelowWithoutLayouts(b *testing.B) {
	m := shippedModel(b)
	rows := benchRows(b, m)
	f := m.Forest
	nf := f.NumFeatures()
	type walker func([]float64, float64, []bool, *forest.Partial) (bool, int)
	chain := func(walk walker, row []float64, missing []bool) {
		for _, j := range []int{46, 47, 48, 49} {
			missing[j] = true
		}
		var p forest.Partial
		for {
			below, need := walk(row, m.Threshold, missing, &p)
			if below || need < 0 {
				return
			}
			pair := need &^ 1 // 46,47 down; 48,49 up
			missing[pair], missing[pair+1] = false, false
		}
	}
	up := func(walk walker, row []float64, missing []bool) {
		clear(missing)
		missing[48], missing[49] = true, true
		walk(row, m.Threshold, missing, new(forest.Partial))
	}
	for _, c := range []struct {
		name string
		call func(walker, []float64, []bool)
	}{{"chain", chain}, {"up", up}} {
		b.Run(c.name, func(b *testing.B) {
			walkers := []walker{f.BelowWithoutNodes, f.BelowWithout}
			missing := make([]bool, nf)
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
						c.call(walk, rows[i], missing)
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
		})
	}
}
