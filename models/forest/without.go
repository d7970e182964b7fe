package forest

import "unsafe"

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
// It walks the trees in order, adding leaf values, and
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
	if f.fast != nil {
		return f.belowWithoutFast(row, threshold, missing, p)
	}
	return f.belowWithoutNodes(row, threshold, missing, p)
}

// belowWithoutNodes is BelowWithout on node, one tree at a time.
func (f *Forest) belowWithoutNodes(row []float64, threshold float64, missing []bool, p *Partial) (below bool, need int) {
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

// belowWithoutFast is BelowWithout on the scoring copy (fast.go), with the
// same answers and, after a need answer, the same Partial. Trees are
// walked eight at a time in lock-step, as in predictAboveFast, noting
// whether any step read a missing feature's slot; a group that did is
// walked again one tree at a time, which stops at the first missing
// split in tree order as belowWithoutNodes does. A group that did not is
// summed in tree order and the bound checked after it: the bound only
// falls from tree to tree, so a "below" that belowWithoutNodes finds
// inside the group is found at its end. The values of missing features
// are copied into the extended row but decide nothing: only a group that
// read none of them counts.
func (f *Forest) belowWithoutFast(row []float64, threshold float64, missing []bool, p *Partial) (below bool, need int) {
	var xr extendedRow
	extendRow(&xr, row)
	// miss[s] is 1 where slot s holds (the negation or magnitude of) a
	// missing feature.
	var miss [len(extendedRow{})]uint8
	nf := f.nFeatures
	for j, m := range missing {
		if m {
			miss[j], miss[nf+j], miss[2*nf+j] = 1, 1, 1
		}
	}
	nodes, roots, tail := f.fast, f.fastRoots, f.tailMax
	n := float64(len(roots))
	need0 := threshold*n - 1e-9*n
	sum := p.sum
	t := p.tree
	for ; t+8 <= len(roots); t += 8 {
		r := (*[8]uint32)(roots[t : t+8])
		a, b, c, d := r[0], r[1], r[2], r[3]
		e, g, h, k := r[4], r[5], r[6], r[7]
		var hit uint8
		for {
			var la, lb, lc, ld, le, lg, lh, lk uint16
			var ma, mb, mc, md, me, mg, mh, mk uint8
			a, la, ma = fastStepMiss(nodes, &xr, &miss, a)
			b, lb, mb = fastStepMiss(nodes, &xr, &miss, b)
			c, lc, mc = fastStepMiss(nodes, &xr, &miss, c)
			d, ld, md = fastStepMiss(nodes, &xr, &miss, d)
			e, le, me = fastStepMiss(nodes, &xr, &miss, e)
			g, lg, mg = fastStepMiss(nodes, &xr, &miss, g)
			h, lh, mh = fastStepMiss(nodes, &xr, &miss, h)
			k, lk, mk = fastStepMiss(nodes, &xr, &miss, k)
			hit |= ma | mb | mc | md | me | mg | mh | mk
			if la&lb&lc&ld&le&lg&lh&lk != 0 {
				break
			}
		}
		if hit != 0 {
			for u := t; u < t+8; u++ {
				var done bool
				if done, below, need, sum = f.belowWithoutTree(&xr, &miss, u, sum, need0, p); done {
					return below, need
				}
			}
			continue
		}
		sum += fastLeafValue(nodes, a)
		sum += fastLeafValue(nodes, b)
		sum += fastLeafValue(nodes, c)
		sum += fastLeafValue(nodes, d)
		sum += fastLeafValue(nodes, e)
		sum += fastLeafValue(nodes, g)
		sum += fastLeafValue(nodes, h)
		sum += fastLeafValue(nodes, k)
		if sum+tail[t+8] < need0 {
			p.tree, p.sum = t+8, sum
			return true, -1
		}
	}
	for ; t < len(roots); t++ {
		var done bool
		if done, below, need, sum = f.belowWithoutTree(&xr, &miss, t, sum, need0, p); done {
			return below, need
		}
	}
	p.tree, p.sum = len(roots), sum
	return false, -1
}

// belowWithoutTree walks tree t alone for belowWithoutFast: done when it
// reached a missing split (need) or the bound fell below need0 (below),
// with p recording where; otherwise sum is returned with the tree's leaf
// value added.
func (f *Forest) belowWithoutTree(xr *extendedRow, miss *[len(extendedRow{})]uint8, t int, sum, need0 float64, p *Partial) (done, below bool, need int, _ float64) {
	nodes := f.fast
	i := f.fastRoots[t]
	for {
		n := nodes[i]
		if n.first == i {
			break // a leaf
		}
		if miss[n.slot] != 0 {
			p.tree, p.sum = t, sum
			return true, false, int(n.slot) % f.nFeatures, sum
		}
		i, _ = fastStep(nodes, xr, i)
	}
	sum += fastLeafValue(nodes, i)
	if sum+f.tailMax[t+1] < need0 {
		p.tree, p.sum = t+1, sum
		return true, true, -1, sum
	}
	return false, false, -1, sum
}

// fastStepMiss is fastStep that also reports whether the step read a slot
// marked in miss (a leaf reads the NaN slot, which never is).
func fastStepMiss(nodes []fastNode, xr *extendedRow, miss *[len(extendedRow{})]uint8, i uint32) (next uint32, atLeaf uint16, hit uint8) {
	n := (*fastNode)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(nodes)), uintptr(i)*16))
	var d uint32
	if *(*float64)(unsafe.Add(unsafe.Pointer(xr), uintptr(n.slot)*8)) > n.threshold {
		d = 1
	}
	return n.first + d, n.leafs >> d & 1, *(*uint8)(unsafe.Add(unsafe.Pointer(miss), uintptr(n.slot)))
}
