package forest

import (
	"fmt"
	"math"
	"unsafe"
)

// fastNode is a node of the scoring copy of the forest (Forest.fast): one
// comparison per step, v > threshold, where v is a slot of the row
// extended with each feature's negation and magnitude (see extendRow).
// Node (the layout everything else reads) needs a second comparison and
// a flag to route NaN; here the NaN direction is folded into
// the choice of slot, threshold and child order when the copy is built
// (see fastSplit), so a step is a load, a compare and an add. On the
// shipped model's rows that cuts the instructions per step by about a
// third.
//
// A leaf is its own first child and reads the extended row's last slot,
// which always holds NaN: NaN is above nothing, so stepping from a leaf
// stays put, whatever its threshold field holds, and that field holds the
// leaf's value. The walk that arrives on a leaf so finds the value in the
// cache line it has just read instead of in a separate array (one line
// fewer per tree and row).
type fastNode struct {
	threshold float64 // a leaf's value on a leaf
	first     uint32  // index of child 0 (taken when v > threshold is false); child 1 follows
	slot      uint16  // index into the extended row
	leafs     uint16  // bit d: child d is a leaf (both set on a leaf)
}

// maxFastFeatures bounds the forests that get a fast copy: the extended
// row (3 slots per feature) lives on the stack, and a slot must fit in
// uint16. Wider forests are scored on node.
const maxFastFeatures = 128

// fastLine is the number of fastNodes in a cache line.
const fastLine = 64 / int(unsafe.Sizeof(fastNode{}))

// extendedRow holds a row extended for fastNode: x, then -x, then |x|,
// then NaN in the slot leaves read (nanSlot).
type extendedRow [3*maxFastFeatures + 1]float64

// nanSlot is the slot of the extended row of a forest of n features that
// holds NaN.
func nanSlot(n int) int { return 3 * n }

// extendRow fills xr from row (len(row) ≤ maxFastFeatures).
func extendRow(xr *extendedRow, row []float64) {
	n := len(row)
	neg, mag := xr[n:2*n], xr[2*n:3*n]
	copy(xr[:n], row)
	for j, x := range row {
		neg[j] = -x
		mag[j] = math.Abs(x)
	}
	xr[nanSlot(n)] = math.NaN()
}

// fastSplit is a split of node as fastNode tests it: go to child 1 of the
// pair iff the extended row's slot > threshold; swap says child 0 of the
// pair is node's right child and child 1 its left one.
func fastSplit(n node, nFeatures int) (slot int, threshold float64, swap bool) {
	t := n.threshold
	switch {
	case n.flags&nanRight == 0:
		// Right iff x > t; NaN fails it and goes left, as it should.
		return int(n.feature), t, false
	case math.IsInf(t, 1):
		// Left iff x ≤ +Inf, that is iff x is not NaN: child 1 (the left
		// child) iff |x| > -1, which every number passes (+Inf too) and
		// NaN fails.
		return 2*nFeatures + int(n.feature), -1, true
	default:
		// Right iff !(x ≤ t): left iff x ≤ t iff -x ≥ -t iff -x > prev(-t)
		// (no float lies between prev(-t) and -t; t is finite or -Inf, so
		// -t is not -Inf). NaN fails it and goes to child 0, the right
		// child, as nanRight says.
		return nFeatures + int(n.feature), math.Nextafter(-t, math.Inf(-1)), true
	}
}

