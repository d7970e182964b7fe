package forest

import "unsafe"

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
	// fastMost is most for the scoring copy's nodes (f.fast), which
	// BelowWithout walks when the forest has one; nil otherwise.
	fastMost []float64
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
	b := &Bounder{f: f, most: most}
	if f.fast != nil {
		// The scoring copy keeps children after their parent too; a
		// leaf's value is its threshold field, padding leaves hold 0.
		b.fastMost = make([]float64, len(f.fast))
		for i := len(f.fast) - 1; i >= 0; i-- {
			n := &f.fast[i]
			if n.first == uint32(i) {
				b.fastMost[i] = n.threshold
			} else {
				b.fastMost[i] = max(b.fastMost[n.first], b.fastMost[n.first+1])
			}
		}
	}
	return b
}

// BelowWithout tells, when it can, that PredictProba(row) < threshold
// whatever the features marked in missing are (missing[j] for feature j;
// len(missing) == NumFeatures()).
//
// It walks every tree as far as the row's present
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
	if b.fastMost != nil {
		return b.belowWithoutFast(row, threshold, missing)
	}
	return b.belowWithoutNodes(row, threshold, missing)
}

// belowWithoutNodes is BelowWithout on node, one tree at a time.
func (b *Bounder) belowWithoutNodes(row []float64, threshold float64, missing []bool) (below bool, need int) {
	f := b.f
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

// belowWithoutFast is BelowWithout on the scoring copy (fast.go), with the
// same answers: eight trees in lock-step, as predictAboveFast walks them,
// where a tree whose walk reaches a split on a missing feature stays on
// that split (it counts as arrived), so the sum adds fastMost of the node
// each walk ends on, a leaf's value or the largest leaf value under the
// split, in tree order. The bound is checked after each group of eight:
// it only falls from tree to tree, so a "below" the tree-by-tree walk
// finds inside a group is found at its end; and a group inside which it
// can answer (the sum so far plus the largest leaves after the group is
// under the threshold) is walked tree by tree, stopping where the
// tree-by-tree walk stops: a benign row answers a few trees into the
// group, where walking all eight cost 10% more instructions in detect
// (callgrind, merged-k1, 120 trees). need is the missing feature
// of the first tree, in tree order, that stopped on a split. The values of
// missing features are copied into the extended row but decide nothing:
// a split that reads one is never taken.
func (b *Bounder) belowWithoutFast(row []float64, threshold float64, missing []bool) (below bool, need int) {
	f := b.f
	var xr extendedRow
	extendRow(&xr, row)
	// miss[s] is 1 where slot s holds (the negation or magnitude of) a
	// missing feature; the NaN slot leaves read never does.
	var miss [len(extendedRow{})]uint8
	nf := f.nFeatures
	for j, m := range missing {
		if m {
			miss[j], miss[nf+j], miss[2*nf+j] = 1, 1, 1
		}
	}
	nodes, most, roots, tail := f.fast, b.fastMost, f.fastRoots, f.tailMax
	n := float64(len(roots))
	need0 := threshold*n - 1e-9*n
	need = -1
	sum := 0.0
	t := 0
	// walkOne walks tree t alone and adds what it ends on; true when the
	// bound then answers below.
	walkOne := func(t int) bool {
		i := roots[t]
		for {
			var at uint8
			if i, at = fastStepOrStop(nodes, &xr, &miss, i); at != 0 {
				if at&2 != 0 && need < 0 {
					need = int(nodes[i].slot) % nf
				}
				break
			}
		}
		sum += endValue(nodes, most, i)
		return sum+tail[t+1] < need0
	}
	for t+8 <= len(roots) {
		if sum+tail[t+8] < need0 {
			// The bound can answer inside this group (leaf values are
			// not negative, so it cannot where this fails): walk its
			// trees one at a time and stop at the first that lets it,
			// rather than all eight in lock-step. A benign row stops a
			// few trees in, where the group would have walked eight.
			for end := t + 8; t < end; t++ {
				if walkOne(t) {
					return true, -1
				}
			}
			continue
		}
		r := (*[8]uint32)(roots[t : t+8])
		a, b, c, d := r[0], r[1], r[2], r[3]
		e, g, h, k := r[4], r[5], r[6], r[7]
		var hit uint8
		for {
			var la, lb, lc, ld, le, lg, lh, lk uint8
			a, la = fastStepOrStop(nodes, &xr, &miss, a)
			b, lb = fastStepOrStop(nodes, &xr, &miss, b)
			c, lc = fastStepOrStop(nodes, &xr, &miss, c)
			d, ld = fastStepOrStop(nodes, &xr, &miss, d)
			e, le = fastStepOrStop(nodes, &xr, &miss, e)
			g, lg = fastStepOrStop(nodes, &xr, &miss, g)
			h, lh = fastStepOrStop(nodes, &xr, &miss, h)
			k, lk = fastStepOrStop(nodes, &xr, &miss, k)
			if la&lb&lc&ld&le&lg&lh&lk != 0 {
				// A lane that stopped on a split reports 3, on a leaf 1.
				hit = (la | lb | lc | ld | le | lg | lh | lk) & 2
				break
			}
		}
		if hit != 0 && need < 0 {
			need = firstStop(nodes, nf, [8]uint32{a, b, c, d, e, g, h, k})
		}
		sum += endValue(nodes, most, a)
		sum += endValue(nodes, most, b)
		sum += endValue(nodes, most, c)
		sum += endValue(nodes, most, d)
		sum += endValue(nodes, most, e)
		sum += endValue(nodes, most, g)
		sum += endValue(nodes, most, h)
		sum += endValue(nodes, most, k)
		t += 8
		if sum+tail[t] < need0 {
			return true, -1
		}
	}
	for ; t < len(roots); t++ {
		if walkOne(t) {
			return true, -1
		}
	}
	return false, need
}

// endValue is what a walk that ended on node i of nodes adds: the leaf's
// value, read from the node the walk has just loaded, or, on a split on a
// missing feature, the largest leaf value under it (most[i]). For a leaf
// most[i] holds the same value, but reading it there would touch one more
// cache line per tree, which in a real run (packets between rows evict
// the forest from cache) costs more than the rest of the step; walks end
// on a leaf almost always, so the branch is predicted.
func endValue(nodes []fastNode, most []float64, i uint32) float64 {
	n := (*fastNode)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(nodes)), uintptr(i)*16))
	if n.first == i {
		return n.threshold
	}
	return most[i]
}

