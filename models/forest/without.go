package forest

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
// matter. It does not allocate; it panics if len(row) or len(missing) !=
// NumFeatures().
func (f *Forest) BelowWithout(row []float64, threshold float64, missing []bool) (below bool, need int) {
	f.checkRow(row)
	missing = missing[:f.nFeatures]
	nodes, values, roots, tail := f.nodes, f.values, f.roots, f.tailMax
	n := float64(len(roots))
	need0 := threshold*n - 1e-9*n
	sum := 0.0
	for t, root := range roots {
		i := root
		for !nodes[i].isLeaf(i) {
			if j := int(nodes[i].feature); missing[j] {
				return false, j
			}
			i, _ = step(nodes, row, i)
		}
		sum += values[i]
		if sum+tail[t+1] < need0 {
			return true, -1
		}
	}
	return false, -1
}
