package forest_test

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"github.com/minerwatch/minerwatch/models/defaultmodel"
	"github.com/minerwatch/minerwatch/models/forest"
	"github.com/minerwatch/minerwatch/models/modelfile"
	"github.com/minerwatch/minerwatch/train/dataset"
	"github.com/minerwatch/minerwatch/train/manifest"
)

// These tests and benchmarks use the shipped model on the feature rows the
// detector really scores: every row (checkpoints and flow ends) of every
// capture of the shared datasets, as `minerwatch features` exports them.

var (
	sharedOnce sync.Once
	sharedRows [][]float64
	sharedErr  error
)

func shippedModel(tb testing.TB) *modelfile.Model {
	tb.Helper()
	m, err := defaultmodel.Load()
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// sharedFeatureRows returns the shipped model's feature set of every row
// of the shared datasets (skipping when they are absent).
func sharedFeatureRows(tb testing.TB, set string) [][]float64 {
	tb.Helper()
	dir := shareddata.Require(tb)
	sharedOnce.Do(func() {
		m, err := manifest.Load(filepath.Join(dir, "manifest.tsv"))
		if err != nil {
			sharedErr = err
			return
		}
		_, sharedErr = dataset.Build(context.Background(), m, dataset.Options{Checkpoints: flowfeat.DefaultCheckpoints()}, func(r *dataset.Row) error {
			sharedRows = append(sharedRows, append([]float64(nil), r.X.Set(set)...))
			return nil
		})
	})
	if sharedErr != nil {
		tb.Fatal(sharedErr)
	}
	return sharedRows
}

// hostileRows are random rows built to sit on the model's decision
// boundaries: each value is one of the model's own thresholds for that
// feature, or the next float above or below it, or NaN, ±Inf, 0, or a
// random magnitude. With base rows, each row is a copy of a random base
// row with a quarter of its values replaced that way (so real mining rows
// keep some of their scores above the threshold); without, every value is.
func hostileRows(tb testing.TB, f *forest.Forest, base [][]float64, n int, seed uint64) [][]float64 {
	tb.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		tb.Fatal(err)
	}
	var wf struct {
		Trees []struct {
			Feature   []int32
			Threshold []float64
		}
	}
	if err := json.Unmarshal(b, &wf); err != nil {
		tb.Fatal(err)
	}
	thr := make([][]float64, f.NumFeatures())
	for _, t := range wf.Trees {
		for k, j := range t.Feature {
			if j >= 0 {
				thr[j] = append(thr[j], t.Threshold[k])
			}
		}
	}
	rng := rand.New(rand.NewPCG(seed, 13))
	rows := make([][]float64, n)
	for i := range rows {
		row := make([]float64, f.NumFeatures())
		if len(base) > 0 {
			copy(row, base[rng.IntN(len(base))])
		}
		for j := range row {
			if len(base) > 0 && rng.IntN(4) != 0 {
				continue
			}
			switch k := rng.IntN(10); {
			case k < 5 && len(thr[j]) > 0:
				v := thr[j][rng.IntN(len(thr[j]))]
				switch rng.IntN(3) {
				case 0:
					v = math.Nextafter(v, math.Inf(-1))
				case 1:
					v = math.Nextafter(v, math.Inf(1))
				}
				row[j] = v
			case k == 5:
				row[j] = math.NaN()
			case k == 6:
				row[j] = math.Inf(1 - 2*rng.IntN(2))
			case k == 7:
				row[j] = 0
			default:
				row[j] = math.Exp(rng.NormFloat64()*5) * float64(1-2*rng.IntN(2))
			}
		}
		rows[i] = row
	}
	return rows
}