// setFast builds f.fast and f.fastRoots from f.nodes, or leaves them nil
// when the forest is too wide (see maxFastFeatures).
//
// Each tree is laid out breadth-first (children still adjacent) from the
// start of a cache line, so its first levels, where most rows leave it,
// share one or two lines: the lines every row reads stay few and in
// cache, however large the forest is. Trees stay in their order.
func (f *Forest) setFast() {
	if f.nFeatures > maxFastFeatures {
		return
	}
	total := 1 // a last leaf, so that node i+1 of every leaf i exists
	for t := range f.roots {
		total += roundUp(int(f.treeEnd(t)-f.roots[t]), fastLine)
	}
	f.fast = alignedFastNodes(total)
	leaf := func(at uint32, value float64) fastNode {
		return fastNode{threshold: value, first: at, slot: uint16(nanSlot(f.nFeatures)), leafs: 3}
	}
	for i := range f.fast {
		// Padding between trees is never reached; a leaf is valid if it were.
		f.fast[i] = leaf(uint32(i), 0)
	}
	f.fastRoots = make([]uint32, len(f.roots))
	pos := make([]uint32, len(f.nodes)) // node index → scoring copy index
	queue := make([]uint32, 0, 64)
	next := uint32(0)
	for t, root := range f.roots {
		next = uint32(roundUp(int(next), fastLine))
		f.fastRoots[t], pos[root] = next, next
		next++
		queue = append(queue[:0], root)
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			n := f.nodes[i]
			if n.isLeaf(i) {
				continue
			}
			// Child 0 of the pair is the one taken when the split's
			// comparison fails: node's right child for a swapped split.
			c0, c1 := n.left, n.left+1
			if _, _, swap := fastSplit(n, f.nFeatures); swap {
				c0, c1 = c1, c0
			}
			pos[c0], pos[c1] = next, next+1
			next += 2
			queue = append(queue, c0, c1)
		}
	}
	for i, n := range f.nodes {
		at := pos[i]
		if n.isLeaf(uint32(i)) {
			f.fast[at] = leaf(at, f.values[i])
			continue
		}
		slot, thr, swap := fastSplit(n, f.nFeatures)
		leftLeaf, rightLeaf := uint16(n.flags>>1&1), uint16(n.flags>>2&1)
		fn := fastNode{threshold: thr, first: min(pos[n.left], pos[n.left+1]), slot: uint16(slot),
			leafs: leftLeaf | rightLeaf<<1}
		if swap {
			fn.leafs = rightLeaf | leftLeaf<<1
		}
		f.fast[at] = fn
	}
	f.checkFast()
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// alignedFastNodes returns n zero nodes starting on a 64-byte boundary,
// so that a tree's first line is one cache line.
func alignedFastNodes(n int) []fastNode {
	buf := make([]fastNode, n+fastLine)
	skip := 0
	for uintptr(unsafe.Pointer(&buf[skip]))%64 != 0 {
		skip++
	}
	return buf[skip : skip+n : skip+n]
}

// checkFast panics unless every child index of f.fast is inside it and
// every slot inside an extended row of f's width: fastStep relies on it.
// It holds by construction from nodes validated on decoding; this says so
// where a change to setFast would break it.
func (f *Forest) checkFast() {
	for i, n := range f.fast {
		leaf := n.first == uint32(i)
		ok := int(n.slot) < 3*f.nFeatures
		if leaf {
			ok = n.leafs == 3 && int(n.slot) == nanSlot(f.nFeatures)
		} else {
			// Children after their parent: every walk ends.
			ok = ok && n.first > uint32(i) && uint64(n.first)+1 < uint64(len(f.fast))
		}
		if !ok {
			panic(fmt.Sprintf("forest: scoring node %d out of range: %+v", i, n))
		}
	}
	for _, r := range f.fastRoots {
		if int(r) >= len(f.fast) {
			panic(fmt.Sprintf("forest: scoring root %d out of range", r))
		}
	}
}

// fastLeafValue is the value of the leaf at index i of nodes (the walk
// checked it is one), read without a bounds check like fastStep.
func fastLeafValue(nodes []fastNode, i uint32) float64 {
	return (*fastNode)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(nodes)), uintptr(i)*16)).threshold
}

// fastStep moves one level down from node i (a leaf stays put) and
// reports whether it arrived on a leaf.
//
// It reads nodes and xr without bounds checks, which take about 7% of the
// time of a score: every index it follows was checked once, when setFast
// built the copy (checkFast).
func fastStep(nodes []fastNode, xr *extendedRow, i uint32) (next uint32, atLeaf uint16) {
	n := (*fastNode)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(nodes)), uintptr(i)*16))
	var d uint32
	if *(*float64)(unsafe.Add(unsafe.Pointer(xr), uintptr(n.slot)*8)) > n.threshold {
		d = 1
	}
	return n.first + d, n.leafs >> d & 1
}

