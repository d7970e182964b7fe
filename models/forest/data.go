package forest

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
)

// maxBins is the most histogram bins a feature can have; bin value nanBin
// (one above) is reserved for NaN so bins fit a byte.
const (
	maxBins = 255
	nanBin  = 255
)

// dataset is the training matrix in the layouts the builders want:
// column-major float64 (Exact, partitioning) and column-major bin indices
// (Histogram). Columns make the per-feature scans at a node touch one
// contiguous array instead of one cache line per row.
type dataset struct {
	n, p int
	cols [][]float64
	y    []uint8

	// Histogram only. bins is row-major (row i is bins[i*p:(i+1)*p]) so
	// that one pass over a node's rows fills the histograms of all
	// candidate features while touching each row's cache line once.
	bins  []uint8
	binLo [][]float64 // smallest training value in each bin
	binHi [][]float64 // largest training value in each bin
}

// newDataset checks X and y and copies them column-major.
func newDataset(X [][]float64, y []int) (*dataset, error) {
	if len(X) == 0 {
		return nil, fmt.Errorf("no training rows")
	}
	if len(X) != len(y) {
		return nil, fmt.Errorf("%d rows but %d labels", len(X), len(y))
	}
	if len(X) > math.MaxInt32 {
		return nil, fmt.Errorf("%d rows, at most %d supported", len(X), math.MaxInt32)
	}
	p := len(X[0])
	if p == 0 {
		return nil, fmt.Errorf("rows have no features")
	}
	if p > maxFeatures {
		return nil, fmt.Errorf("rows have %d features, at most %d supported", p, maxFeatures)
	}
	d := &dataset{n: len(X), p: p, cols: make([][]float64, p), y: make([]uint8, len(y))}
	for i, label := range y {
		if label != 0 && label != 1 {
			return nil, fmt.Errorf("row %d: label %d, want 0 or 1", i, label)
		}
		d.y[i] = uint8(label)
	}
	flat := make([]float64, p*d.n)
	for j := range d.cols {
		d.cols[j] = flat[j*d.n : (j+1)*d.n : (j+1)*d.n]
	}
	for i, row := range X {
		if len(row) != p {
			return nil, fmt.Errorf("row %d has %d features, row 0 has %d", i, len(row), p)
		}
		for j, v := range row {
			d.cols[j][i] = v
		}
	}
	return d, nil
}

// binFeatures fills the histogram layout, one feature per goroutine.
func (d *dataset) binFeatures(nBins, workers int) {
	d.bins = make([]uint8, d.n*d.p)
	d.binLo = make([][]float64, d.p)
	d.binHi = make([][]float64, d.p)
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scratch := make([]float64, 0, d.n)
			for j := range next {
				scratch = d.binFeature(j, nBins, scratch[:0])
			}
		}()
	}
	for j := range d.p {
		next <- j
	}
	close(next)
	wg.Wait()
}

// binFeature bins column j. With at most nBins distinct values every value
// gets its own bin, so histogram splits see the same partitions as exact
// ones; otherwise edges sit at (approximately) equal-count quantiles, and
// always between two distinct values so no value straddles an edge.
func (d *dataset) binFeature(j, nBins int, sorted []float64) []float64 {
	col := d.cols[j]
	for _, v := range col {
		if v == v {
			sorted = append(sorted, v)
		}
	}
	slices.Sort(sorted)
	var edges []float64 // bin k holds values v with edges[k-1] < v ≤ edges[k]
	distinct := 0
	for i := range sorted {
		if i == 0 || sorted[i] != sorted[i-1] {
			distinct++
		}
	}
	if distinct <= nBins {
		for i := 1; i < len(sorted); i++ {
			if sorted[i] != sorted[i-1] {
				edges = append(edges, sorted[i-1])
			}
		}
	} else {
		m := len(sorted)
		for k := 1; k < nBins; k++ {
			at := k * m / nBins
			if at == 0 {
				continue
			}
			// Move to the end of the run of equal values containing at-1,
			// so the edge separates two different values.
			v := sorted[at-1]
			at += sort.SearchFloat64s(sorted[at:], math.Nextafter(v, math.Inf(1)))
			if at >= m {
				break
			}
			if len(edges) == 0 || v > edges[len(edges)-1] {
				edges = append(edges, v)
			}
		}
	}
	nb := len(edges) + 1
	lo := make([]float64, nb)
	hi := make([]float64, nb)
	for k := range nb {
		lo[k], hi[k] = math.Inf(1), math.Inf(-1)
	}
	bins := d.bins
	for i, v := range col {
		if v != v {
			bins[i*d.p+j] = nanBin
			continue
		}
		b := sort.SearchFloat64s(edges, v) // first edge ≥ v
		bins[i*d.p+j] = uint8(b)
		lo[b] = min(lo[b], v)
		hi[b] = max(hi[b], v)
	}
	d.binLo[j], d.binHi[j] = lo, hi
	return sorted
}

// midpoint is the threshold between adjacent distinct values lo < hi,
// computed as scikit-learn does so that both place it identically: halfway,
// unless rounding or infinities push it onto hi, in which case lo (values
// equal to lo go left, hi goes right either way).
func midpoint(lo, hi float64) float64 {
	t := lo/2 + hi/2
	if math.IsInf(t, 0) || t >= hi {
		return lo
	}
	return t
}