func TestShippedModelScoresAreBitIdenticalToTheReferenceLayout(t *testing.T) {
	m := shippedModel(t)
	f := m.Forest
	ref := forest.NewReference(f)
	prev := forest.NewPrevFast(f)
	cases := map[string][][]float64{"hostile": hostileRows(t, f, nil, 5_000, 1)}
	if shareddata.Dir() != "" {
		shared := sharedFeatureRows(t, m.FeatureSet)
		cases["shared-datasets"] = shared
		cases["shared-datasets-mutated"] = hostileRows(t, f, shared, 5_000, 3)
	} else {
		t.Log("shared datasets absent: checking generated rows only")
	}
	contrib := make([]float64, f.NumFeatures())
	refContrib := make([]float64, f.NumFeatures())
	for name, rows := range cases {
		t.Run(name, func(t *testing.T) {
			if len(rows) < 1000 {
				t.Fatalf("only %d rows", len(rows))
			}
			batch := make([]float64, len(rows))
			f.PredictProbaBatch(rows, batch)
			above := 0
			for i, row := range rows {
				want := ref.PredictProba(row)
				if got := f.PredictProba(row); math.Float64bits(got) != math.Float64bits(want) {
					t.Fatalf("row %d: PredictProba %v, reference %v", i, got, want)
				}
				if got, _ := prev.PredictAbove(row, math.Inf(-1)); math.Float64bits(got) != math.Float64bits(want) {
					t.Fatalf("row %d: previous scoring copy %v, reference %v", i, got, want)
				}
				if math.Float64bits(batch[i]) != math.Float64bits(want) {
					t.Fatalf("row %d: PredictProbaBatch %v, reference %v", i, batch[i], want)
				}
				bias, refBias := f.Contributions(row, contrib), ref.Contributions(row, refContrib)
				if bias != refBias {
					t.Fatalf("row %d: bias %v, reference %v", i, bias, refBias)
				}
				for j := range contrib {
					if math.Float64bits(contrib[j]) != math.Float64bits(refContrib[j]) {
						t.Fatalf("row %d feature %d: contribution %v, reference %v", i, j, contrib[j], refContrib[j])
					}
				}
				if want >= m.Threshold {
					above++
				}
				for _, thr := range []float64{m.Threshold, 0.05, 0.5, 0.95} {
					p, ok := f.PredictAbove(row, thr)
					switch {
					case ok != (want >= thr):
						t.Fatalf("row %d: PredictAbove(%v) says %v, reference score %v", i, thr, ok, want)
					case ok && math.Float64bits(p) != math.Float64bits(want):
						t.Fatalf("row %d: PredictAbove(%v) = %v, reference %v", i, thr, p, want)
					case !ok && !(p < thr && p >= want):
						t.Fatalf("row %d: PredictAbove(%v) = %v below the threshold, not an upper bound of %v", i, thr, p, want)
					}
				}
			}
			// Both sides of the threshold must be exercised, or the
			// comparison proves little about decisions (fully random rows
			// all score low: they only check the NaN/Inf/boundary paths).
			t.Logf("%d rows, %d at or above the threshold", len(rows), above)
			if name != "hostile" && (above == 0 || above == len(rows)) {
				t.Errorf("%d of %d rows above the threshold: not a useful sample", above, len(rows))
			}
		})
	}
}

func benchRows(b *testing.B, m *modelfile.Model) [][]float64 {
	if shareddata.Dir() != "" {
		return sharedFeatureRows(b, m.FeatureSet)
	}
	return hostileRows(b, m.Forest, nil, 20_000, 2)
}

