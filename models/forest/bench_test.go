package forest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// benchData is shaped like our training sets: 100k flow windows × 51
// features (Pastor et al.'s feature count), 10% mining, 12 informative
// features (class-dependent shifts, some heavy-tailed, one correlated
// pair), the rest noise, 3% NaN in a few features (std of one sample, …)
// and 3% label noise. It is deterministic.
func benchData(n, p int) ([][]float64, []int) {
	rng := rand.New(rand.NewPCG(2020, 51))
	shift := make([]float64, p)
	for j := range 12 {
		shift[j] = (0.3 + 0.7*rng.Float64()) * float64(1-2*(j%2))
	}
	X := make([][]float64, n)
	y := make([]int, n)
	flat := make([]float64, n*p)
	for i := range X {
		row := flat[i*p : (i+1)*p : (i+1)*p]
		c := boolInt(rng.Float64() < 0.1)
		for j := range row {
			v := rng.NormFloat64() + float64(c)*shift[j]
			if j%4 == 1 {
				v = math.Exp(v) // heavy tail, like byte counts
			}
			row[j] = v
		}
		row[12] = row[0] + 0.1*rng.NormFloat64()
		for _, j := range []int{5, 17, 30} {
			if rng.Float64() < 0.03 {
				row[j] = math.NaN()
			}
		}
		if rng.Float64() < 0.03 {
			c = 1 - c
		}
		X[i], y[i] = row, c
	}
	return X, y
}

var (
	benchOnce    sync.Once
	benchX       [][]float64
	benchForests map[string]*Forest
)

// benchModels are 100-tree forests on benchData, trained once per
// benchmark binary: "full" grows trees to purity (scikit-learn's default;
// ~13k nodes per tree on this noisy data, 21 MB of nodes, so scoring is
// bound by memory latency), "leaf20" stops at 20 rows per leaf (~3.4k
// nodes per tree, 5 MB). The shipped default model is far smaller (200
// trees, ~100 nodes each).
func benchModels(b *testing.B) (map[string]*Forest, [][]float64) {
	benchOnce.Do(func() {
		var y []int
		benchX, y = benchData(100_000, 51)
		benchForests = map[string]*Forest{}
		for name, p := range map[string]Params{
			"full":   {Trees: 100, Seed: 1},
			"leaf20": {Trees: 100, Seed: 1, MinSamplesLeaf: 20},
		} {
			f, err := Train(benchX, y, p)
			if err != nil {
				panic(err)
			}
			benchForests[name] = f
		}
	})
	return benchForests, benchX
}

var benchModelNames = []string{"full", "leaf20"}

func BenchmarkTrain(b *testing.B) {
	X, y := benchData(100_000, 51)
	for _, method := range []SplitMethod{Histogram, Exact} {
		b.Run(fmt.Sprintf("100kx51/100trees/%v", method), func(b *testing.B) {
			var f *Forest
			for b.Loop() {
				var err error
				start := time.Now()
				f, err = Train(X, y, Params{Trees: 100, Seed: 1, Split: method})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(start).Seconds(), "s/forest")
			}
			b.ReportMetric(float64(f.NumNodes())/100, "nodes/tree")
			b.ReportMetric(f.OOB().ROCAUC, "oob-auc")
		})
	}
}

func BenchmarkPredictProba(b *testing.B) {
	forests, X := benchModels(b)
	for _, name := range benchModelNames {
		f := forests[name]
		b.Run(fmt.Sprintf("%s/%dnodes", name, f.NumNodes()), func(b *testing.B) {
			i := 0
			sink := 0.0
			for b.Loop() {
				sink += f.PredictProba(X[i])
				i = (i + 7919) % len(X) // stride so rows are not in cache order
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
			_ = sink
		})
	}
}

func BenchmarkPredictProbaBatch(b *testing.B) {
	forests, X := benchModels(b)
	const rows = 1024
	out := make([]float64, rows)
	for _, name := range benchModelNames {
		f := forests[name]
		b.Run(fmt.Sprintf("%s/%drows", name, rows), func(b *testing.B) {
			start := 0
			for b.Loop() {
				f.PredictProbaBatch(X[start:start+rows], out)
				start = (start + rows) % (len(X) - rows)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}

func BenchmarkContributions(b *testing.B) {
	forests, X := benchModels(b)
	for _, name := range benchModelNames {
		f := forests[name]
		b.Run(name, func(b *testing.B) {
			dst := make([]float64, f.NumFeatures())
			i := 0
			for b.Loop() {
				f.Contributions(X[i], dst)
				i = (i + 7919) % len(X)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
		})
	}
}
