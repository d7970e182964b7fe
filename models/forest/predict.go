package forest

import "fmt"

// leaf walks one tree from root for row and returns the leaf's index.
// NaN (or any value not comparable with the threshold) follows the
// direction learned for the split.
func (f *Forest) leaf(root uint32, row []float64) uint32 {
	nodes := f.nodes
	i := root
	for {
		n := &nodes[i]
		if n.feature < 0 {
			return i
		}
		v := row[n.feature]
		left := n.kids &^ nanLeftBit
		switch {
		case v <= n.threshold:
			i = left
		case v > n.threshold || n.kids&nanLeftBit == 0:
			i = left + 1
		default:
			i = left
		}
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
	nodes := f.nodes
	sum := 0.0
	for _, r := range f.roots {
		sum += nodes[f.leaf(r, row)].threshold
	}
	return sum / float64(len(f.roots))
}

// batchBlock rows are scored tree by tree, so one tree's upper levels stay
// in cache while the block walks it.
const batchBlock = 64

// PredictProbaBatch writes PredictProba(X[i]) into out[i] for every row.
// len(out) must be len(X). It does not allocate.
func (f *Forest) PredictProbaBatch(X [][]float64, out []float64) {
	if len(out) != len(X) {
		panic(fmt.Sprintf("forest: %d rows but %d outputs", len(X), len(out)))
	}
	for _, row := range X {
		f.checkRow(row)
	}
	nodes := f.nodes
	scale := 1 / float64(len(f.roots))
	for start := 0; start < len(X); start += batchBlock {
		rows := X[start:min(start+batchBlock, len(X))]
		acc := out[start : start+len(rows)]
		clear(acc)
		for _, r := range f.roots {
			for k, row := range rows {
				acc[k] += nodes[f.leaf(r, row)].threshold
			}
		}
		for k := range acc {
			acc[k] *= scale
		}
	}
}

// Contributions splits PredictProba(row) among the features along the
// paths the row takes (Saabas' method): at every split, the change of the
// node value from parent to child is credited to the split's feature, and
// everything is averaged over trees. It writes one contribution per feature
// into dst (len NumFeatures) and returns the bias, the mean root value
// (the training base rate), so that bias + Σ dst = PredictProba(row).
// Positive contributions push towards mining. It does not allocate.
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
		for nodes[i].feature >= 0 {
			n := &nodes[i]
			v := row[n.feature]
			next := n.kids &^ nanLeftBit
			if !(v <= n.threshold) && (v > n.threshold || n.kids&nanLeftBit == 0) {
				next++
			}
			dst[n.feature] += values[next] - values[i]
			i = next
		}
	}
	scale := 1 / float64(len(f.roots))
	for j := range dst {
		dst[j] *= scale
	}
	return bias * scale
}
