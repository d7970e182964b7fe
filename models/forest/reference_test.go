package forest

import (
	"encoding/json"
	"math"
)

// refForest is the inference layout forest used before the compact one
// (kept here, built from the model's JSON form rather than from Forest's
// internals): one contiguous array of 16-byte nodes, children adjacent,
// values in a parallel array, trees walked four at a time until all four
// stand still on a leaf. It is the reference the compact layout must
// match bit for bit, and the "old" side of the benchmarks.
type refForest struct {
	nFeatures int
	roots     []uint32
	nodes     []refNode
	values    []float64
}

const refNaNLeft = 1 << 31

type refNode struct {
	threshold float64
	feature   int32
	kids      uint32 // left child | refNaNLeft
}

// newRefForest rebuilds f in the old layout from its JSON form, so it
// shares no code with the layout under test except the encoder.
func newRefForest(f *Forest) *refForest {
	b, err := json.Marshal(f)
	if err != nil {
		panic(err)
	}
	var wf wireForest
	if err := json.Unmarshal(b, &wf); err != nil {
		panic(err)
	}
	r := &refForest{nFeatures: wf.NumFeatures}
	for _, wt := range wf.Trees {
		base := uint32(len(r.nodes))
		r.roots = append(r.roots, base)
		for k := range wt.Feature {
			n := refNode{threshold: math.Inf(1), kids: uint32(len(r.nodes)) | refNaNLeft}
			if wt.Feature[k] >= 0 {
				thr := wt.Threshold[k]
				switch thr {
				case math.MaxFloat64:
					thr = math.Inf(1)
				case -math.MaxFloat64:
					thr = math.Inf(-1)
				}
				n = refNode{threshold: thr, feature: wt.Feature[k], kids: base + wt.Left[k]}
				if wt.NaNLeft[k] == 1 {
					n.kids |= refNaNLeft
				}
			}
			r.nodes = append(r.nodes, n)
			r.values = append(r.values, wt.Value[k])
		}
	}
	return r
}

func refStep(nodes []refNode, row []float64, i uint32) uint32 {
	n := &nodes[i]
	v := row[n.feature]
	left := n.kids &^ refNaNLeft
	if v != v {
		if n.kids&refNaNLeft != 0 {
			return left
		}
		return left + 1
	}
	var right uint32
	if v > n.threshold {
		right = 1
	}
	return left + right
}

func (f *refForest) leaf(root uint32, row []float64) uint32 {
	i := root
	for {
		next := refStep(f.nodes, row, i)
		if next == i {
			return i
		}
		i = next
	}
}

// PredictProba is the old forest's PredictProba.
func (f *refForest) PredictProba(row []float64) float64 {
	nodes, values, roots := f.nodes, f.values, f.roots
	sum := 0.0
	t := 0
	for ; t+4 <= len(roots); t += 4 {
		a, b, c, d := roots[t], roots[t+1], roots[t+2], roots[t+3]
		for {
			na, nb, nc, nd := refStep(nodes, row, a), refStep(nodes, row, b), refStep(nodes, row, c), refStep(nodes, row, d)
			if na == a && nb == b && nc == c && nd == d {
				break
			}
			a, b, c, d = na, nb, nc, nd
		}
		sum += values[a]
		sum += values[b]
		sum += values[c]
		sum += values[d]
	}
	for ; t < len(roots); t++ {
		sum += values[f.leaf(roots[t], row)]
	}
	return sum / float64(len(roots))
}

// Contributions is the old forest's Contributions.
func (f *refForest) Contributions(row, dst []float64) (bias float64) {
	clear(dst)
	nodes, values := f.nodes, f.values
	for _, root := range f.roots {
		bias += values[root]
		i := root
		for {
			next := refStep(nodes, row, i)
			if next == i {
				break
			}
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