// firstStop returns the feature of the first of the nodes that is not a
// leaf (a walk stopped on a split on a missing feature), or -1.
func firstStop(nodes []fastNode, nFeatures int, at [8]uint32) int {
	for _, i := range at {
		if n := &nodes[i]; n.first != i {
			return int(n.slot) % nFeatures
		}
	}
	return -1
}

// fastStepOrStop is fastStep, except that on a split reading a slot
// marked in miss it stays put. It reports 1 when it arrived on a leaf
// (or stands on one), 3 when it stands on such a split, 0 otherwise. Like
// fastStep it reads without bounds checks (see checkFast).
func fastStepOrStop(nodes []fastNode, xr *extendedRow, miss *[len(extendedRow{})]uint8, i uint32) (next uint32, done uint8) {
	n := (*fastNode)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(nodes)), uintptr(i)*16))
	stop := *(*uint8)(unsafe.Add(unsafe.Pointer(miss), uintptr(n.slot)))
	var d uint32
	if *(*float64)(unsafe.Add(unsafe.Pointer(xr), uintptr(n.slot)*8)) > n.threshold {
		d = 1
	}
	next = n.first + d
	// Branch-free: stay on i when stop is 1.
	mask := -uint32(stop)
	next ^= (next ^ i) & mask
	return next, uint8(n.leafs>>d&1) | stop*3
}