// BenchmarkShippedModel scores the shipped model (mw51x) on the shared
// datasets' feature rows (generated rows without them), cycling through
// them with a stride so consecutive rows are unrelated. Each iteration
// scores the same chunk of rows six ways, timed separately and
// interleaved so that the load of a shared machine hits all alike:
//
//	reference   the layout before the compact nodes (reference_test.go)
//	nodes       PredictProba on the 16-byte nodes, as before the scoring copies
//	prev        PredictProba on the scoring copy before its breadth-first
//	            layout (prevfast_test.go)
//	proba       PredictProba (the scoring copy, fast.go)
//	prev-above, above
//	            PredictAbove at the model's threshold (the detector's
//	            question), both ways
//
// µs/row are totals over the run; on a loaded machine they carry the
// other work too, so the speed-ups are also given as the median over
// chunks of the per-chunk ratio, which the load barely moves, and the
// 10th percentile of the per-chunk µs/row (p10) stands for a quiet
// machine.
//
// MINERWATCH_BENCH_MODEL=FILE adds two more ways, interleaved with the
// others: b-proba and b-above, PredictProba and PredictAbove (at its own
// threshold) of the model in FILE (a model file of the same feature set,
// e.g. the shipped model before a retraining), and their ratios to the
// shipped model's (b-...-vs-shipped: above 1 when the shipped model is
// faster).
func BenchmarkShippedModel(b *testing.B) {
	m := shippedModel(b)
	rows := benchRows(b, m)
	ref := forest.NewReference(m.Forest)
	f, thr := m.Forest, m.Threshold
	prev := forest.NewPrevFast(f)
	names := []string{"reference", "nodes", "prev", "proba", "prev-above", "above"}
	ways := []func([]float64) float64{
		ref.PredictProba,
		func(row []float64) float64 { p, _ := f.PredictAboveNodes(row, math.Inf(-1)); return p },
		func(row []float64) float64 { p, _ := prev.PredictAbove(row, math.Inf(-1)); return p },
		f.PredictProba,
		func(row []float64) float64 { p, _ := prev.PredictAbove(row, thr); return p },
		func(row []float64) float64 { p, _ := f.PredictAbove(row, thr); return p },
	}
	if path := os.Getenv("MINERWATCH_BENCH_MODEL"); path != "" {
		other, err := modelfile.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		if other.FeatureSet != m.FeatureSet {
			b.Fatalf("%s: feature set %s, the shipped model's is %s", path, other.FeatureSet, m.FeatureSet)
		}
		g, gthr := other.Forest, other.Threshold
		names = append(names, "b-proba", "b-above")
		ways = append(ways, g.PredictProba,
			func(row []float64) float64 { p, _ := g.PredictAbove(row, gthr); return p })
	}
	const chunk = 256
	spent := make([]time.Duration, len(ways))
	// Per-chunk times of the first chunks (enough for a median), in an
	// array allocated once so that B/op stays the scoring's (none).
	chunks := make([][8]time.Duration, 0, 1<<14)
	start, sink := 0, 0.0
	for b.Loop() {
		var cur [8]time.Duration
		for w, score := range ways {
			t0 := time.Now()
			i := start
			for range chunk {
				sink += score(rows[i])
				i = (i + 7919) % len(rows)
			}
			cur[w] = time.Since(t0)
			spent[w] += cur[w]
		}
		if len(chunks) < cap(chunks) {
			chunks = append(chunks, cur)
		}
		start = (start + chunk*7919) % len(rows)
	}
	for w, name := range names {
		b.ReportMetric(spent[w].Seconds()*1e6/float64(b.N*chunk), name+"-µs/row")
	}
	medianRatio := func(num, den int) float64 {
		r := make([]float64, len(chunks))
		for k, c := range chunks {
			r[k] = c[num].Seconds() / c[den].Seconds()
		}
		slices.Sort(r)
		return r[len(r)/2]
	}
	b.ReportMetric(medianRatio(2, 3), "proba-speedup-vs-prev")
	b.ReportMetric(medianRatio(1, 3), "proba-speedup-vs-nodes")
	b.ReportMetric(medianRatio(0, 3), "proba-speedup-vs-reference")
	b.ReportMetric(medianRatio(4, 5), "above-speedup-vs-prev")
	// The 10th percentile of the per-chunk times: what a row costs when
	// the machine is quiet (the total above carries the other work).
	// The median chunk is reported too for the shipped model and the
	// other one: what a row costs under the machine's usual load.
	percentile := func(w, pct int) float64 {
		r := make([]float64, len(chunks))
		for k, c := range chunks {
			r[k] = c[w].Seconds() * 1e6 / chunk
		}
		slices.Sort(r)
		return r[len(r)*pct/100]
	}
	for _, w := range []int{2, 3, 4, 5} {
		b.ReportMetric(percentile(w, 10), names[w]+"-p10-µs/row")
	}
	b.ReportMetric(percentile(3, 50), "proba-p50-µs/row")
	b.ReportMetric(percentile(5, 50), "above-p50-µs/row")
	if len(ways) == 8 {
		b.ReportMetric(medianRatio(6, 3), "b-proba-vs-shipped")
		b.ReportMetric(medianRatio(7, 5), "b-above-vs-shipped")
		for _, w := range []int{6, 7} {
			b.ReportMetric(percentile(w, 10), names[w]+"-p10-µs/row")
			b.ReportMetric(percentile(w, 50), names[w]+"-p50-µs/row")
		}
	}
	_ = sink
}
