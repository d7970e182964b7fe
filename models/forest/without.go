package forest

// Bounder tells, for many rows, that a forest's probability is below a
// threshold without some of the row's features, so a caller can leave
// costly features uncomputed for rows that cannot reach the threshold
// anyway. It holds, for every node, the largest leaf value under it: a
// tree whose walk stops at a split on a missing feature adds at most that
// to the sum of leaf values. It is immutable and safe for concurrent use.
type Bounder struct {
	f *Forest
	// most[i] is the largest leaf value in the subtree of node i.
	most []float64
}

// NewBounder returns f's Bounder (one pass over the nodes; 8 bytes each).
func NewBounder(f *Forest) *Bounder {
	most := make([]float64, len(f.nodes))
	// Children come after their parent (node.left > i), so one backward
	// pass sees both children of a node before the node.
	for i := len(f.nodes) - 1; i >= 0; i-- {
		n := &f.nodes[i]
		if n.isLeaf(uint32(i)) {
			most[i] = f.values[i]
		} else {
			most[i] = max(most[n.left], most[n.left+1])
		}
	}
	return &Bounder{f: f, most: most}
}

// BelowWithout tells, when it can, that PredictProba(row) < threshold
// whatever the features marked in missing are (missing[j] for feature j;
// len(missing) == NumFeatures()).
//
// It walks every tree on the node layout as far as the row's present
// features take it: to a leaf, whose value it adds, or to a split on a
// missing feature, where it adds the largest leaf value under that split
// instead. It answers below as soon as that sum, plus the largest leaf
// values of the trees not walked yet, is under the threshold
// (PredictAbove's bound, with the same slack). Otherwise, after the last
// tree, need is the missing feature of the first tree that stopped at one
// (-1 if none did: then the row's score is at the threshold or above, up
// to the slack, and PredictAbove says which). It never reads row[j] for a
// missing j: what the caller put there does not matter. It does not
// allocate; it panics if len(row) or len(missing) != NumFeatures().
func (b *Bounder) BelowWithout(row []float64, threshold float64, missing []bool) (below bool, need int) {
	f := b.f
	f.checkRow(row)
	missing = missing[:f.nFeatures]
	nodes, values, most, roots, tail := f.nodes, f.values, b.most, f.roots, f.tailMax
	n := float64(len(roots))
	need0 := threshold*n - 1e-9*n
	need = -1
	sum := 0.0
	for t, root := range roots {
		i := root
		v := 0.0
		for {
			nd := &nodes[i]
			if nd.isLeaf(i) {
				v = values[i]
				break
			}
			if j := int(nd.feature); missing[j] {
				v = most[i]
				if need < 0 {
					need = j
				}
				break
			}
			i, _ = step(nodes, row, i)
		}
		sum += v
		if sum+tail[t+1] < need0 {
			return true, -1
		}
	}
	return false, need
}
