package forest

import (
	"fmt"
	"math"
)

// step moves row one level down from node i (a leaf stays where it is),
// without a branch (see node), and reports whether it arrived on a leaf
// (1) or not (0).
func step(nodes []node, row []float64, i uint32) (next uint32, atLeaf uint16) {
	n := &nodes[i]
	v := row[n.feature]
	var gt, notLE uint32
	if v > n.threshold {
		gt = 1
	}
	if !(v <= n.threshold) { // true for NaN too
		notLE = 1
	}
	dir := gt | notLE&uint32(n.flags&nanRight)
	return n.left + dir, n.flags >> (1 + dir) & 1
}

// leaf walks one tree from root for row and returns its leaf's index.
func (f *Forest) leaf(root uint32, row []float64) uint32 {
	i := root
	for {
		next, atLeaf := step(f.nodes, row, i)
		if atLeaf != 0 {
			return next
		}
		i = next
	}
}

func (f *Forest) checkRow(row []float64) {
	if len(row) != f.nFeatures {
		// A wrong-length row is a wiring bug (the schema is checked when
		// the model is loaded), not a data condition, so fail loudly
		// rather than score garbage.
		panic(fmt.Sprintf("forest: row has %d features, model expects %d", len(row), f.nFeatures))
	}
}

// PredictProba returns the forest's probability that row is class 1
// (mining): the mean over trees of the leaf's weighted class-1 fraction,
// as scikit-learn's predict_proba. It does not allocate. It panics if
// len(row) != NumFeatures().
func (f *Forest) PredictProba(row []float64) float64 {
	f.checkRow(row)
	p, _ := f.predictAbove(row, math.Inf(-1))
	return p
}

// PredictAbove reports whether PredictProba(row) >= threshold, walking
// only the trees needed to know. When it is, p is PredictProba(row),
// bit-identical. When it is not, p is an upper bound of PredictProba(row)
// that is below threshold: the walk stops as soon as the trees left could
// not lift the mean to the threshold even if each of them gave its
// largest leaf value. For the shipped model (120 trees, threshold 0.598)
// that is after 49 trees or a few more for a benign row (every tree's
// largest leaf is 1, so at least (1 - threshold) of the trees). Use it where the exact score of
// a row below the threshold is not reported. It does not allocate; it
// panics if len(row) != NumFeatures().
func (f *Forest) PredictAbove(row []float64, threshold float64) (p float64, above bool) {
	f.checkRow(row)
	return f.predictAbove(row, threshold)
}

// predictAbove is PredictAbove; with threshold -Inf it never stops early
// and is PredictProba. It walks the scoring copy (fast.go) when the forest
// has one.
func (f *Forest) predictAbove(row []float64, threshold float64) (float64, bool) {
	if f.fast != nil {
		return f.predictAboveFast(row, threshold)
	}
	return f.predictAboveNodes(row, threshold)
}

// predictAboveNodes is predictAbove on nodes.
//
// Trees are walked four at a time in lock-step: the four chains of
// dependent loads overlap, which matters more than anything else once the
// forest no longer fits in cache. The leaf values are added one at a time
// in tree order, like PredictProbaBatch, so both give bit-identical
// results.
func (f *Forest) predictAboveNodes(row []float64, threshold float64) (float64, bool) {
	nodes, values, roots, tail := f.nodes, f.values, f.roots, f.tailMax
	n := float64(len(roots))
	// The sum of the partial sum and the tail bound carries rounding errors
	// of at most ~n² ulps; the slack keeps the early answer on the safe
	// side of them.
	need := threshold*n - 1e-9*n
	sum := 0.0
	t := 0
	for ; t+4 <= len(roots); t += 4 {
		a, b, c, d := roots[t], roots[t+1], roots[t+2], roots[t+3]
		for {
			var la, lb, lc, ld uint16
			a, la = step(nodes, row, a)
			b, lb = step(nodes, row, b)
			c, lc = step(nodes, row, c)
			d, ld = step(nodes, row, d)
			if la&lb&lc&ld != 0 {
				break
			}
		}
		sum += values[a]
		sum += values[b]
		sum += values[c]
		sum += values[d]
		if bound := sum + tail[t+4]; bound < need {
			// Rounding must not lift the bound onto the threshold.
			return min((bound+1e-9*n)/n, math.Nextafter(threshold, math.Inf(-1))), false
		}
	}
	for ; t < len(roots); t++ {
		sum += values[f.leaf(roots[t], row)]
	}
	p := sum / n
	return p, p >= threshold
}

// batchBlock rows are scored tree by tree, so a tree's nodes are fetched
// from memory once per block instead of once per row.
const batchBlock = 1024

// PredictProbaBatch writes PredictProba(X[i]) into out[i] for every row
// (bit-identical). len(out) must be len(X). It does not allocate. It is
// faster per row than PredictProba when the forest is larger than the
// cache: each tree is walked by a block of rows, four in lock-step.
func (f *Forest) PredictProbaBatch(X [][]float64, out []float64) {
	if len(out) != len(X) {
		panic(fmt.Sprintf("forest: %d rows but %d outputs", len(X), len(out)))
	}
	for _, row := range X {
		f.checkRow(row)
	}
	f.predictBlocks(X, out, batchBlock)
}

func (f *Forest) predictBlocks(X [][]float64, out []float64, block int) {
	nodes, values := f.nodes, f.values
	n := float64(len(f.roots))
	for start := 0; start < len(X); start += block {
		rows := X[start:min(start+block, len(X))]
		acc := out[start : start+len(rows)]
		clear(acc)
		for _, root := range f.roots {
			k := 0
			for ; k+4 <= len(rows); k += 4 {
				r0, r1, r2, r3 := rows[k], rows[k+1], rows[k+2], rows[k+3]
				a, b, c, d := root, root, root, root
				for {
					var la, lb, lc, ld uint16
					a, la = step(nodes, r0, a)
					b, lb = step(nodes, r1, b)
					c, lc = step(nodes, r2, c)
					d, ld = step(nodes, r3, d)
					if la&lb&lc&ld != 0 {
						break
					}
				}
				acc[k] += values[a]
				acc[k+1] += values[b]
				acc[k+2] += values[c]
				acc[k+3] += values[d]
			}
			for ; k < len(rows); k++ {
				acc[k] += values[f.leaf(root, rows[k])]
			}
		}
		for k := range acc {
			acc[k] /= n
		}
	}
}

// Contributions splits PredictProba(row) among the features along the
// paths the row takes (Saabas' method): at every split, the change of the
// node value from parent to child is credited to the split's feature, and
// everything is averaged over trees. It writes one contribution per feature
// into dst (len NumFeatures) and returns the bias, the mean root value
// (the training base rate), so that bias + Σ dst = PredictProba(row) up to
// rounding. Positive contributions push towards mining. It does not
// allocate.
func (f *Forest) Contributions(row, dst []float64) (bias float64) {
	f.checkRow(row)
	if len(dst) != f.nFeatures {
		panic(fmt.Sprintf("forest: contributions buffer has %d slots, model has %d features", len(dst), f.nFeatures))
	}
	clear(dst)
	nodes, values := f.nodes, f.values
	for _, root := range f.roots {
		bias += values[root]
		i := root
		for !nodes[i].isLeaf(i) {
			next, _ := step(nodes, row, i)
			dst[nodes[i].feature] += values[next] - values[i]
			i = next
		}
	}
	scale := 1 / float64(len(f.roots))
	for j := range dst {
		dst[j] *= scale
	}
	return bias * scale
}
