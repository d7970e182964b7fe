package forest

import (
	"math"
	"unsafe"
)

// prevFast is the scoring copy as it was before the breadth-first layout
// (fast.go until 2026-12-06): the same 16-byte nodes in the nodes' own
// order, leaf values in a parallel array, eight trees in lock-step. It is
// kept here as the "before" side of BenchmarkShippedModel and as one more
// reference the scoring copy must match bit for bit.
type prevFast struct {
	nodes  []fastNode
	values []float64
	roots  []uint32
	tail   []float64
}

// newPrevFast builds f's previous scoring copy (f.nFeatures ≤
// maxFastFeatures): node i keeps its index; only a swapped pair of
// children trades places.
func newPrevFast(f *Forest) *prevFast {
	p := &prevFast{
		nodes:  make([]fastNode, len(f.nodes)),
		values: make([]float64, len(f.nodes)),
		roots:  append([]uint32(nil), f.roots...),
		tail:   f.tailMax,
	}
	pos := make([]uint32, len(f.nodes))
	for i := range pos {
		pos[i] = uint32(i)
	}
	for i, n := range f.nodes {
		if n.isLeaf(uint32(i)) {
			continue
		}
		if _, _, swap := prevFastSplit(n, f.nFeatures); swap {
			pos[n.left], pos[n.left+1] = n.left+1, n.left
		}
	}
	for i, n := range f.nodes {
		at := pos[i]
		p.values[at] = f.values[i]
		if n.isLeaf(uint32(i)) {
			p.nodes[at] = fastNode{threshold: math.Inf(1), first: at, leafs: 3}
			continue
		}
		slot, thr, swap := prevFastSplit(n, f.nFeatures)
		leftLeaf, rightLeaf := uint16(n.flags>>1&1), uint16(n.flags>>2&1)
		fn := fastNode{threshold: thr, first: n.left, slot: uint16(slot), leafs: leftLeaf | rightLeaf<<1}
		if swap {
			fn.leafs = rightLeaf | leftLeaf<<1
		}
		p.nodes[at] = fn
	}
	return p
}

// prevExtendedRow is the extended row as it was: x, -x, then 1 where x
// is not NaN and 0 where it is.
type prevExtendedRow [3 * maxFastFeatures]float64

func prevExtendRow(xr *prevExtendedRow, row []float64) {
	n := len(row)
	neg, ok := xr[n:2*n], xr[2*n:3*n]
	copy(xr[:n], row)
	for j, x := range row {
		neg[j] = -x
		mag := math.Float64bits(x) &^ (1 << 63)
		isNaN := (0x7ff0000000000000 - mag) >> 63
		ok[j] = float64(1 - isNaN)
	}
}

// prevFastSplit is fastSplit as it was, for prevExtendedRow.
func prevFastSplit(n node, nFeatures int) (slot int, threshold float64, swap bool) {
	t := n.threshold
	switch {
	case n.flags&nanRight == 0:
		return int(n.feature), t, false
	case math.IsInf(t, 1):
		return 2*nFeatures + int(n.feature), 0.5, true
	default:
		return nFeatures + int(n.feature), math.Nextafter(-t, math.Inf(-1)), true
	}
}

// prevFastStep is fastStep, read with bounds checks off in the same way.
func prevFastStep(nodes []fastNode, xr *prevExtendedRow, i uint32) (next uint32, atLeaf uint16) {
	n := (*fastNode)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(nodes)), uintptr(i)*16))
	var d uint32
	if *(*float64)(unsafe.Add(unsafe.Pointer(xr), uintptr(n.slot)*8)) > n.threshold {
		d = 1
	}
	return n.first + d, n.leafs >> d & 1
}

// predictAbove is Forest.predictAbove on the previous scoring copy.
func (p *prevFast) predictAbove(row []float64, threshold float64) (float64, bool) {
	var xr prevExtendedRow
	prevExtendRow(&xr, row)
	nodes, values, roots, tail := p.nodes, p.values, p.roots, p.tail
	n := float64(len(roots))
	need := threshold*n - 1e-9*n
	sum := 0.0
	t := 0
	for ; t+8 <= len(roots); t += 8 {
		a, b, c, d := roots[t], roots[t+1], roots[t+2], roots[t+3]
		e, g, h, k := roots[t+4], roots[t+5], roots[t+6], roots[t+7]
		a, _ = prevFastStep(nodes, &xr, a)
		b, _ = prevFastStep(nodes, &xr, b)
		c, _ = prevFastStep(nodes, &xr, c)
		d, _ = prevFastStep(nodes, &xr, d)
		e, _ = prevFastStep(nodes, &xr, e)
		g, _ = prevFastStep(nodes, &xr, g)
		h, _ = prevFastStep(nodes, &xr, h)
		k, _ = prevFastStep(nodes, &xr, k)
		for {
			var la, lb, lc, ld, le, lg, lh, lk uint16
			a, la = prevFastStep(nodes, &xr, a)
			b, lb = prevFastStep(nodes, &xr, b)
			c, lc = prevFastStep(nodes, &xr, c)
			d, ld = prevFastStep(nodes, &xr, d)
			e, le = prevFastStep(nodes, &xr, e)
			g, lg = prevFastStep(nodes, &xr, g)
			h, lh = prevFastStep(nodes, &xr, h)
			k, lk = prevFastStep(nodes, &xr, k)
			if la&lb&lc&ld&le&lg&lh&lk != 0 {
				break
			}
		}
		sum += values[a]
		sum += values[b]
		sum += values[c]
		sum += values[d]
		sum += values[e]
		sum += values[g]
		sum += values[h]
		sum += values[k]
		if bound := sum + tail[t+8]; bound < need {
			return min((bound+1e-9*n)/n, math.Nextafter(threshold, math.Inf(-1))), false
		}
	}
	for ; t < len(roots); t++ {
		i := roots[t]
		for {
			var at uint16
			if i, at = prevFastStep(nodes, &xr, i); at != 0 {
				break
			}
		}
		sum += values[i]
	}
	p2 := sum / n
	return p2, p2 >= threshold
}
