package forest

// Partial is where a BelowWithout walk stopped: the trees done and the
// sum of their leaf values. Its zero value starts at the first tree.
type Partial struct {
	tree int
	sum  float64
}

// BelowWithout tells, when it can, that PredictProba(row) < threshold
// without reading the features marked in missing (missing[j] for feature
// j; len(missing) == NumFeatures()), so a caller can leave costly features
// uncomputed for rows that cannot reach the threshold anyway.
//
// It walks the trees in order on the node layout, adding leaf values, and
// answers below as soon as the trees left could not lift the mean to the
// threshold even with their largest leaf values (PredictAbove's bound,
// with the same slack). It answers need = j, the first missing feature a
// split on the walk asks for, when the walk cannot go on without it; and
// neither (false, -1) when every tree was walked without deciding. It
// never reads row[j] for a missing j: what the caller put there does not
// matter.
//
// The walk resumes from p and records in p where it stopped: after a need
// answer, the caller fills that feature in (and clears its missing flag)
// and calls again with the same p, threshold and row, and the trees
// already summed are not walked again. It does not allocate; it panics if
// len(row) or len(missing) != NumFeatures().
func (f *Forest) BelowWithout(row []float64, threshold float64, missing []bool, p *Partial) (below bool, need int) {
	f.checkRow(row)
	missing = missing[:f.nFeatures]
	nodes, values, roots, tail := f.nodes, f.values, f.roots, f.tailMax
	n := float64(len(roots))
	need0 := threshold*n - 1e-9*n
	sum := p.sum
	for t := p.tree; t < len(roots); t++ {
		i := roots[t]
		for !nodes[i].isLeaf(i) {
			if j := int(nodes[i].feature); missing[j] {
				p.tree, p.sum = t, sum
				return false, j
			}
			i, _ = step(nodes, row, i)
		}
		sum += values[i]
		if sum+tail[t+1] < need0 {
			p.tree, p.sum = t+1, sum
			return true, -1
		}
	}
	p.tree, p.sum = len(roots), sum
	return false, -1
}
