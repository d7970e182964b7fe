package forest_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/minerwatch/minerwatch/models/forest"
)

// checkBelowWithout checks BelowWithout's promises on rows with the given
// features missing: a "below" answer holds whatever the missing features
// are (NaN, ±Inf, 0, the row's own value, a random one), a "need" answer
// names a missing feature, and the missing values are never read (the
// answer does not change with them).
func checkBelowWithout(t *testing.T, f *forest.Forest, threshold float64, rows [][]float64, missing []bool) (below, need int) {
	t.Helper()
	bd := forest.NewBounder(f)
	rng := rand.New(rand.NewPCG(7, 13))
	fill := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0}
	for _, row := range rows {
		b, j := bd.BelowWithout(row, threshold, missing)
		if j >= 0 && (b || !missing[j]) {
			t.Fatalf("BelowWithout = %v, %d: need must be a missing feature, and only when not below", b, j)
		}
		x := append([]float64(nil), row...)
		for k := 0; k < len(fill)+2; k++ {
			for m, miss := range missing {
				if !miss {
					continue
				}
				switch {
				case k < len(fill):
					x[m] = fill[k]
				case k == len(fill):
					x[m] = row[m]
				default:
					x[m] = rng.NormFloat64() * 1e3
				}
			}
			if b2, j2 := bd.BelowWithout(x, threshold, missing); b2 != b || j2 != j {
				t.Fatalf("the answer changed with the missing values (%v, %d → %v, %d): they were read", b, j, b2, j2)
			}
			if p := f.PredictProba(x); b && !(p < threshold) {
				t.Fatalf("BelowWithout said below %v, but with missing values %d the probability is %v", threshold, k, p)
			}
		}
		if b {
			below++
		}
		if j >= 0 {
			need++
		}
	}
	return below, need
}

// periodFeatures marks the shipped model's four periodicity features
// (down_period, down_period_strength, up_period, up_period_strength: the
// costly ones to compute), and missingNone none.
func periodFeatures(n int) (period, none []bool) {
	period, none = make([]bool, n), make([]bool, n)
	for _, j := range []int{46, 47, 48, 49} {
		period[j] = true
	}
	return period, none
}

func TestBelowWithoutNeverDecidesWhatTheMissingFeaturesCouldChange(t *testing.T) {
	m := shippedModel(t)
	f := m.Forest
	period, none := periodFeatures(f.NumFeatures())
	rows := hostileRows(t, f, nil, 3000, 5)
	up := make([]bool, f.NumFeatures())
	up[48], up[49] = true, true
	// At the model's threshold hostile rows are mostly below; at a low
	// one, most need a missing feature: both answers are checked.
	for _, threshold := range []float64{m.Threshold, 0.05} {
		for _, missing := range [][]bool{period, up} {
			below, need := checkBelowWithout(t, f, threshold, rows, missing)
			t.Logf("hostile rows, threshold %.3f: %d of %d decided below, %d need a missing feature", threshold, below, len(rows), need)
			if threshold == m.Threshold && below == 0 || threshold < m.Threshold && need == 0 {
				t.Fatal("one kind of answer never came: the check proved little")
			}
		}
	}
	// Nothing missing: below only where PredictAbove says so too, and an
	// undecided row is at the threshold or above (within the slack).
	bd := forest.NewBounder(f)
	for _, row := range rows {
		b, j := bd.BelowWithout(row, m.Threshold, none)
		p, above := f.PredictAbove(row, m.Threshold)
		if j != -1 || (b && above) || (!b && p < m.Threshold-1e-8) {
			t.Fatalf("nothing missing: BelowWithout = %v, %d; PredictAbove = %v, %v", b, j, p, above)
		}
	}
}

func TestBelowWithoutOnTheSharedRows(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the feature rows of every shared capture")
	}
	m := shippedModel(t)
	rows := sharedFeatureRows(t, m.FeatureSet)
	// Only the up direction's periodicity missing: the shipped model asks
	// for it on few of the rows it can tell are below the threshold.
	up := make([]bool, m.Forest.NumFeatures())
	up[48], up[49] = true, true
	below, need := checkBelowWithout(t, m.Forest, m.Threshold, rows, up)
	t.Logf("shared rows, up periodicity missing: %d of %d decided below without it, %d need it", below, len(rows), need)
	if below == 0 {
		t.Fatal("no shared row decided below without the up periodicity")
	}
}

// BenchmarkBelowWithout walks the shipped model over the shared rows
// with the up direction's periodicity missing, as detect does for a row
// whose down period is computed, against PredictAbove on the whole row.
func BenchmarkBelowWithout(b *testing.B) {
	m := shippedModel(b)
	rows := sharedFeatureRows(b, m.FeatureSet)
	up := make([]bool, m.Forest.NumFeatures())
	up[48], up[49] = true, true
	bd := forest.NewBounder(m.Forest)
	b.Run("BelowWithout", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			bd.BelowWithout(rows[i%len(rows)], m.Threshold, up)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
	})
	b.Run("PredictAbove", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			m.Forest.PredictAbove(rows[i%len(rows)], m.Threshold)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
	})
}