// predictAboveFast is predictAbove on f.fast. Trees are walked eight at a
// time in lock-step (the chains of dependent loads overlap; a step holds
// one register per tree, so eight fit where four did with node), and the
// leaf values are added in tree order, so the score is bit-identical to
// predictAboveNodes'. The early answer is checked every eight trees
// instead of four, and tree by tree in a group inside which it can come
// (as in belowWithoutFast), so below the threshold the bound it returns
// may differ (it is still an upper bound below the threshold).
func (f *Forest) predictAboveFast(row []float64, threshold float64) (float64, bool) {
	var xr extendedRow
	extendRow(&xr, row)
	nodes, roots, tail := f.fast, f.fastRoots, f.tailMax
	n := float64(len(roots))
	need := threshold*n - 1e-9*n
	sum := 0.0
	t := 0
	below := func(bound float64) float64 {
		return min((bound+1e-9*n)/n, math.Nextafter(threshold, math.Inf(-1)))
	}
	for t+8 <= len(roots) {
		if sum+tail[t+8] < need {
			// The bound can stop the walk inside this group (leaf
			// values are not negative, so it cannot where this fails):
			// walk its trees one at a time, checking after each, rather
			// than all eight in lock-step (see belowWithoutFast).
			for end := t + 8; t < end; t++ {
				sum += fastWalk(nodes, &xr, roots[t])
				if bound := sum + tail[t+1]; bound < need {
					return below(bound), false
				}
			}
			continue
		}
		r := (*[8]uint32)(roots[t : t+8]) // one bounds check, not eight
		a, b, c, d := r[0], r[1], r[2], r[3]
		e, g, h, k := r[4], r[5], r[6], r[7]
		// No tree of the shipped model is a lone leaf, so the first step
		// need not ask whether all arrived (a lone leaf stays put).
		a, _ = fastStep(nodes, &xr, a)
		b, _ = fastStep(nodes, &xr, b)
		c, _ = fastStep(nodes, &xr, c)
		d, _ = fastStep(nodes, &xr, d)
		e, _ = fastStep(nodes, &xr, e)
		g, _ = fastStep(nodes, &xr, g)
		h, _ = fastStep(nodes, &xr, h)
		k, _ = fastStep(nodes, &xr, k)
		for {
			var la, lb, lc, ld, le, lg, lh, lk uint16
			a, la = fastStep(nodes, &xr, a)
			b, lb = fastStep(nodes, &xr, b)
			c, lc = fastStep(nodes, &xr, c)
			d, ld = fastStep(nodes, &xr, d)
			e, le = fastStep(nodes, &xr, e)
			g, lg = fastStep(nodes, &xr, g)
			h, lh = fastStep(nodes, &xr, h)
			k, lk = fastStep(nodes, &xr, k)
			if la&lb&lc&ld&le&lg&lh&lk != 0 {
				break
			}
		}
		sum += fastLeafValue(nodes, a)
		sum += fastLeafValue(nodes, b)
		sum += fastLeafValue(nodes, c)
		sum += fastLeafValue(nodes, d)
		sum += fastLeafValue(nodes, e)
		sum += fastLeafValue(nodes, g)
		sum += fastLeafValue(nodes, h)
		sum += fastLeafValue(nodes, k)
		t += 8
		if bound := sum + tail[t]; bound < need {
			return below(bound), false
		}
	}
	for ; t < len(roots); t++ {
		sum += fastWalk(nodes, &xr, roots[t])
	}
	p := sum / n
	return p, p >= threshold
}

// fastWalk walks one tree of nodes from its root i and returns the value
// of the leaf it arrives on.
func fastWalk(nodes []fastNode, xr *extendedRow, i uint32) float64 {
	for {
		var at uint16
		if i, at = fastStep(nodes, xr, i); at != 0 {
			return fastLeafValue(nodes, i)
		}
	}
}
